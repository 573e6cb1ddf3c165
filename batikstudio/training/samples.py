"""The fixed-seed sample grid shown every tick (training sits below ``render`` in the layers,
so it keeps its own small grid helper)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from batikstudio.core.latents import seeds_to_z
from batikstudio.core.nets.layout import layout_kwargs
from batikstudio.imaging.grid import image_grid


def tile_grid(images: np.ndarray, cols: int | None = None) -> np.ndarray:
    """Tile NHWC uint8 images row-major into one HWC image with no padding (see image_grid).

    >>> tile_grid(np.zeros((6, 4, 4, 3), np.uint8)).shape
    (8, 12, 3)
    """
    return image_grid(images, cols=cols, pad=0, pad_value=0)


def sample_grid(G: torch.nn.Module, seeds: Sequence[int], c_dim: int, device: torch.device,
                chunk: int = 16, tileable: bool = False) -> np.ndarray:
    """Render ``seeds`` (NVlabs latents) with constant noise; classes cycle 0..c_dim-1;
    ``tileable``: with wrap-around padding (how a run trained for seamless tiles renders).

    Returns:
        One HWC uint8 grid (pixels ``x * 127.5 + 128`` clamped, like NVlabs). When the seeds
        fill whole rows of ``c_dim``, each column is one class, so each column shows how much
        that class varies with the seed.
    """
    seeds = list(seeds) or [0]
    z = seeds_to_z(seeds, G.z_dim, device)
    c = torch.zeros(len(seeds), c_dim, device=device)
    if c_dim:
        c[torch.arange(len(seeds)), torch.arange(len(seeds)) % c_dim] = 1
    wrap = {"tileable": True} if tileable else {}
    # a character model writes one character per row (the row's first seed's), in every class
    row_seeds = [seeds[i - i % c_dim] if c_dim else s for i, s in enumerate(seeds)]
    imgs = torch.cat([G(z[i:i + chunk], c[i:i + chunk], noise_mode="const", **wrap,
                        **layout_kwargs(G, row_seeds[i:i + chunk], c[i:i + chunk]))
                      for i in range(0, len(seeds), chunk)])
    pixels = (imgs.float() * 127.5 + 128).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    cols = c_dim if c_dim and len(seeds) % c_dim == 0 and len(seeds) > c_dim else None
    return tile_grid(pixels, cols=cols)
