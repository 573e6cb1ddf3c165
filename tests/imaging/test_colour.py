"""Tests for batikstudio.imaging.colour."""

import doctest

import numpy as np
import pytest

from batikstudio.errors import ImageError
from batikstudio.imaging import colour


def test_doctests():
    assert doctest.testmod(colour).failed == 0


def _all_grey_and_random():
    rng = np.random.default_rng(0)
    grey = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    return np.concatenate([grey, rng.integers(0, 256, (2000, 3)).astype(np.uint8)])


@pytest.mark.parametrize("space", colour.SPACES)
def test_round_trip_is_exact_on_uint8(space):
    rgb = _all_grey_and_random()
    back = colour.from_space(colour.to_space(rgb, space), space)
    assert back.dtype == np.uint8 and back.shape == rgb.shape
    np.testing.assert_array_equal(back, rgb)


def test_known_lab_values():
    # sRGB red in CIELAB D65 is about (53.24, 80.09, 67.20)
    lab = colour.rgb_to_lab(np.array([255, 0, 0], np.uint8))
    np.testing.assert_allclose(lab, [53.24, 80.09, 67.20], atol=0.05)
    black = colour.rgb_to_lab(np.zeros(3, np.uint8))
    np.testing.assert_allclose(black, [0, 0, 0], atol=1e-9)


def test_oklab_lightness_orders_greys_and_is_neutral():
    grey = np.repeat(np.arange(0, 256, 17, dtype=np.uint8)[:, None], 3, axis=1)
    ok = colour.rgb_to_oklab(grey)
    assert np.all(np.diff(ok[:, 0]) > 0)
    np.testing.assert_allclose(ok[:, 1:], 0, atol=1e-6)


def test_image_shapes_pass_through():
    img = np.zeros((4, 5, 3), np.uint8)
    assert colour.rgb_to_oklab(img).shape == (4, 5, 3)
    assert colour.lightness(img).shape == (4, 5)
    assert colour.luma(img).shape == (4, 5)


def test_bad_input_raises():
    with pytest.raises(ImageError, match="uint8"):
        colour.rgb_to_lab(np.zeros((2, 3), np.float32))
    with pytest.raises(ImageError, match="3 colour channels"):
        colour.rgb_to_lab(np.zeros((2, 4), np.uint8))
    with pytest.raises(ValueError, match="unknown colour space"):
        colour.to_space(np.zeros((1, 3), np.uint8), "hsv")


def test_hex_round_trip_and_errors():
    assert colour.hex_to_rgb("#9E1B1B") == (158, 27, 27)
    assert colour.hex_to_rgb("9e1b1b") == (158, 27, 27)
    assert colour.rgb_to_hex((158, 27, 27)) == "#9E1B1B"
    for bad in ("#12345", "red", "#GGGGGG"):
        with pytest.raises(ValueError, match="hex colour"):
            colour.hex_to_rgb(bad)
