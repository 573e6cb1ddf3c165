import pytest
import torch

from batikstudio.training.augment import (AdaAugment, DiffAugment, ada_adjust, build_augment, cutout_images,
                                          translate_images)
from batikstudio.training.config import ADA_OPS, TrainConfig


def _images(n=4, c=3, s=8, dtype=torch.float32):
    return (torch.rand(n, c, s, s, dtype=dtype) * 2 - 1)


@pytest.mark.parametrize("op", ADA_OPS)
def test_each_ada_op_keeps_shape_and_is_differentiable(op):
    x = _images().requires_grad_(True)
    aug = AdaAugment([op], p=1.0)
    y = aug(x)
    assert y.shape == x.shape and y.dtype == x.dtype and torch.isfinite(y).all()
    (y * torch.randn_like(y)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


@pytest.mark.parametrize("op", ["xflip", "rotate90", "translate", "cutout"])
def test_geometric_ops_keep_the_value_range(op):
    x = _images(16)
    y = AdaAugment([op], p=1.0)(x)
    assert y.max() <= x.max() and y.min() >= min(x.min().item(), 0.0)


def test_ada_p_zero_is_identity_and_p_one_changes():
    x = _images()
    assert torch.equal(AdaAugment(ADA_OPS, p=0.0)(x), x)
    y = AdaAugment(("xflip",), p=1.0)(x)
    assert torch.equal(y, x.flip(3))


def test_hue_rotation_keeps_grey_and_luma_axis():
    grey = torch.full((2, 3, 4, 4), 0.3)
    assert torch.allclose(AdaAugment(("hue",), p=1.0)(grey), grey, atol=1e-6)


def test_translate_wraps_exactly_and_pads_with_zero():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    y = translate_images(x, torch.tensor([1]), torch.tensor([0]))
    assert torch.equal(y, torch.roll(x, 1, dims=2))
    z = translate_images(x, torch.tensor([0]), torch.tensor([-1]), wrap=False)
    assert torch.equal(z[0, 0, :, :3], x[0, 0, :, 1:]) and (z[0, 0, :, 3] == 0).all()


def test_translate_gradcheck_float64():
    x = torch.randn(2, 1, 4, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: translate_images(t, torch.tensor([1, -2]), torch.tensor([3, 0])), (x,))


def test_cutout_zeroes_a_square_of_half_size():
    y = cutout_images(torch.ones(8, 1, 8, 8))
    zeros = (y == 0).flatten(1).sum(1)
    assert (zeros <= 16).all() and (zeros > 0).all()


@pytest.mark.parametrize("ops", [("color",), ("translation",), ("cutout",), ("color", "translation", "cutout")])
def test_diffaugment_ops(ops):
    x = _images().requires_grad_(True)
    y = DiffAugment(ops)(x)
    assert y.shape == x.shape and torch.isfinite(y).all()
    y.sum().backward()
    assert x.grad is not None


def test_translation_only_with_wrap_keeps_the_pixel_multiset():
    x = _images(2)
    y = DiffAugment(("translation",), wrap=True)(x)
    for i in range(2):
        assert torch.equal(y[i].flatten().sort().values, x[i].flatten().sort().values)


def test_bad_input_raises():
    with pytest.raises(ValueError):
        AdaAugment(["warp"])
    with pytest.raises(ValueError):
        DiffAugment()(torch.zeros(3, 8, 8))


def test_ada_p_moves_up_when_d_overfits_and_down_otherwise():
    p = ada_adjust(0.5, sign_mean=0.9, target=0.6, batch=16, interval=4, speed_kimg=500)
    assert p == pytest.approx(0.5 + 16 * 4 / 500_000)
    assert ada_adjust(0.5, 0.1, 0.6, 16, 4, 500) < 0.5
    assert ada_adjust(0.0, -1.0, 0.6, 16, 4, 500) == 0.0
    assert ada_adjust(1.0, 1.0, 0.6, 16, 4, 500) == 1.0
    # 500 kimg to go from 0 to 1
    steps = 500_000 // (16 * 4)
    p = 0.0
    for _ in range(steps):
        p = ada_adjust(p, 1.0, 0.6, 16, 4, 500)
    assert p == pytest.approx(1.0, abs=1e-3)


def test_build_augment_from_config():
    assert build_augment(TrainConfig(augment="none")) is None
    ada = build_augment(TrainConfig(augment="ada", augment_ops=("translate",), augment_p=0.2))
    assert isinstance(ada, AdaAugment) and ada.ops == ("translate",) and ada.p == 0.2
    assert isinstance(build_augment(TrainConfig(augment="diffaugment")), DiffAugment)
