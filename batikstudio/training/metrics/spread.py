"""Seed collapse: do a class's seeds differ as much as the data's images of that class?

GANs that have collapsed give every latent of a class (nearly) the same image, which the
distribution metrics (SWD, FD) see only weakly. This metric measures it directly, in pixels:

    spread(images) = mean over pixels and channels of the standard deviation across images
    collapse       = max(0, 1 - mean_c spread(fakes of class c) / mean_c spread(reals of class c))

0 means the seeds of a class vary as much as the data set's images of that class, 1 that every
seed gives the same image. Fakes are seeds ``0 .. n-1`` per class (psi 1, constant noise);
reals are ``n`` images per class drawn with a seeded generator. Weight-free, deterministic.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from batikstudio.core.latents import seeds_to_z
from batikstudio.core.nets.layout import layout_kwargs
from batikstudio.errors import DatasetError

__all__ = ["spread", "class_indices", "generator_spread", "dataset_spread", "collapse"]


def spread(images: np.ndarray | torch.Tensor) -> float:
    """Mean per-pixel standard deviation across ``images`` (NCHW, any range), in their units."""
    x = torch.as_tensor(images).double()
    if x.shape[0] < 2:
        raise ValueError("spread needs at least two images")
    return float(x.std(dim=0).mean())


def class_indices(dataset: Any, c_dim: int) -> list[np.ndarray]:
    """Indices of each class's images (one list of all images when ``c_dim`` is 0).

    Raises:
        DatasetError: a conditional model with a data set without one label per image.
    """
    if c_dim == 0:
        return [np.arange(len(dataset))]
    labels = getattr(dataset, "labels", None)
    if labels is None or np.asarray(labels).ndim != 1:
        raise DatasetError("the collapse metric of a conditional model needs a data set with class labels")
    labels = np.asarray(labels)
    return [np.nonzero(labels == k)[0] for k in range(c_dim)]


def dataset_spread(dataset: Any, c_dim: int, per_class: int = 32, seed: int = 0) -> float:
    """Mean over classes of :func:`spread` of ``per_class`` images of the class, in [-1, 1] units."""
    rng = np.random.default_rng(seed)
    values = []
    for idx in class_indices(dataset, c_dim):
        if len(idx) < 2:
            continue
        pick = rng.choice(idx, size=min(per_class, len(idx)), replace=False)
        imgs = np.stack([_chw(dataset[int(i)][0]) for i in pick])
        values.append(spread(imgs) / 127.5)
    if not values:
        raise DatasetError("the collapse metric needs at least two images of a class")
    return float(np.mean(values))


def wrap_kwargs(tileable: bool) -> dict[str, bool]:
    """``G(...)`` keywords for wrap-around rendering: none unless asked, so generators without
    the option (foreign or toy modules) still work."""
    return {"tileable": True} if tileable else {}


def generator_spread(G: torch.nn.Module, per_class: int = 32, batch_size: int = 32, tileable: bool = False) -> float:
    """Mean over classes of :func:`spread` of seeds ``0 .. per_class-1`` (psi 1, constant noise;
    ``tileable``: wrap-around padding)."""
    device = next(G.parameters()).device
    c_dim = int(getattr(G, "c_dim", 0))
    values = []
    was_training = G.training
    G.eval()
    try:
        for k in range(max(c_dim, 1)):
            out = []
            for start in range(0, per_class, batch_size):
                seeds = list(range(start, min(start + batch_size, per_class)))
                z = seeds_to_z(seeds, G.z_dim, device)
                c = torch.zeros(len(seeds), c_dim, device=device)
                if c_dim:
                    c[:, k] = 1
                with torch.no_grad():
                    img = G(z, c, truncation_psi=1.0, noise_mode="const", **wrap_kwargs(tileable),
                            **layout_kwargs(G, seeds, c))
                    out.append(img.float().clamp(-1, 1).cpu())
            values.append(spread(torch.cat(out)))
    finally:
        G.train(was_training)
    return float(np.mean(values))


def collapse(G: torch.nn.Module, dataset: Any, per_class: int = 32, seed: int = 0,
             tileable: bool = False) -> dict[str, float]:
    """``{"collapse", "spread_fake", "spread_real"}`` of generator ``G`` against ``dataset``
    (``tileable``: render with wrap-around padding)."""
    if per_class < 2:
        raise ValueError(f"need at least 2 images per class, got {per_class}")
    real = dataset_spread(dataset, int(getattr(G, "c_dim", 0)), per_class, seed)
    fake = generator_spread(G, per_class, tileable=tileable)
    return {"collapse": max(0.0, 1.0 - fake / max(real, 1e-12)), "spread_fake": fake, "spread_real": real}


def _chw(img: np.ndarray) -> np.ndarray:
    a = np.asarray(img, dtype=np.float64)
    if a.ndim == 2:
        a = a[:, :, None]
    return a.transpose(2, 0, 1)
