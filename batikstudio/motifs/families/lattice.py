"""Square-lattice families: kawung, ceplok / grompol, truntum and nitik.

``spec.scale`` cells per tile side; every ornament sits at a lattice node or cell centre and
is drawn with wrap, so the lattice divides the tile and the motif is seamless.
"""

from __future__ import annotations

import math

import numpy as np

from batikstudio.motifs.canvas import Canvas, ellipse, petal, rhombus, star
from batikstudio.motifs.colours import ACCENT, DARK, GROUND, LIGHT, MAIN, MID
from batikstudio.motifs.spec import MotifSpec


def _nodes(n: int, offset: float = 0.0) -> list[tuple[float, float]]:
    """Lattice points ``((i + offset) / n, (j + offset) / n)``."""
    return [((i + offset) / n, (j + offset) / n) for j in range(n) for i in range(n)]


# -- kawung ---------------------------------------------------------------------------------

def draw_kawung(cv: Canvas, spec: MotifSpec, rng: np.random.Generator) -> None:
    """Kawung: four ovals around every lattice node, major axes on the diagonals (p4m).

    Variant 0 filled ovals with an inner outline and two seeds; 1 light ovals with a thick
    outline and a rhombus core; 2 filled ovals with a light inner oval.
    """
    c = 1.0 / spec.scale
    a = c * rng.uniform(0.33, 0.345)
    b = c * rng.uniform(0.17, 0.2)
    lw = spec.line
    for (x, y) in _nodes(spec.scale):
        for q in range(4):
            th = math.pi / 4 + q * math.pi / 2
            ox, oy = x + 0.354 * c * math.cos(th), y + 0.354 * c * math.sin(th)
            shape = ellipse(ox, oy, a, b, th)
            if spec.variant == 1:
                cv.outlined(shape, LIGHT, MAIN, lw * 2.2)
                cv.outlined(rhombus(ox, oy, 0.45 * a, 0.35 * b, th), MAIN, DARK, lw * 0.7)
            else:
                cv.outlined(shape, MAIN, DARK, lw * 1.2)
                inner = ellipse(ox, oy, 0.72 * a, 0.6 * b, th)
                if spec.variant == 2:
                    cv.poly(inner, LIGHT)
                else:
                    cv.line(inner, LIGHT, lw * 0.8, closed=True)
                for s in (-0.3, 0.3):
                    cv.disc(ox + s * a * math.cos(th), oy + s * a * math.sin(th), 0.07 * b * 2, DARK)
        cv.disc(x, y, 0.07 * c, DARK)
        cv.poly(star(x + 0.5 * c, y + 0.5 * c, 0.1 * c, 0.03 * c, 4, 0.0), DARK)


# -- ceplok / grompol -----------------------------------------------------------------------

def _rosette(cv: Canvas, x: float, y: float, c: float, k: int, lw: float, rng_vals: tuple) -> None:
    width_f, inner_f, dots = rng_vals
    r_out = 0.46 * c
    for p in range(k):
        th = p * 2 * math.pi / k
        cv.outlined(petal(x, y, 0.06 * c, r_out - 0.06 * c, width_f * c * 4 / k, th), MAIN, DARK, lw)
    for p in range(k):
        th = (p + 0.5) * 2 * math.pi / k
        cv.outlined(petal(x, y, 0.05 * c, inner_f * r_out, 0.55 * width_f * c * 4 / k, th),
                    LIGHT, DARK, lw * 0.8)
    cv.disc(x, y, 0.12 * c, DARK)
    cv.ring(x, y, 0.08 * c, LIGHT, lw * 0.8)
    if dots:
        ang = (np.arange(k) + 0.5) * 2 * math.pi / k
        cv.dots(np.stack([x + 0.42 * c * np.cos(ang), y + 0.42 * c * np.sin(ang)], 1), 0.025 * c, DARK)


def _grompol(cv: Canvas, x: float, y: float, c: float, lw: float) -> None:
    for p in range(4):
        th = p * math.pi / 2
        cv.outlined(ellipse(x + 0.2 * c * math.cos(th), y + 0.2 * c * math.sin(th),
                            0.17 * c, 0.12 * c, th), MAIN, DARK, lw)
    cv.disc(x, y, 0.08 * c, DARK)
    for p in range(8):
        th = math.pi / 8 + p * math.pi / 4
        cx, cy = x + 0.4 * c * math.cos(th), y + 0.4 * c * math.sin(th)
        n = 3 if p % 2 else 5
        for d in range(n):
            ph = d * 2 * math.pi / n
            cv.disc(cx + 0.035 * c * math.cos(ph), cy + 0.035 * c * math.sin(ph), 0.02 * c, MAIN)


def _star_unit(cv: Canvas, x: float, y: float, c: float, lw: float) -> None:
    cv.outlined(star(x, y, 0.47 * c, 0.25 * c, 8, math.pi / 8), MAIN, DARK, lw)
    cv.outlined(ellipse(x, y, 0.2 * c, 0.2 * c), LIGHT, DARK, lw)
    cv.poly(star(x, y, 0.17 * c, 0.07 * c, 4, 0.0), DARK)


