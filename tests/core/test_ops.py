"""Tests for batikstudio.core.ops (FIR resampling, bias_act, conv2d_resample)."""

import math

import pytest
import torch

from batikstudio.core import ops

F4 = ops.setup_filter([1, 3, 3, 1])


def _tiled_reference(fn, x, up=1, down=1):
    """Periodic reference: run on a 3x3 tiling and keep the centre period."""
    y = fn(x.repeat(1, 1, 3, 3))
    h, w = x.shape[2] * up // down, x.shape[3] * up // down
    return y[:, :, h:2 * h, w:2 * w]


def test_setup_filter_normalises_and_rejects_bad_taps():
    f = ops.setup_filter([1, 3, 3, 1])
    assert f.shape == (4, 4) and math.isclose(f.sum().item(), 1.0, rel_tol=1e-6)
    assert torch.allclose(f, f.t())
    with pytest.raises(ValueError, match="filter"):
        ops.setup_filter([])


def test_upfirdn2d_matches_hand_computation():
    x = torch.arange(4.0).reshape(1, 1, 1, 4)
    f = torch.tensor([[1.0, 2.0]])
    y = ops.upfirdn2d(x, f, padding=(1, 0, 0, 0))
    # true convolution with [1, 2]: y[i] = x[i-1] * 2 ... flipped -> y[i] = 1*x[i] + 2*x[i-1]
    assert y.flatten().tolist() == [0.0, 1.0, 4.0, 7.0]
    up = ops.upfirdn2d(torch.ones(1, 1, 2, 2), ops.setup_filter([1, 1]), up=2, padding=(1, 0, 1, 0), gain=4)
    assert up.shape == (1, 1, 4, 4) and torch.allclose(up[..., 1:, 1:], torch.ones(1, 1, 3, 3))


@pytest.mark.parametrize("shape", [(1, 1, 4, 4), (2, 3, 8, 8), (3, 5, 16, 8)])
def test_up_and_down_keep_dtype_shape_and_fast_equals_reference(shape):
    x = torch.randn(shape)
    for circular in (False, True):
        up_fast = ops.upsample2d(x, F4, circular=circular, fast=True)
        up_ref = ops.upsample2d(x, F4, circular=circular, fast=False)
        assert up_fast.shape == (shape[0], shape[1], shape[2] * 2, shape[3] * 2) and up_fast.dtype == x.dtype
        assert (up_fast - up_ref).abs().max() < 1e-5
        dn_fast = ops.downsample2d(x, F4, circular=circular, fast=True)
        dn_ref = ops.downsample2d(x, F4, circular=circular, fast=False)
        assert dn_fast.shape == (shape[0], shape[1], shape[2] // 2, shape[3] // 2)
        assert (dn_fast - dn_ref).abs().max() < 1e-5


def test_resampling_keeps_dc_level():
    ones = torch.ones(1, 2, 8, 8)
    assert torch.allclose(ops.upsample2d(ones, F4, circular=True), torch.ones(1, 2, 16, 16))
    assert torch.allclose(ops.downsample2d(ones, F4, circular=True), torch.ones(1, 2, 4, 4))
    inner = ops.upsample2d(ones, F4)[..., 2:-2, 2:-2]
    assert torch.allclose(inner, torch.ones_like(inner))


@pytest.mark.parametrize("fast", [False, True])
def test_circular_resampling_equals_periodic_reference(fast):
    x = torch.randn(2, 3, 8, 8)
    up = ops.upsample2d(x, F4, circular=True, fast=fast)
    assert torch.allclose(up, _tiled_reference(lambda t: ops.upsample2d(t, F4, fast=fast), x, up=2), atol=1e-6)
    dn = ops.downsample2d(x, F4, circular=True, fast=fast)
    assert torch.allclose(dn, _tiled_reference(lambda t: ops.downsample2d(t, F4, fast=fast), x, down=2), atol=1e-6)


@pytest.mark.parametrize("k, up, down", [(3, 1, 1), (3, 2, 1), (3, 1, 2), (1, 2, 1), (1, 1, 2)])
def test_conv2d_resample_shapes_and_circular(k, up, down):
    x = torch.randn(2, 3, 8, 8)
    w = torch.randn(5, 3, k, k)
    y = ops.conv2d_resample(x, w, F4, up=up, down=down, padding=k // 2)
    assert y.shape == (2, 5, 8 * up // down, 8 * up // down)
    yc = ops.conv2d_resample(x, w, F4, up=up, down=down, padding=k // 2, circular=True)
    ref = _tiled_reference(lambda t: ops.conv2d_resample(t, w, F4, up=up, down=down, padding=k // 2), x, up, down)
    assert torch.allclose(yc, ref, atol=1e-5)


def test_conv2d_resample_grouped_equals_per_group():
    x = torch.randn(1, 6, 8, 8)
    w = torch.randn(4, 3, 3, 3)
    y = ops.conv2d_resample(x, w, F4, up=2, padding=1, groups=2)
    a = ops.conv2d_resample(x[:, :3], w[:2], F4, up=2, padding=1)
    b = ops.conv2d_resample(x[:, 3:], w[2:], F4, up=2, padding=1)
    assert torch.allclose(y, torch.cat([a, b], dim=1), atol=1e-5)


def test_conv2d_resample_rejects_bad_requests():
    x, w = torch.randn(1, 3, 8, 8), torch.randn(5, 3, 3, 3)
    with pytest.raises(ValueError, match="filter"):
        ops.conv2d_resample(x, w, None, up=2)
    with pytest.raises(ValueError, match="not both"):
        ops.conv2d_resample(x, w, F4, up=2, down=2)
    with pytest.raises(ValueError, match="NCHW"):
        ops.upsample2d(torch.randn(3, 8, 8), F4)


def test_bias_act_values_and_errors():
    x = torch.tensor([[-1.0, 2.0]])
    b = torch.tensor([0.5, -0.5])
    y = ops.bias_act(x, b, act="lrelu")
    assert torch.allclose(y, torch.tensor([[-0.5 * 0.2, 1.5]]) * math.sqrt(2))
    assert torch.allclose(ops.bias_act(x * 100, act="linear", clamp=3.0), torch.tensor([[-3.0, 3.0]]))
    assert torch.allclose(ops.bias_act(x, act="relu", gain=1.0), torch.tensor([[0.0, 2.0]]))
    with pytest.raises(ValueError, match="activation"):
        ops.bias_act(x, act="swish")
    with pytest.raises(ValueError, match="bias shape"):
        ops.bias_act(x, torch.zeros(3))


def test_pad_circular_wraps_more_than_one_period():
    x = torch.arange(3.0).reshape(1, 1, 1, 3)
    assert ops.pad_circular(x, (4, 0, 0, 0)).flatten().tolist() == [2.0, 0.0, 1.0, 2.0, 0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match=">= 0"):
        ops.pad_circular(x, (-1, 0, 0, 0))


def test_gradcheck_float64():
    f = F4.double()
    x = torch.randn(1, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: ops.upsample2d(t, f, circular=True), (x,))
    assert torch.autograd.gradcheck(lambda t: ops.downsample2d(t, f), (x,))
    assert torch.autograd.gradcheck(lambda t, u: ops.conv2d_resample(t, u, f, up=2, padding=1), (x, w))
    assert torch.autograd.gradcheck(lambda t, u: ops.bias_act(t, u, act="lrelu", clamp=2.0), (x, b))
