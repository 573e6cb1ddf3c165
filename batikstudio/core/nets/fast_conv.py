"""CPU-friendly 3x3 convolution for the synthesis network's fast path (pure PyTorch, NHWC).

:func:`winograd_conv3x3` is an exact reformulation of a 3x3 correlation with padding 1 (zero
or circular), differences are float rounding only: Winograd F(2x2, 3x3) needs 16
multiplications per 2x2 output tile instead of 36, done as 16 matrix products
``[tiles, Cin] @ [Cin, Cout]``, in bands of tile rows that keep the transformed tiles
cache-sized. It beats oneDNN's direct conv from about 128 channels and loses to it on wide,
thin maps, where the tile transforms dominate. (A polyphase rewrite of the upsampling
transposed conv was measured too and was not faster than oneDNN.)

Activations are ``[N, H, W, C]`` contiguous tensors (the memory of a channels-last NCHW
tensor): ``x.permute(0, 2, 3, 1)`` of a channels-last tensor is such a view, and outputs are
returned as channels-last NCHW views.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["depthwise_fir", "to_nhwc", "winograd_conv3x3", "winograd_weight"]

# Winograd F(2, 3) filter transform G (4x3); the data transform B^T and output transform A^T are
# written out as additions below.
_G = torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])


# Bytes of transformed tiles per band (about an L2/L3 share on the 2-core target machine).
_BAND_BYTES = 4 * 2 ** 20


def to_nhwc(x: torch.Tensor) -> torch.Tensor:
    """``[N, C, H, W]`` -> contiguous ``[N, H, W, C]`` (a free view for channels-last input)."""
    return x.permute(0, 2, 3, 1).contiguous()


def winograd_weight(w: torch.Tensor) -> torch.Tensor:
    """Transform a ``[O, I, 3, 3]`` correlation weight to ``[16, I, O]`` (``G w G^T`` per pair)."""
    g = _G.to(device=w.device, dtype=w.dtype)
    u = torch.einsum("ak,oikl,bl->abio", g, w, g)  # [4, 4, I, O]
    return u.reshape(16, w.shape[1], w.shape[0]).contiguous()


def _pad_nhwc(x: torch.Tensor, top: int, bottom: int, left: int, right: int, circular: bool) -> torch.Tensor:
    if not circular:
        return F.pad(x, [0, 0, left, right, top, bottom])
    h, w = x.shape[1], x.shape[2]
    rows = torch.arange(-top, h + bottom, device=x.device) % h
    cols = torch.arange(-left, w + right, device=x.device) % w
    return x[:, rows][:, :, cols]


def _winograd_band(xb: torch.Tensor, u: torch.Tensor, out: torch.Tensor) -> None:
    """One band: padded input rows ``[N, 2*tb+2, W+2, I]`` -> ``out [N, tb, 2, tw, 2, O]``."""
    n, tb, tw, o = out.shape[0], out.shape[1], out.shape[3], out.shape[5]
    c, w = xb.shape[3], 2 * out.shape[3]
    r = [xb[:, k:k + 2 * tb:2] for k in range(4)]  # rows 2i+k: [N, tb, W+2, I]
    rows = (r[0] - r[2], r[1] + r[2], r[2] - r[1], r[1] - r[3])  # B^T d
    v = xb.new_empty([4, 4, n, tb, tw, c])
    for a, t in enumerate(rows):  # (B^T d) B
        col = [t[:, :, k:k + w:2] for k in range(4)]
        torch.sub(col[0], col[2], out=v[a, 0])
        torch.add(col[1], col[2], out=v[a, 1])
        torch.sub(col[2], col[1], out=v[a, 2])
        torch.sub(col[1], col[3], out=v[a, 3])
    m = torch.bmm(v.view(16, n * tb * tw, c), u).view(4, 4, n, tb, tw, o)
    s0 = m[0] + m[1] + m[2]  # A^T M: [4, N, tb, tw, O]
    s1 = m[1] - m[2] - m[3]
    for p, s in enumerate((s0, s1)):  # (A^T M) A
        torch.add(s[0] + s[1], s[2], out=out[:, :, p, :, 0])
        torch.sub(s[1] - s[2], s[3], out=out[:, :, p, :, 1])


def winograd_conv3x3(x: torch.Tensor, u: torch.Tensor, bias: torch.Tensor | None = None,
                     circular: bool = False) -> torch.Tensor:
    """3x3 correlation with padding 1 via Winograd F(2x2, 3x3).

    Args:
        x: ``[N, H, W, I]`` contiguous, H and W even.
        u: ``[16, I, O]`` from :func:`winograd_weight`.
        bias: ``[O]`` or None.
        circular: wrap-around padding instead of zeros.

    Returns:
        ``[N, O, H, W]`` channels-last (equal to ``F.conv2d(x_nchw, w, bias, padding=1)``).
    """
    n, h, w, c = x.shape
    o = u.shape[2]
    th, tw = h // 2, w // 2
    xp = _pad_nhwc(x, 1, 1, 1, 1, circular)  # [N, H+2, W+2, I]
    out = x.new_empty([n, th, 2, tw, 2, o])
    # Work in bands of tile rows so the transformed tiles stay cache-sized.
    band = max(1, min(th, _BAND_BYTES // (16 * n * tw * max(c, o) * x.element_size())))
    for i0 in range(0, th, band):
        tb = min(band, th - i0)
        _winograd_band(xp[:, 2 * i0: 2 * (i0 + tb) + 2], u, out[:, i0:i0 + tb])
    out = out.view(n, h, w, o)
    if bias is not None:
        out += bias
    return out.permute(0, 3, 1, 2)



class _DepthwiseFIR(torch.autograd.Function):
    """Stride-1 depthwise correlation with a fixed (non-learnt) filter, differentiable to any order.

    Its adjoint is the same operation with the filter rotated by 180 degrees and padding
    ``k - 1 - p``, so the backward is one more depthwise correlation: cheaper than autograd's
    generic depthwise backward, and its double backward (R1) never forms a filter gradient.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, w: torch.Tensor, padding: int) -> torch.Tensor:
        ctx.save_for_backward(w)
        ctx.padding = padding
        return F.conv2d(x, w, padding=padding, groups=x.shape[1])

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (w,) = ctx.saved_tensors
        return depthwise_fir(grad, w.flip([2, 3]), w.shape[-1] - 1 - ctx.padding), None, None


def depthwise_fir(x: torch.Tensor, w: torch.Tensor, padding: int) -> torch.Tensor:
    """``F.conv2d(x, w, padding=padding, groups=C)`` for a constant ``[C, 1, k, k]`` filter ``w``
    (no gradient flows to it), with a cheap backward of any order when ``0 <= padding < k``."""
    k = w.shape[-1]
    if w.requires_grad or w.shape[-2] != k or not 0 <= padding < k:
        return F.conv2d(x, w, padding=padding, groups=x.shape[1])
    return _DepthwiseFIR.apply(x, w, padding)
