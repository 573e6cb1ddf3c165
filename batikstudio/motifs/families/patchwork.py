"""Composite families: tambal (patchwork of squares and triangles) and sekar jagad (islands).

Both cut the tile into regions and fill each region with another family, drawn small on its
own full-tile layer (so each layer is seamless) and alternately inverted (dark/light).
"""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np

from batikstudio.motifs.canvas import Canvas
from batikstudio.motifs.colours import DARK, GROUND, LIGHT, MAIN
from batikstudio.motifs.families.diagonal import draw_lereng, draw_parang
from batikstudio.motifs.families.lattice import draw_ceplok, draw_kawung, draw_nitik, draw_truntum
from batikstudio.motifs.fills import apply_fill
from batikstudio.motifs.spec import DrawFn, MotifSpec

# sub-family -> (draw, scale on one sub-tile, variants); sub-tiles repeat 2 x 2 per tile
_SUB: dict[str, tuple[DrawFn | None, int, int]] = {
    "kawung": (draw_kawung, 2, 3),
    "ceplok": (draw_ceplok, 2, 3),
    "parang": (draw_parang, 2, 3),
    "lereng": (draw_lereng, 2, 2),
    "truntum": (draw_truntum, 2, 2),
    "nitik": (draw_nitik, 1, 2),
    "cecek": (None, 0, 1),
    "sisik": (None, 0, 1),
}

_INVERT = np.arange(256, dtype=np.uint8)
_INVERT[[GROUND, DARK, LIGHT, MAIN]] = [DARK, GROUND, MAIN, LIGHT]


def _layer(cv: Canvas, name: str, dark: bool, spec: MotifSpec,
           rng: np.random.Generator) -> np.ndarray:
    """One full-tile label layer of a small family (or an isen on a plain ground)."""
    draw, scale, variants = _SUB[name]
    reps = 2 if cv.W % 2 == 0 else 1
    sub_cv = cv.sub_tile(reps, GROUND)
    if draw is None:
        sub_cv.labels[:] = MAIN if dark else GROUND
        apply_fill(sub_cv, name, int(sub_cv.labels[0, 0]), LIGHT if dark else MAIN, 10,
                   spec.line * reps * 0.8)
    else:
        sub = dataclasses.replace(spec, family=name, scale=scale * (3 - reps),
                                  variant=int(rng.integers(variants)),
                                  line=spec.line * reps * 0.8)
        draw(sub_cv, sub, rng)
    return cv.tiled(sub_cv)


def _layers(cv: Canvas, spec: MotifSpec, rng: np.random.Generator, k: int) -> np.ndarray:
    """``(2k, W, W)`` label layers: ``k`` small families or isen, then their inversions."""
    names = [list(_SUB)[i] for i in rng.permutation(len(_SUB))[:k]]
    out = [_layer(cv, name, i % 2 == 1, spec, rng) for i, name in enumerate(names)]
    return np.stack(out + [_INVERT[o] for o in out])


def _compose(cv: Canvas, layers: np.ndarray, source: np.ndarray) -> None:
    """``cv.labels = layers[source[y, x], y, x]`` (``source``: ``(W, W)`` layer index)."""
    cv.labels[:] = np.take_along_axis(layers, source[None].astype(np.intp), axis=0)[0]


def draw_tambal(cv: Canvas, spec: MotifSpec, rng: np.random.Generator) -> None:
    """Tambal: an ``n x n`` patchwork; each square whole or cut into two triangles, each patch
    filled from another family, neighbours alternating dark and light."""
    n = spec.scale
    layers = _layers(cv, spec, rng, 4)
    region = Canvas(cv.res, ground=0, size=cv.W)
    patches = []
    for j in range(n):
        for i in range(n):
            x0, y0, s = i / n, j / n, 1.0 / n
            sq = np.array([[x0, y0], [x0 + s, y0], [x0 + s, y0 + s], [x0, y0 + s]])
            if rng.random() < 0.5:
                patches.append(sq)
            else:
                cut = (0, 2) if rng.random() < 0.5 else (1, 3)
                a, b = sq[cut[0]], sq[cut[1]]
                others = [p for q, p in enumerate(sq) if q not in cut]
                patches.append(np.array([a, others[0], b]))
                patches.append(np.array([a, b, others[1]]))
    for p, poly in enumerate(patches):
        region.poly(poly, p + 1)
    k = len(layers) // 2
    pick = np.zeros(256, np.uint8)
    for p in range(len(patches)):
        pick[p + 1] = int(rng.integers(k)) + (k if p % 2 else 0)
    _compose(cv, layers, pick[region.labels])
    for poly in patches:
        cv.line(poly, DARK, spec.line * 1.6, closed=True)


