"""Gatys et al. neural style transfer: optimise the pixels of an image so that its VGG features
match a content image (one deep layer) and its Gram matrices match a style image (five layers).

Losses are relative (each layer's squared error divided by the target's mean square), so the
weights below do not depend on which VGG file or input convention is used. The image is
optimised coarse to fine: the result at half size is upsampled and refined at full size, which
gives large-scale structure cheaply and most of the 256 px time goes to detail.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from batikstudio.errors import ImageError
from batikstudio.imaging.style_transfer.features import VGGFeatures, gram_matrix
from batikstudio.jobs import JobContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GatysConfig:
    """Options of the optimisation; defaults give a 256 px result in well under a minute.

    Attributes:
        iterations: optimiser steps per scale, coarsest first; its length is the number of
            scales (each scale doubles the side, the last one is the output size).
        content_layers: layers whose activations must match the content image.
        style_layers: layers whose Gram matrices must match the style image (equal weights).
        content_weight: weight of the (relative) content loss.
        style_weight: weight of the mean (relative) style loss over ``style_layers``.
        tv_weight: weight of the total-variation smoothness loss on the [-1, 1] image.
        optimizer: ``"lbfgs"`` (fewer steps for the same quality) or ``"adam"``.
        learning_rate: step size (L-BFGS: 1.0; Adam: about 0.02 on the [-1, 1] scale).
        init: start from ``"content"`` or from ``"noise"``.
        style_scale: style image's longest side relative to the content's, per scale.
        preview_every: hand a partial result to the context every this many steps (0: never).
        seed: seed of the noise initialisation.
    """

    iterations: tuple[int, ...] = (100, 50)
    content_layers: tuple[str, ...] = ("conv4_2",)
    style_layers: tuple[str, ...] = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
    content_weight: float = 1.0
    style_weight: float = 3.0
    tv_weight: float = 3.0
    optimizer: str = "lbfgs"
    learning_rate: float = 1.0
    init: str = "content"
    style_scale: float = 0.5
    preview_every: int = 10
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.iterations or any(int(n) < 0 for n in self.iterations):
            raise ValueError(f"iterations must be a non-empty list of counts >= 0, got {self.iterations}")
        if self.optimizer not in ("lbfgs", "adam"):
            raise ValueError(f"optimizer must be 'lbfgs' or 'adam', got {self.optimizer!r}")
        if self.init not in ("content", "noise"):
            raise ValueError(f"init must be 'content' or 'noise', got {self.init!r}")
        if not self.style_layers:
            raise ValueError("at least one style layer is needed")
        if self.style_scale <= 0:
            raise ValueError(f"style_scale must be > 0, got {self.style_scale}")


def image_to_tensor(image: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """HWC uint8 RGB -> 1x3xHxW float32 tensor in [-1, 1].

    >>> image_to_tensor(np.zeros((2, 4, 3), np.uint8)).shape
    torch.Size([1, 3, 2, 4])
    """
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ImageError(f"expected an HxWx3 uint8 image, got {image.dtype} {image.shape}")
    t = torch.from_numpy(np.require(image, requirements=("C", "W"))).to(device).permute(2, 0, 1)[None]
    return (t.float() / 127.5 - 1.0).contiguous()


def tensor_to_image(x: torch.Tensor) -> np.ndarray:
    """1x3xHxW float tensor in [-1, 1] -> HWC uint8 RGB (clipped, rounded).

    >>> int(tensor_to_image(torch.ones(1, 3, 2, 2)).max())
    255
    """
    img = ((x.detach()[0].float().clamp(-1, 1) + 1.0) * 127.5).round()
    return img.permute(1, 2, 0).to(torch.uint8).cpu().numpy()


def resize_tensor(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize NCHW to ``(H, W)`` with antialiased bicubic (downscale) or bicubic (upscale)."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    down = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    return F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=down).clamp(-1, 1)


def fit_size(hw: tuple[int, int], longest: int) -> tuple[int, int]:
    """``(H, W)`` scaled so the longest side is ``longest`` (each side at least 16).

    >>> fit_size((300, 450), 256)
    (171, 256)
    """
    h, w = hw
    scale = longest / max(h, w)
    return max(16, int(round(h * scale))), max(16, int(round(w * scale)))


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of neighbouring pixels of an NCHW tensor (a scalar)."""
    dx = x[..., :, 1:] - x[..., :, :-1]
    dy = x[..., 1:, :] - x[..., :-1, :]
    return dx.pow(2).mean() + dy.pow(2).mean()


