"""DCGAN generator and discriminator (Radford et al. 2015), a small baseline family.

Both nets follow the StyleGAN2 interface closely enough that the trainer, the sample grid,
the metrics and the renderer use them unchanged:

* :class:`DCGANGenerator` has ``z_dim``, ``c_dim``, ``w_dim``, ``num_ws`` (always 1),
  ``img_resolution``, ``img_channels``, a ``mapping`` module (z, c -> ws ``[N, 1, w_dim]``:
  no mapping network, ws is z itself, with the normalised class embedding appended for
  conditional models) and a ``synthesis`` module (ws -> images). There is no W space:
  truncation scales z (``w_avg`` is a constant zero vector, so ``w_avg.lerp(ws, psi)`` is
  ``psi * z``; the class part of ws is re-normalised inside ``synthesis``, so truncation
  leaves the class alone for ``psi > 0``). Noise modes are accepted and ignored (DCGAN has
  no noise inputs); ``max_resolution`` previews render the full image.
* :class:`DCGANDiscriminator` scores ``[N, C, R, R]`` images; conditional by projection
  (Miyato & Koyama 2018). Diffusion-GAN's step ``t`` is not supported.

Layers are named ``b{res}`` by the resolution they work at, like StyleGAN2, so
``TrainConfig.freeze_d`` (freeze D's first blocks) works here too. BatchNorm running
statistics are buffers (in ``state_dict``): a generator in ``eval()`` mode (``G_ema``, every
rendered image) uses them, so an image never depends on the other images in its batch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from batikstudio.core.nets.config import _check_positive_int, _from_dict
from batikstudio.core.nets.mapping import normalize_2nd_moment

__all__ = ["DCGANDiscriminator", "DCGANDiscriminatorConfig", "DCGANGenerator", "DCGANGeneratorConfig"]

_CHANNELS = (1, 3)
_DTYPES = (torch.float32, torch.bfloat16, torch.float16)


def _check_res_channels(cfg: Any) -> None:
    res = cfg.img_resolution
    if not isinstance(res, int) or isinstance(res, bool) or not 16 <= res <= 256 or res & (res - 1):
        raise ValueError(f"img_resolution must be a power of two in 16..256, got {res!r}")
    if cfg.img_channels not in _CHANNELS or isinstance(cfg.img_channels, bool):
        raise ValueError(f"img_channels must be one of {_CHANNELS}, got {cfg.img_channels!r}")
    _check_positive_int("c_dim", cfg.c_dim, allow_zero=True)
    _check_positive_int("channel_max", cfg.channel_max)


def dcgan_channels(res: int, img_resolution: int, base: int, channel_max: int) -> int:
    """Feature maps at resolution ``res``: ``base`` at ``img_resolution / 2``, doubling per halving.

    >>> [dcgan_channels(r, 64, 64, 512) for r in (4, 8, 16, 32)]
    [512, 256, 128, 64]
    """
    return min(base * img_resolution // (2 * res), channel_max)


class _DictConfig:
    """``to_dict`` / ``from_dict`` shared by the DCGAN configs (validated on construction)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]):
        """Build and validate from :meth:`to_dict` output.

        Raises:
            ValueError: naming the unknown, missing or invalid field.
        """
        return _from_dict(cls, d)


@dataclass(frozen=True)
class DCGANGeneratorConfig(_DictConfig):
    """DCGAN generator hyper-parameters.

    Attributes:
        c_dim: class-label size, 0 = unconditional.
        img_resolution: output size, a power of two in 16..256.
        img_channels: 1 (gray) or 3 (RGB).
        z_dim: latent size (> 0).
        ngf: feature maps of the last hidden layer (at ``img_resolution / 2``); they double
            at every halving of the resolution (``ngf * 8`` at 4 px for 64 px images, capped).
            Radford et al. use 64; the default 192 makes a 64 px training step cost about as
            much CPU time as the 64 px StyleGAN2 ablation config (z = w = 256, channel_base
            4096, channel_max 128).
        channel_max: the cap on feature maps.
        embed_features: class embedding size appended to z (conditional models only);
            None = ``z_dim``.
    """

    c_dim: int
    img_resolution: int
    img_channels: int
    z_dim: int = 256
    ngf: int = 192
    channel_max: int = 512
    embed_features: int | None = None

    def __post_init__(self) -> None:
        _check_res_channels(self)
        _check_positive_int("z_dim", self.z_dim)
        _check_positive_int("ngf", self.ngf)
        if self.embed_features is not None:
            _check_positive_int("embed_features", self.embed_features)

    @property
    def embed_dim(self) -> int:
        """Size of the class part of ws (0 when unconditional)."""
        if self.c_dim == 0:
            return 0
        return self.embed_features if self.embed_features is not None else self.z_dim

    @property
    def w_dim(self) -> int:
        """Size of the single ws vector: ``z_dim`` plus the class embedding."""
        return self.z_dim + self.embed_dim

    @property
    def num_ws(self) -> int:
        """Always 1: DCGAN has one input vector, no per-layer styles."""
        return 1


