"""Compartment and free-layout families: sido mukti (wajik diamonds) and mega mendung (clouds)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from batikstudio.motifs.canvas import Canvas, ellipse, petal, rhombus, spiral
from batikstudio.motifs.colours import ACCENT, BAND0, DARK, GROUND, LIGHT, MAIN, MID, N_BANDS
from batikstudio.motifs.spec import MotifSpec

# -- sido mukti ornaments: drawn at (x, y) inside a diamond of half-diagonal h -----------------


def _orn_rosette(cv: Canvas, x: float, y: float, h: float, ink: int, hi: int, lw: float) -> None:
    for p in range(8):
        cv.outlined(petal(x, y, 0.08 * h, 0.42 * h, 0.16 * h, p * math.pi / 4), ink, hi, lw * 0.6)
    cv.disc(x, y, 0.1 * h, hi)
    cv.disc(x, y, 0.05 * h, ink)


def _orn_butterfly(cv: Canvas, x: float, y: float, h: float, ink: int, hi: int, lw: float) -> None:
    for sx in (-1, 1):
        cv.outlined(ellipse(x + sx * 0.2 * h, y - 0.12 * h, 0.26 * h, 0.15 * h, sx * -0.6), ink, hi, lw * 0.6)
        cv.outlined(ellipse(x + sx * 0.15 * h, y + 0.17 * h, 0.16 * h, 0.1 * h, sx * 0.7), ink, hi, lw * 0.6)
        cv.disc(x + sx * 0.22 * h, y - 0.13 * h, 0.05 * h, hi)
        cv.line(np.array([[x, y - 0.2 * h], [x + sx * 0.12 * h, y - 0.42 * h]]), ink, lw * 0.7)
    cv.poly(ellipse(x, y, 0.3 * h, 0.045 * h, math.pi / 2), ink)


def _orn_wings(cv: Canvas, x: float, y: float, h: float, ink: int, hi: int, lw: float) -> None:
    """Sawat / lar: a pair of spread wings made of feathers, with a fan tail."""
    for sx in (-1, 1):
        for f in range(5):
            base_x = x + sx * 0.06 * h
            th = (math.pi + 0.25 + 0.22 * f) if sx < 0 else -(0.25 + 0.22 * f)
            cv.outlined(petal(base_x, y + 0.05 * h, 0.02 * h, (0.5 - 0.06 * f) * h, 0.11 * h, th),
                        ink, hi, lw * 0.5)
    for f in range(3):
        cv.outlined(petal(x, y + 0.08 * h, 0.0, 0.3 * h, 0.1 * h, math.pi / 2 + (f - 1) * 0.35),
                    ink, hi, lw * 0.5)
    cv.disc(x, y + 0.05 * h, 0.07 * h, hi)


def _orn_meru(cv: Canvas, x: float, y: float, h: float, ink: int, hi: int, lw: float) -> None:
    """Meru (the holy mountain) with a sprouting plant on top."""
    tri = np.array([[-0.42, 0.35], [0.0, -0.2], [0.42, 0.35]]) * h + (x, y)
    cv.outlined(tri, ink, hi, lw * 0.6)
    cv.poly(np.array([[-0.24, 0.3], [0.0, 0.0], [0.24, 0.3]]) * h + (x, y), hi)
    cv.line(np.array([[x, y - 0.2 * h], [x, y - 0.45 * h]]), ink, lw)
    for s in (-1, 1):
        cv.poly(petal(x, y - 0.3 * h, 0.0, 0.22 * h, 0.1 * h, -math.pi / 2 + s * 0.9), ink)
    cv.poly(petal(x, y - 0.42 * h, 0.0, 0.16 * h, 0.09 * h, -math.pi / 2), ink)


ORNAMENTS = (_orn_rosette, _orn_butterfly, _orn_wings, _orn_meru)


def draw_sidomukti(cv: Canvas, spec: MotifSpec, rng: np.random.Generator) -> None:
    """Sido mukti / sido luhur: wajik (diamond) compartments, grounds alternating light/dark,
    one ornament per compartment (rosette, butterfly, wings, meru), ukel curls as fill."""
    n = spec.scale
    h = 0.5 / n  # half-diagonal of a compartment
    lw = spec.line
    pick = rng.permutation(len(ORNAMENTS))[:2]
    dark_ground = DARK if spec.variant == 0 else MAIN
    classes = (
        (lambda a, b: ((a / n), (b + 0.5) / n), GROUND, MAIN, LIGHT, ORNAMENTS[pick[0]]),
        (lambda a, b: ((a + 0.5) / n, b / n), dark_ground, LIGHT, MID, ORNAMENTS[pick[1]]),
    )
    for where, ground, ink, hi, orn in classes:
        for a in range(n):
            for b in range(n):
                x, y = where(a, b)
                cv.poly(rhombus(x, y, h, h), ground)
                orn(cv, x, y, h, ink, ground if ground != GROUND else hi, lw)
                for q in range(4):
                    th = q * math.pi / 2
                    cx, cy = x + 0.72 * h * math.cos(th), y + 0.72 * h * math.sin(th)
                    cv.line(spiral(cx, cy, 0.09 * h, 1.2, th, 1, 20), ink, lw * 0.7)
    for a in range(n):
        for b in range(n):
            x, y = a / n, (b + 0.5) / n
            cv.line(rhombus(x, y, h, h), ACCENT if spec.variant else MID, lw * 2.2, closed=True)
            cv.dots(np.array([[x + h, y], [x, y + h]]), 0.12 * h, DARK)
            cv.dots(np.array([[x + h, y], [x, y + h]]), 0.06 * h, LIGHT)


# -- mega mendung ------------------------------------------------------------------------------

def _cloud_discs(cx: float, cy: float, w: float, rng: np.random.Generator) -> list[tuple]:
    """Discs (x, y, r) whose union is one lobed cloud about ``w`` wide, flat-ish bottom."""
    discs = []
    n_top = int(rng.integers(3, 6))
    r_mid = w * rng.uniform(0.2, 0.26)
    for i in range(n_top):
        t = i / (n_top - 1) * 2 - 1  # -1..1
        r = r_mid * (1.0 - 0.45 * abs(t))
        discs.append((cx + t * w * 0.36, cy - (1 - t * t) * r_mid * 0.55, r))
    n_bot = n_top - 1
    for i in range(n_bot):
        t = (i + 0.5) / n_bot * 2 - 1
        discs.append((cx + t * w * 0.36, cy + r_mid * 0.25, r_mid * 0.45))
    return discs


def _cloud(cv: Canvas, cx: float, cy: float, w: float, lw: float, rng: np.random.Generator) -> None:
    """One cloud: the union of lobe discs, banded by distance to its outline (dark outside,
    light inside), pasted onto the torus; spiral hooks at both ends."""
    discs = _cloud_discs(cx, cy, w, rng)
    step = 0.62 * max(d[2] for d in discs) / N_BANDS
    for side in (-1, 1):
        tail = spiral(cx + side * w * 0.5, cy + 0.1 * w, 0.11 * w, 1.1, math.pi / 2, -side, 30)
        cv.line(tail, BAND0, step * 2.2)
        cv.line(tail, BAND0 + 3, step * 0.8)
    W = cv.W
    x0 = math.floor((cx - 0.75 * w) * W)
    y0 = math.floor((cy - 0.6 * w) * W)
    size = min(int(math.ceil(1.5 * w * W)) + 2, W)  # never wider than the tile
    local = np.zeros((size, size), np.uint8)
    for (x, y, r) in discs:
        centre = (int(round((x * W - x0) * 16)), int(round((y * W - y0) * 16)))
        cv2.circle(local, centre, int(round(r * W * 16)), 1, -1, cv2.LINE_8, 4)
    dist = cv2.distanceTransform(local, cv2.DIST_L2, 5)
    band = np.minimum(dist / (step * W), N_BANDS - 1).astype(np.uint8) + BAND0
    ys = (y0 + np.arange(size)) % W
    xs = (x0 + np.arange(size)) % W
    patch = cv.labels[np.ix_(ys, xs)]
    cv.labels[np.ix_(ys, xs)] = np.where(local > 0, band, patch)
    for (x, y, r) in discs[: len(discs) // 2 + 1]:
        cv.line(spiral(x, y, 0.3 * r, 1.0, rng.uniform(0, 6.28), 1, 20), BAND0 + 2, lw * 0.7)


def draw_megamendung(cv: Canvas, spec: MotifSpec, rng: np.random.Generator) -> None:
    """Mega mendung: horizontal lobed clouds with spiral hooks, seven nested bands dark to
    light, on a plain ground; ``spec.scale`` rows of clouds, alternate rows half-dropped."""
    rows = spec.scale
    if spec.variant == 1:
        cv.labels[:] = LIGHT
    per_row = int(rng.integers(1, 3))
    w = rng.uniform(0.58, 0.66) if per_row == 1 else rng.uniform(0.4, 0.46)
    jitter = rng.uniform(-0.08, 0.08, (rows, per_row, 2)) / rows
    for r in range(rows):
        for c in range(per_row):
            cx = (c + 0.5 * (r % 2) + 0.25) / per_row + jitter[r, c, 0]
            cy = (r + 0.5) / rows + jitter[r, c, 1]
            _cloud(cv, cx, cy, w, spec.line, rng)
    if spec.variant == 1:
        return
    # small rain dots (a common filler between clouds)
    pts = rng.random((int(30 * rows), 2))
    keep = cv.labels[(pts[:, 1] * cv.W).astype(int) % cv.W, (pts[:, 0] * cv.W).astype(int) % cv.W] == GROUND
    cv.dots(pts[keep], 0.006, BAND0 + 4)