class _Targets:
    """Content activations and style Gram matrices at one scale (fixed during that scale)."""

    def __init__(self, net: VGGFeatures, content: torch.Tensor, style: torch.Tensor,
                 config: GatysConfig) -> None:
        with torch.no_grad():
            feats_c = net(content, config.content_layers)
            feats_s = net(style, config.style_layers)
        self.content = {k: v.detach() for k, v in feats_c.items()}
        self.grams = {k: gram_matrix(v).detach() for k, v in feats_s.items()}
        self.content_norm = {k: v.pow(2).mean().clamp_min(1e-8) for k, v in self.content.items()}
        self.gram_norm = {k: g.pow(2).mean().clamp_min(1e-12) for k, g in self.grams.items()}


def style_losses(net: VGGFeatures, x: torch.Tensor, targets: _Targets,
                 config: GatysConfig) -> dict[str, torch.Tensor]:
    """The three loss terms (unweighted) and their weighted ``total`` for image ``x``."""
    layers = set(config.content_layers) | set(config.style_layers)
    feats = net(x, layers)
    content = sum(
        (feats[k] - targets.content[k]).pow(2).mean() / targets.content_norm[k] for k in config.content_layers
    ) / len(config.content_layers)
    style = sum(
        (gram_matrix(feats[k]) - targets.grams[k]).pow(2).mean() / targets.gram_norm[k]
        for k in config.style_layers
    ) / len(config.style_layers)
    tv = total_variation(x)
    total = config.content_weight * content + config.style_weight * style + config.tv_weight * tv
    return {"content": content, "style": style, "tv": tv, "total": total}


def _optimise_scale(net: VGGFeatures, x: torch.Tensor, targets: _Targets, config: GatysConfig,
                    steps: int, ctx: JobContext, done: int, total: int) -> tuple[torch.Tensor, int]:
    x = x.detach().clone(memory_format=torch.contiguous_format).requires_grad_(True)
    if config.optimizer == "lbfgs":
        opt: torch.optim.Optimizer = torch.optim.LBFGS([x], lr=config.learning_rate, max_iter=1,
                                                       history_size=20)
    else:
        opt = torch.optim.Adam([x], lr=config.learning_rate)
    last: dict[str, float] = {}

    def closure() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        losses = style_losses(net, x, targets, config)
        losses["total"].backward()
        last.update({k: float(v.detach()) for k, v in losses.items()})
        return losses["total"]

    for step in range(steps):
        ctx.check()
        opt.step(closure)
        with torch.no_grad():
            x.clamp_(-1.0, 1.0)
        done += 1
        if not math.isfinite(last.get("total", 0.0)):
            raise FloatingPointError("style transfer diverged (loss is not finite); lower the learning rate")
        ctx.progress(done, total)
        if config.preview_every and (step + 1) % config.preview_every == 0:
            ctx.partial(tensor_to_image(x))
            ctx.status(f"{x.shape[-1]}x{x.shape[-2]} px step {step + 1}/{steps}: "
                       f"content {last['content']:.3g} style {last['style']:.3g}")
    log.debug("scale %s done: %s", tuple(x.shape[-2:]), last)
    return x.detach(), done


def gatys_transfer(net: VGGFeatures, content: torch.Tensor, style: torch.Tensor,
                   config: GatysConfig, ctx: JobContext) -> torch.Tensor:
    """Optimise an image: content of ``content``, style of ``style``.

    Args:
        net: feature extractor holding every layer named in ``config``.
        content: 1x3xHxW float in [-1, 1]; the output has its size.
        style: 1x3xHsxWs float in [-1, 1], on the same device; its size at the output scale is
            ``style_scale`` times the content's longest side.
        config: optimisation options.
        ctx: job context (progress per step, partial previews, cancel between steps).

    Returns:
        1x3xHxW float tensor in [-1, 1].

    Raises:
        Cancelled: when ``ctx`` is cancelled (checked before every step).
    """
    if content.ndim != 4 or style.ndim != 4 or content.shape[1] != 3 or style.shape[1] != 3:
        raise ValueError(f"expected 1x3xHxW tensors, got {tuple(content.shape)} and {tuple(style.shape)}")
    h, w = content.shape[-2:]
    n_scales = len(config.iterations)
    total = int(sum(config.iterations))
    done = 0
    x: torch.Tensor | None = None
    for level, steps in enumerate(config.iterations):
        factor = 2 ** (n_scales - 1 - level)
        size = (max(16, round(h / factor)), max(16, round(w / factor)))
        content_s = resize_tensor(content, size)
        style_s = resize_tensor(style, fit_size(tuple(style.shape[-2:]), round(max(size) * config.style_scale)))
        if x is None:
            if config.init == "noise":
                gen = torch.Generator().manual_seed(config.seed)
                x = (torch.rand((1, 3, *size), generator=gen) * 0.5 - 0.25).to(content.device)
            else:
                x = content_s.clone()
        else:
            x = resize_tensor(x, size)
        ctx.status(f"style transfer at {size[1]}x{size[0]} px ({steps} steps)")
        targets = _Targets(net, content_s, style_s, config)
        x, done = _optimise_scale(net, x, targets, config, int(steps), ctx, done, total)
    assert x is not None
    return x