def draw_ceplok(cv: Canvas, spec: MotifSpec, rng: np.random.Generator) -> None:
    """Ceplok: a 4- or 8-fold rosette per cell, a small ornament at every lattice node.

    Variant 0 petal rosette, 1 grompol (4-petal flower, dot clusters in an 8-point star),
    2 eight-point star with a disc; optional lattice bands join the nodes.
    """
    n = spec.scale
    c = 1.0 / n
    lw = spec.line
    k = int(rng.choice([4, 8]))
    vals = (rng.uniform(0.14, 0.2), rng.uniform(0.55, 0.8), bool(rng.random() < 0.6))
    node_kind = int(rng.integers(3))
    grid = rng.random() < 0.5
    if grid:
        for (x, y) in _nodes(n):
            for dx, dy in ((1, 1), (1, -1)):
                cv.line(np.array([[x, y], [x + dx * c, y + dy * c]]), MID, lw * 2.5)
    for (x, y) in _nodes(n, 0.5):
        if spec.variant == 1:
            _grompol(cv, x, y, c, lw)
        elif spec.variant == 2:
            _star_unit(cv, x, y, c, lw)
        else:
            _rosette(cv, x, y, c, k, lw, vals)
    for (x, y) in _nodes(n):
        if node_kind == 0:
            cv.outlined(star(x, y, 0.16 * c, 0.05 * c, 4, math.pi / 4), ACCENT, DARK, lw * 0.7)
        elif node_kind == 1:
            cv.outlined(rhombus(x, y, 0.09 * c, 0.09 * c), MAIN, DARK, lw * 0.7)
        else:
            cv.disc(x, y, 0.06 * c, DARK)
            cv.ring(x, y, 0.11 * c, MAIN, lw)


# -- truntum --------------------------------------------------------------------------------

def draw_truntum(cv: Canvas, spec: MotifSpec, rng: np.random.Generator) -> None:
    """Truntum: small eight-point star flowers on a half-drop grid, cream on a dark ground."""
    n = spec.scale * 2  # half-drop needs an even column count
    c = 1.0 / n
    cv.labels[:] = DARK if spec.variant == 0 else MAIN
    r = c * rng.uniform(0.28, 0.34)
    lw = spec.line
    flower, inner = GROUND, (LIGHT if spec.variant == 0 else DARK)
    for i in range(n):
        for j in range(n):
            x, y = (i + 0.5) * c, (j + 0.5 + 0.5 * (i % 2)) * c
            for p in range(8):
                th = p * math.pi / 4
                cv.poly(petal(x, y, 0.18 * r, 0.82 * r, 0.36 * r, th, bulge=0.6), flower)
            cv.disc(x, y, 0.26 * r, inner)
            cv.disc(x, y, 0.12 * r, flower)
            # a tiny four-point star and dots halfway between flowers
            sx, sy = x + 0.5 * c, y + 0.25 * c
            cv.poly(star(sx, sy, 0.18 * r, 0.06 * r, 4, 0.0), flower)
            cv.disc(x, y + 0.5 * c, 0.06 * r + lw * 0.3, flower)


# -- nitik ----------------------------------------------------------------------------------

def _nitik_mask(m: int, rng: np.random.Generator) -> np.ndarray:
    """A p4m-symmetric ``(m, m)`` boolean design: rings, petals, diagonals, frame."""
    t = (np.arange(m) + 0.5) / m * 2 - 1
    x, y = np.meshgrid(t, t)
    r = np.hypot(x, y)
    th = np.arctan2(y, x)
    step = 2.0 / m
    mask = np.zeros((m, m), bool)
    k = int(rng.choice([4, 8]))
    petal_r = 0.3 + 0.5 * np.abs(np.cos(k / 2 * th))
    mask |= np.abs(r - rng.uniform(0.45, 0.8) * petal_r) < step * 0.55
    mask |= r < rng.uniform(0.12, 0.25)
    if rng.random() < 0.7:
        mask |= np.abs(np.abs(x) - np.abs(y)) < step * 0.6
    if rng.random() < 0.6:
        mask |= np.abs(np.maximum(np.abs(x), np.abs(y)) - (1 - step / 2)) < step * 0.4
    if rng.random() < 0.5:
        mask |= np.abs(r - rng.uniform(0.85, 1.0)) < step * 0.5
    return mask


def draw_nitik(cv: Canvas, spec: MotifSpec, rng: np.random.Generator) -> None:
    """Nitik: a design made of small square dots on a cell grid, light on a dark ground.

    ``spec.scale`` repeats of an ``m x m`` dot design per tile (m = 10..16 cells).
    """
    reps = spec.scale
    m = int(rng.choice([10, 12, 14, 16])) if reps == 1 else int(rng.choice([8, 10, 12]))
    n = reps * m
    cell = 1.0 / n
    cv.labels[:] = DARK if spec.variant == 0 else MAIN
    mask = np.tile(_nitik_mask(m, rng), (reps, reps))
    second = np.tile(_nitik_mask(m, rng), (reps, reps)) & ~mask
    j, i = np.nonzero(mask)
    size = rng.uniform(0.28, 0.36) * cell
    sq = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64) * size
    centres = np.stack([(i + 0.5) * cell, (j + 0.5) * cell], 1)
    cv.polys(centres[:, None, :] + sq[None], GROUND)
    j2, i2 = np.nonzero(second)
    centres2 = np.stack([(i2 + 0.5) * cell, (j2 + 0.5) * cell], 1)
    cv.polys(centres2[:, None, :] + 0.75 * sq[None], LIGHT if spec.variant == 0 else ACCENT)
