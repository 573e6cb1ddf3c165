"""decode_image (untrusted bytes -> 8-bit HWC) and fit_to_square (resize + crop/pad)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from batikstudio.errors import ImageError
from batikstudio.io.imagefile import (
    IMAGE_EXTENSIONS, ImageRejected, SkipReason, decode_image, fit_to_square, is_image_name,
)
from tests.io.test_dataset import bomb_png, encode, exif_rotated_jpeg


def test_image_names_follow_allowed_formats():
    assert is_image_name("a/B.PNG") and is_image_name("x.jpeg") and is_image_name("s.tif")
    assert not is_image_name("notes.txt") and not is_image_name("noext")
    assert ".eps" not in IMAGE_EXTENSIONS and ".pdf" not in IMAGE_EXTENSIONS


def test_eps_is_never_opened():
    # an EPS header would make PIL run Ghostscript; it must be refused as unreadable
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    with pytest.raises(ImageRejected) as info:
        decode_image(eps)
    assert info.value.reason is SkipReason.CORRUPT


@pytest.mark.parametrize("mode,shape", [("RGB", (7, 9, 3)), ("L", (7, 9, 1))])
def test_grayscale_switch(mode, shape):
    data = encode(Image.new("RGB", (9, 7), (200, 100, 0)), "PNG")
    img = decode_image(data, grayscale=mode == "L")
    assert img.pixels.shape == shape and img.pixels.dtype == np.uint8
    assert img.original_size == (9, 7) and img.format == "PNG"


def test_sixteen_bit_scaling_is_exact():
    g16 = np.array([[0, 257, 32896, 65535]], np.uint16)
    img = decode_image(encode(Image.fromarray(g16), "PNG"), grayscale=True)
    assert img.pixels[0, :, 0].tolist() == [0, 1, 128, 255]


def test_one_bit_and_la_images():
    one = Image.new("1", (8, 8), 1)
    assert decode_image(encode(one, "PNG")).pixels.min() == 255
    la = Image.new("LA", (8, 8), (0, 0))
    img = decode_image(encode(la, "PNG"))
    assert img.pixels.min() == 255 and "transparency composited on white" in img.notes


def test_exif_rotation_and_draft():
    full = decode_image(exif_rotated_jpeg())
    assert full.pixels.shape == (60, 40, 3) and full.original_size == (60, 40)
    small = decode_image(exif_rotated_jpeg(), draft_side=10)
    # JPEG DCT scaling: the shorter side stays >= 10, far below the full 40
    assert 10 <= small.pixels.shape[1] < 40 and small.pixels.shape[0] > small.pixels.shape[1]


def test_real_bomb_is_rejected_by_pil_limit_and_ours():
    with pytest.raises(ImageRejected) as info:
        decode_image(bomb_png(20000))
    assert info.value.reason is SkipReason.TOO_LARGE
    with pytest.raises(ImageRejected) as info:
        decode_image(bomb_png(600), max_pixels=100_000)
    assert info.value.reason is SkipReason.TOO_LARGE and "600x600" in info.value.detail
    assert decode_image(bomb_png(600)).pixels.shape == (600, 600, 3)


def test_float_images_are_unsupported():
    data = encode(Image.fromarray(np.ones((8, 8), np.float32)), "TIFF")
    with pytest.raises(ImageRejected) as info:
        decode_image(data)
    assert info.value.reason is SkipReason.UNSUPPORTED


def test_fit_center_crop_keeps_the_middle():
    img = np.zeros((10, 30, 3), np.uint8)
    img[:, 10:20] = 255
    out = fit_to_square(img, 10, "center")
    assert out.shape == (10, 10, 3) and out.min() == 255


def test_fit_none_pads_with_white_and_keeps_aspect():
    img = np.zeros((10, 40, 1), np.uint8)
    out = fit_to_square(img, 8, "none")
    assert out.shape == (8, 8, 1)
    assert out[:3].min() == 255 and out[-3:].min() == 255 and out[3:5].max() == 0


def test_fit_random_is_seeded_per_name():
    img = np.tile(np.arange(64, dtype=np.uint8)[None, :, None], (8, 1, 3)) * 4
    a = fit_to_square(img, 8, "random", seed=1, name="x.png")
    assert np.array_equal(a, fit_to_square(img, 8, "random", seed=1, name="x.png"))
    outs = {fit_to_square(img, 8, "random", seed=s, name="x.png")[0, 0, 0] for s in range(8)}
    assert len(outs) > 2


def test_fit_upscales_small_images():
    out = fit_to_square(np.full((4, 6, 3), 77, np.uint8), 16, "center")
    assert out.shape == (16, 16, 3) and np.abs(out.astype(int) - 77).max() <= 1


def test_fit_bad_input():
    with pytest.raises(ImageError, match="HWC uint8"):
        fit_to_square(np.zeros((4, 4), np.uint8), 4)
    with pytest.raises(ImageError, match="crop must be"):
        fit_to_square(np.zeros((4, 4, 3), np.uint8), 4, "squash")
