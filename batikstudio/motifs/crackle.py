"""Wax crackle (remukan): thin veins where dye seeped through cracks in the wax.

Cracks are jagged random walks with occasional branches, drawn 1-2 output pixels wide on the
torus (so they wrap), and kept only over the light, wax-protected areas, in the darkest dye.
"""

from __future__ import annotations

import numpy as np

from batikstudio.motifs.canvas import Canvas
from batikstudio.motifs.colours import N_ROLES


def _walk(rng: np.random.Generator, start: np.ndarray, angle: float, steps: int,
          step: float) -> np.ndarray:
    turns = np.cumsum(rng.normal(0.0, 0.3, steps))
    ang = angle + turns
    d = np.stack([np.cos(ang), np.sin(ang)], axis=1) * step * rng.uniform(0.6, 1.4, (steps, 1))
    return start + np.concatenate([np.zeros((1, 2)), np.cumsum(d, axis=0)])


def crack_mask(res: int, density: float, rng: np.random.Generator) -> np.ndarray:
    """A boolean ``(W, W)`` crack mask at the supersampled size of ``Canvas(res)``.

    Args:
        res: output resolution.
        density: 0..1; about ``20 + 60 * density`` cracks per tile.
        rng: random source (deterministic per seed).
    """
    layer = Canvas(res, ground=0)
    n = int(20 + 60 * density)
    step = 0.022
    for _ in range(n):
        start = rng.random(2)
        angle = rng.uniform(0, 2 * np.pi)
        steps = int(rng.integers(3, 10))
        path = _walk(rng, start, angle, steps, step)
        # split into short pieces so each stroke is far smaller than the tile
        for a in range(0, steps, 6):
            layer.line(path[a : a + 7], 1, 0.7 / res, closed=False)
        if rng.random() < 0.5:
            b = int(rng.integers(1, steps))
            branch = _walk(rng, path[b], angle + rng.choice([-1.2, 1.2]), 4, step)
            layer.line(branch, 1, 0.7 / res)
    return layer.labels == 1


def apply_crackle(labels: np.ndarray, lut: np.ndarray, res: int, density: float,
                  rng: np.random.Generator) -> None:
    """Paint crackle veins into ``labels`` (in place) over its lightest colours.

    Args:
        labels: ``(W, W)`` uint8 role labels of a finished motif.
        lut: ``(256, 3)`` label colours; the darkest of the seven dye roles is the vein dye,
            and labels whose luminance is at least 70 % of the lightest used one are "light".
        res: output resolution (the veins are 1 output pixel wide).
        density: 0 (none) .. 1.
        rng: random source.
    """
    if density <= 0:
        return
    weights = np.array([0.299, 0.587, 0.114], np.float32)
    dark = int(np.argmin(lut[:N_ROLES].astype(np.float32) @ weights))
    used = np.unique(labels)
    lum = lut[used].astype(np.float32) @ weights
    light = used[lum >= 0.7 * lum.max()]
    mask = crack_mask(res, density, rng)
    labels[mask & np.isin(labels, light)] = dark
