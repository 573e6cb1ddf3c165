"""Repeat layouts: lay a tile out as block, half-drop, half-brick, mirror or centre.

Geometry (tile ``w x h``, column ``c``, row ``r``, ``offset`` in (0, 1), usually 1/2 or 1/3):

- ``BLOCK``: full drop, tile ``(c, r)`` at ``(c*w, r*h)``.
- ``HALF_DROP``: column ``c`` is shifted down by ``(c*offset mod 1) * h`` (the apparel default).
- ``HALF_BRICK``: row ``r`` is shifted right by ``(r*offset mod 1) * w``.
- ``MIRROR``: odd columns are flipped left-right, odd rows top-bottom (a 2w x 2h unit).
- ``CENTRE``: one tile in the middle of a background.

The same placements (:func:`tile_placements`) drive the raster renderer here and the vector
export, so a PNG and an SVG of the same layout line up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Callable, Iterator, Sequence

import numpy as np

from batikstudio.errors import ImageError

#: cream ground (BATIK.md), the default background of the centre layout
CREAM = (0xEF, 0xE6, 0xD2)


class TileLayout(Enum):
    """How copies of a tile are arranged in a print."""

    BLOCK = "block"
    HALF_DROP = "half-drop"
    HALF_BRICK = "half-brick"
    MIRROR = "mirror"
    CENTRE = "centre"

    @classmethod
    def parse(cls, name: "str | TileLayout") -> "TileLayout":
        """Accept a layout, its value (``'half-drop'``) or name (``'HALF_DROP'``)."""
        if isinstance(name, TileLayout):
            return name
        key = name.strip().lower().replace("_", "-").replace(" ", "-")
        key = {"center": "centre", "halfdrop": "half-drop", "brick": "half-brick",
               "half-brick": "half-brick", "drop": "half-drop", "full-drop": "block"}.get(key, key)
        for layout in cls:
            if layout.value == key:
                return layout
        raise ValueError(f"unknown layout {name!r}: choose from {', '.join(l.value for l in cls)}")


@dataclass(frozen=True)
class Placement:
    """One copy of the tile: top-left corner (x, y) in output units and its flips."""

    x: float
    y: float
    flip_h: bool = False
    flip_v: bool = False


def parse_offset(text: str | float) -> float:
    """Read an offset such as ``'1/2'``, ``'1/3'`` or ``0.5``; it must lie in (0, 1).

    >>> parse_offset("1/3")
    0.3333333333333333
    """
    if isinstance(text, str) and "/" in text:
        num, _, den = text.partition("/")
        value = float(num) / float(den)
    else:
        value = float(text)
    if not 0 < value < 1:
        raise ValueError(f"repeat offset must be between 0 and 1 (e.g. 1/2 or 1/3), got {text}")
    return value


def tile_placements(
    tile_size: tuple[float, float],
    layout: TileLayout,
    out_size: tuple[float, float],
    offset: float = 0.5,
) -> list[Placement]:
    """Every placement of a ``(w, h)`` tile that touches an ``(W, H)`` output, in any unit.

    Placements may start left of / above the origin (negative x, y); callers clip.

    >>> [(p.x, p.y) for p in tile_placements((2, 2), TileLayout.HALF_DROP, (4, 2))]
    [(0.0, 0.0), (2.0, -1.0), (2.0, 1.0)]
    """
    w, h = float(tile_size[0]), float(tile_size[1])
    out_w, out_h = float(out_size[0]), float(out_size[1])
    if w <= 0 or h <= 0 or out_w <= 0 or out_h <= 0:
        raise ValueError(f"tile {tile_size} and output {out_size} must be positive")
    layout = TileLayout.parse(layout)
    if layout is TileLayout.CENTRE:
        return [Placement((out_w - w) / 2, (out_h - h) / 2)]
    if layout is not TileLayout.MIRROR and not 0 < offset < 1:
        raise ValueError(f"repeat offset must be between 0 and 1, got {offset}")
    cols, rows = math.ceil(out_w / w), math.ceil(out_h / h)
    out: list[Placement] = []
    if layout is TileLayout.HALF_BRICK:
        for r in range(rows):
            shift = ((r * offset) % 1.0) * w
            start = -1 if shift > 0 else 0
            for c in range(start, cols):
                out.append(Placement(c * w + shift, float(r * h)))
        return out
    for c in range(cols):
        shift = ((c * offset) % 1.0) * h if layout is TileLayout.HALF_DROP else 0.0
        start = -1 if shift > 0 else 0
        for r in range(start, rows):
            flip_h = layout is TileLayout.MIRROR and c % 2 == 1
            flip_v = layout is TileLayout.MIRROR and r % 2 == 1
            out.append(Placement(float(c * w), r * h + shift, flip_h, flip_v))
    return out


def _check_tile(tile: np.ndarray) -> np.ndarray:
    if not isinstance(tile, np.ndarray) or tile.dtype != np.uint8:
        raise ImageError(f"expected a uint8 tile, got {getattr(tile, 'dtype', type(tile))}")
    if tile.ndim == 2:
        tile = tile[:, :, None]
    if tile.ndim != 3 or tile.shape[2] not in (1, 3, 4) or min(tile.shape[:2]) < 1:
        raise ImageError(f"expected an HxWxC tile with C in 1, 3, 4; got shape {tile.shape}")
    return tile


def _output_size(
    tile: np.ndarray, layout: TileLayout, cols: int | None, rows: int | None,
    out_size: tuple[int, int] | None,
) -> tuple[int, int]:
    h, w = tile.shape[:2]
    if out_size is not None:
        if cols is not None or rows is not None:
            raise ValueError("give either cols/rows or out_size, not both")
        ow, oh = int(out_size[0]), int(out_size[1])
    else:
        ow, oh = (cols or 3) * w, (rows or 3) * h
    if ow < 1 or oh < 1:
        raise ValueError(f"output size must be positive, got {ow} x {oh}")
    return ow, oh


def iter_paste(
    tile: np.ndarray, placements: Sequence[Placement], out: np.ndarray
) -> Iterator[int]:
    """Paste the tile at each (rounded) placement into ``out`` (clipped); yields a counter."""
    h, w = tile.shape[:2]
    oh, ow = out.shape[:2]
    variants: dict[tuple[bool, bool], np.ndarray] = {}
    for i, p in enumerate(placements):
        key = (p.flip_h, p.flip_v)
        if key not in variants:
            t = tile[:, ::-1] if p.flip_h else tile
            variants[key] = t[::-1] if p.flip_v else t
        src = variants[key]
        x0, y0 = int(math.floor(p.x + 0.5)), int(math.floor(p.y + 0.5))
        xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + w, ow), min(y0 + h, oh)
        if xa < xb and ya < yb:
            out[ya:yb, xa:xb] = src[ya - y0:yb - y0, xa - x0:xb - x0]
        yield i + 1


def render_repeat(
    tile: np.ndarray,
    layout: TileLayout | str = TileLayout.BLOCK,
    cols: int | None = None,
    rows: int | None = None,
    out_size: tuple[int, int] | None = None,
    offset: float = 0.5,
    background: Sequence[int] = CREAM,
    on_progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Lay out copies of ``tile`` as a repeat.

    Args:
        tile: HxWxC uint8 (C in 1, 3, 4) or HxW uint8.
        layout: a :class:`TileLayout` or its name (``'half-drop'``).
        cols, rows: output of ``cols*W x rows*H`` (default 3 x 3) ...
        out_size: ... or an explicit ``(width, height)`` in pixels (edge tiles are cut).
        offset: drop / brick shift as a fraction of the tile (1/2 or 1/3); unused by MIRROR.
        background: colour behind a CENTRE placement (RGB; grey for 1 channel).
        on_progress: called ``(done, total)`` after each placement (may raise to cancel).

    Returns:
        ``out_height x out_width x C`` uint8 (HxW when the tile was HxW).

    >>> t = np.arange(4, dtype=np.uint8).reshape(2, 2)
    >>> render_repeat(t, "half-drop", cols=2, rows=1)
    array([[0, 1, 2, 3],
           [2, 3, 0, 1]], dtype=uint8)
    """
    was_2d = isinstance(tile, np.ndarray) and tile.ndim == 2
    tile = _check_tile(tile)
    layout = TileLayout.parse(layout)
    ow, oh = _output_size(tile, layout, cols, rows, out_size)
    channels = tile.shape[2]
    out = np.empty((oh, ow, channels), dtype=np.uint8)
    if layout is TileLayout.CENTRE:
        bg = np.asarray(background, dtype=np.uint8).ravel()
        if channels == 1:
            bg = np.array([int(round(float(np.mean(bg[:3]))))], dtype=np.uint8)
        elif channels == 4 and bg.size == 3:
            bg = np.append(bg, 255).astype(np.uint8)
        out[:] = bg[:channels]
    placements = tile_placements((tile.shape[1], tile.shape[0]), layout, (ow, oh), offset)
    for done in iter_paste(tile, placements, out):
        if on_progress is not None:
            on_progress(done, len(placements))
    return out[:, :, 0] if was_2d else out


def repeat_preview(
    tile: np.ndarray,
    layout: TileLayout | str = TileLayout.BLOCK,
    grid: tuple[int, int] = (3, 3),
    offset: float = 0.5,
    max_side: int | None = None,
    background: Sequence[int] = CREAM,
) -> np.ndarray:
    """A ``cols x rows`` repeat for the app's live preview, optionally shrunk to ``max_side``.

    For CENTRE the tile sits in the middle of a ``cols*W x rows*H`` background.

    >>> repeat_preview(np.zeros((8, 8, 3), np.uint8), "mirror", max_side=12).shape
    (12, 12, 3)
    """
    cols, rows = grid
    img = render_repeat(tile, layout, cols=cols, rows=rows, offset=offset, background=background)
    if max_side is not None and max(img.shape[:2]) > max_side:
        import cv2

        scale = max_side / max(img.shape[:2])
        size = (max(1, round(img.shape[1] * scale)), max(1, round(img.shape[0] * scale)))
        small = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        img = small.reshape(size[1], size[0], *img.shape[2:])
    return img
