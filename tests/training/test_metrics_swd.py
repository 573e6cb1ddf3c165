"""SWD: pyramid (against OpenCV's pyrDown), descriptors, sliced Wasserstein maths, determinism."""

import cv2
import numpy as np
import pytest
import torch

from batikstudio.training.metrics.swd import (
    SWDAccumulator, SWDConfig, _blur, laplacian_pyramid, pyramid_resolutions, sliced_wasserstein,
    swd_from_descriptors,
)


def _images(n, res=32, seed=0, lo=0, hi=256, channels=3):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(lo, hi, (n, channels, res, res), generator=g, dtype=torch.int64).to(torch.uint8)


def _swd(real, fake, config=SWDConfig()):
    a, b = SWDAccumulator(real.shape[-1], config, 0), SWDAccumulator(real.shape[-1], config, 1)
    a.add(real)
    b.add(fake)
    return swd_from_descriptors(a.descriptors(), b.descriptors(), a.resolutions, config)


def test_pyramid_resolutions():
    assert pyramid_resolutions(64) == [64, 32, 16]
    assert pyramid_resolutions(16) == [16]
    assert pyramid_resolutions(256, min_resolution=32) == [256, 128, 64, 32]
    with pytest.raises(ValueError, match="at least 16"):
        pyramid_resolutions(8)


def test_pyramid_down_level_matches_opencv_pyrdown():
    img = np.random.default_rng(0).uniform(0, 255, (32, 32)).astype(np.float32)
    ours = laplacian_pyramid(torch.from_numpy(img)[None, None], 2)[1][0, 0].numpy()
    np.testing.assert_allclose(ours, cv2.pyrDown(img), atol=1e-3)


def test_pyramid_reconstructs_input():
    x = _images(2, 32).float()
    levels = laplacian_pyramid(x, 3)
    assert [tuple(lv.shape) for lv in levels] == [(2, 3, 32, 32), (2, 3, 16, 16), (2, 3, 8, 8)]
    rec = levels[-1]
    for detail in reversed(levels[:-1]):
        up = torch.zeros_like(detail)
        up[:, :, ::2, ::2] = rec
        rec = detail + _blur(up, gain=4.0)
    torch.testing.assert_close(rec, x, atol=1e-3, rtol=0)


def test_pyramid_rejects_bad_shape():
    with pytest.raises(ValueError, match="N, C, H, W"):
        laplacian_pyramid(torch.zeros(3, 16, 16), 2)


def test_descriptors_shape_and_normalisation():
    acc = SWDAccumulator(32, SWDConfig(nhoods_per_image=16))
    acc.add(_images(5, 32))
    acc.add(_images(3, 32, seed=1))
    desc = acc.descriptors()
    assert [tuple(d.shape) for d in desc] == [(128, 147), (128, 147)]
    for d in desc:
        per_channel = d.view(-1, 3, 49).transpose(0, 1).reshape(3, -1)
        torch.testing.assert_close(per_channel.mean(1), torch.zeros(3), atol=1e-4, rtol=0)
        torch.testing.assert_close(per_channel.std(1, correction=0), torch.ones(3), atol=1e-4, rtol=0)


def test_accumulator_rejects_wrong_resolution():
    with pytest.raises(ValueError, match="32, 32"):
        SWDAccumulator(32).add(_images(1, 16))


def test_sliced_wasserstein_1d_shift_is_exact():
    a = torch.randn(300, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    # in 1-D every unit direction is +-1: the distance of a shifted copy is the shift
    assert sliced_wasserstein(a, a + 0.75, dir_repeats=2, dirs_per_repeat=4) == pytest.approx(0.75)
    assert sliced_wasserstein(a, a) == 0.0


def test_sliced_wasserstein_rejects_mismatched_sets():
    with pytest.raises(ValueError, match="one shape"):
        sliced_wasserstein(torch.zeros(10, 3), torch.zeros(9, 3))


def test_swd_small_for_same_distribution_large_for_different():
    cfg = SWDConfig(nhoods_per_image=32, dirs_per_repeat=32)
    same = _swd(_images(24, 32, seed=0), _images(24, 32, seed=1), cfg)
    half_black = _images(24, 32, seed=2)
    half_black[:, :, :, :16] = 0
    different = _swd(_images(24, 32, seed=0), half_black, cfg)
    assert set(same) == {"swd", "swd_32", "swd_16"}
    assert same["swd"] == pytest.approx((same["swd_32"] + same["swd_16"]) / 2)
    assert different["swd"] > 4 * same["swd"]


def test_swd_deterministic_per_seed_and_handles_unequal_counts():
    real, fake = _images(10, 16, seed=0), _images(7, 16, seed=3)
    cfg = SWDConfig(nhoods_per_image=8, dirs_per_repeat=16)
    first, again = _swd(real, fake, cfg), _swd(real, fake, cfg)
    other = _swd(real, fake, SWDConfig(nhoods_per_image=8, dirs_per_repeat=16, seed=1))
    assert first == again
    assert first["swd"] != other["swd"]
    assert list(first) == ["swd", "swd_16"]


def test_swd_grayscale_images():
    out = _swd(_images(6, 16, channels=1), _images(6, 16, seed=1, channels=1), SWDConfig(nhoods_per_image=8))
    assert np.isfinite(out["swd"]) and out["swd"] >= 0


def test_config_validation():
    with pytest.raises(ValueError, match="odd"):
        SWDConfig(nhood_size=6)
    with pytest.raises(ValueError, match="dirs_per_repeat"):
        SWDConfig(dirs_per_repeat=0)
