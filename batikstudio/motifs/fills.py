"""Isen-isen: the small fill patterns of batik (dots, scales, rays, lines, curls).

Each pattern is a lattice of ``k x k`` cells per tile (``k`` an integer, so the pattern is
periodic on the torus) drawn in one label. :func:`apply_fill` draws a pattern on a scratch
layer and keeps it only where the motif shows a given region label (usually the ground), which
is how isen fills the empty spaces between the main ornaments.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from batikstudio.motifs.canvas import Canvas, spiral

FillFn = Callable[[Canvas, int, int, float], None]


def _grid(k: int, stagger: bool = False) -> np.ndarray:
    """Cell centres ``(k*k, 2)`` in tile units; ``stagger`` shifts odd rows by half a cell."""
    if stagger and k % 2:
        k += 1
    j, i = np.mgrid[0:k, 0:k]
    x = (i + 0.5 + (0.5 * (j % 2) if stagger else 0.0)) / k
    y = (j + 0.5) / k
    return np.stack([x.ravel(), y.ravel()], axis=1)


def cecek(cv: Canvas, label: int, k: int, width: float) -> None:
    """Cecek: single dots on a staggered grid, radius about 0.15 cell."""
    cv.dots(_grid(k, stagger=True), max(0.15 / k, width * 0.6), label)


def cecek_pitu(cv: Canvas, label: int, k: int, width: float) -> None:
    """Cecek pitu: clusters of seven dots (a centre and a ring of six)."""
    kc = max(2, k // 2)
    centres = _grid(kc, stagger=True)
    ang = np.arange(6) * np.pi / 3
    ring = np.stack([np.cos(ang), np.sin(ang)], axis=1) * (0.26 / kc)
    pts = np.concatenate([centres] + [centres + o for o in ring])
    cv.dots(pts, max(0.07 / kc, width * 0.5), label)


def sisik(cv: Canvas, label: int, k: int, width: float) -> None:
    """Sisik: fish scales, rows of half-circle arcs, odd rows offset by half a scale."""
    kk = max(2, (k // 2) * 2)
    t = np.linspace(np.pi, 2 * np.pi, 13)
    half = np.stack([np.cos(t), np.sin(t)], axis=1) * (0.5 / kk)
    centres = _grid(kk, stagger=True) + (0.0, 0.25 / kk)
    cv.strokes(centres[:, None, :] + half[None], label, width)


def sawut(cv: Canvas, label: int, k: int, width: float) -> None:
    """Sawut: fans of five short rays per cell."""
    kc = max(2, k // 2)
    centres = _grid(kc, stagger=True)
    ang = -np.pi / 2 + np.linspace(-0.9, 0.9, 5)
    r0, r1 = 0.08 / kc, 0.42 / kc
    rays = [np.stack([centres + r0 * np.array([np.cos(a), np.sin(a)]),
                      centres + r1 * np.array([np.cos(a), np.sin(a)])], axis=1) for a in ang]
    cv.strokes(np.concatenate(rays), label, width * 0.8)


def galaran(cv: Canvas, label: int, k: int, width: float) -> None:
    """Galaran: parallel diagonal lines, ``k`` per tile (wrapping into one continuous set)."""
    kk = max(2, k // 2)
    c = np.arange(kk) / kk
    segs = np.stack([np.stack([c, np.zeros(kk)], 1), np.stack([c + 1.0, np.ones(kk)], 1)], axis=1)
    for part in np.linspace(0.0, 1.0, 5)[:-1]:
        # split each long line into quarters so every stroke stays smaller than the tile
        a = segs[:, 0] + (segs[:, 1] - segs[:, 0]) * part
        b = segs[:, 0] + (segs[:, 1] - segs[:, 0]) * (part + 0.25)
        cv.strokes(np.stack([a, b], axis=1), label, width * 0.8)


def ukel(cv: Canvas, label: int, k: int, width: float) -> None:
    """Ukel: small curls, alternating direction on a staggered grid."""
    kc = max(2, k // 2)
    centres = _grid(kc, stagger=True)
    curl_a = spiral(0.0, 0.0, 0.3 / kc, 1.3, 0.0, 1, 24)
    curl_b = spiral(0.0, 0.0, 0.3 / kc, 1.3, np.pi, -1, 24)
    shapes = [centres[i][None] + (curl_a if i % 2 else curl_b) for i in range(len(centres))]
    cv.strokes(np.stack(shapes), label, width * 0.8)


def cecek_sawut(cv: Canvas, label: int, k: int, width: float) -> None:
    """Cecek-sawut: short vertical strokes alternating with dots along rows."""
    kk = max(2, (k // 2) * 2)
    centres = _grid(kk)
    odd = (np.arange(len(centres)) % 2).astype(bool)
    dash = np.array([[0.0, -0.3], [0.0, 0.3]]) / kk
    cv.strokes(centres[odd][:, None, :] + dash[None], label, width * 0.8)
    cv.dots(centres[~odd], max(0.12 / kk, width * 0.6), label)


FILLS: dict[str, FillFn] = {
    "cecek": cecek,
    "cecek_pitu": cecek_pitu,
    "sisik": sisik,
    "sawut": sawut,
    "galaran": galaran,
    "ukel": ukel,
    "cecek_sawut": cecek_sawut,
}


def apply_fill(cv: Canvas, kind: str, region: int, ink: int, k: int, width: float) -> None:
    """Draw isen ``kind`` in label ``ink`` wherever ``cv`` currently shows label ``region``.

    Args:
        cv: the motif canvas, modified in place.
        kind: a key of :data:`FILLS`, or ``"none"``.
        region: only pixels with this label receive the fill.
        ink: label of the fill strokes.
        k: cells per tile (an integer keeps the fill seamless).
        width: stroke width in tile units.

    Raises:
        ValueError: for an unknown fill name.

    >>> c = Canvas(32); apply_fill(c, "cecek", 0, 4, 8, 0.01); bool((c.labels == 4).any())
    True
    """
    if kind == "none":
        return
    if kind not in FILLS:
        raise ValueError(f"unknown fill {kind!r}; known: none, {', '.join(FILLS)}")
    layer = Canvas(cv.res, ground=0, size=cv.W)
    FILLS[kind](layer, 1, int(k), width)
    cv.labels[(layer.labels == 1) & (cv.labels == region)] = ink
