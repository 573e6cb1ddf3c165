"""Diagonal band families: parang (S-blades + mlinjon) and lereng / udan liris (stripes).

Bands run along ``(1, 1)``. A point is written in band coordinates ``(u, v)``: ``u`` along the
band, ``v`` across it (``x - y = v * sqrt(2)``). A band line closes on the torus after
``u = sqrt(2)``, so along-band repeats use periods ``sqrt(2) / m`` (``m`` integer) and across-band
periods ``1 / (n sqrt(2))``: both divide the tile, so the pattern is seamless.
"""

from __future__ import annotations

import math

import numpy as np

from batikstudio.motifs.canvas import Canvas, rhombus, spiral
from batikstudio.motifs.colours import ACCENT, DARK, GROUND, LIGHT, MAIN, MID
from batikstudio.motifs.spec import MotifSpec

SQ2 = math.sqrt(2.0)
_D = np.array([1.0, 1.0]) / SQ2
_N = np.array([1.0, -1.0]) / SQ2


def uv(pts: np.ndarray) -> np.ndarray:
    """Band coordinates ``(..., 2)`` -> tile coordinates ``(..., 2)``."""
    p = np.asarray(pts, np.float64)
    return p[..., :1] * _D + p[..., 1:2] * _N


def band_rect(cv: Canvas, v0: float, v1: float, label: int) -> None:
    """Fill the whole band ``v0 <= v < v1`` (it wraps once around the torus)."""
    e = 0.02
    cv.poly(uv(np.array([[-e, v0], [SQ2 + e, v0], [SQ2 + e, v1], [-e, v1]])), label)


def band_line(cv: Canvas, v: float, label: int, width: float) -> None:
    """A line along the band at ``v``, drawn in four pieces (each smaller than the tile)."""
    us = np.linspace(0.0, SQ2, 5)
    segs = np.stack([np.stack([us[:-1], np.full(4, v)], 1), np.stack([us[1:], np.full(4, v)], 1)], 1)
    cv.strokes(uv(segs), label, width)


def _blade(u0: float, v0: float, v1: float, length: float, slant: float, amp: float,
           thick: float, n: int = 20) -> np.ndarray:
    """An S-shaped tapered blade across ``[v0, v1]`` centred at ``u0`` (band coordinates)."""
    t = np.linspace(0.0, 1.0, n)
    v = v0 + t * (v1 - v0)
    uc = u0 + slant * length * (t - 0.5) + amp * length * np.sin(2 * np.pi * t)
    h = 0.5 * thick * length * np.sin(np.pi * t) ** 0.6
    left = np.stack([uc - h, v], 1)
    right = np.stack([uc + h, v], 1)[::-1]
    return np.concatenate([left, right[1:-1]])


def draw_parang(cv: Canvas, spec: MotifSpec, rng: np.random.Generator) -> None:
    """Parang: diagonal bands of S-blades with a dark band of mlinjon rhombi between.

    ``spec.scale`` bands per tile; variant 0 plain blades, variant 1 blades with a curl
    (parang barong style), variant 2 blades with a light inner blade.
    """
    n = spec.scale
    w = 1.0 / (n * SQ2)
    m = max(3, int(round(2 * n / rng.uniform(0.55, 0.75))))
    L = SQ2 / m
    a = w * rng.uniform(0.68, 0.76)
    slant, amp = rng.uniform(0.6, 0.9), rng.uniform(0.12, 0.18)
    thick = rng.uniform(0.5, 0.62)
    lw = spec.line
    mlinjon_fill = LIGHT if rng.random() < 0.5 else GROUND
    for k in range(n):
        v0 = k * w
        band_rect(cv, v0 + a, v0 + w, DARK)
        e = 0.05 * a
        for j in range(m):
            u0 = j * L
            blade = _blade(u0, v0 + e, v0 + a - e, L, slant, amp, thick)
            cv.outlined(uv(blade), MAIN, DARK, lw)
            if spec.variant == 2:
                inner = _blade(u0, v0 + 2.5 * e, v0 + a - 2.5 * e, L, slant, amp, thick * 0.4)
                cv.poly(uv(inner), LIGHT)
            else:
                spine = _blade(u0, v0 + 3 * e, v0 + a - 3 * e, L, slant, amp, 0.0)[:19]
                cv.line(uv(spine), LIGHT, lw * 0.8)
            if spec.variant == 1:
                tip = _blade(u0, v0 + e, v0 + a - e, L, slant, amp, 0.0)[3]
                curl = spiral(tip[0] - 0.12 * L, tip[1] + 0.05 * a, 0.16 * L, 1.2, 0.0, 1, 24)
                cv.line(uv(curl), DARK, lw)
            rh = rhombus(u0 + 0.5 * L, v0 + 0.5 * (a + w), 0.3 * L, 0.36 * (w - a))
            cv.outlined(uv(rh), mlinjon_fill, MAIN, lw * 0.7)
        band_line(cv, v0 + a + 0.08 * (w - a), MAIN, lw * 0.7)
        band_line(cv, v0 + w - 0.08 * (w - a), MAIN, lw * 0.7)


