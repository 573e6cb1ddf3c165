"""StyleGAN2 discriminator (NVlabs names), with optional Diffusion-GAN step conditioning.

With ``t_dim > 0`` (Diffusion-GAN) the diffusion step ``t`` is concatenated to the label and
fed through D's own mapping network to the projection output, exactly like
``diffusion-stylegan2``; with ``t_dim == 0`` it is the plain NVlabs discriminator.
"""

from __future__ import annotations

import math

import torch

from batikstudio.core import ops
from batikstudio.core.nets.config import DiscriminatorConfig, channels_for
from batikstudio.core.nets.layers import CHANNELS_LAST_MIN, Conv2dLayer, FullyConnectedLayer
from batikstudio.core.nets.mapping import MappingNetwork
from batikstudio.core.nets.synthesis import block_dtype

__all__ = ["Discriminator", "DiscriminatorBlock", "DiscriminatorEpilogue", "MinibatchStdLayer"]


class DiscriminatorBlock(torch.nn.Module):
    """One resolution: [fromrgb], conv0, conv1 (down 2), [skip (1x1, down 2, resnet)].

    Input ``x [N, tmp, R, R]`` (None for the first block) and ``img [N, C, R, R]``;
    returns ``(x [N, out, R/2, R/2], img)`` (``img`` downsampled for 'skip', else None).
    """

    def __init__(self, in_channels: int, tmp_channels: int, out_channels: int, resolution: int,
                 img_channels: int, architecture: str = "resnet", resample_filter=(1, 3, 3, 1),
                 conv_clamp: float | None = None, use_fp16: bool = False) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.resolution = resolution
        self.img_channels = img_channels
        self.architecture = architecture
        self.use_fp16 = use_fp16
        self.register_buffer("resample_filter", ops.setup_filter(resample_filter))
        if in_channels == 0 or architecture == "skip":
            self.fromrgb = Conv2dLayer(img_channels, tmp_channels, kernel_size=1, activation="lrelu",
                                       conv_clamp=conv_clamp)
        self.conv0 = Conv2dLayer(tmp_channels, tmp_channels, kernel_size=3, activation="lrelu", conv_clamp=conv_clamp)
        self.conv1 = Conv2dLayer(tmp_channels, out_channels, kernel_size=3, activation="lrelu", down=2,
                                 resample_filter=resample_filter, conv_clamp=conv_clamp)
        if architecture == "resnet":
            self.skip = Conv2dLayer(tmp_channels, out_channels, kernel_size=1, bias=False, down=2,
                                    resample_filter=resample_filter)

    def forward(self, x: torch.Tensor | None, img: torch.Tensor | None, force_fp32: bool = False,
                dtype: torch.dtype | None = None, fast: bool = False):
        dtype = dtype or block_dtype(self.use_fp16, img.device if img is not None else x.device, force_fp32)
        if x is not None:
            x = x.to(dtype=dtype)
        if self.in_channels == 0 or self.architecture == "skip":
            img = img.to(dtype=dtype)
            y = self.fromrgb(img, fast=fast)
            x = x + y if x is not None else y
            img = ops.downsample2d(img, self.resample_filter) if self.architecture == "skip" else None
        if self.architecture == "resnet":
            y = self.skip(x, gain=math.sqrt(0.5), fast=fast)
            x = self.conv0(x, fast=fast)
            x = self.conv1(x, gain=math.sqrt(0.5), fast=fast)
            x = y + x
        else:
            x = self.conv1(self.conv0(x, fast=fast), fast=fast)
        return x, img


