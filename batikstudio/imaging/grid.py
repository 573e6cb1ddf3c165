"""Contact sheets: many images tiled into one."""

from __future__ import annotations

import numpy as np


def image_grid(images: np.ndarray, cols: int | None = None, pad: int = 0, pad_value: int = 255) -> np.ndarray:
    """Tile [N, H, W, C] uint8 images into one HWC grid, row-major, ``cols`` wide (default ~sqrt N).

    >>> image_grid(np.zeros((4, 8, 8, 3), np.uint8)).shape
    (16, 16, 3)
    """
    if images.ndim != 4:
        raise ValueError(f"expected images [N, H, W, C], got shape {images.shape}")
    n, h, w, c = images.shape
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    grid = np.full((rows * h + (rows - 1) * pad, cols * w + (cols - 1) * pad, c), pad_value, np.uint8)
    for k in range(n):
        r, q = divmod(k, cols)
        y, x = r * (h + pad), q * (w + pad)
        grid[y : y + h, x : x + w] = images[k]
    return grid
