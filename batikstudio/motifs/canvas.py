"""A label canvas on a torus: every primitive is also drawn at its wrapped copies.

Coordinates are in *tile units*: the tile is the unit square ``[0, 1)^2`` and a point
outside it is the same as its wrapped copy, so anything drawn here is seamlessly tileable by
construction. The canvas is a supersampled ``(W, W)`` uint8 array of role labels
(:mod:`batikstudio.motifs.colours`); :func:`finish` maps labels to colours and downsamples
with ``INTER_AREA``, which anti-aliases every edge and keeps the wrap seamless because the
area filter never mixes pixels across the tile border.

Geometry helpers (``ellipse``, ``star``, ``petal``, ``spiral``...) return ``(N, 2)`` float
arrays of unit coordinates that the canvas methods accept.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

_SHIFT = 4  # cv2 fixed-point bits: sub-pixel placement of every vertex
_ONE = 1 << _SHIFT


def supersampling(res: int) -> int:
    """Supersampling factor used for an output of ``res`` pixels (4 small, 3 mid, 2 large)."""
    if res <= 96:
        return 4
    if res <= 320:
        return 3
    return 2


class Canvas:
    """A ``(W, W)`` uint8 label image on a torus, drawn in tile units.

    Args:
        res: output resolution in pixels (the finished motif is ``res x res``).
        ground: label the canvas starts with.
        size: canvas width in supersampled pixels (default ``res * supersampling(res)``).
    """

    def __init__(self, res: float, ground: int = 0, size: int | None = None) -> None:
        self.res = res
        self.W = int(size) if size is not None else int(res) * supersampling(int(res))
        self.ss = self.W / self.res
        self.labels = np.full((self.W, self.W), ground, np.uint8)

    def sub_tile(self, reps: int, ground: int = 0) -> "Canvas":
        """A canvas for one of ``reps x reps`` repeats of this one (same pixel density).

        Draw a pattern on it in its own tile units, then :meth:`paste_tiled` it.

        Raises:
            ValueError: if ``reps`` does not divide the canvas width.
        """
        if self.W % reps:
            raise ValueError(f"{reps} repeats do not divide a {self.W} px canvas")
        return Canvas(self.res / reps, ground, size=self.W // reps)

    def tiled(self, sub: "Canvas") -> np.ndarray:
        """``sub``'s labels repeated to fill this canvas."""
        reps = self.W // sub.W
        return np.tile(sub.labels, (reps, reps))

    # -- sizes ---------------------------------------------------------------------------
    def width_px(self, width: float, min_px: float = 0.6) -> int:
        """A line width in tile units -> supersampled pixels, at least ``min_px`` output px."""
        return max(1, int(round(max(width * self.res, min_px) * self.ss)))

    # -- wrapped drawing -----------------------------------------------------------------
    def _copies(self, pts: np.ndarray, pad: float = 0.0) -> list[np.ndarray]:
        """Fixed-point int32 copies of ``pts`` (unit coords) that intersect the canvas."""
        W = self.W
        px = np.asarray(pts, np.float64).reshape(-1, 2) * W
        mn = px.min(axis=0)
        mx = px.max(axis=0)
        bx = math.floor((mn[0] - pad) / W) * W
        by = math.floor((mn[1] - pad) / W) * W
        fixed = np.round((px - (bx, by)) * _ONE).astype(np.int32)
        nx = int((mx[0] + pad - bx) // W)
        ny = int((mx[1] + pad - by) // W)
        if nx == 0 and ny == 0:
            return [fixed]
        # keep only copies that reach strictly inside the canvas: OpenCV clamps spans left of
        # the image onto column 0, so a copy that merely touches the border would paint it
        xs = [i for i in range(nx + 1) if mx[0] + pad - bx - i * W > 0]
        ys = [j for j in range(ny + 1) if mx[1] + pad - by - j * W > 0]
        step = W * _ONE
        return [fixed - np.array([i * step, j * step], np.int32) for i in xs for j in ys]

    def poly(self, pts: np.ndarray, label: int) -> None:
        """Fill a polygon (unit coords, ``(N, 2)``) with ``label``, wrapped."""
        for c in self._copies(pts):
            cv2.fillPoly(self.labels, [c], int(label), cv2.LINE_8, _SHIFT)

    def line(self, pts: np.ndarray, label: int, width: float, closed: bool = False) -> None:
        """Stroke a polyline of ``width`` tile units, wrapped."""
        t = self.width_px(width)
        for c in self._copies(pts, pad=t):
            cv2.polylines(self.labels, [c], closed, int(label), t, cv2.LINE_8, _SHIFT)

    def disc(self, cx: float, cy: float, r: float, label: int) -> None:
        """A filled disc of radius ``r`` (tile units), wrapped; at least one output pixel wide."""
        rp = max(r * self.W, 0.5 * self.ss)
        centre = np.array([[cx, cy]])
        for c in self._copies(centre, pad=rp + 1):
            cv2.circle(self.labels, tuple(int(v) for v in c[0]), int(round(rp * _ONE)),
                       int(label), -1, cv2.LINE_8, _SHIFT)

    def ring(self, cx: float, cy: float, r: float, label: int, width: float) -> None:
        """A circle outline of radius ``r`` and stroke ``width`` (tile units), wrapped."""
        t = self.width_px(width)
        centre = np.array([[cx, cy]])
        for c in self._copies(centre, pad=r * self.W + t):
            cv2.circle(self.labels, tuple(int(v) for v in c[0]), int(round(r * self.W * _ONE)),
                       int(label), t, cv2.LINE_8, _SHIFT)

    def outlined(self, pts: np.ndarray, fill: int, edge: int, width: float) -> None:
        """Fill a polygon with ``fill`` and stroke its outline with ``edge``."""
        self.poly(pts, fill)
        self.line(pts, edge, width, closed=True)

    # -- batches of small primitives (isen-isen: thousands of dots and strokes) ------------
    def _batch(self, arr: np.ndarray, pad: float) -> np.ndarray:
        """Fixed-point copies of ``(M, N, 2)`` small primitives that touch the canvas."""
        W = self.W
        px = np.asarray(arr, np.float64) * W
        lo = px.min(axis=1) - pad
        base = np.floor(lo / W) * W
        px = px - base[:, None, :]
        hi = px.max(axis=1) + pad
        mx, my = hi[:, 0] > W, hi[:, 1] > W
        parts = [px, px[mx] - (W, 0), px[my] - (0, W), px[mx & my] - (W, W)]
        return np.round(np.concatenate(parts) * _ONE).astype(np.int32)

    def dots(self, centres: np.ndarray, r: float, label: int) -> None:
        """Many filled discs of radius ``r`` at ``(M, 2)`` centres, wrapped."""
        if len(centres) == 0:
            return
        rp = max(r * self.W, 0.5 * self.ss)
        rr = int(round(rp * _ONE))
        for c in self._batch(np.asarray(centres).reshape(-1, 1, 2), rp + 1)[:, 0]:
            cv2.circle(self.labels, (int(c[0]), int(c[1])), rr, int(label), -1, cv2.LINE_8, _SHIFT)

    def strokes(self, arr: np.ndarray, label: int, width: float, closed: bool = False) -> None:
        """Many polylines ``(M, N, 2)`` of one ``width`` (tile units), wrapped, one cv2 call."""
        if len(arr) == 0:
            return
        t = self.width_px(width)
        copies = self._batch(arr, t)
        cv2.polylines(self.labels, list(copies), closed, int(label), t, cv2.LINE_8, _SHIFT)

    def polys(self, arr: np.ndarray, label: int) -> None:
        """Many filled polygons ``(M, N, 2)`` (each filled on its own, so overlaps stay filled)."""
        if len(arr) == 0:
            return
        for c in self._batch(arr, 0.0):
            cv2.fillPoly(self.labels, [c], int(label), cv2.LINE_8, _SHIFT)

    def paint_mask(self, mask: np.ndarray, label: int) -> None:
        """Set ``label`` wherever the boolean ``(W, W)`` mask is true."""
        self.labels[mask] = label


def finish(labels: np.ndarray, lut: np.ndarray, res: int) -> np.ndarray:
    """Map a label image through ``lut`` and area-downsample to ``res``.

    Args:
        labels: ``(W, W)`` uint8 role labels, ``W`` a multiple of ``res``.
        lut: ``(256, 3)`` uint8 colour per label.
        res: output size.

    Returns:
        ``(res, res, 3)`` uint8 RGB.

    >>> finish(np.zeros((8, 8), np.uint8), np.full((256, 3), 7, np.uint8), 4)[0, 0].tolist()
    [7, 7, 7]
    """
    lab3 = cv2.merge([labels, labels, labels])
    rgb = cv2.LUT(lab3, lut.reshape(1, 256, 3))
    if rgb.shape[0] != res:
        rgb = cv2.resize(rgb, (res, res), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb)


# -- geometry (unit coordinates, (N, 2) float arrays) -------------------------------------

def rot(pts: np.ndarray, theta: float, cx: float = 0.0, cy: float = 0.0) -> np.ndarray:
    """Rotate points by ``theta`` radians about the origin, then move them to ``(cx, cy)``."""
    c, s = math.cos(theta), math.sin(theta)
    p = np.asarray(pts, np.float64)
    return np.stack([p[:, 0] * c - p[:, 1] * s + cx, p[:, 0] * s + p[:, 1] * c + cy], axis=1)


def ellipse(cx: float, cy: float, a: float, b: float, theta: float = 0.0, n: int = 48) -> np.ndarray:
    """An ellipse with semi-axes ``a`` (along ``theta``) and ``b``."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return rot(np.stack([a * np.cos(t), b * np.sin(t)], axis=1), theta, cx, cy)


def star(cx: float, cy: float, r_out: float, r_in: float, k: int, theta: float = 0.0) -> np.ndarray:
    """A ``k``-pointed star polygon (``2k`` vertices), first tip at angle ``theta``."""
    ang = theta + np.arange(2 * k) * np.pi / k
    r = np.where(np.arange(2 * k) % 2 == 0, r_out, r_in)
    return np.stack([cx + r * np.cos(ang), cy + r * np.sin(ang)], axis=1)


def petal(cx: float, cy: float, r0: float, length: float, width: float, theta: float,
          n: int = 16, bulge: float = 0.8) -> np.ndarray:
    """A pointed leaf from radius ``r0`` to ``r0 + length`` along ``theta``, ``width`` wide.

    ``bulge`` < 1 makes it rounder near the base, > 1 thinner.
    """
    t = np.linspace(0.0, 1.0, n)
    half = 0.5 * width * np.sin(np.pi * t) ** bulge
    along = r0 + t * length
    side1 = np.stack([along, half], axis=1)
    side2 = np.stack([along[::-1], -half[::-1]], axis=1)
    return rot(np.concatenate([side1, side2[1:-1]]), theta, cx, cy)


def rhombus(cx: float, cy: float, rx: float, ry: float, theta: float = 0.0) -> np.ndarray:
    """A rhombus with half-diagonals ``rx`` (along ``theta``) and ``ry``."""
    return rot(np.array([[rx, 0.0], [0.0, ry], [-rx, 0.0], [0.0, -ry]]), theta, cx, cy)


def spiral(cx: float, cy: float, r_out: float, turns: float, theta: float = 0.0,
           direction: int = 1, n: int = 40) -> np.ndarray:
    """An open spiral polyline from radius ``r_out`` inwards (an ukel curl)."""
    t = np.linspace(0.0, 1.0, n)
    ang = theta + direction * 2 * np.pi * turns * t
    r = r_out * (1.0 - 0.85 * t)
    return np.stack([cx + r * np.cos(ang), cy + r * np.sin(ang)], axis=1)


def arc(cx: float, cy: float, r: float, a0: float, a1: float, n: int = 24) -> np.ndarray:
    """Points on a circular arc from angle ``a0`` to ``a1`` (radians)."""
    t = np.linspace(a0, a1, n)
    return np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], axis=1)