class MinibatchStdLayer(torch.nn.Module):
    """Append the per-group standard deviation as extra feature maps.

    Args:
        group_size: samples per group (``min(group_size, N)``); None = the whole batch.
        num_channels: number of std features appended.

    ``[N, C, H, W] -> [N, C + num_channels, H, W]``; N must be divisible by the group size.
    """

    def __init__(self, group_size: int | None, num_channels: int = 1) -> None:
        super().__init__()
        self.group_size = group_size
        self.num_channels = num_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = min(self.group_size, n) if self.group_size is not None else n
        if n % g:
            raise ValueError(f"batch size {n} must be divisible by the minibatch-std group size {g}")
        f = self.num_channels
        y = x.reshape(g, -1, f, c // f, h, w)
        y = y - y.mean(dim=0)
        y = y.square().mean(dim=0)
        y = (y + 1e-8).sqrt()
        y = y.mean(dim=[2, 3, 4])
        y = y.reshape(-1, f, 1, 1).repeat(g, 1, h, w)
        return torch.cat([x, y], dim=1)


class DiscriminatorEpilogue(torch.nn.Module):
    """4x4 head: [fromrgb], minibatch-std, conv, fc, out, optional projection with ``cmap``.

    ``fromrgb`` exists for the 'skip' architecture, and also when the discriminator has no
    blocks at all (4 px images; not a layout NVlabs can build).
    """

    def __init__(self, in_channels: int, cmap_dim: int, resolution: int, img_channels: int,
                 architecture: str = "resnet", mbstd_group_size: int | None = 4, mbstd_num_channels: int = 1,
                 conv_clamp: float | None = None, first: bool = False) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.cmap_dim = cmap_dim
        self.resolution = resolution
        self.architecture = architecture
        if architecture == "skip" or first:
            self.fromrgb = Conv2dLayer(img_channels, in_channels, kernel_size=1, activation="lrelu")
        self.mbstd = MinibatchStdLayer(mbstd_group_size, mbstd_num_channels) if mbstd_num_channels > 0 else None
        self.conv = Conv2dLayer(in_channels + mbstd_num_channels, in_channels, kernel_size=3, activation="lrelu",
                                conv_clamp=conv_clamp)
        self.fc = FullyConnectedLayer(in_channels * resolution ** 2, in_channels, activation="lrelu")
        self.out = FullyConnectedLayer(in_channels, 1 if cmap_dim == 0 else cmap_dim)

    def forward(self, x: torch.Tensor, img: torch.Tensor | None, cmap: torch.Tensor | None,
                fast: bool = False) -> torch.Tensor:
        if x is None:
            x = self.fromrgb(img.to(torch.float32), fast=fast)
        else:
            x = x.to(torch.float32)
            if self.architecture == "skip":
                x = x + self.fromrgb(img.to(torch.float32), fast=fast)
        if self.mbstd is not None:
            x = self.mbstd(x)
        x = self.conv(x, fast=fast)
        x = self.fc(x.flatten(1))
        x = self.out(x)
        if self.cmap_dim > 0:
            x = (x * cmap).sum(dim=1, keepdim=True) * (1 / math.sqrt(self.cmap_dim))
        return x


class Discriminator(torch.nn.Module):
    """StyleGAN2 discriminator; NVlabs (``t_dim == 0``) or Diffusion-GAN (``t_dim > 0``) layout.

    Blocks ``b{img_resolution}, ..., b8`` then the epilogue ``b4``; ``mapping`` exists when
    ``c_dim + t_dim > 0``. State dicts of NVlabs / Diffusion-GAN ``D`` load with ``strict=True``.
    """

    def __init__(self, cfg: DiscriminatorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.c_dim = cfg.c_dim
        self.t_dim = cfg.t_dim
        self.img_resolution = cfg.img_resolution
        self.img_channels = cfg.img_channels
        log2 = int(math.log2(cfg.img_resolution))
        self.block_resolutions = [2 ** i for i in range(log2, 2, -1)]
        fp16_resolution = max(2 ** (log2 + 1 - cfg.num_fp16_res), 8)
        ch = {res: channels_for(res, cfg.channel_base, cfg.channel_max) for res in self.block_resolutions + [4]}
        self.cmap_dim = cfg.effective_cmap_dim
        common = dict(img_channels=cfg.img_channels, architecture=cfg.architecture, conv_clamp=cfg.conv_clamp)
        for res in self.block_resolutions:
            block = DiscriminatorBlock(ch[res] if res < cfg.img_resolution else 0, ch[res], ch[res // 2],
                                       resolution=res, use_fp16=res >= fp16_resolution,
                                       resample_filter=cfg.resample_filter, **common)
            setattr(self, f"b{res}", block)
        if cfg.c_dim + cfg.t_dim > 0:
            self.mapping = MappingNetwork(z_dim=0, c_dim=cfg.c_dim + cfg.t_dim, w_dim=self.cmap_dim, num_ws=None,
                                          num_layers=cfg.mapping_layers, lr_multiplier=cfg.mapping_lr_multiplier,
                                          w_avg_beta=None)
        self.b4 = DiscriminatorEpilogue(ch[4], cmap_dim=self.cmap_dim, resolution=4,
                                        mbstd_group_size=cfg.mbstd_group_size,
                                        mbstd_num_channels=cfg.mbstd_num_channels,
                                        first=not self.block_resolutions, **common)

    def forward(self, img: torch.Tensor, c: torch.Tensor | None = None, t: torch.Tensor | None = None,
                force_fp32: bool = False, dtype: torch.dtype | None = None, fast: bool = False) -> torch.Tensor:
        """Score images.

        Args:
            img: ``[N, img_channels, R, R]`` float in about [-1, 1].
            c: ``[N, c_dim]`` labels (None allowed when ``c_dim`` is 0).
            t: Diffusion-GAN steps ``[N]`` or ``[N, t_dim]`` (any numeric dtype, raw step
                numbers, 0 = clean); None = all zeros. Ignored when ``t_dim`` is 0.
            force_fp32: run fp16 blocks in float32 on CUDA.
            dtype: feature-map dtype of every block (the 4x4 epilogue stays float32), e.g.
                ``torch.bfloat16`` for bf16 training on CPUs with native bf16; None = the
                default (float32, fp16 blocks on CUDA).
            fast: the CPU-friendly arrangement of the same maths (channels-last activations,
                gains folded into the weights, bias inside the convolution); equal up to rounding.

        Returns:
            Logits ``[N, 1]`` float32.

        Raises:
            ValueError: on wrong shapes.
        """
        r = self.img_resolution
        if img.ndim != 4 or img.shape[1:] != (self.img_channels, r, r):
            raise ValueError(f"img must be [N, {self.img_channels}, {r}, {r}], got {tuple(img.shape)}")
        n, device = img.shape[0], img.device
        x = None
        if fast and r >= CHANNELS_LAST_MIN:
            img = img.contiguous(memory_format=torch.channels_last)
        for res in self.block_resolutions:
            x, img = getattr(self, f"b{res}")(x, img, force_fp32=force_fp32, dtype=dtype, fast=fast)
        cmap = None
        if self.c_dim + self.t_dim > 0:
            cmap = self.mapping(None, self._label(c, t, n, device))
        return self.b4(x, img, cmap, fast=fast)

    def _label(self, c: torch.Tensor | None, t: torch.Tensor | None, n: int, device: torch.device) -> torch.Tensor:
        parts = []
        if self.c_dim > 0:
            if c is None or c.shape != (n, self.c_dim):
                raise ValueError(f"c must be [{n}, {self.c_dim}], got {None if c is None else tuple(c.shape)}")
            parts.append(c.to(torch.float32))
        if self.t_dim > 0:
            if t is None:
                t = torch.zeros([n, self.t_dim], device=device)
            t = t.reshape(n, -1) if t.numel() == n * self.t_dim else t
            if t.shape != (n, self.t_dim):
                raise ValueError(f"t must be [{n}] or [{n}, {self.t_dim}], got {tuple(t.shape)}")
            parts.append(t.to(torch.float32))
        return torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]

