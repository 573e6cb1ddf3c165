"""Seamless tiles in image space: measure the wrap seam and remove it.

:func:`seam_score` compares the jump across the wrap edges with the image's own
neighbour-to-neighbour differences; :func:`make_seamless` removes the seam by offsetting the
image by half a tile (so the wrap edges meet in a cross in the middle and the new edges are
interior content) and then either blending the cross with the unshifted image or cutting a
minimum-error boundary through it (Efros & Freeman, "Image Quilting", 2001).

Tileable *rendering* (circular padding in the generator) is done by the network; this module
works on finished HWC uint8 images.
"""

from __future__ import annotations

import logging

import numpy as np

from batikstudio.errors import ImageError

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


def seam_score(img: np.ndarray) -> float:
    """How visible the wrap seam is, relative to the image's own texture.

    ``wrap`` is the mean absolute difference (over pixels and channels) between the last and
    first column and between the last and first row, i.e. across the edges where copies
    meet; ``interior`` is the image's own mean absolute neighbouring-pixel difference, the
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

    Returns:
        A non-negative float.

    >>> x = np.arange(32)
    >>> wave = (127 + 100 * np.sin(2 * np.pi * x / 32)).astype(np.uint8)
    >>> 0.9 < seam_score(np.tile(wave, (32, 1))) < 1.2
    True
    """
    f = _as_float(img)
    # steps next to the edges: columns 0-1-2 and w-3..w-1, rows likewise
    dx = np.abs(np.diff(np.concatenate([f[:, :3], f[:, -3:]], axis=1), axis=1))
    dy = np.abs(np.diff(np.concatenate([f[:3], f[-3:]], axis=0), axis=0))
    dx, dy = np.delete(dx, 2, axis=1), np.delete(dy, 2, axis=0)  # drop the wrap step itself
    local = (dx.sum() + dy.sum()) / (dx.size + dy.size)
    gx, gy = np.abs(np.diff(f, axis=1)), np.abs(np.diff(f, axis=0))
    overall = (gx.sum() + gy.sum()) / (gx.size + gy.size)
    interior = max(local, overall)
    wx = np.abs(f[:, 0] - f[:, -1])
    wy = np.abs(f[0] - f[-1])
    wrap = (wx.sum() + wy.sum()) / (wx.size + wy.size)
    return float((wrap + _EPS) / (interior + _EPS))


def make_seamless(
    img: np.ndarray, method: str = "blend", overlap: int | None = None, recentre: bool = True
) -> np.ndarray:
    """Make an image tile without a visible seam; the size is kept.

    Each axis in turn: roll the image by half so its wrap edges meet in the middle, then
    repair the middle using the unrolled image, which is continuous there.

    - ``'blend'``: a feathered (smoothstep) cross-fade over ``2*overlap`` pixels across the
      seam; soft, may ghost where the two halves differ.
    - ``'seam'``: a minimum-error boundary cut (dynamic programming, 8-connected paths)
      on each side of the seam inside the overlap band: the unrolled image is used between
      the two cuts, feathered over ~2 px; crisp, best on textures. The cut along the second axis is circular so
      the repaired tile still wraps.

    Args:
        img: HxW or HxWxC uint8 (C in 1, 3, 4), at least 4 x 4.
        method: ``'blend'`` or ``'seam'``.
        overlap: half-width of the repair band in pixels (default: ``min(H, W) // 4`` for
            blend, ``// 6`` for seam), clipped to half the image.
        recentre: roll the result back so the motif stays where it was (the repaired bands
            then lie along the tile edges); ``False`` leaves it offset by half a tile.

    Returns:
        Same shape and dtype as ``img``; ``seam_score`` of the result is near 1.

    Raises:
        ImageError: on a non-uint8 or too small image.
        ValueError: on an unknown method.

    >>> rng = np.random.default_rng(0)
    >>> ramp = np.linspace(0, 255, 64).astype(np.uint8)[None, :].repeat(64, 0)
    >>> seam_score(ramp) > 50, seam_score(make_seamless(ramp)) < 3
    (True, True)
    """
    if method not in METHODS:
        raise ValueError(f"unknown seamless method {method!r}: use {' or '.join(METHODS)}")
    was_2d = isinstance(img, np.ndarray) and img.ndim == 2
    f = _as_float(img)
    h, w = f.shape[:2]
    if overlap is None:
        overlap = min(h, w) // (4 if method == "blend" else 6)
    overlap = int(max(1, min(overlap, h // 2, w // 2)))
    # axis 1 first (left/right seam), then axis 0 with a circular cut so the x wrap survives
    f = _repair_axis(f, 1, method, overlap, circular=False)
    f = _repair_axis(f, 0, method, overlap, circular=True)
    if recentre:
        f = np.roll(f, (-(h // 2), -(w // 2)), axis=(0, 1))
    out = np.clip(np.rint(f), 0, 255).astype(np.uint8)
    return out[:, :, 0] if was_2d else out


def _repair_axis(f: np.ndarray, axis: int, method: str, ov: int, circular: bool) -> np.ndarray:
    """Roll ``f`` by half along ``axis`` and repair the seam now in the middle."""
    if axis == 0:
        return _repair_axis(f.transpose(1, 0, 2), 1, method, ov, circular).transpose(1, 0, 2)
    w = f.shape[1]
    c = w // 2
    rolled = np.roll(f, c, axis=1)  # rolled[:, c] == f[:, 0]: the seam is between c-1 and c
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
