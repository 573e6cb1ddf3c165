"""Kernel Inception Distance: an unbiased MMD^2 estimate with the cubic polynomial kernel.

``k(x, y) = (x . y / D + 1)^3`` on D-dimensional features. The estimate is averaged over
``num_subsets`` random subsets of ``m = min(n_real, n_fake, max_subset_size)`` vectors from
each side (Bińkowski et al. 2018; the subset scheme of NVlabs' stylegan2-ada metrics). Unlike
FID it is unbiased, so it can be slightly negative for two samples of one distribution.
"""

from __future__ import annotations

import numpy as np

__all__ = ["kernel_distance"]


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 of ``x [m, D]`` vs ``y [m, D]`` (same m) with the cubic kernel."""
    m, d = x.shape
    kxx = (x @ x.T / d + 1.0) ** 3
    kyy = (y @ y.T / d + 1.0) ** 3
    kxy = (x @ y.T / d + 1.0) ** 3
    within = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(within - 2.0 * kxy.sum() / (m * m))


def kernel_distance(real: np.ndarray, fake: np.ndarray, num_subsets: int = 100,
                    max_subset_size: int = 1000, seed: int = 0) -> float:
    """KID between two feature sets.

    Args:
        real: ``[n_real, D]`` features (any float dtype; computed in float64).
        fake: ``[n_fake, D]`` features.
        num_subsets: subsets averaged (each drawn without replacement from both sides).
        max_subset_size: largest subset (1000 as NVlabs).
        seed: subset choice; the same inputs and seed give the same value.

    Returns:
        The mean MMD^2 (a float, ~0 for one distribution, larger the more they differ).

    Raises:
        ValueError: on mismatched feature sizes or fewer than 2 vectors on a side.

    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(200, 8)), rng.normal(size=(200, 8))
    >>> abs(kernel_distance(a, b, num_subsets=10)) < 0.05
    True
    """
    real = np.asarray(real, np.float64)
    fake = np.asarray(fake, np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature sets must be [N, D] with one D, got {real.shape} and {fake.shape}")
    m = min(real.shape[0], fake.shape[0], max_subset_size)
    if m < 2:
        raise ValueError(f"KID needs at least 2 vectors on each side, got {real.shape[0]} and {fake.shape[0]}")
    if num_subsets < 1:
        raise ValueError(f"num_subsets must be >= 1, got {num_subsets}")
    rng = np.random.default_rng(seed)
    total = 0.0
    for _ in range(num_subsets):
        x = fake[rng.choice(fake.shape[0], m, replace=False)]
        y = real[rng.choice(real.shape[0], m, replace=False)]
        total += _mmd2_unbiased(x, y)
    return total / num_subsets
