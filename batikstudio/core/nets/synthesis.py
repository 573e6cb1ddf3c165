"""StyleGAN2 synthesis network and generator (NVlabs parameter names, same pixels).

Noise-bearing conv layers, in the order used by ``noise_gain`` sequences and by
:attr:`SynthesisNetwork.noise_layer_names`: ``b4.conv1, b8.conv0, b8.conv1, b16.conv0,
b16.conv1, ...`` up to the output resolution (``2 * log2(res) - 3`` layers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from batikstudio.core import ops
from batikstudio.core.nets.config import GeneratorConfig, channels_for
from batikstudio.core.nets.layers import Conv2dLayer, SynthesisLayer, ToRGBLayer
from batikstudio.core.nets.layout import LayoutEncoder, seed_char_rows, seed_class_rows
from batikstudio.core.nets.mapping import MappingNetwork

__all__ = ["Generator", "SynthesisBlock", "SynthesisNetwork"]

NOISE_MODES = ("random", "paired", "const", "none")


def block_dtype(use_fp16: bool, device: torch.device, force_fp32: bool) -> torch.dtype:
    """float16 only for fp16 blocks on CUDA; CPU (and MPS) always run float32."""
    return torch.float16 if use_fp16 and device.type == "cuda" and not force_fp32 else torch.float32


class SynthesisBlock(torch.nn.Module):
    """One resolution of the synthesis network: [const | conv0 (up 2)], conv1, torgb / skip.

    Args:
        in_channels: input feature maps, 0 for the first (4x4 constant) block.
        out_channels: feature maps of this block.
        w_dim: W size.
        resolution: this block's resolution.
        img_channels: image channels.
        is_last: the output block (always has a torgb).
        architecture: ``'skip'``, ``'resnet'`` or ``'orig'``.
        resample_filter: FIR taps.
        conv_clamp: conv output clamp.
        use_fp16: run in float16 on CUDA.
        use_noise: noise inputs.
    """

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, img_channels: int,
                 is_last: bool, architecture: str = "skip", resample_filter=(1, 3, 3, 1),
                 conv_clamp: float | None = None, use_fp16: bool = False, use_noise: bool = True) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.w_dim = w_dim
        self.resolution = resolution
        self.img_channels = img_channels
        self.is_last = is_last
        self.architecture = architecture
        self.use_fp16 = use_fp16
        self.register_buffer("resample_filter", ops.setup_filter(resample_filter))
        self.num_conv = 0
        self.num_torgb = 0
        layer_kw = dict(w_dim=w_dim, resolution=resolution, use_noise=use_noise, conv_clamp=conv_clamp,
                        resample_filter=resample_filter)
        if in_channels == 0:
            self.const = torch.nn.Parameter(torch.randn([out_channels, resolution, resolution]))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, up=2, **layer_kw)
            self.num_conv += 1
        self.conv1 = SynthesisLayer(out_channels, out_channels, **layer_kw)
        self.num_conv += 1
        if is_last or architecture == "skip":
            self.torgb = ToRGBLayer(out_channels, img_channels, w_dim=w_dim, conv_clamp=conv_clamp)
            self.num_torgb += 1
        if in_channels != 0 and architecture == "resnet":
            self.skip = Conv2dLayer(in_channels, out_channels, kernel_size=1, bias=False, up=2,
                                    resample_filter=resample_filter)

    def forward(self, x: torch.Tensor | None, img: torch.Tensor | None, ws: torch.Tensor,
                noise_mode: str = "const", noise_gains: Sequence[float] | None = None, tileable: bool = False,
                fast: bool = True, fused_modconv: bool | None = None, force_fp32: bool = False,
                dtype: torch.dtype | None = None, cond: torch.Tensor | None = None):
        """Run the block. ``ws [N, num_conv + num_torgb, w_dim]``; returns ``(x, img)``.

        ``img`` is float32 ``[N, img_channels, R, R]`` (or None before the first torgb).
        ``dtype`` overrides the feature-map dtype (e.g. bfloat16 on CPU); None = the default.
        ``cond``: feature maps added to the block's input (the constant of the first block),
        e.g. an encoded character layout.
        """
        n = ws.shape[0]
        w_iter = iter(ws.unbind(dim=1))
        gains = list(noise_gains) if noise_gains is not None else [1.0] * self.num_conv
        dtype = dtype or block_dtype(self.use_fp16, ws.device, force_fp32)
        if fused_modconv is None:
            fused_modconv = (not self.training) and (dtype == torch.float32 or n == 1)
        kw = dict(noise_mode=noise_mode, fused_modconv=fused_modconv, circular=tileable, fast=fast)
        if self.in_channels == 0:
            x = self.const.to(dtype=dtype).unsqueeze(0).expand(n, -1, -1, -1)
            if cond is not None:
                x = x + cond.to(dtype)
            x = self.conv1(x, next(w_iter), noise_gain=gains[0], **kw)
        else:
            x = x.to(dtype=dtype)
            if cond is not None:
                x = x + cond.to(dtype)
            if self.architecture == "resnet":
                y = self.skip(x, gain=math.sqrt(0.5), circular=tileable)
                x = self.conv0(x, next(w_iter), noise_gain=gains[0], **kw)
                x = self.conv1(x, next(w_iter), noise_gain=gains[1], gain=math.sqrt(0.5), **kw)
                x = y + x
            else:
                x = self.conv0(x, next(w_iter), noise_gain=gains[0], **kw)
                x = self.conv1(x, next(w_iter), noise_gain=gains[1], **kw)
        if img is not None:
            img = ops.upsample2d(img, self.resample_filter, circular=tileable, fast=fast)
        if self.is_last or self.architecture == "skip":
            y = self.torgb(x, next(w_iter), fused_modconv=fused_modconv, fast=fast).to(torch.float32)
            img = img + y if img is not None else y
        return x, img


class SynthesisNetwork(torch.nn.Module):
    """W -> image. Blocks ``b4, b8, ..., b{img_resolution}`` (NVlabs ``SynthesisNetwork``).

    Attributes:
        block_resolutions: ``[4, 8, ..., img_resolution]``.
        num_ws: W vectors consumed.
        num_conv_layers: noise-bearing conv layers (length of a ``noise_gain`` sequence).
        noise_layer_names: their module names in ``noise_gain`` order.
    """

    def __init__(self, w_dim: int, img_resolution: int, img_channels: int, channel_base: int = 32768,
                 channel_max: int = 512, num_fp16_res: int = 0, layout_res: int = 0, **block_kwargs) -> None:
        super().__init__()
        self.layout_res = layout_res
        self.w_dim = w_dim
        self.img_resolution = img_resolution
        self.img_channels = img_channels
        log2 = int(math.log2(img_resolution))
        self.block_resolutions = [2 ** i for i in range(2, log2 + 1)]
        fp16_resolution = max(2 ** (log2 + 1 - num_fp16_res), 8)
        self.num_ws = 0
        self.noise_layer_names: list[str] = []
        for res in self.block_resolutions:
            in_ch = channels_for(res // 2, channel_base, channel_max) if res > 4 else 0
            out_ch = channels_for(res, channel_base, channel_max)
            is_last = res == img_resolution
            block = SynthesisBlock(in_ch, out_ch, w_dim=w_dim, resolution=res, img_channels=img_channels,
                                   is_last=is_last, use_fp16=res >= fp16_resolution, **block_kwargs)
            self.num_ws += block.num_conv + (block.num_torgb if is_last else 0)
            self.noise_layer_names += [f"b{res}.conv{i}" for i in ((1,) if res == 4 else (0, 1))]
            setattr(self, f"b{res}", block)
        self.num_conv_layers = len(self.noise_layer_names)
        if layout_res:
            self.layout_encoder = LayoutEncoder(layout_res, channel_base, channel_max)

    def _noise_gains(self, noise_gain) -> list[float]:
        if noise_gain is None:
            return [1.0] * self.num_conv_layers
        if isinstance(noise_gain, (int, float)):
            return [float(noise_gain)] * self.num_conv_layers
        gains = [float(g) for g in noise_gain]
        if len(gains) != self.num_conv_layers:
            raise ValueError(f"noise_gain needs {self.num_conv_layers} values ({', '.join(self.noise_layer_names)}),"
                             f" got {len(gains)}")
        return gains

    def forward(self, ws: torch.Tensor, noise_mode: str = "const", noise_gain=None, tileable: bool = False,
                fast: bool = True, fused_modconv: bool | None = None, force_fp32: bool = False,
                dtype: torch.dtype | None = None, max_resolution: int | None = None,
                layout: torch.Tensor | None = None) -> torch.Tensor:
        """Render images from W.

        Args:
            ws: ``[N, num_ws, w_dim]``.
            noise_mode: ``'const'`` (stored noise maps, deterministic), ``'random'``, ``'none'``
                or ``'paired'`` (random, but item ``i + N // 2`` gets item ``i``'s noise maps).
            noise_gain: None, one multiplier for all noise layers, or one per layer in
                :attr:`noise_layer_names` order (coarse to fine).
            tileable: wrap-around padding everywhere; the image tiles seamlessly.
            fast: the CPU-friendly path (plain convs; same maths). False = NVlabs-like path
                (grouped fused modconv, reference upfirdn2d), kept for checking.
            fused_modconv: straightforward path only; None = NVlabs default (fused in eval).
            force_fp32: run fp16 blocks in float32 on CUDA too.
            dtype: feature-map dtype for every block, fast path only: ``torch.bfloat16`` is
                about twice as fast on CPUs with native bf16 (AVX512-BF16, AMX) and differs
                from float32 by about 1e-2; None = float32 (fp16 blocks on CUDA).
            max_resolution: stop after the block at this resolution and return the image
                accumulated so far (a quick low-resolution preview of the same motif). Only
                the 'skip' architecture has such images; others ignore it.
            layout: ``[N, 1, L, L]`` character or motif layouts; required by (and only for) a
                model with ``layout_res`` L > 0, see :meth:`Generator.char_layouts` and
                :meth:`Generator.seed_layouts`.

        Returns:
            ``[N, img_channels, R, R]`` float32, roughly in [-1, 1] (not clamped); R is
            ``max_resolution`` when it stopped early.

        Raises:
            ValueError: on a bad ``ws`` shape, noise mode, ``noise_gain`` length or dtype.
        """
        if ws.ndim != 3 or ws.shape[1] != self.num_ws or ws.shape[2] != self.w_dim:
            raise ValueError(f"ws must be [N, {self.num_ws}, {self.w_dim}], got {tuple(ws.shape)}")
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        gains = self._noise_gains(noise_gain)
        if dtype is not None and (not fast or dtype not in (torch.float32, torch.bfloat16, torch.float16)):
            raise ValueError(f"dtype {dtype} needs fast=True and one of float32, bfloat16, float16")
        ws = ws.to(torch.float32)
        conds = self._layout_features(layout, ws.shape[0], tileable)
        # Fast path: once a block's activations outgrow the CPU cache, carry on in smaller
        # sub-batches (views, no copies): oneDNN runs much faster on cache-sized tensors.
        # (chunks carry their first row, so that layout features can be sliced to match)
        chunks: list[tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor, int]] = [(None, None, ws, 0)]
        w_idx = g_idx = 0
        for res in self.block_resolutions:
            block = getattr(self, f"b{res}")
            if fast:
                chunks = _split_chunks(chunks, _chunk_size(block, res))
            cond = conds.get(res if res == 4 else res // 2) if conds else None
            new_chunks = []
            for x, img, cws, row in chunks:
                cur_ws = cws.narrow(1, w_idx, block.num_conv + block.num_torgb)
                x, img = block(x, img, cur_ws, noise_mode=noise_mode,
                               noise_gains=gains[g_idx:g_idx + block.num_conv], tileable=tileable, fast=fast,
                               fused_modconv=fused_modconv, force_fp32=force_fp32, dtype=dtype,
                               cond=None if cond is None else cond[row:row + cws.shape[0]])
                new_chunks.append((x, img, cws, row))
            chunks = new_chunks
            w_idx += block.num_conv
            g_idx += block.num_conv
            if max_resolution is not None and res >= max_resolution and chunks[0][1] is not None:
                break
        imgs = [img for _, img, _, _ in chunks]
        return imgs[0] if len(imgs) == 1 else torch.cat(imgs)

    def _layout_features(self, layout: torch.Tensor | None, n: int, tileable: bool) -> dict[int, torch.Tensor] | None:
        if not self.layout_res:
            if layout is not None:
                raise ValueError("this model takes no layout")
            return None
        if layout is None:
            raise ValueError("this model draws from a layout: it needs one per image (Generator.seed_layouts, "
                             "Generator.char_layouts, or a request's text)")
        if layout.shape[0] != n:
            raise ValueError(f"{layout.shape[0]} layouts for {n} images")
        return self.layout_encoder(layout, circular=tileable)


# Activation bytes per sub-batch above which the fast path splits the batch (about L2-L3 sized).
_CHUNK_BYTES = 6 * 2 ** 20


def _chunk_size(block: SynthesisBlock, res: int) -> int:
    return max(1, _CHUNK_BYTES // (block.conv1.weight.shape[0] * res * res * 4))


def _split_chunks(chunks, size: int):
    out = []
    for x, img, ws, row in chunks:
        n = ws.shape[0]
        if n <= size:
            out.append((x, img, ws, row))
            continue
        for start in range(0, n, size):
            sl = slice(start, start + size)
            out.append((None if x is None else x[sl], None if img is None else img[sl], ws[sl], row + start))
    return out


class Generator(torch.nn.Module):
    """StyleGAN2 generator: ``mapping`` (z, c -> ws) then ``synthesis`` (ws -> image).

    A fresh ``Generator(cfg)`` is a valid untrained model initialised like NVlabs (randn
    weights, affine biases 1, zero noise strengths, ``w_avg`` zeros). State dicts of NVlabs
    ``G_ema`` load with ``strict=True``.
    """

    def __init__(self, cfg: GeneratorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.z_dim = cfg.z_dim
        self.c_dim = cfg.c_dim
        self.w_dim = cfg.w_dim
        self.img_resolution = cfg.img_resolution
        self.img_channels = cfg.img_channels
        self.synthesis = SynthesisNetwork(
            w_dim=cfg.w_dim, img_resolution=cfg.img_resolution, img_channels=cfg.img_channels,
            channel_base=cfg.channel_base, channel_max=cfg.channel_max, num_fp16_res=cfg.num_fp16_res,
            architecture=cfg.architecture, resample_filter=cfg.resample_filter, conv_clamp=cfg.conv_clamp,
            use_noise=cfg.use_noise, layout_res=cfg.layout_res)
        self.num_ws = self.synthesis.num_ws
        self.layout_res = cfg.layout_res
        if cfg.layout_chars:
            # the characters this model can be asked for by name (a structure model: the class of
            # each motif layout), and their layouts
            key = "layout_classes" if cfg.layout_by_class else "layout_codepoints"
            self.register_buffer(key, torch.zeros([cfg.layout_chars], dtype=torch.int64))
            self.register_buffer("layout_table", torch.zeros([cfg.layout_chars, cfg.layout_res ** 2]))
        self.mapping = MappingNetwork(
            z_dim=cfg.z_dim, c_dim=cfg.c_dim, w_dim=cfg.w_dim, num_ws=self.num_ws, num_layers=cfg.mapping_layers,
            embed_features=cfg.embed_features, layer_features=cfg.layer_features,
            lr_multiplier=cfg.mapping_lr_multiplier, w_avg_beta=cfg.w_avg_beta)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None, noise_mode: str = "const", update_emas: bool = False,
                **synthesis_kwargs) -> torch.Tensor:
        """``z [N, z_dim]``, ``c [N, c_dim]`` (or None) -> image ``[N, C, R, R]`` float32 ~[-1, 1].

        Extra keyword arguments go to :meth:`SynthesisNetwork.forward`.
        """
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff,
                          update_emas=update_emas)
        return self.synthesis(ws, noise_mode=noise_mode, **synthesis_kwargs)

    @property
    def characters(self) -> str:
        """The characters of the model's layout table, in table order ('' for other models)."""
        if not self.cfg.layout_chars or self.cfg.layout_by_class:
            return ""
        return "".join(map(chr, self.layout_codepoints.tolist()))

    def char_layouts(self, text: str) -> torch.Tensor:
        """Layouts ``[len(text), 1, L, L]`` of the characters of ``text`` from the model's table.

        Raises:
            ValueError: not a character model, or a character the table does not hold.
        """
        if not self.cfg.layout_chars or self.cfg.layout_by_class:
            raise ValueError("this model has no character table")
        index = {cp: i for i, cp in enumerate(self.layout_codepoints.tolist())}
        missing = sorted({ch for ch in text if ord(ch) not in index})
        if missing:
            raise ValueError(f"this model knows {self.cfg.layout_chars:,} characters; not "
                             f"{''.join(missing[:20])}{' ...' if len(missing) > 20 else ''}")
        return self._layout_rows([index[ord(ch)] for ch in text])

    def seed_characters(self, seeds) -> str:
        """The character each seed writes when no text is given (see :func:`seed_char_rows`)."""
        if not self.cfg.layout_chars or self.cfg.layout_by_class:
            return ""
        cps = self.layout_codepoints.tolist()
        return "".join(chr(cps[r]) for r in seed_char_rows(seeds, len(cps)))

    def seed_layouts(self, seeds, classes=None) -> torch.Tensor:
        """Layouts ``[len(seeds), 1, L, L]`` of the characters the seeds write, or (a structure
        model) of the motifs they draw: ``classes`` (one class index per seed) picks among the
        layouts of each seed's class.

        Raises:
            ValueError: no layout table; a structure model without ``classes``.
        """
        if not self.cfg.layout_chars:
            raise ValueError("this model has no layout table")
        if self.cfg.layout_by_class:
            if classes is None:
                raise ValueError("a structure model draws the layouts of a class: give one class per seed")
            return self._layout_rows(seed_class_rows(seeds, classes, self.layout_classes.tolist()))
        return self._layout_rows(seed_char_rows(seeds, self.cfg.layout_chars))

    def _layout_rows(self, rows: list[int]) -> torch.Tensor:
        L = self.cfg.layout_res
        idx = torch.tensor(rows, dtype=torch.int64, device=self.layout_table.device)
        return self.layout_table[idx].reshape(len(rows), 1, L, L)