# -- lereng / udan liris -----------------------------------------------------------------------

def _micro(cv: Canvas, kind: str, v0: float, v1: float, m: int, fg: int, lw: float) -> None:
    """One stripe's micro-motif, ``m`` repeats along the band, staying inside ``[v0, v1]``."""
    L = SQ2 / m
    h = v1 - v0
    u = np.arange(m) * L
    vm = 0.5 * (v0 + v1)
    if kind == "half_kawung":
        t = np.linspace(0, np.pi, 14)
        semi = np.stack([0.42 * L * np.cos(t), 0.85 * h * np.sin(t)], 1)
        cv.polys(uv(np.stack([semi + (x, v0) for x in u])), fg)
        cv.polys(uv(np.stack([semi * (1, -1) + (x + 0.5 * L, v1) for x in u])), fg)
    elif kind == "lattice":
        zig = np.array([[0.0, v0 + 0.1 * h], [0.5 * L, v1 - 0.1 * h], [L, v0 + 0.1 * h]])
        zag = zig * (1, 0) + (0, 1) * (v0 + v1 - zig[:, 1:2])
        cv.strokes(uv(np.concatenate([np.stack([zig + (x, 0) for x in u]),
                                      np.stack([zag + (x, 0) for x in u])])), fg, lw)
    elif kind == "sawut":
        ticks = np.arange(2 * m) * (L / 2)
        seg = np.array([[0.0, v0 + 0.18 * h], [0.0, v1 - 0.18 * h]])
        cv.strokes(uv(np.stack([seg + (x, 0) for x in ticks])), fg, lw)
    elif kind == "rhombi":
        cv.polys(uv(np.stack([rhombus(x, vm, 0.42 * L, 0.38 * h) for x in u])), fg)
    elif kind == "dots":
        cv.dots(uv(np.stack([u, np.full(m, vm)], 1)), 0.28 * min(h, L), fg)
        cv.dots(uv(np.stack([u + 0.5 * L, np.full(m, vm)], 1)), 0.12 * min(h, L), fg)
    elif kind == "zigzag":
        zig = np.array([[0.0, v0 + 0.2 * h], [0.5 * L, v1 - 0.2 * h], [L, v0 + 0.2 * h]])
        cv.strokes(uv(np.stack([zig + (x, 0) for x in u])), fg, lw * 1.6)
    elif kind == "blades":
        blades = [_blade(x, v0 + 0.08 * h, v1 - 0.08 * h, L, 0.7, 0.15, 0.5) for x in u]
        cv.polys(uv(np.stack(blades)), fg)
    else:  # "line": a plain colour band with one centre line
        band_line(cv, vm, fg, lw)


MICRO = ("half_kawung", "lattice", "sawut", "rhombi", "dots", "zigzag", "blades", "line")
_SCHEMES = ((GROUND, MAIN), (MAIN, GROUND), (LIGHT, DARK), (DARK, LIGHT), (GROUND, ACCENT),
            (MID, GROUND))


def draw_lereng(cv: Canvas, spec: MotifSpec, rng: np.random.Generator) -> None:
    """Lereng / udan liris: diagonal stripes of varied widths, each with a micro-motif.

    ``spec.scale`` repeats of the stripe sequence per tile; variant 0 udan liris (many narrow
    stripes), variant 1 lereng (fewer, wider stripes).
    """
    n = spec.scale
    total = 1.0 / (n * SQ2)
    ns = int(rng.integers(6, 10) if spec.variant == 0 else rng.integers(3, 6))
    widths = rng.uniform(0.5, 1.6, ns)
    widths = widths / widths.sum() * total
    kinds = [MICRO[i] for i in rng.permutation(len(MICRO))[:ns]] if ns <= len(MICRO) else \
        [MICRO[i] for i in rng.integers(0, len(MICRO), ns)]
    schemes = [_SCHEMES[i] for i in rng.integers(0, len(_SCHEMES), ns)]
    for rep in range(n):
        v = rep * total
        for s in range(ns):
            v1 = v + widths[s]
            bg, fg = schemes[s]
            m = max(2, int(round(SQ2 / (widths[s] * rng.uniform(1.2, 2.0)))))
            band_rect(cv, v, v1, bg)
            _micro(cv, kinds[s], v, v1, m, fg, spec.line)
            v = v1
        v = rep * total
        for s in range(ns):
            band_line(cv, v, DARK, spec.line)
            v += widths[s]
