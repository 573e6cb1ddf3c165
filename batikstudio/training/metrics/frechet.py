"""Fréchet distance between two Gaussians fitted to feature sets (the maths of FID and FD).

Features are accumulated batch by batch into :class:`FeatureStats` (float64 running sums), so
a metric never holds every feature vector unless it needs them (KID does). The distance

    FD = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1^1/2 S2 S1^1/2)^1/2)

is computed with two symmetric eigen-decompositions in float64 instead of scipy's general
``sqrtm``: ``S1^1/2 S2 S1^1/2`` is symmetric positive semi-definite, so its square root's trace
is the sum of the square roots of its (clamped) eigenvalues. This stays real and stable when a
covariance is rank-deficient (fewer samples than feature dimensions).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

__all__ = ["FeatureStats", "GaussianStats", "sqrtm_psd", "frechet_distance"]


@dataclass
class FeatureStats:
    """Running mean/covariance of feature vectors, plus (optionally) the vectors themselves.

    Args:
        keep_features: also keep every vector (float32), for KID.

    Add batches with :meth:`add` (``[N, D]`` float tensors or arrays, any device); read the
    Gaussian with :meth:`gaussian`.
    """

    keep_features: bool = False
    count: int = 0
    _sum: np.ndarray | None = None
    _outer: np.ndarray | None = None
    _kept: list[np.ndarray] = field(default_factory=list)

    def add(self, feats: torch.Tensor | np.ndarray) -> None:
        """Accumulate ``feats [N, D]``; every batch must have the same ``D``."""
        x = feats.detach().to("cpu", torch.float64).numpy() if isinstance(feats, torch.Tensor) else np.asarray(feats, np.float64)
        if x.ndim != 2:
            raise ValueError(f"features must be [N, D], got shape {x.shape}")
        if self._sum is None:
            self._sum = np.zeros(x.shape[1])
            self._outer = np.zeros((x.shape[1], x.shape[1]))
        elif x.shape[1] != self._sum.shape[0]:
            raise ValueError(f"feature size changed from {self._sum.shape[0]} to {x.shape[1]}")
        self._sum += x.sum(axis=0)
        self._outer += x.T @ x
        self.count += x.shape[0]
        if self.keep_features:
            self._kept.append(x.astype(np.float32))

    @property
    def features(self) -> np.ndarray:
        """Every vector added, ``[count, D]`` float32 (only with ``keep_features``)."""
        if not self.keep_features:
            raise ValueError("these statistics were accumulated without keep_features")
        if not self._kept:
            return np.zeros((0, 0), np.float32)
        return np.concatenate(self._kept, axis=0)

    def gaussian(self) -> "GaussianStats":
        """Mean ``[D]`` and unbiased covariance ``[D, D]`` (float64); needs at least 2 vectors."""
        if self.count < 2 or self._sum is None or self._outer is None:
            raise ValueError(f"need at least 2 feature vectors, got {self.count}")
        mu = self._sum / self.count
        sigma = (self._outer - self.count * np.outer(mu, mu)) / (self.count - 1)
        return GaussianStats(mu=mu, sigma=(sigma + sigma.T) / 2, count=self.count)


@dataclass(frozen=True)
class GaussianStats:
    """A fitted Gaussian: ``mu [D]``, ``sigma [D, D]`` (float64), from ``count`` vectors."""

    mu: np.ndarray
    sigma: np.ndarray
    count: int


def sqrtm_psd(a: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix (negative eigenvalues -> 0).

    >>> sqrtm_psd(np.diag([4.0, 9.0, 0.0])).diagonal().tolist()
    [2.0, 3.0, 0.0]
    """
    a = np.asarray(a, np.float64)
    vals, vecs = np.linalg.eigh((a + a.T) / 2)
    return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Fréchet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2), squared.

    Args:
        mu1, mu2: means ``[D]``.
        sigma1, sigma2: covariances ``[D, D]``, symmetric PSD (rank-deficient is fine).

    Returns:
        A float >= 0 (tiny negative round-off is clamped to 0).

    Raises:
        ValueError: if the shapes do not match.

    >>> round(frechet_distance(np.zeros(2), np.eye(2), np.array([3.0, 4.0]), np.eye(2)), 6)
    25.0
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(f"shape mismatch: mu {mu1.shape}/{mu2.shape}, sigma {s1.shape}/{s2.shape}")
    root1 = sqrtm_psd(s1)
    middle = root1 @ s2 @ root1
    vals = np.linalg.eigvalsh((middle + middle.T) / 2)
    tr_covmean = float(np.sqrt(np.clip(vals, 0.0, None)).sum())
    diff = mu1 - mu2
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean)
    return max(value, 0.0)
