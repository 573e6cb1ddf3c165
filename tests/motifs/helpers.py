"""Shared checks for the motif tests."""

import numpy as np


def seam_ratio(img: np.ndarray) -> float:
    """Worst (over both axes) wrap-edge difference / 95th percentile of neighbour differences.

    A seamless tile has its wrap edge no more different than an ordinary pair of adjacent
    rows or columns (ratio <= ~1); a seam shows up as a ratio well above 1.
    """
    img = img.astype(np.int16)
    worst = 0.0
    for axis in (0, 1):
        x = np.moveaxis(img, axis, 0)
        wrap = np.abs(x[0] - x[-1]).mean()
        inner = np.abs(np.diff(x, axis=0)).mean(axis=tuple(range(1, x.ndim)))
        worst = max(worst, wrap / max(np.percentile(inner, 95), 1.0))
    return worst
