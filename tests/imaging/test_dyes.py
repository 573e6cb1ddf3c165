"""Tests for batikstudio.imaging.dyes."""

import doctest

import cv2
import numpy as np
import pytest

from batikstudio.errors import ImageError
from batikstudio.imaging import dyes
from batikstudio.imaging.colour import hex_to_rgb, lightness
from batikstudio.imaging.dyes import merge_small_regions, reduce_palette
from batikstudio.imaging.palettes import resolve_palette

CREAM, SOGA, INDIGO = (239, 230, 210), (107, 62, 30), (31, 42, 68)


def _motif(size=64, noise=6.0, seed=0):
    """Cream ground, a soga band and indigo dots, plus sensor-like noise."""
    img = np.zeros((size, size, 3), np.float64)
    img[:] = CREAM
    img[size // 4: size // 2] = SOGA
    yy, xx = np.mgrid[:size, :size]
    dots = ((yy % 16 - 11) ** 2 + (xx % 16 - 8) ** 2) < 12
    dots[: size // 2] = False
    img[dots] = INDIGO
    img += np.random.default_rng(seed).normal(0, noise, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _component_areas(labels):
    areas = []
    for k in np.unique(labels):
        _, _, stats, _ = cv2.connectedComponentsWithStats((labels == k).astype(np.uint8), connectivity=8)
        areas += stats[1:, cv2.CC_STAT_AREA].tolist()
    return areas


def test_doctests():
    assert doctest.testmod(dyes).failed == 0


def test_shapes_dtypes_and_planted_colours_found():
    img = _motif()
    sep = reduce_palette(img, n_colors=3)
    assert sep.colors.shape == (3, 3) and sep.colors.dtype == np.uint8
    assert sep.labels.shape == (64, 64) and sep.labels.dtype == np.int32
    assert sep.recoloured.shape == img.shape and sep.recoloured.dtype == np.uint8
    assert sep.source is not None and sep.source.shape == img.shape
    for expected, found in zip((CREAM, SOGA, INDIGO), sep.colors):
        assert np.abs(np.array(expected) - found.astype(int)).max() <= 4


def test_gray_and_rgba_inputs():
    gray = _motif()[:, :, 1]
    sep = reduce_palette(gray, n_colors=2)
    assert sep.recoloured.shape == (64, 64, 3)
    assert np.all(sep.colors[:, 0] == sep.colors[:, 1])  # stays grey
    rgba = np.dstack([_motif(), np.full((64, 64), 9, np.uint8)])
    np.testing.assert_array_equal(
        reduce_palette(rgba, n_colors=3).labels, reduce_palette(_motif(), n_colors=3).labels
    )


def test_deterministic_per_seed():
    img = _motif(noise=30.0)
    a = reduce_palette(img, n_colors=5, seed=3)
    b = reduce_palette(img, n_colors=5, seed=3)
    np.testing.assert_array_equal(a.colors, b.colors)
    np.testing.assert_array_equal(a.labels, b.labels)


@pytest.mark.parametrize("space", ["oklab", "lab"])
def test_colours_ordered_light_to_dark(space):
    sep = reduce_palette(_motif(noise=40.0), n_colors=6, space=space)
    assert np.all(np.diff(lightness(sep.colors)) <= 0)
    cover = sep.coverage()
    assert cover.shape == (sep.n_colors,) and abs(cover.sum() - 1) < 1e-9 and np.all(cover > 0)


def test_wax_masks_nest_and_follow_the_convention():
    sep = reduce_palette(_motif(noise=20.0), n_colors=4)
    masks = sep.wax_masks()
    assert len(masks) == sep.n_colors
    assert not masks[0].any()
    for k in range(1, sep.n_colors):
        np.testing.assert_array_equal(masks[k], sep.labels < k)
        assert not (masks[k - 1] & ~masks[k]).any()  # stage k-1 wax is inside stage k wax
    np.testing.assert_array_equal(sep.cloth_after(sep.n_colors - 1), sep.recoloured)
    first = sep.cloth_after(0)
    assert np.all(first == sep.colors[0])
    with pytest.raises(ValueError, match="stage"):
        sep.cloth_after(sep.n_colors)


def test_palette_snap_uses_only_palette_colours_and_drops_unused():
    img = _motif()
    sep = reduce_palette(img, palette="pesisir")
    allowed = {tuple(c) for c in resolve_palette("pesisir").tolist()}
    used = {tuple(c) for c in sep.recoloured.reshape(-1, 3).tolist()}
    assert used <= allowed
    assert {tuple(c) for c in sep.colors.tolist()} == used  # unused palette colours dropped
    assert sep.palette_name == "pesisir"
    exact = reduce_palette(img, palette=["#EFE6D2", "#6B3E1E", "#1F2A44", "#FF00FF"])
    assert exact.n_colors == 3 and exact.palette_name is None
    assert tuple(exact.colors[1]) == hex_to_rgb("#6B3E1E")


def test_min_region_removes_small_islands():
    img = np.zeros((40, 40, 3), np.uint8)
    img[:, :20] = 230
    img[5:7, 5:7] = (200, 30, 30)  # a 4-px red island in the light half
    img[30, 30] = 230  # a 1-px light island in the dark half
    img[10:13, 25:28] = (200, 30, 30)  # a 9-px red island in the dark half
    sep = reduce_palette(img, n_colors=3)
    assert min(_component_areas(sep.labels)) == 1
    merged = reduce_palette(img, n_colors=3, min_region=10)
    assert min(_component_areas(merged.labels)) >= 10
    assert merged.n_colors == 2  # red vanished entirely, and was dropped
    assert merged.recoloured[6, 6].tolist() == [230, 230, 230]
    assert merged.recoloured[30, 30].tolist() == [0, 0, 0]


def test_merge_resolves_clusters_of_small_regions():
    # four 2x2 quadrants of four colours: every region is small and touches only small ones
    quads = np.kron(np.arange(4, dtype=np.int32).reshape(2, 2), np.ones((2, 2), np.int32))
    out = merge_small_regions(quads, 4, 5)
    assert np.all(out == out[0, 0])
    tiny = np.zeros((2, 2), np.int32)  # an image smaller than min_region stays as it is
    np.testing.assert_array_equal(merge_small_regions(tiny, 1, 10), tiny)


def test_fewer_distinct_colours_than_requested():
    img = np.zeros((8, 8, 3), np.uint8)
    img[:4] = (10, 200, 10)
    sep = reduce_palette(img, n_colors=6)
    assert sep.n_colors == 2
    assert sep.colors.tolist() == [[10, 200, 10], [0, 0, 0]]


def test_bad_arguments_raise_clear_errors():
    img = _motif(size=16)
    for n in (1, 9):
        with pytest.raises(ValueError, match="n_colors must be in 2..8"):
            reduce_palette(img, n_colors=n)
    with pytest.raises(ValueError, match="either n_colors or palette"):
        reduce_palette(img, n_colors=3, palette="lasem")
    with pytest.raises(ValueError, match="unknown palette"):
        reduce_palette(img, palette="tartan")
    with pytest.raises(ValueError, match="min_region"):
        reduce_palette(img, min_region=-1)
    with pytest.raises(ValueError, match="colour space"):
        reduce_palette(img, space="hsv")
    with pytest.raises(ImageError, match="uint8"):
        reduce_palette(img.astype(np.float32))
    with pytest.raises(ImageError, match="shape"):
        reduce_palette(np.zeros((4, 4, 2), np.uint8))


def test_to_dict_is_json_ready():
    import json

    data = reduce_palette(_motif(), palette="yogya").to_dict()
    text = json.dumps(data)
    assert "#EFE6D2" in text and data["palette"] == "yogya"
    assert [c["index"] for c in data["colors"]] == list(range(len(data["colors"])))