@dataclass(frozen=True)
class DCGANDiscriminatorConfig(_DictConfig):
    """DCGAN discriminator hyper-parameters.

    Attributes:
        c_dim: class-label size, 0 = unconditional (projection conditioning otherwise).
        img_resolution: input size, a power of two in 16..256.
        img_channels: 1 or 3.
        ndf: feature maps of the first layer (at ``img_resolution / 2``), doubling at
            every halving of the resolution (Radford et al.: 64; default 192, see ``ngf``).
        channel_max: the cap on feature maps.
    """

    c_dim: int
    img_resolution: int
    img_channels: int
    ndf: int = 192
    channel_max: int = 512

    def __post_init__(self) -> None:
        _check_res_channels(self)
        _check_positive_int("ndf", self.ndf)


def _check_dtype(dtype: torch.dtype | None) -> torch.dtype:
    if dtype is None:
        return torch.float32
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be one of float32, bfloat16, float16, got {dtype}")
    return dtype


def _dcgan_init(module: torch.nn.Module) -> None:
    """DCGAN init: conv / linear weights N(0, 0.02), BatchNorm weights N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)):
            torch.nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
        elif isinstance(m, torch.nn.BatchNorm2d):
            torch.nn.init.normal_(m.weight, 1.0, 0.02)
            torch.nn.init.zeros_(m.bias)


def _batch_norm(bn: torch.nn.BatchNorm2d, x: torch.Tensor) -> torch.Tensor:
    """``bn(x)`` for any input dtype: statistics and parameters stay float32."""
    return bn(x.float()).to(x.dtype) if x.dtype != torch.float32 else bn(x)


def up_conv(x: torch.Tensor, conv: torch.nn.ConvTranspose2d, dtype: torch.dtype, tileable: bool) -> torch.Tensor:
    """Stride-2, 4x4 transposed convolution (padding 1): ``[N, Cin, H, W] -> [N, Cout, 2H, 2W]``.

    With ``tileable`` the input wraps around (circular padding), so a periodic input gives
    a periodic output: pad one pixel circularly, then crop three (``padding=3``).
    """
    w = conv.weight.to(dtype)
    b = conv.bias.to(dtype) if conv.bias is not None else None
    x = x.to(dtype)
    if tileable:
        return F.conv_transpose2d(F.pad(x, (1, 1, 1, 1), mode="circular"), w, b, stride=2, padding=3)
    return F.conv_transpose2d(x, w, b, stride=2, padding=1)


class _UpBlock(torch.nn.Module):
    """Transposed conv (4x4, stride 2 or, from 1x1, stride 1) + BatchNorm + ReLU."""

    def __init__(self, in_channels: int, out_channels: int, first: bool) -> None:
        super().__init__()
        self.first = first
        stride, pad = (1, 0) if first else (2, 1)
        self.conv = torch.nn.ConvTranspose2d(in_channels, out_channels, 4, stride, pad, bias=False)
        self.bn = torch.nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor, dtype: torch.dtype, tileable: bool) -> torch.Tensor:
        if self.first:  # 1x1 -> 4x4: no padding, nothing to wrap
            x = F.conv_transpose2d(x.to(dtype), self.conv.weight.to(dtype))
        else:
            x = up_conv(x, self.conv, dtype, tileable)
        return F.relu(_batch_norm(self.bn, x))


class DCGANMapping(torch.nn.Module):
    """z (and class c) -> ws ``[N, 1, w_dim]``: z itself, plus the normalised class embedding.

    ``w_avg`` is a constant zero vector (not stored in model files), so truncation towards
    it scales z (DCGAN has no W space).
    """

    class_centres = False  # truncation scales z: there is no class centre in W to pull towards

    def __init__(self, z_dim: int, c_dim: int, embed_dim: int) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.embed_dim = z_dim, c_dim, embed_dim
        self.w_dim = z_dim + embed_dim
        self.num_ws = 1
        if c_dim > 0:
            self.embed = torch.nn.Linear(c_dim, embed_dim, bias=False)
        self.register_buffer("w_avg", torch.zeros([self.w_dim]), persistent=False)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None, update_emas: bool = False) -> torch.Tensor:
        """Map latents to ws.

        Args:
            z: ``[N, z_dim]`` float (standard normal).
            c: ``[N, c_dim]`` labels (one-hot); None allowed when ``c_dim`` is 0.
            truncation_psi: scales z (1 = none); the class part is not scaled.
            truncation_cutoff: 0 = no truncation (there is one ws), anything else = truncate.
            update_emas: accepted and ignored (there is no tracked average).

        Returns:
            ``[N, 1, w_dim]`` float32.

        Raises:
            ValueError: on wrong input shapes.
        """
        if z is None or z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must be [N, {self.z_dim}], got {None if z is None else tuple(z.shape)}")
        x = z.to(torch.float32)
        if truncation_psi != 1 and (truncation_cutoff is None or truncation_cutoff > 0):
            x = x * truncation_psi
        if self.c_dim > 0:
            if c is None or c.shape != (z.shape[0], self.c_dim):
                raise ValueError(f"c must be [{z.shape[0]}, {self.c_dim}], got {None if c is None else tuple(c.shape)}")
            x = torch.cat([x, normalize_2nd_moment(self.embed(c.to(torch.float32)))], dim=1)
        return x.unsqueeze(1)


class DCGANSynthesis(torch.nn.Module):
    """ws ``[N, 1, w_dim]`` -> images ``[N, C, R, R]``: 4x4 from the vector, then upsampling blocks.

    Blocks ``b4`` (1x1 -> 4x4), ``b8`` ... ``b{R/2}``, then ``torgb`` (to R px, with bias) and tanh.
    """

    def __init__(self, cfg: DCGANGeneratorConfig) -> None:
        super().__init__()
        self.z_dim, self.embed_dim, self.w_dim = cfg.z_dim, cfg.embed_dim, cfg.w_dim
        self.num_ws = 1
        self.img_resolution, self.img_channels = cfg.img_resolution, cfg.img_channels
        r_top = cfg.img_resolution
        ch = {r: dcgan_channels(r, r_top, cfg.ngf, cfg.channel_max) for r in self._hidden_resolutions(r_top)}
        self.block_resolutions = list(ch)
        prev = cfg.w_dim
        for r, c in ch.items():
            setattr(self, f"b{r}", _UpBlock(prev, c, first=r == 4))
            prev = c
        self.torgb = torch.nn.ConvTranspose2d(prev, cfg.img_channels, 4, 2, 1, bias=True)

    @staticmethod
    def _hidden_resolutions(r_top: int) -> list[int]:
        out, r = [], 4
        while r < r_top:
            out.append(r)
            r *= 2
        return out

    def forward(self, ws: torch.Tensor, noise_mode: str = "const", fast: bool = True, tileable: bool = False,
                dtype: torch.dtype | None = None, noise_gain: Any = None, max_resolution: int | None = None,
                **_ignored: Any) -> torch.Tensor:
        """Render images.

        Args:
            ws: ``[N, 1, w_dim]`` from :class:`DCGANMapping` (possibly truncated).
            noise_mode, noise_gain, fast: accepted and ignored (no noise inputs, one code path).
            tileable: circular padding in every stride-2 layer: the image tiles seamlessly.
            dtype: feature-map dtype (e.g. ``torch.bfloat16``); BatchNorm and the output are float32.
            max_resolution: accepted for quick previews; the full image is rendered (it is cheap).

        Returns:
            ``[N, img_channels, R, R]`` float32 in [-1, 1] (tanh).

        Raises:
            ValueError: on a bad ``ws`` shape or dtype.
        """
        if ws.ndim != 3 or ws.shape[1] != 1 or ws.shape[2] != self.w_dim:
            raise ValueError(f"ws must be [N, 1, {self.w_dim}], got {tuple(ws.shape)}")
        dt = _check_dtype(dtype)
        x = ws[:, 0].to(torch.float32)
        if self.embed_dim:  # truncation scaled the whole vector: restore the class code's scale
            x = torch.cat([x[:, :self.z_dim], normalize_2nd_moment(x[:, self.z_dim:])], dim=1)
        x = x[:, :, None, None]
        for r in self.block_resolutions:
            x = getattr(self, f"b{r}")(x, dt, tileable)
        x = up_conv(x, self.torgb, dt, tileable)
        return torch.tanh(x.float())


class DCGANGenerator(torch.nn.Module):
    """DCGAN generator: ``mapping`` (z, c -> ws, no network) then ``synthesis`` (ws -> image).

    A fresh generator is initialised the DCGAN way from torch's global random generator.
    """

    def __init__(self, cfg: DCGANGeneratorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.z_dim, self.c_dim, self.w_dim, self.num_ws = cfg.z_dim, cfg.c_dim, cfg.w_dim, 1
        self.img_resolution, self.img_channels = cfg.img_resolution, cfg.img_channels
        self.mapping = DCGANMapping(cfg.z_dim, cfg.c_dim, cfg.embed_dim)
        self.synthesis = DCGANSynthesis(cfg)
        _dcgan_init(self.synthesis)
        if cfg.c_dim > 0:
            torch.nn.init.normal_(self.mapping.embed.weight)  # scale is normalised away

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None, noise_mode: str = "const", update_emas: bool = False,
                **synthesis_kwargs: Any) -> torch.Tensor:
        """``z [N, z_dim]``, ``c [N, c_dim]`` (or None) -> image ``[N, C, R, R]`` float32 in [-1, 1].

        Extra keyword arguments go to :meth:`DCGANSynthesis.forward`.
        """
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        return self.synthesis(ws, noise_mode=noise_mode, **synthesis_kwargs)


class _DownBlock(torch.nn.Module):
    """4x4 stride-2 conv, BatchNorm (not in the first block, which has a bias), LeakyReLU 0.2."""

    def __init__(self, in_channels: int, out_channels: int, first: bool) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(in_channels, out_channels, 4, 2, 1, bias=first)
        self.bn = None if first else torch.nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        b = self.conv.bias.to(dtype) if self.conv.bias is not None else None
        x = F.conv2d(x.to(dtype), self.conv.weight.to(dtype), b, stride=2, padding=1)
        if self.bn is not None:
            x = _batch_norm(self.bn, x)
        return F.leaky_relu(x, 0.2)


class DCGANDiscriminator(torch.nn.Module):
    """DCGAN discriminator: blocks ``b{R}`` ... ``b8`` (each halves the size), then ``b4``.

    ``b4`` is a 4x4 valid convolution to one logit; conditional models add the projection
    ``<embed(c), mean_xy(features)>`` (``embed`` exists when ``c_dim > 0``).
    """

    def __init__(self, cfg: DCGANDiscriminatorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.c_dim, self.img_resolution, self.img_channels = cfg.c_dim, cfg.img_resolution, cfg.img_channels
        self.t_dim = 0
        self.block_resolutions = []
        prev, r = cfg.img_channels, cfg.img_resolution
        while r > 4:
            out = dcgan_channels(r // 2, cfg.img_resolution, cfg.ndf, cfg.channel_max)
            setattr(self, f"b{r}", _DownBlock(prev, out, first=r == cfg.img_resolution))
            self.block_resolutions.append(r)
            prev, r = out, r // 2
        self.b4 = torch.nn.Conv2d(prev, 1, 4, 1, 0, bias=True)
        if cfg.c_dim > 0:
            self.embed = torch.nn.Linear(cfg.c_dim, prev, bias=False)
        _dcgan_init(self)

    def forward(self, img: torch.Tensor, c: torch.Tensor | None = None, t: torch.Tensor | None = None,
                dtype: torch.dtype | None = None, force_fp32: bool = False, fast: bool = False) -> torch.Tensor:
        """Score images.

        Args:
            img: ``[N, img_channels, R, R]`` float in about [-1, 1].
            c: ``[N, c_dim]`` labels (None allowed when ``c_dim`` is 0).
            t: must be None (Diffusion-GAN steps are not supported by DCGAN).
            dtype: feature-map dtype of the blocks (e.g. ``torch.bfloat16``); the head is float32.
            force_fp32, fast: accepted and ignored (one code path).

        Returns:
            Logits ``[N, 1]`` float32.

        Raises:
            ValueError: on wrong shapes, or a ``t``.
        """
        r = self.img_resolution
        if img.ndim != 4 or img.shape[1:] != (self.img_channels, r, r):
            raise ValueError(f"img must be [N, {self.img_channels}, {r}, {r}], got {tuple(img.shape)}")
        if t is not None:
            raise ValueError("DCGAN discriminators take no Diffusion-GAN step t")
        dt = _check_dtype(dtype)
        x = img
        for res in self.block_resolutions:
            x = getattr(self, f"b{res}")(x, dt)
        x = x.float()
        logits = self.b4(x).flatten(1)
        if self.c_dim > 0:
            n = img.shape[0]
            if c is None or c.shape != (n, self.c_dim):
                raise ValueError(f"c must be [{n}, {self.c_dim}], got {None if c is None else tuple(c.shape)}")
            logits = logits + (self.embed(c.to(torch.float32)) * x.mean(dim=[2, 3])).sum(dim=1, keepdim=True)
        return logits
