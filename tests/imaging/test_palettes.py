"""Tests for batikstudio.imaging.palettes."""

import doctest

import numpy as np
import pytest

from batikstudio.imaging import palettes
from batikstudio.imaging.colour import hex_to_rgb, lightness


def test_doctests():
    assert doctest.testmod(palettes).failed == 0


def test_named_palettes_resolve_and_include_batik_md_colours():
    for name in ("sogan", "indigo", "pesisir", "lasem", "mega_mendung"):
        assert name in palettes.palette_names()
    for name in palettes.palette_names():
        cols = palettes.resolve_palette(name)
        assert cols.dtype == np.uint8 and cols.ndim == 2 and cols.shape[1] == 3
        assert 2 <= len(cols) <= palettes.MAX_COLOURS
    assert hex_to_rgb("#9E1B1B") in [tuple(c) for c in palettes.resolve_palette("lasem").tolist()]
    mega = palettes.resolve_palette("mega_mendung")
    assert len(mega) == 7
    assert tuple(mega[0]) == hex_to_rgb("#BFD7EA") and tuple(mega[-1]) == hex_to_rgb("#0B2545")
    assert np.all(np.diff(lightness(mega)) < 0)  # the seven bands go light to dark


def test_hex_lists_and_strings():
    a = palettes.resolve_palette("#FFFFFF, #000000")
    b = palettes.resolve_palette(["#ffffff", "#000000", "#FFFFFF"])  # duplicate dropped
    np.testing.assert_array_equal(a, b)
    assert a.tolist() == [[255, 255, 255], [0, 0, 0]]


def test_bad_palettes_raise():
    with pytest.raises(ValueError, match="unknown palette 'nope'"):
        palettes.resolve_palette("nope")
    with pytest.raises(ValueError, match="2 to 16 distinct colours"):
        palettes.resolve_palette(["#FFFFFF"])
    with pytest.raises(ValueError, match="hex colour"):
        palettes.resolve_palette("#FFFFFF,#12")