def _warp(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, amp: float) -> tuple:
    """Smooth periodic displacement: sums of sines with integer frequencies (tileable)."""
    dx = np.zeros_like(x)
    dy = np.zeros_like(y)
    for _ in range(4):
        fx, fy = rng.integers(-3, 4, 2)
        if fx == 0 and fy == 0:
            fx = 1
        ph = rng.uniform(0, 2 * math.pi, 2)
        a = np.float32(amp * rng.uniform(0.5, 1.0) / math.hypot(fx, fy))
        arg = np.float32(2 * math.pi) * (fx * x + fy * y)
        dx += a * np.sin(arg + ph[0])
        dy += a * np.cos(arg + ph[1])
    return x + dx, y + dy


def island_map(size: int, n_islands: int, rng: np.random.Generator) -> np.ndarray:
    """Noisy Voronoi islands on the torus: ``(size, size)`` int32 island index per pixel."""
    t = ((np.arange(size) + 0.5) / size).astype(np.float32)
    x, y = np.meshgrid(t, t)
    wx, wy = _warp(x, y, rng, 0.06)
    pts = rng.random((n_islands, 2)).astype(np.float32)
    best = np.full(x.shape, np.inf)
    idx = np.zeros(x.shape, np.int32)
    for k, (px, py) in enumerate(pts):
        ddx = (wx - px + 0.5) % 1.0 - 0.5
        ddy = (wy - py + 0.5) % 1.0 - 0.5
        d = ddx * ddx + ddy * ddy
        closer = d < best
        best[closer] = d[closer]
        idx[closer] = k
    return idx


def island_outlines(isl: np.ndarray, dark: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The outlines of an island map on the torus, 2 px wide: ``(outline, hidden)`` bool masks.

    ``isl``: island index per pixel; ``dark``: per pixel, whether its island has a dark ground.
    ``hidden`` is the part of ``outline`` that runs only between dark-ground islands, where an
    outline in the darkest dye would vanish into the grounds on both sides.
    """
    shown = np.zeros(isl.shape, bool)
    hidden = np.zeros(isl.shape, bool)
    for axis in (0, 1):
        edge = isl != np.roll(isl, 1, axis=axis)
        both_dark = dark & np.roll(dark, 1, axis=axis)
        shown |= edge & ~both_dark
        hidden |= edge & both_dark

    def thicken(m: np.ndarray) -> np.ndarray:
        return m | np.roll(m, 1, axis=0) | np.roll(m, 1, axis=1)

    shown, hidden = thicken(shown), thicken(hidden)
    return shown | hidden, hidden & ~shown


def draw_sekarjagad(cv: Canvas, spec: MotifSpec, rng: np.random.Generator) -> None:
    """Sekar jagad ("flowers of the world"): map-like noisy islands, each with another
    family, outlined in the darkest dye (from edition 2, in the ground colour where two
    dark-ground islands meet); ``spec.scale`` sets the island count."""
    n_isl = 4 + 3 * spec.scale
    layers = _layers(cv, spec, rng, 4)
    size = min(cv.W, int(cv.res))
    isl = island_map(size, n_isl, rng)
    k = len(layers) // 2
    pick = (rng.integers(0, k, n_isl) + k * (rng.random(n_isl) < 0.5)).astype(np.uint8)
    isl_w = cv2.resize(pick[isl], (cv.W, cv.W), interpolation=cv2.INTER_NEAREST)
    _compose(cv, layers, isl_w)
    edge, hidden = island_outlines(isl, pick[isl] >= k)
    colour = np.where(hidden, GROUND, DARK) if spec.edition >= 2 else np.full(isl.shape, DARK)
    outline = np.where(edge, colour, 255).astype(np.uint8)
    outline_w = cv2.resize(outline, (cv.W, cv.W), interpolation=cv2.INTER_NEAREST)
    drawn = outline_w != 255
    cv.labels[drawn] = outline_w[drawn]
