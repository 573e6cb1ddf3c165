"""Low-level tensor ops for the StyleGAN2 networks, in pure PyTorch.

FIR resampling (``upfirdn2d`` and its up/down helpers), ``bias_act`` and the resampling
convolution used by the generator and discriminator. The maths and padding conventions follow
NVlabs stylegan2-ada-pytorch exactly (same pixels), but there are no custom C++/CUDA kernels.

All tensors are NCHW float. Filters are 2-D ``[fh, fw]`` tensors made by :func:`setup_filter`
(normalised to sum 1). Every op accepts ``circular=True``: the input is treated as one period of
an infinitely tiled image, so the output tiles seamlessly (used for ``tileable`` rendering).

Two implementations exist for the hot paths: the reference form (zero insertion, padding,
depthwise filter, strided slice; the NVlabs ``ref`` implementation) and fast forms built on
strided/transposed depthwise convolutions. They agree to float rounding; tests check it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

__all__ = [
    "ACTIVATIONS",
    "bias_act",
    "conv2d_resample",
    "downsample2d",
    "pad_circular",
    "setup_filter",
    "upfirdn2d",
    "upsample2d",
]

#: Activation name -> (function(x, alpha), default gain). Matches NVlabs ``bias_act``.
ACTIVATIONS = {
    "linear": (lambda x, alpha: x, 1.0),
    "relu": (lambda x, alpha: F.relu(x), math.sqrt(2.0)),
    "lrelu": (lambda x, alpha: F.leaky_relu(x, alpha), math.sqrt(2.0)),
}


def setup_filter(f: Sequence[float] | torch.Tensor, normalize: bool = True) -> torch.Tensor:
    """Make a separable 2-D FIR filter from 1-D taps.

    Args:
        f: 1-D taps, e.g. ``(1, 3, 3, 1)``, or an already 2-D filter.
        normalize: divide by the sum so the filter has unit DC gain.

    Returns:
        float32 tensor ``[len(f), len(f)]`` (the outer product for 1-D taps).

    Raises:
        ValueError: for empty or more than 2-D taps.

    >>> setup_filter([1, 3, 3, 1])[0, 0].item()
    0.015625
    """
    f = torch.as_tensor(f, dtype=torch.float32)
    if f.numel() == 0 or f.ndim > 2:
        raise ValueError(f"resample filter must be 1-D or 2-D and non-empty, got shape {tuple(f.shape)}")
    if f.ndim == 0:
        f = f[None]
    if f.ndim == 1:
        f = f.ger(f)
    if normalize:
        f = f / f.sum()
    return f


def pad_circular(x: torch.Tensor, pad: int | Sequence[int]) -> torch.Tensor:
    """Wrap-around padding of an NCHW tensor, any pad size (several periods if needed).

    Args:
        x: ``[N, C, H, W]``.
        pad: one int, or ``(left, right, top, bottom)``; each >= 0.

    Returns:
        ``[N, C, H + top + bottom, W + left + right]``, same dtype.

    >>> pad_circular(torch.arange(3.).reshape(1, 1, 1, 3), (1, 1, 0, 0)).flatten().tolist()
    [2.0, 0.0, 1.0, 2.0, 0.0]
    """
    px0, px1, py0, py1 = (pad,) * 4 if isinstance(pad, int) else tuple(pad)
    if min(px0, px1, py0, py1) < 0:
        raise ValueError(f"circular padding must be >= 0, got {pad}")
    h, w = x.shape[2], x.shape[3]
    if max(px0, px1) <= w and max(py0, py1) <= h:
        return F.pad(x, [px0, px1, py0, py1], mode="circular")
    rows = torch.arange(-py0, h + py1, device=x.device) % h
    cols = torch.arange(-px0, w + px1, device=x.device) % w
    return x[:, :, rows][:, :, :, cols]


def _parse_padding(padding: int | Sequence[int]) -> tuple[int, int, int, int]:
    if isinstance(padding, int):
        return padding, padding, padding, padding
    if len(padding) == 2:
        px, py = padding
        return px, px, py, py
    px0, px1, py0, py1 = padding
    return px0, px1, py0, py1


def _check_x_f(x: torch.Tensor, f: torch.Tensor) -> None:
    if x.ndim != 4:
        raise ValueError(f"expected an NCHW tensor, got shape {tuple(x.shape)}")
    if f.ndim != 2:
        raise ValueError(f"expected a 2-D filter, got shape {tuple(f.shape)}")


def upfirdn2d(
    x: torch.Tensor,
    f: torch.Tensor,
    up: int = 1,
    down: int = 1,
    padding: int | Sequence[int] = 0,
    gain: float = 1.0,
) -> torch.Tensor:
    """Upsample (zero insertion), pad, FIR-filter and downsample (keep every ``down``-th pixel).

    Reference implementation of NVlabs ``upfirdn2d`` (``impl='ref'``). Negative padding crops.

    Args:
        x: ``[N, C, H, W]`` float.
        f: ``[fh, fw]`` filter from :func:`setup_filter` (applied as a correlation with the
            flipped filter, i.e. a true convolution; the usual filters are symmetric).
        up: integer upsampling factor.
        down: integer downsampling factor.
        padding: int, ``(px, py)`` or ``(px0, px1, py0, py1)`` on the upsampled image.
        gain: overall gain; the 2-D filter is scaled by ``gain``.

    Returns:
        ``[N, C, (H*up + py0 + py1 - fh) // down + 1, ...]``, same dtype as ``x``.

    >>> upfirdn2d(torch.ones(1, 1, 4, 4), setup_filter([1, 1]), padding=(1, 0, 1, 0)).shape
    torch.Size([1, 1, 4, 4])
    """
    _check_x_f(x, f)
    n, c, h, w = x.shape
    px0, px1, py0, py1 = _parse_padding(padding)
    if up > 1:
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    x = x[:, :, max(-py0, 0): x.shape[2] - max(-py1, 0), max(-px0, 0): x.shape[3] - max(-px1, 0)]
    weight = (f * gain).to(x.dtype).flip([0, 1])
    weight = weight[None, None].repeat(c, 1, 1, 1)
    x = F.conv2d(x, weight, groups=c)
    if down > 1:
        x = x[:, :, ::down, ::down]
    return x


def _up_pads(f: torch.Tensor, up: int) -> tuple[int, int]:
    fw = f.shape[-1]
    return (fw + up - 1) // 2, (fw - up) // 2


def _down_pads(f: torch.Tensor, down: int) -> tuple[int, int]:
    fw = f.shape[-1]
    return (fw - down + 1) // 2, (fw - down) // 2


def upsample2d(
    x: torch.Tensor, f: torch.Tensor, up: int = 2, gain: float = 1.0,
    circular: bool = False, fast: bool = True,
) -> torch.Tensor:
    """Upsample by ``up`` with FIR filter ``f`` (NVlabs ``upsample2d`` padding and gain).

    Args:
        x: ``[N, C, H, W]`` float.
        f: ``[fh, fw]`` filter, usually ``setup_filter([1, 3, 3, 1])``.
        up: factor; the output is exactly ``[N, C, H*up, W*up]``.
        gain: extra gain (the filter is scaled by ``gain * up**2`` to keep the DC level).
        circular: treat the input as periodic (seamless tiling).
        fast: use a depthwise transposed convolution instead of zero insertion.

    >>> upsample2d(torch.ones(1, 2, 4, 4), setup_filter([1, 3, 3, 1]), circular=True).mean().item()
    1.0
    """
    _check_x_f(x, f)
    p0, p1 = _up_pads(f, up)
    margin = 0
    if circular:
        margin = (max(p0, p1) + up - 1) // up + 1
        x = pad_circular(x, margin)
    if fast:
        y = _upsample_transposed(x, f, up, p0, p1, gain * up * up)
    else:
        y = upfirdn2d(x, f, up=up, padding=(p0, p1, p0, p1), gain=gain * up * up)
    if margin:
        m = margin * up
        y = y[:, :, m: y.shape[2] - m, m: y.shape[3] - m]
    return y


def _upsample_transposed(x: torch.Tensor, f: torch.Tensor, up: int, p0: int, p1: int,
                         gain: float) -> torch.Tensor:
    """upfirdn2d(up, pad=(p0, p1)) as one depthwise transposed conv (no zero-stuffed copy)."""
    c = x.shape[1]
    fh, fw = f.shape
    weight = (f * gain).to(x.dtype)[None, None].repeat(c, 1, 1, 1)
    # Transposed conv output index o = i*up + k - pad; upfirdn output o' = o + (fw-1-p0).
    pad_t = fw - 1 - p0
    out_pad = p1 - (fw - 1 - pad_t) + (up - 1)
    if pad_t < 0 or out_pad < 0 or out_pad >= max(up, 1 + pad_t):
        return upfirdn2d(x, f, up=up, padding=(p0, p1, p0, p1), gain=gain)
    return F.conv_transpose2d(x, weight, stride=up, padding=pad_t, output_padding=out_pad, groups=c)


def downsample2d(
    x: torch.Tensor, f: torch.Tensor, down: int = 2, gain: float = 1.0,
    circular: bool = False, fast: bool = True,
) -> torch.Tensor:
    """FIR-filter then keep every ``down``-th pixel (NVlabs ``downsample2d`` padding).

    Args:
        x: ``[N, C, H, W]`` float, H and W divisible by ``down``.
        f: ``[fh, fw]`` filter.
        down: factor; output ``[N, C, H//down, W//down]``.
        gain: overall gain.
        circular: treat the input as periodic.
        fast: strided depthwise conv instead of filter-then-slice.

    >>> downsample2d(torch.ones(1, 1, 8, 8), setup_filter([1, 3, 3, 1]), circular=True).shape
    torch.Size([1, 1, 4, 4])
    """
    _check_x_f(x, f)
    p0, p1 = _down_pads(f, down)
    if circular:
        x = pad_circular(x, (p0, p1, p0, p1))
        p0 = p1 = 0
    if not fast:
        return upfirdn2d(x, f, down=down, padding=(p0, p1, p0, p1), gain=gain)
    c = x.shape[1]
    weight = (f * gain).to(x.dtype).flip([0, 1])[None, None].repeat(c, 1, 1, 1)
    if p0 != p1:
        x = F.pad(x, [p0, p1, p0, p1])
        p0 = 0
    return F.conv2d(x, weight, stride=down, padding=p0, groups=c)


def bias_act(
    x: torch.Tensor,
    b: torch.Tensor | None = None,
    act: str = "linear",
    gain: float | None = None,
    clamp: float | None = None,
    alpha: float = 0.2,
    dim: int = 1,
) -> torch.Tensor:
    """Add bias, apply activation, multiply by gain, clamp (NVlabs ``bias_act``, ref form).

    Args:
        x: any-shape float tensor.
        b: ``[x.shape[dim]]`` bias or None.
        act: ``'linear'``, ``'relu'`` or ``'lrelu'``.
        gain: output gain; None = the activation's default (sqrt 2 for relu/lrelu).
        clamp: clamp the output to ``[-clamp, clamp]``; None = no clamp.
        alpha: leaky ReLU slope.
        dim: the channel dimension the bias applies to.

    Returns:
        Tensor of the same shape and dtype.

    Raises:
        ValueError: for an unknown activation or a bias of the wrong length.

    >>> bias_act(torch.tensor([[-1.0, 1.0]]), act='lrelu', gain=1.0).tolist()
    [[-0.20000000298023224, 1.0]]
    """
    if act not in ACTIVATIONS:
        raise ValueError(f"unknown activation {act!r}; expected one of {sorted(ACTIVATIONS)}")
    func, def_gain = ACTIVATIONS[act]
    if b is not None:
        if b.ndim != 1 or b.shape[0] != x.shape[dim]:
            raise ValueError(f"bias shape {tuple(b.shape)} does not match x.shape[{dim}] = {x.shape[dim]}")
        shape = [1] * x.ndim
        shape[dim] = -1
        x = x + b.to(x.dtype).reshape(shape)
    x = func(x, alpha)
    gain = def_gain if gain is None else float(gain)
    if gain != 1:
        x = x * gain
    if clamp is not None and clamp >= 0:
        x = x.clamp(-clamp, clamp)
    return x


def conv2d_resample(
    x: torch.Tensor,
    w: torch.Tensor,
    f: torch.Tensor | None = None,
    up: int = 1,
    down: int = 1,
    padding: int = 0,
    groups: int = 1,
    circular: bool = False,
) -> torch.Tensor:
    """2-D correlation with optional FIR up/downsampling (NVlabs ``conv2d_resample`` maths).

    ``up=2`` is a stride-2 transposed convolution followed by the FIR filter with gain 4;
    ``down=2`` filters first and then runs a stride-2 convolution. Only ``up`` or ``down``
    (not both) is supported, which is all StyleGAN2 needs.

    Args:
        x: ``[N, groups*Cin, H, W]`` float.
        w: ``[groups*Cout, Cin, kh, kw]`` weight (used as a correlation, like ``F.conv2d``).
        f: ``[fh, fw]`` FIR filter; required when ``up`` or ``down`` > 1.
        up, down: integer factors (one of them 1).
        padding: zero padding on each side (relative to the upsampled image when ``up`` > 1).
        groups: grouped convolution.
        circular: treat the input as periodic; the output tiles seamlessly.

    Returns:
        ``[N, groups*Cout, H*up//down, W*up//down]`` for the usual ``padding = k // 2``.
    """
    if up > 1 and down > 1:
        raise ValueError("conv2d_resample supports up or down, not both")
    if (up > 1 or down > 1) and f is None:
        raise ValueError("a resample filter is needed when up or down > 1")
    kh, kw = w.shape[2], w.shape[3]
    if circular:
        return _periodic(lambda t: conv2d_resample(t, w, f, up, down, padding, groups), x, up, down,
                         margin=max(kh, kw) // 2 + (2 if up > 1 or down > 1 else 0))
    if up > 1:
        fw = f.shape[-1]
        p0 = padding + (fw + up - 1) // 2
        p1 = padding + (fw - up) // 2
        if kw == 1 and kh == 1:
            x = F.conv2d(x, w, groups=groups)
            return upfirdn2d(x, f, up=up, padding=(p0, p1, p0, p1), gain=up * up)
        p0 -= kw - 1
        p1 -= kw - up
        pt = max(min(-p0, -p1), 0)
        x = F.conv_transpose2d(x, _transpose_weight(w, groups), stride=up, padding=pt, groups=groups)
        return upfirdn2d(x, f, padding=(p0 + pt, p1 + pt, p0 + pt, p1 + pt), gain=up * up)
    if down > 1:
        p0, p1 = _down_pads(f, down)
        pads = (padding + p0, padding + p1, padding + p0, padding + p1)
        if kw == 1 and kh == 1:
            return F.conv2d(upfirdn2d(x, f, down=down, padding=pads), w, groups=groups)
        return F.conv2d(upfirdn2d(x, f, padding=pads), w, stride=down, groups=groups)
    return F.conv2d(x, w, padding=padding, groups=groups)


def _transpose_weight(w: torch.Tensor, groups: int) -> torch.Tensor:
    """[G*O, I, k, k] correlation weight -> [G*I, O, k, k] conv_transpose2d weight (unflipped)."""
    o, i, kh, kw = w.shape
    w = w.reshape(groups, o // groups, i, kh, kw).transpose(1, 2)
    return w.reshape(groups * i, o // groups, kh, kw)


def _periodic(fn, x: torch.Tensor, up: int, down: int, margin: int) -> torch.Tensor:
    """Run a translation-equivariant op on a periodic input: wrap-pad, run, crop the border.

    ``margin`` input pixels are added on each side (rounded up to a multiple of ``down`` so
    the sampling phase is kept); ``margin * up // down`` output pixels are cropped.
    """
    margin = -(-margin // down) * down
    y = fn(pad_circular(x, margin))
    m = margin * up // down
    return y[:, :, m: y.shape[2] - m, m: y.shape[3] - m]
