"""Tests for the fast path's convolutions: Winograd 3x3 and the fixed-filter depthwise FIR."""

import pytest
import torch
import torch.nn.functional as F

from batikstudio.core import ops
from batikstudio.core.nets.fast_conv import depthwise_fir, to_nhwc, winograd_conv3x3, winograd_weight


@pytest.mark.parametrize("n, c, o, h, w", [(1, 3, 5, 4, 4), (2, 8, 6, 8, 16), (3, 16, 4, 16, 8)])
@pytest.mark.parametrize("circular", [False, True])
def test_winograd_equals_direct_conv(n, c, o, h, w, circular):
    x = torch.randn(n, c, h, w)
    weight = torch.randn(o, c, 3, 3)
    bias = torch.randn(o)
    xin = ops.pad_circular(x, 1) if circular else F.pad(x, [1, 1, 1, 1])
    ref = F.conv2d(xin, weight, bias)
    y = winograd_conv3x3(to_nhwc(x), winograd_weight(weight), bias, circular=circular)
    assert y.shape == ref.shape and y.dtype == x.dtype
    assert y.is_contiguous(memory_format=torch.channels_last)
    assert (y - ref).abs().max() < 1e-4 * ref.abs().max()


def test_winograd_weight_shape_and_identity_kernel():
    weight = torch.zeros(2, 2, 3, 3)
    weight[0, 0, 1, 1] = 1.0  # channel 0 passes through, channel 1 output is zero
    weight[1, 1, 0, 0] = 1.0  # output 1 = input 1 shifted by one pixel (down-right)
    u = winograd_weight(weight)
    assert u.shape == (16, 2, 2)
    x = torch.randn(1, 2, 6, 6)
    y = winograd_conv3x3(to_nhwc(x), u)
    assert torch.allclose(y[:, 0], x[:, 0], atol=1e-6)
    assert torch.allclose(y[:, 1, 1:, 1:], x[:, 1, :-1, :-1], atol=1e-6)
    assert y[:, 1, 0].abs().max() < 1e-6  # the zero-padded row (Winograd rounding only)


@pytest.mark.parametrize("band_bytes", [1, 7000])
def test_winograd_in_bands_with_remainder(monkeypatch, band_bytes):
    from batikstudio.core.nets import fast_conv

    monkeypatch.setattr(fast_conv, "_BAND_BYTES", band_bytes)  # 1 tile row per band / uneven bands
    x = torch.randn(2, 4, 10, 12)
    weight = torch.randn(3, 4, 3, 3)
    ref = F.conv2d(x, weight, padding=1)
    y = winograd_conv3x3(to_nhwc(x), winograd_weight(weight))
    assert (y - ref).abs().max() < 1e-4 * ref.abs().max()


@pytest.mark.parametrize("padding", [0, 1, 2, 3])
def test_depthwise_fir_matches_conv2d_and_differentiates_twice(padding):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 9, 9, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 1, 4, 4, dtype=torch.float64)  # not symmetric: the adjoint must flip it
    ref = F.conv2d(x, w, padding=padding, groups=3)
    assert torch.allclose(depthwise_fir(x, w, padding), ref)
    assert torch.autograd.gradcheck(lambda t: depthwise_fir(t, w, padding), (x,))
    assert torch.autograd.gradgradcheck(lambda t: depthwise_fir(t, w, padding), (x,))
    # outside the adjoint's range (padding >= k) and for learnt filters it is plain conv2d
    assert torch.allclose(depthwise_fir(x, w, 4), F.conv2d(x, w, padding=4, groups=3))
    w_learnt = w.clone().requires_grad_(True)
    depthwise_fir(x, w_learnt, padding).sum().backward()
    assert w_learnt.grad is not None
