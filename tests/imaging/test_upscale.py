"""Upscaling for print: Lanczos, nearest and vector re-drawing of dye layers."""

import doctest

import numpy as np
import pytest

from batikstudio.errors import ImageError
from batikstudio.imaging import upscale as upscale_module
from batikstudio.imaging.upscale import target_size, upscale


def test_docstring_examples():
    assert doctest.testmod(upscale_module).failed == 0


@pytest.mark.parametrize("method", ["lanczos", "nearest", "bicubic"])
def test_raster_methods_keep_dtype_and_channels(method):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
    out = upscale(img, factor=3, method=method)
    assert out.shape == (30, 36, 3) and out.dtype == np.uint8
    gray = upscale(img[:, :, 0], size=(20, 7), method=method)
    assert gray.shape == (7, 20)


def test_nearest_is_exact_block_copy_and_lanczos_preserves_flat_areas():
    img = np.zeros((16, 16, 3), np.uint8)
    img[:8] = 200
    assert np.array_equal(upscale(img, factor=4, method="nearest"), img.repeat(4, 0).repeat(4, 1))
    smooth = upscale(img, factor=4, method="lanczos")
    assert smooth[0, 0].tolist() == [200, 200, 200] and smooth[-1, -1].tolist() == [0, 0, 0]


def test_sharpen_increases_edge_contrast():
    img = np.zeros((16, 16, 3), np.uint8)
    img[:, 8:] = 160
    soft = upscale(img, factor=4).astype(int)
    sharp = upscale(img, factor=4, sharpen=1.0).astype(int)
    assert np.abs(np.diff(sharp[32], axis=0)).max() > np.abs(np.diff(soft[32], axis=0)).max()


def test_vector_method_uses_the_dye_layers():
    lab = np.zeros((16, 16), np.int64)
    lab[4:12, 4:12] = 1
    colors = np.array([[240, 230, 210], [30, 40, 70]], np.uint8)
    out = upscale(colors[lab], size=(128, 128), method="vector", labels=lab, colors=colors)
    assert out.shape == (128, 128, 3)
    assert out[64, 64].tolist() == [30, 40, 70] and out[5, 5].tolist() == [240, 230, 210]
    assert set(map(tuple, out.reshape(-1, 3))) > {(30, 40, 70), (240, 230, 210)}  # anti-aliased


def test_vector_without_layers_or_bad_args_raises():
    img = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ImageError, match="labels and colors"):
        upscale(img, factor=2, method="vector")
    with pytest.raises(ImageError, match="do not match"):
        upscale(img, factor=2, method="vector", labels=np.zeros((4, 4), int),
                colors=np.zeros((1, 3), np.uint8))
    with pytest.raises(ValueError, match="unknown upscale method"):
        upscale(img, factor=2, method="magic")
    with pytest.raises(ValueError, match="exactly one"):
        target_size(img.shape, 2, (4, 4))
    with pytest.raises(ImageError):
        upscale(img.astype(np.float32), factor=2)


@pytest.mark.parametrize("method", ["lanczos", "bicubic", "nearest"])
@pytest.mark.parametrize("sharpen", [0.0, 0.5])
def test_wrap_upscales_a_tile_as_part_of_its_repeat(method, sharpen):
    """A seamless tile upscaled with wrap is the middle of its 3 x 3 repeat upscaled: no seam
    line at the tile edges of a print. Without wrap the edges are clamped and differ."""
    rng = np.random.default_rng(1)
    tile = rng.integers(0, 256, (16, 20, 3), dtype=np.uint8)
    big = upscale(tile, factor=4, method=method, sharpen=sharpen, wrap=True)
    repeat = upscale(np.tile(tile, (3, 3, 1)), factor=4, method=method, sharpen=sharpen)
    middle = repeat[64:128, 80:160].astype(int)
    assert big.shape == (64, 80, 3)
    assert np.abs(big.astype(int) - middle).max() <= 1
    if method != "nearest":
        plain = upscale(tile, factor=4, method=method, sharpen=sharpen).astype(int)
        assert np.abs(plain - middle)[:, :3].mean() > 10  # the clamped edge a seam would show
    gray = upscale(tile[:, :, 0], size=(30, 7), method=method, sharpen=sharpen, wrap=True)
    assert gray.shape == (7, 30)
