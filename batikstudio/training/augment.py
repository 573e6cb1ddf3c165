"""Differentiable augmentations applied to real AND generated images before D.

Two families:

* :class:`AdaAugment`: adaptive discriminator augmentation (Karras et al. 2020). Each op is
  applied to each image with probability ``p``; ``p`` is steered by :func:`ada_adjust` toward
  a target of E[sign(D(real))] (0.6). Ops: x-flip, 90-degree rotations, integer translation,
  brightness, contrast, saturation, hue, cutout.
* :class:`DiffAugment`: DiffAugment (Zhao et al. 2020): colour, translation, cutout on every
  image, every time.

Both take and return NCHW float tensors (nominally in [-1, 1]); every op is differentiable
with respect to the images. Geometric ops and cutout keep the value range; colour ops may
leave [-1, 1] slightly, like the originals (no clamping, which would stop gradients).
Random numbers come from torch's global generator on the images' device.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch

from batikstudio.training.config import ADA_OPS, DIFFAUGMENT_OPS, TrainConfig

_LUMA = (0.299, 0.587, 0.114)


def _check(x: torch.Tensor) -> None:
    if x.ndim != 4:
        raise ValueError(f"expected NCHW images, got shape {tuple(x.shape)}")


def _per_sample(x: torch.Tensor, shape: Sequence[int] = ()) -> torch.Tensor:
    return torch.rand((x.shape[0], *shape), device=x.device, dtype=x.dtype)


def _bcast(v: torch.Tensor) -> torch.Tensor:
    return v.reshape(-1, 1, 1, 1)


def translate_images(x: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, wrap: bool = True) -> torch.Tensor:
    """Shift each image by integer pixels (``dy``, ``dx``: int64 [N]).

    With ``wrap`` pixels leaving one side come back on the other (a torus, good for
    seamless tiles); otherwise the uncovered area is 0 (mid grey).

    >>> translate_images(torch.arange(4.).reshape(1, 1, 1, 4), torch.tensor([0]), torch.tensor([1]))
    tensor([[[[3., 0., 1., 2.]]]])
    """
    _check(x)
    n, c, h, w = x.shape
    rows = torch.arange(h, device=x.device)[None, :] - dy[:, None]
    cols = torch.arange(w, device=x.device)[None, :] - dx[:, None]
    if wrap:
        rows, cols = rows % h, cols % w
        out = x.gather(2, rows[:, None, :, None].expand(n, c, h, w))
        return out.gather(3, cols[:, None, None, :].expand(n, c, h, w))
    valid = ((rows >= 0) & (rows < h))[:, None, :, None] & ((cols >= 0) & (cols < w))[:, None, None, :]
    out = x.gather(2, rows.clamp(0, h - 1)[:, None, :, None].expand(n, c, h, w))
    out = out.gather(3, cols.clamp(0, w - 1)[:, None, None, :].expand(n, c, h, w))
    return out * valid.to(x.dtype)


def cutout_images(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Set a random square of ``ratio`` times the image size to 0 in each image.

    >>> cutout_images(torch.ones(2, 3, 8, 8)).shape
    torch.Size([2, 3, 8, 8])
    """
    _check(x)
    n, _, h, w = x.shape
    ch, cw = max(1, int(h * ratio + 0.5)), max(1, int(w * ratio + 0.5))
    cy = (_per_sample(x) * (h + 1 - ch % 2)).long()
    cx = (_per_sample(x) * (w + 1 - cw % 2)).long()
    ys = torch.arange(h, device=x.device)[None, :]
    xs = torch.arange(w, device=x.device)[None, :]
    in_y = (ys >= (cy - ch // 2)[:, None]) & (ys < (cy - ch // 2 + ch)[:, None])
    in_x = (xs >= (cx - cw // 2)[:, None]) & (xs < (cx - cw // 2 + cw)[:, None])
    mask = in_y[:, None, :, None] & in_x[:, None, None, :]
    return x * (~mask).to(x.dtype)


def _hue_matrices(theta: torch.Tensor) -> torch.Tensor:
    """Rotations by ``theta`` [N] around the grey axis (1, 1, 1)/sqrt(3): [N, 3, 3]."""
    v = torch.full((3,), 1 / math.sqrt(3), dtype=theta.dtype, device=theta.device)
    eye = torch.eye(3, dtype=theta.dtype, device=theta.device)
    cross = torch.tensor([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], dtype=theta.dtype, device=theta.device)
    cross = cross / math.sqrt(3)
    cos, sin = torch.cos(theta)[:, None, None], torch.sin(theta)[:, None, None]
    return cos * eye + sin * cross + (1 - cos) * torch.outer(v, v)


class AdaAugment:
    """ADA pipeline: each op applied per image with probability ``p``.

    Args:
        ops: op names from :data:`~batikstudio.training.config.ADA_OPS` (all by default).
        p: initial probability in [0, 1] (steered later with :func:`ada_adjust`).
        wrap: integer translations wrap around instead of padding with 0.
        translate_max: largest shift as a fraction of the image size.
    """

    def __init__(self, ops: Sequence[str] = ADA_OPS, p: float = 0.0, wrap: bool = True,
                 translate_max: float = 0.125) -> None:
        unknown = [op for op in ops if op not in ADA_OPS]
        if unknown:
            raise ValueError(f"unknown ADA ops {unknown}; choose from {ADA_OPS}")
        self.ops = tuple(ops)
        self.p = float(p)
        self.wrap = wrap
        self.translate_max = translate_max

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Augment NCHW images; returns a tensor of the same shape and dtype."""
        _check(x)
        if self.p <= 0 or not self.ops:
            return x
        for op in self.ops:
            x = getattr(self, f"_{op}")(x)
        return x

    def _mask(self, x: torch.Tensor) -> torch.Tensor:
        return _per_sample(x) < self.p

    def _xflip(self, x: torch.Tensor) -> torch.Tensor:
        return torch.where(_bcast(self._mask(x)), x.flip(3), x)

    def _rotate90(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[2] != x.shape[3]:
            return x
        k = (_per_sample(x) * 4).long().clamp(max=3) * self._mask(x).long()
        out = x
        for turns in (1, 2, 3):
            out = torch.where(_bcast(k == turns), torch.rot90(x, turns, dims=(2, 3)), out)
        return out

    def _translate(self, x: torch.Tensor) -> torch.Tensor:
        mask = self._mask(x).long()
        h, w = x.shape[2:]
        dy = ((_per_sample(x) * 2 - 1) * self.translate_max * h).round().long() * mask
        dx = ((_per_sample(x) * 2 - 1) * self.translate_max * w).round().long() * mask
        return translate_images(x, dy, dx, self.wrap)

    def _brightness(self, x: torch.Tensor) -> torch.Tensor:
        b = torch.randn(x.shape[0], device=x.device, dtype=x.dtype) * 0.2
        return x + _bcast(b * self._mask(x))

    def _contrast(self, x: torch.Tensor) -> torch.Tensor:
        c = torch.exp2(torch.randn(x.shape[0], device=x.device, dtype=x.dtype) * 0.5)
        c = torch.where(self._mask(x), c, torch.ones_like(c))
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        return (x - mean) * _bcast(c) + mean

    def _saturation(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != 3:
            return x
        s = torch.exp2(torch.randn(x.shape[0], device=x.device, dtype=x.dtype))
        s = torch.where(self._mask(x), s, torch.ones_like(s))
        luma = (x * torch.tensor(_LUMA, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)).sum(1, keepdim=True)
        return (x - luma) * _bcast(s) + luma

    def _hue(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != 3:
            return x
        theta = (_per_sample(x) * 2 - 1) * math.pi * self._mask(x).to(x.dtype)
        return torch.einsum("nij,njhw->nihw", _hue_matrices(theta), x)

    def _cutout(self, x: torch.Tensor) -> torch.Tensor:
        return torch.where(_bcast(self._mask(x)), cutout_images(x), x)


class DiffAugment:
    """DiffAugment: the chosen ops applied to every image on every call.

    Args:
        ops: from :data:`~batikstudio.training.config.DIFFAUGMENT_OPS` (all by default).
        wrap: translations wrap around (the original pads with zeros).
        translation_ratio: largest shift as a fraction of the image size (1/8).
        cutout_ratio: cutout square size as a fraction of the image size (1/2).
    """

    p = 1.0

    def __init__(self, ops: Sequence[str] = DIFFAUGMENT_OPS, wrap: bool = True,
                 translation_ratio: float = 0.125, cutout_ratio: float = 0.5) -> None:
        unknown = [op for op in ops if op not in DIFFAUGMENT_OPS]
        if unknown:
            raise ValueError(f"unknown DiffAugment ops {unknown}; choose from {DIFFAUGMENT_OPS}")
        self.ops = tuple(ops)
        self.wrap = wrap
        self.translation_ratio = translation_ratio
        self.cutout_ratio = cutout_ratio

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Augment NCHW images; returns a tensor of the same shape and dtype."""
        _check(x)
        if "color" in self.ops:
            x = x + _bcast(_per_sample(x) - 0.5)
            mean = x.mean(dim=1, keepdim=True)
            x = (x - mean) * _bcast(_per_sample(x) * 2) + mean
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            x = (x - mean) * _bcast(_per_sample(x) + 0.5) + mean
        if "translation" in self.ops:
            h, w = x.shape[2:]
            sy, sx = int(h * self.translation_ratio + 0.5), int(w * self.translation_ratio + 0.5)
            dy = torch.randint(-sy, sy + 1, (x.shape[0],), device=x.device)
            dx = torch.randint(-sx, sx + 1, (x.shape[0],), device=x.device)
            x = translate_images(x, dy, dx, self.wrap)
        if "cutout" in self.ops:
            x = cutout_images(x, self.cutout_ratio)
        return x


Augment = Callable[[torch.Tensor], torch.Tensor]


def build_augment(cfg: TrainConfig, p: float | None = None) -> AdaAugment | DiffAugment | None:
    """The augmentation pipeline of a run (``None`` for ``augment="none"``)."""
    ops = cfg.effective_augment_ops()
    if cfg.augment == "ada":
        return AdaAugment(ops, p=cfg.augment_p if p is None else p, wrap=cfg.augment_wrap)
    if cfg.augment == "diffaugment":
        return DiffAugment(ops, wrap=cfg.augment_wrap)
    return None


def ada_adjust(p: float, sign_mean: float, target: float, batch: int, interval: int,
               speed_kimg: float) -> float:
    """One ADA / Diffusion-GAN strength update, like NVlabs.

    ``p += sign(sign_mean - target) * batch * interval / (speed_kimg * 1000)``, clipped to
    [0, 1]: at most ``speed_kimg`` kimg to go from 0 to 1.

    Args:
        p: current strength.
        sign_mean: E[sign(D(real))] over the last ``interval`` iterations, in [-1, 1].
        target: heuristic target (0.6).
        batch: global batch size.
        interval: iterations between adjustments.
        speed_kimg: kimg to go from 0 to 1.
    """
    step = batch * interval / (speed_kimg * 1000)
    direction = (sign_mean > target) - (sign_mean < target)
    return float(min(max(p + direction * step, 0.0), 1.0))
