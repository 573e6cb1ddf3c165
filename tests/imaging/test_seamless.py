"""Seam score and seamless tiles."""

import doctest

import cv2
import numpy as np
import pytest

from batikstudio.errors import ImageError
from batikstudio.imaging import seamless
from batikstudio.imaging.repeat import TileLayout, render_repeat, tile_placements
from batikstudio.imaging.seamless import drop_pixels, make_seamless, seam_score, twisted_roll


def _texture(h=48, w=64, seed=0):
    """A non-periodic textured RGB image: blurred noise plus a horizontal colour ramp."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.random((h, w, 3)).astype(np.float32), (0, 0), 2.0)
    noise = (noise - noise.min()) / (noise.max() - noise.min())
    img = (noise * 200).astype(np.uint8)
    img[:, :, 0] = np.linspace(0, 255, w).astype(np.uint8)[None]
    return img


def _periodic(h=48, w=64):
    yy, xx = np.mgrid[0:h, 0:w]
    f = np.sin(2 * np.pi * (2 * xx / w + yy / h)) + 0.5 * np.cos(2 * np.pi * 3 * yy / h)
    return np.repeat(((f + 1.5) / 3 * 255).astype(np.uint8)[:, :, None], 3, axis=2)


def test_docstring_examples():
    assert doctest.testmod(seamless).failed == 0


def test_periodic_image_scores_near_one():
    assert 0.7 < seam_score(_periodic()) < 1.3
    assert seam_score(np.full((8, 8, 3), 7, np.uint8)) == pytest.approx(1.0)


def test_seam_is_detected():
    img = _texture()
    assert seam_score(img) > 5


@pytest.mark.parametrize("method", ["blend", "seam"])
@pytest.mark.parametrize("recentre", [True, False])
def test_make_seamless_removes_the_seam_and_keeps_the_size(method, recentre):
    img = _texture()
    out = make_seamless(img, method, recentre=recentre)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert seam_score(out) < 1.5 < seam_score(img) / 3


@pytest.mark.parametrize("method", ["blend", "seam"])
def test_recentred_result_keeps_the_motif_in_place(method):
    img = _texture()
    out = make_seamless(img, method)
    h, w = img.shape[:2]
    centre = (slice(h // 2 - 4, h // 2 + 4), slice(w // 2 - 4, w // 2 + 4))
    assert np.array_equal(out[centre], img[centre])


def test_seamless_tile_repeats_without_a_visible_jump():
    out = make_seamless(_texture(), "seam")
    big = np.tile(out, (2, 2, 1)).astype(float)
    h, w = out.shape[:2]
    jump = np.abs(big[:, w] - big[:, w - 1]).mean()
    typical = np.abs(np.diff(big, axis=1)).mean()
    assert jump < 2 * typical


def test_grayscale_and_odd_sizes():
    img = _texture(37, 41)[:, :, 0]
    out = make_seamless(img, "seam", overlap=5)
    assert out.shape == img.shape
    assert seam_score(out) < seam_score(img)


def test_bad_inputs():
    with pytest.raises(ImageError):
        seam_score(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(ImageError):
        make_seamless(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="unknown seamless method"):
        make_seamless(np.zeros((8, 8, 3), np.uint8), "smudge")


# ---------------------------------------------------------------- half-drop / half-brick

DROPS = ["half-drop", "half-brick"]
OFFSETS = [1 / 2, 1 / 3]


def _layout_jump(img, layout, offset):
    """Mean |jump| between the copies that meet across the shifted edge, from render_repeat."""
    h, w = img.shape[:2]
    if layout == "half-drop":
        out = render_repeat(img, layout, cols=2, rows=1, offset=offset).astype(float)
        return np.abs(out[:, w] - out[:, w - 1]).mean()
    out = render_repeat(img, layout, cols=1, rows=2, offset=offset).astype(float)
    return np.abs(out[h] - out[h - 1]).mean()


def test_block_score_is_the_default():
    img = _texture()
    assert seam_score(img) == seam_score(img, TileLayout.BLOCK) == seam_score(img, "block", 1 / 3)


@pytest.mark.parametrize("layout", DROPS)
@pytest.mark.parametrize("offset", OFFSETS)
def test_block_seamless_tile_has_a_seam_in_a_drop(layout, offset):
    tile = _periodic()  # periodic on the plain torus, with a diagonal wave
    if layout == "half-brick":
        tile = tile.transpose(1, 0, 2).copy()
    assert seam_score(tile) < 1.3
    assert seam_score(tile, layout, offset) > 3
    # the score looks exactly where the renderer puts the next copy
    assert _layout_jump(tile, layout, offset) > 5 * _layout_jump(np.tile(tile, (2, 2, 1)), "block", 0.5)


def test_a_tile_stacked_along_the_drop_is_seamless_for_it():
    tile = _periodic(24, 32)
    assert seam_score(np.tile(tile, (2, 1, 1)), "half-drop", 1 / 2) == pytest.approx(seam_score(tile), rel=0.2)
    assert seam_score(np.tile(tile, (1, 3, 1)), "half-brick", 1 / 3) == pytest.approx(seam_score(tile), rel=0.2)


@pytest.mark.parametrize("layout", ["mirror", "centre"])
def test_mirror_and_centre_never_have_a_seam(layout):
    assert seam_score(_texture(), layout) < 1.0
    assert seam_score(np.full((8, 8, 3), 7, np.uint8), layout) == pytest.approx(1.0)


@pytest.mark.parametrize("method", ["blend", "seam"])
@pytest.mark.parametrize("layout", DROPS)
@pytest.mark.parametrize("offset", OFFSETS)
@pytest.mark.parametrize("source", ["periodic", "texture"])
def test_drop_aware_make_seamless(method, layout, offset, source):
    img = _periodic() if source == "periodic" else _texture()
    if source == "periodic" and layout == "half-brick":
        img = img.transpose(1, 0, 2).copy()  # its wave repeats under a brick shift of 1/2
    out = make_seamless(img, method, layout=layout, offset=offset)
    assert out.shape == img.shape and out.dtype == np.uint8
    before, after = seam_score(img, layout, offset), seam_score(out, layout, offset)
    assert after < 1.5 < before / 2, (before, after)
    # the plain (unshifted) axis is a plain wrap and is repaired too
    axis = 0 if layout == "half-drop" else 1
    edge = np.abs(np.take(out, 0, axis).astype(float) - np.take(out, -1, axis)).mean()
    inner = np.abs(np.diff(out.astype(float), axis=axis)).mean()
    assert edge < 2 * inner


@pytest.mark.parametrize("layout", DROPS)
def test_drop_aware_result_keeps_the_motif_in_place(layout):
    img = _texture()
    out = make_seamless(img, "seam", layout=layout, offset=1 / 3)
    h, w = img.shape[:2]
    centre = (slice(h // 2 - 4, h // 2 + 4), slice(w // 2 - 4, w // 2 + 4))
    assert np.array_equal(out[centre], img[centre])


def test_drop_aware_grayscale_odd_size_and_no_recentre():
    img = _texture(37, 41)[:, :, 0]
    for layout in DROPS:
        out = make_seamless(img, "seam", None, layout, 1 / 3, recentre=False)
        assert out.shape == img.shape
        assert seam_score(out, layout, 1 / 3) < seam_score(img, layout, 1 / 3) / 2


def test_twisted_roll():
    f = np.arange(5 * 7 * 2).reshape(5, 7, 2)
    np.testing.assert_array_equal(twisted_roll(f, 3, 0), np.roll(f, 3, axis=1))
    for k in (-6, -2, 1, 4):
        np.testing.assert_array_equal(twisted_roll(twisted_roll(f, k, 2), -k, 2), f)
    # a column that wraps from the right edge to the left comes back one drop higher
    np.testing.assert_array_equal(twisted_roll(f, 1, 2)[:, 0], np.roll(f[:, -1], -2, axis=0))
    with pytest.raises(ValueError):
        twisted_roll(f, 7, 1)


def test_drop_pixels_matches_the_renderer():
    for h in (7, 24, 37):
        for offset in OFFSETS:
            p = tile_placements((4, h), TileLayout.HALF_DROP, (8, h), offset)
            y = min(pl.y for pl in p if pl.x == 4 and pl.y >= 0)
            assert drop_pixels(h, offset) == int(np.floor(y + 0.5)) % h


def test_bad_drop_offset():
    with pytest.raises(ValueError, match="offset"):
        seam_score(_texture(), "half-drop", 1.5)
    with pytest.raises(ValueError, match="offset"):
        make_seamless(_texture(), "blend", layout="half-brick", offset=0)
    with pytest.raises(ValueError, match="unknown layout"):
        seam_score(_texture(), "zigzag")
