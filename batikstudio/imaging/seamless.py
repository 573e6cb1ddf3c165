"""Seamless tiles in image space: measure the wrap seam and remove it.

:func:`seam_score` compares the jump across the wrap edges with the image's own
neighbour-to-neighbour differences; :func:`make_seamless` removes the seam by offsetting the
image by half a tile (so the wrap edges meet in a cross in the middle and the new edges are
interior content) and then either blending the cross with the unshifted image or cutting a
minimum-error boundary through it (Efros & Freeman, "Image Quilting", 2001).

Both know the repeat layout. A block repeat puts the tile on a plain torus: the right edge
meets the left edge at the same height. A half-drop at offset ``o`` puts it next to the left
edge of the next column, shifted down by ``o*H``: the tile must be continuous on a *twisted*
torus, ``(x + W, y + o*H) ~ (x, y)``; a half-brick likewise with rows and ``o*W``. A tile that
is seamless for block repeats usually is not for drops, so both functions take the layout.

Tileable *rendering* (circular padding in the generator) is done by the network; this module
works on finished HWC uint8 images.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from batikstudio.errors import ImageError
from batikstudio.imaging.repeat import TileLayout

log = logging.getLogger(__name__)

METHODS = ("blend", "seam")
_EPS = 1e-3


def _as_float(img: np.ndarray) -> np.ndarray:
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8:
        raise ImageError(f"expected a uint8 image, got {getattr(img, 'dtype', type(img))}")
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[2] not in (1, 3, 4):
        raise ImageError(f"expected an HxW or HxWxC image with C in 1, 3, 4; got {img.shape}")
    if min(img.shape[:2]) < 4:
        raise ImageError(f"image {img.shape[1]}x{img.shape[0]} is too small to tile (min 4 px)")
    return img.astype(np.float32)


def drop_pixels(size: int, offset: float) -> int:
    """The whole-pixel shift of a drop / brick ``offset`` on a tile side of ``size`` pixels.

    Rounded the way :func:`~batikstudio.imaging.repeat.render_repeat` places the first
    shifted copy (half up), modulo ``size``. Exact when ``offset * size`` is a whole number.

    >>> drop_pixels(48, 1 / 3), drop_pixels(7, 0.5)
    (16, 4)
    """
    if not 0 < offset < 1:
        raise ValueError(f"repeat offset must be between 0 and 1 (e.g. 1/2 or 1/3), got {offset}")
    return int(math.floor(offset * size + 0.5)) % size


def _edge_jumps(
    f: np.ndarray, layout: TileLayout, offset: float
) -> tuple[np.ndarray, np.ndarray]:
    """|difference| across the vertical and horizontal tile edges where ``layout`` joins copies.

    ``f`` is HxWxC float; returns (H x C across the left/right edge, W x C across top/bottom).
    """
    wx = np.abs(f[:, -1] - f[:, 0])
    wy = np.abs(f[-1] - f[0])
    if layout is TileLayout.HALF_DROP:
        # the next column is lower by s: row y of the last column meets row y - s of the first
        wx = np.abs(f[:, -1] - np.roll(f[:, 0], drop_pixels(f.shape[0], offset), axis=0))
    elif layout is TileLayout.HALF_BRICK:
        wy = np.abs(f[-1] - np.roll(f[0], drop_pixels(f.shape[1], offset), axis=0))
    elif layout in (TileLayout.MIRROR, TileLayout.CENTRE):
        # mirror: each edge meets its own reflection (the same pixels); centre: nothing meets
        wx, wy = np.zeros_like(wx), np.zeros_like(wy)
    return wx, wy


def seam_score(
    img: np.ndarray, layout: TileLayout | str = TileLayout.BLOCK, offset: float = 0.5
) -> float:
    """How visible the seam is where copies of the tile meet in ``layout``, relative to its texture.

    ``wrap`` is the mean absolute difference (over pixels and channels) across the edges
    where copies meet: for BLOCK between the last and first column and between the last and
    first row; for HALF_DROP the last column against the first column rolled down by
    ``offset*H`` (:func:`drop_pixels`), rows as for block; for HALF_BRICK the last row against
    the first row rolled right by ``offset*W``, columns as for block; for these two ``wrap`` is
    the larger of the two edges' means (the block score averages them), so a seam along the
    shifted edge is not halved by a clean plain edge. MIRROR puts every edge
    next to its own reflection and CENTRE has no neighbouring copies, so their ``wrap`` is 0:
    they are always seamless (score at most 1).

    ``interior`` is the image's own mean absolute neighbouring-pixel difference, the
    larger of two estimates: over the whole image, and over the two steps just inside each
    edge (columns 0-1-2 and W-3..W-1, rows likewise). The local estimate keeps a smooth
    periodic image whose wrap falls on a steep slope at about 1; the global one keeps a
    tile whose edges happen to be flat from being flagged for a jump no larger than its
    usual texture. The score is
    ``(wrap + 1e-3) / (interior + 1e-3)``: about 1.0 means the tile edges are as smooth as
    its interior (a truly periodic image, or a flat one), values well above 1 mean a
    visible seam when the tile repeats.

    Args:
        img: HxW or HxWxC uint8, at least 4 x 4.
        layout: a :class:`~batikstudio.imaging.repeat.TileLayout` or its name.
        offset: drop / brick offset in (0, 1) (1/2 or 1/3); used by HALF_DROP / HALF_BRICK.

    Returns:
        A non-negative float.

    Raises:
        ImageError: on a non-uint8 or too small image.
        ValueError: on an unknown layout or an offset outside (0, 1) for a drop / brick.

    >>> x = np.arange(32)
    >>> wave = (127 + 100 * np.sin(2 * np.pi * x / 32)).astype(np.uint8)
    >>> 0.9 < seam_score(np.tile(wave, (32, 1))) < 1.2
    True
    >>> seam_score(np.tile(wave, (32, 1)).T, "half-drop") > 3  # block-seamless, not for a drop
    True
    """
    f = _as_float(img)
    layout = TileLayout.parse(layout)
    # steps next to the edges: columns 0-1-2 and w-3..w-1, rows likewise
    dx = np.abs(np.diff(np.concatenate([f[:, :3], f[:, -3:]], axis=1), axis=1))
    dy = np.abs(np.diff(np.concatenate([f[:3], f[-3:]], axis=0), axis=0))
    dx, dy = np.delete(dx, 2, axis=1), np.delete(dy, 2, axis=0)  # drop the wrap step itself
    local = (dx.sum() + dy.sum()) / (dx.size + dy.size)
    gx, gy = np.abs(np.diff(f, axis=1)), np.abs(np.diff(f, axis=0))
    overall = (gx.sum() + gy.sum()) / (gx.size + gy.size)
    interior = max(local, overall)
    wx, wy = _edge_jumps(f, layout, offset)
    if layout in (TileLayout.HALF_DROP, TileLayout.HALF_BRICK):
        # judge the shifted edge on its own: a clean plain edge must not halve a drop seam
        wrap = max(wx.mean(), wy.mean())
    else:
        wrap = (wx.sum() + wy.sum()) / (wx.size + wy.size)
    return float((wrap + _EPS) / (interior + _EPS))


def make_seamless(
    img: np.ndarray,
    method: str = "blend",
    overlap: int | None = None,
    layout: TileLayout | str = TileLayout.BLOCK,
    offset: float = 0.5,
    *,
    recentre: bool = True,
) -> np.ndarray:
    """Make an image tile without a visible seam in ``layout``; the size is kept.

    Each axis in turn: roll the image by half so its wrap edges meet in the middle, then
    repair the middle using the unrolled image, which is continuous there.

    - ``'blend'``: a feathered (smoothstep) cross-fade over ``2*overlap`` pixels across the
      seam; soft, may ghost where the two halves differ.
    - ``'seam'``: a minimum-error boundary cut (dynamic programming, 8-connected paths)
      on each side of the seam inside the overlap band: the unrolled image is used between
      the two cuts, feathered over ~2 px; crisp, best on textures. The cut along the second
      axis is circular so the repaired tile still wraps.

    Drop-aware: for HALF_DROP the roll by half a width happens on the twisted torus (the part
    that wraps around the edge also moves down by ``offset*H``, :func:`drop_pixels`), so the
    repair makes the right edge continue the left edge *one drop lower*; the vertical axis
    is a plain wrap and is repaired first (a horizontal repair keeps vertical periodicity,
    not the other way round). HALF_BRICK is the same with rows and columns swapped. BLOCK,
    MIRROR and CENTRE get the block repair (a mirror repeat is seamless anyway).

    Args:
        img: HxW or HxWxC uint8 (C in 1, 3, 4), at least 4 x 4.
        method: ``'blend'`` or ``'seam'``.
        overlap: half-width of the repair band in pixels (default: ``min(H, W) // 4`` for
            blend, ``// 6`` for seam), clipped to half the image.
        layout: the repeat layout the tile is for (a ``TileLayout`` or its name).
        offset: drop / brick offset in (0, 1) for HALF_DROP / HALF_BRICK.
        recentre: roll the result back so the motif stays where it was (the repaired bands
            then lie along the tile edges); ``False`` leaves it offset by half a tile.

    Returns:
        Same shape and dtype as ``img``; ``seam_score(result, layout, offset)`` is near 1.

    Raises:
        ImageError: on a non-uint8 or too small image.
        ValueError: on an unknown method or layout, or an offset outside (0, 1).

    >>> ramp = np.linspace(0, 255, 64).astype(np.uint8)[None, :].repeat(64, 0)
    >>> seam_score(ramp) > 50, seam_score(make_seamless(ramp)) < 3
    (True, True)
    >>> drop = make_seamless(ramp.T, "seam", layout="half-drop", offset=1 / 3)
    >>> seam_score(ramp.T, "half-drop", 1 / 3) > 50, seam_score(drop, "half-drop", 1 / 3) < 3
    (True, True)
    """
    if method not in METHODS:
        raise ValueError(f"unknown seamless method {method!r}: use {' or '.join(METHODS)}")
    layout = TileLayout.parse(layout)
    was_2d = isinstance(img, np.ndarray) and img.ndim == 2
    f = _as_float(img)
    h, w = f.shape[:2]
    if overlap is None:
        overlap = min(h, w) // (4 if method == "blend" else 6)
    overlap = int(max(1, min(overlap, h // 2, w // 2)))
    if layout is TileLayout.HALF_BRICK:
        # a half-brick is a half-drop of the transposed tile
        g = _make_drop_seamless(f.transpose(1, 0, 2), method, overlap, offset, recentre)
        f = g.transpose(1, 0, 2)
    elif layout is TileLayout.HALF_DROP:
        f = _make_drop_seamless(f, method, overlap, offset, recentre)
    else:
        # axis 1 first (left/right seam), then axis 0 with a circular cut so the x wrap survives
        f = _repair_axis(f, 1, method, overlap, circular=False)
        f = _repair_axis(f, 0, method, overlap, circular=True)
        if recentre:
            f = np.roll(f, (-(h // 2), -(w // 2)), axis=(0, 1))
    out = np.clip(np.rint(f), 0, 255).astype(np.uint8)
    return out[:, :, 0] if was_2d else out


def _make_drop_seamless(
    f: np.ndarray, method: str, ov: int, offset: float, recentre: bool
) -> np.ndarray:
    """Half-drop repair of HxWxC float ``f``: plain vertical wrap, then the twisted horizontal one."""
    h, w = f.shape[:2]
    drop = drop_pixels(h, offset)
    f = _repair_axis(f, 0, method, ov, circular=False)
    f = _repair_axis(f, 1, method, ov, circular=True, drop=drop)
    if recentre:
        f = np.roll(twisted_roll(f, -(w // 2), drop), -(h // 2), axis=0)
    return f


def twisted_roll(f: np.ndarray, k: int, drop: int) -> np.ndarray:
    """Shift ``f`` right by ``k`` columns on the twisted torus ``(x + W, y + drop) ~ (x, y)``.

    Like ``np.roll(f, k, axis=1)``, but columns that wrap around an edge come back moved by
    ``drop`` rows (up when wrapping from the right edge to the left, down the other way), so
    a tile continuous across a half-drop seam stays continuous. ``drop=0`` is ``np.roll``.

    Args:
        f: HxW or HxWxC array (any dtype).
        k: columns to shift by, ``-W < k < W``.
        drop: rows the next column of copies is lowered by (see :func:`drop_pixels`).

    Returns:
        An array like ``f``.

    >>> t = np.arange(6).reshape(2, 3)
    >>> twisted_roll(t, 1, 1)
    array([[5, 0, 1],
           [2, 3, 4]])
    """
    w = f.shape[1]
    k = int(k)
    if not -w < k < w:
        raise ValueError(f"shift {k} must lie within the tile width {w}")
    out = np.empty_like(f)
    if k >= 0:
        out[:, k:] = f[:, :w - k]
        out[:, :k] = np.roll(f[:, w - k:], -drop, axis=0)
    else:
        m = -k
        out[:, :w - m] = f[:, m:]
        out[:, w - m:] = np.roll(f[:, :m], drop, axis=0)
    return out


def _repair_axis(
    f: np.ndarray, axis: int, method: str, ov: int, circular: bool, drop: int = 0
) -> np.ndarray:
    """Roll ``f`` by half along ``axis`` (on the twisted torus when ``drop``; axis 1 only) and
    repair the seam now in the middle."""
    if axis == 0:
        if drop:
            raise ValueError("a drop applies to the horizontal axis only; transpose for a brick")
        return _repair_axis(f.transpose(1, 0, 2), 1, method, ov, circular).transpose(1, 0, 2)
    w = f.shape[1]
    c = w // 2
    rolled = twisted_roll(f, c, drop)  # rolled[:, c] == f[:, 0]: the seam is between c-1 and c
    lo, hi = c - ov, c + ov
    if method == "blend":
        dist = np.abs(np.arange(lo, hi) + 0.5 - c) / ov
        t = np.clip(1.0 - dist, 0.0, 1.0)
        weight = (t * t * (3.0 - 2.0 * t))[None, :, None]  # smoothstep: 1 at the seam
        band = weight * f[:, lo:hi] + (1.0 - weight) * rolled[:, lo:hi]
    else:
        err = ((rolled[:, lo:hi] - f[:, lo:hi]) ** 2).sum(axis=2)
        left = _min_path(err[:, :ov], circular)  # first column taken from f
        right = _min_path(err[:, ov:], circular) + ov  # last column taken from f
        cols = np.arange(2 * ov)[None, :]
        use_f = (cols >= left[:, None]) & (cols <= right[:, None])
        weight = _feather(use_f.astype(np.float32))[:, :, None]
        band = weight * f[:, lo:hi] + (1.0 - weight) * rolled[:, lo:hi]
    out = rolled.copy()
    out[:, lo:hi] = band
    return out


def _feather(mask: np.ndarray) -> np.ndarray:
    """Soften a 0/1 band mask across the band only (a 5-tap binomial per row), outward
    only: where the mask is 1 (including both seam columns) it stays 1."""
    padded = np.pad(mask, ((0, 0), (2, 2)), mode="edge")
    kernel = np.array([1, 4, 6, 4, 1], dtype=np.float32) / 16.0
    out = sum(k * padded[:, i:i + mask.shape[1]] for i, k in enumerate(kernel))
    return np.maximum(np.asarray(out, dtype=np.float32), mask)


def _min_path(cost: np.ndarray, circular: bool) -> np.ndarray:
    """Cheapest top-to-bottom 8-connected path through ``cost`` (L x B): one column per row.

    With ``circular`` the last row's column is within one of the first row's, so the path
    joins up when the image wraps vertically (tried for every start column at once).
    """
    n_rows, width = cost.shape
    starts = np.arange(width) if circular else np.array([0])
    acc = np.full((len(starts), width), np.inf)
    if circular:
        acc[starts, starts] = cost[0, starts]
    else:
        acc[0] = cost[0]
    back = np.zeros((n_rows, len(starts), width), dtype=np.int8)
    for i in range(1, n_rows):
        left = np.concatenate([np.full((len(starts), 1), np.inf), acc[:, :-1]], axis=1)
        right = np.concatenate([acc[:, 1:], np.full((len(starts), 1), np.inf)], axis=1)
        stack = np.stack([left, acc, right])  # moves -1, 0, +1 in column
        choice = np.argmin(stack, axis=0)
        back[i] = choice.astype(np.int8) - 1
        acc = np.take_along_axis(stack, choice[None], axis=0)[0] + cost[i]
    if circular:
        cols = np.arange(width)
        acc = np.where(np.abs(cols[None, :] - starts[:, None]) <= 1, acc, np.inf)
    s, j = np.unravel_index(int(np.argmin(acc)), acc.shape)
    path = np.empty(n_rows, dtype=np.int64)
    path[-1] = j
    for i in range(n_rows - 1, 0, -1):
        j = j + int(back[i, s, j])
        path[i - 1] = j
    return path
