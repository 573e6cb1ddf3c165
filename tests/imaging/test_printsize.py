"""Print sizes, presets, repeat fitting and the pixel limit."""

import doctest

import pytest

from batikstudio.errors import ExportError
from batikstudio.imaging import printsize
from batikstudio.imaging.printsize import (
    PrintSpec, check_pixel_limit, fit_repeats, fit_repeats_px, parse_size, preset, to_pixels,
)


def test_docstring_examples():
    assert doctest.testmod(printsize).failed == 0


def test_twenty_cm_at_300_dpi_is_2362_px():
    assert PrintSpec(20, 20, "cm", 300).pixel_size == (2362, 2362)
    assert PrintSpec(200, 100, "mm", 300).pixel_size == (2362, 1181)


def test_inches_and_points():
    spec = PrintSpec(6, 4, "in", 300)
    assert spec.pixel_size == (1800, 1200)
    assert spec.points == (432.0, 288.0)
    assert to_pixels(2.54, "cm", 150) == 150


@pytest.mark.parametrize("name, size", [
    ("swatch", (2400, 2400)), ("fat-quarter", (6300, 5400)), ("batik-cap", (2362, 2362)),
])
def test_presets_at_300_dpi(name, size):
    assert preset(name).pixel_size == size


def test_dpi_presets_and_bad_names():
    assert preset("fat-quarter", "pod").pixel_size == (3150, 2700)
    assert preset("wallpaper-panel").width_in == 24
    with pytest.raises(ValueError, match="unknown size preset"):
        preset("bedsheet")
    with pytest.raises(ValueError, match="unknown DPI preset"):
        preset("swatch", "ultra")


@pytest.mark.parametrize("bad", [dict(width=0, height=1), dict(width=1, height=1, unit="ft"),
                                 dict(width=1, height=1, dpi=0)])
def test_bad_specs_raise(bad):
    with pytest.raises(ValueError):
        PrintSpec(**bad)


def test_refusal_states_the_requested_size():
    spec = PrintSpec(60, 60, "in", 300)
    with pytest.raises(ExportError) as info:
        check_pixel_limit(spec, max_pixels=200_000_000)
    msg = str(info.value)
    assert "60 x 60 in" in msg and "300 DPI" in msg and "18000 x 18000 px" in msg
    assert "324 MP" in msg and "200 MP" in msg


def test_under_the_limit_returns_pixels():
    assert check_pixel_limit(PrintSpec(8, 8, "in", 300), max_pixels=6_000_000) == (2400, 2400)


def test_fit_repeats_divides_the_width():
    fit = fit_repeats(24, 7)
    assert fit.count * fit.repeat == pytest.approx(24)
    assert fit.count == 3
    assert fit_repeats(24, 30).count == 1


def test_fit_repeats_px_prefers_exact_divisors():
    fit = fit_repeats_px(7200, 2362)
    assert 7200 % fit.repeat == 0 and fit.count * fit.repeat == 7200
    odd = fit_repeats_px(7201, 2400)  # prime-ish width: nearest count, repeat rounded
    assert odd.count == 3 and abs(odd.count * odd.repeat - 7201) <= odd.count


@pytest.mark.parametrize("text, expected", [
    ("20x20cm", (20.0, 20.0, "cm")), ("21 x 18 in", (21.0, 18.0, "in")),
    ("24in", (24.0, None, "in")), ("30x40", (30.0, 40.0, "cm")), ("8x8inch", (8.0, 8.0, "in")),
])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


def test_parse_size_rejects_garbage():
    with pytest.raises(ValueError, match="cannot read size"):
        parse_size("big")
