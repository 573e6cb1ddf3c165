"""Repeat layouts, checked by pixel probes against the tile."""

import doctest

import numpy as np
import pytest

from batikstudio.errors import ImageError
from batikstudio.imaging import repeat
from batikstudio.imaging.repeat import (
    TileLayout, parse_offset, render_repeat, repeat_preview, tile_placements,
)

H, W = 12, 10


@pytest.fixture
def tile():
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (H, W, 3), dtype=np.uint8)


def test_docstring_examples():
    assert doctest.testmod(repeat).failed == 0


def test_block_repeats_the_tile(tile):
    out = render_repeat(tile, TileLayout.BLOCK, cols=3, rows=2)
    assert out.shape == (2 * H, 3 * W, 3) and out.dtype == np.uint8
    assert np.array_equal(out[H:2 * H, 2 * W:3 * W], tile)


def test_half_drop_shifts_column_one_by_half_the_height(tile):
    out = render_repeat(tile, "half-drop", cols=3, rows=2)
    assert np.array_equal(out[:, :W], np.tile(tile, (2, 1, 1)))
    col1 = out[:, W:2 * W]
    for y in (0, 3, H // 2, H + 1, 2 * H - 1):
        assert np.array_equal(col1[y], tile[(y - H // 2) % H])
    assert np.array_equal(out[:, 2 * W:], np.tile(tile, (2, 1, 1)))  # 2 * 1/2 = full drop


def test_half_drop_third_offset(tile):
    out = render_repeat(tile, "half-drop", cols=3, rows=1, offset=1 / 3)
    for c in (1, 2):
        shift = round(((c / 3) % 1) * H)
        assert np.array_equal(out[:, c * W:(c + 1) * W], np.roll(tile, shift, axis=0))


def test_half_brick_shifts_row_one_by_half_the_width(tile):
    out = render_repeat(tile, TileLayout.HALF_BRICK, cols=2, rows=2)
    row1 = out[H:2 * H]
    for x in (0, 4, W // 2, W + 3, 2 * W - 1):
        assert np.array_equal(row1[:, x], tile[:, (x - W // 2) % W])


def test_mirror_flips_alternate_tiles(tile):
    out = render_repeat(tile, TileLayout.MIRROR, cols=2, rows=2)
    assert np.array_equal(out[:H, :W], tile)
    assert np.array_equal(out[:H, W:], tile[:, ::-1])
    assert np.array_equal(out[H:, :W], tile[::-1])
    assert np.array_equal(out[H:, W:], tile[::-1, ::-1])
    # mirrored copies meet edge to edge: the seam columns are equal
    assert np.array_equal(out[:, W - 1], out[:, W])


def test_centre_places_one_tile_on_the_background(tile):
    out = render_repeat(tile, "centre", out_size=(30, 40), background=(1, 2, 3))
    y0, x0 = (40 - H) // 2, (30 - W) // 2
    assert np.array_equal(out[y0:y0 + H, x0:x0 + W], tile)
    assert out[0, 0].tolist() == [1, 2, 3] and out[-1, -1].tolist() == [1, 2, 3]
    assert (np.all(out == [1, 2, 3], axis=2)).sum() == 30 * 40 - H * W


def test_out_size_crops_edge_tiles(tile):
    out = render_repeat(tile, "block", out_size=(W + 3, H + 5))
    assert out.shape == (H + 5, W + 3, 3)
    assert np.array_equal(out[H:, W:], tile[:5, :3])


def test_grayscale_and_rgba_keep_channels():
    gray = np.arange(16, dtype=np.uint8).reshape(4, 4)
    assert render_repeat(gray, "mirror", cols=2, rows=2).shape == (8, 8)
    rgba = np.zeros((4, 4, 4), np.uint8)
    assert render_repeat(rgba, "centre", out_size=(8, 8))[0, 0].tolist() == [239, 230, 210, 255]


def test_placements_cover_the_output():
    for layout in TileLayout:
        if layout is TileLayout.CENTRE:
            continue
        cover = np.zeros((50, 70), int)
        for p in tile_placements((7, 9), layout, (70, 50), 1 / 3):
            x0, y0 = int(np.floor(p.x + 0.5)), int(np.floor(p.y + 0.5))
            cover[max(y0, 0):max(y0 + 9, 0), max(x0, 0):max(x0 + 7, 0)] += 1
        assert cover.min() == 1 and cover.max() == 1, layout


def test_preview_is_three_by_three_and_shrinks(tile):
    assert repeat_preview(tile, "half-drop").shape == (3 * H, 3 * W, 3)
    small = repeat_preview(tile, "half-brick", max_side=18)
    assert max(small.shape[:2]) == 18 and small.dtype == np.uint8


def test_bad_inputs_raise_clear_errors(tile):
    with pytest.raises(ImageError):
        render_repeat(tile.astype(np.float32), "block")
    with pytest.raises(ValueError, match="unknown layout"):
        render_repeat(tile, "zigzag")
    with pytest.raises(ValueError, match="offset"):
        render_repeat(tile, "half-drop", offset=1.5)
    with pytest.raises(ValueError, match="not both"):
        render_repeat(tile, "block", cols=2, out_size=(5, 5))


@pytest.mark.parametrize("text, value", [("1/2", 0.5), ("1/3", 1 / 3), ("0.25", 0.25)])
def test_parse_offset(text, value):
    assert parse_offset(text) == pytest.approx(value)
    with pytest.raises(ValueError):
        parse_offset("3/2")


def test_layout_names():
    assert TileLayout.parse("HALF_DROP") is TileLayout.HALF_DROP
    assert TileLayout.parse("center") is TileLayout.CENTRE
