"""Fréchet distance and KID maths: analytic cases, streaming statistics, rank deficiency."""

import numpy as np
import pytest
import torch

from batikstudio.training.metrics.frechet import FeatureStats, frechet_distance, sqrtm_psd
from batikstudio.training.metrics.kid import _mmd2_unbiased, kernel_distance


def _random_spd(d, seed):
    a = np.random.default_rng(seed).normal(size=(d, d))
    return a @ a.T + 0.1 * np.eye(d)


def test_sqrtm_psd_squares_back():
    s = _random_spd(6, 0)
    r = sqrtm_psd(s)
    np.testing.assert_allclose(r @ r, s, atol=1e-9)
    np.testing.assert_allclose(r, r.T, atol=1e-12)


def test_fd_identical_gaussians_is_zero():
    s = _random_spd(8, 1)
    mu = np.arange(8.0)
    assert frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-8)


def test_fd_shifted_gaussians_is_squared_mean_difference():
    s = _random_spd(5, 2)
    mu1 = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    mu2 = mu1 + np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    assert frechet_distance(mu1, s, mu2, s) == pytest.approx(1 + 4 + 0.25 + 9, rel=1e-9)


def test_fd_diagonal_covariances_closed_form():
    v1, v2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 16.0])
    expected = ((np.sqrt(v1) - np.sqrt(v2)) ** 2).sum()  # (1-2)^2 + (2-1)^2 + (3-4)^2
    assert frechet_distance(np.zeros(3), np.diag(v1), np.zeros(3), np.diag(v2)) == pytest.approx(expected)
    assert expected == 3.0


def test_fd_is_symmetric_for_non_commuting_covariances():
    s1, s2 = _random_spd(7, 3), _random_spd(7, 4)
    a = frechet_distance(np.zeros(7), s1, np.ones(7), s2)
    b = frechet_distance(np.ones(7), s2, np.zeros(7), s1)
    assert a == pytest.approx(b, rel=1e-8)
    # general formula via the eigenvalues of s1 s2 (their square roots sum to tr sqrtm(s1 s2))
    tr_covmean = np.sqrt(np.linalg.eigvals(s1 @ s2).real).sum()
    assert a == pytest.approx(7 + np.trace(s1) + np.trace(s2) - 2 * tr_covmean, rel=1e-8)


def test_fd_rank_deficient_covariance_from_few_samples():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(10, 50))  # 10 samples in 50-D: covariance rank 9
    stats = FeatureStats()
    stats.add(x)
    g = stats.gaussian()
    assert np.linalg.matrix_rank(g.sigma) == 9
    assert frechet_distance(g.mu, g.sigma, g.mu, g.sigma) == pytest.approx(0.0, abs=1e-8)
    other = FeatureStats()
    other.add(rng.normal(size=(10, 50)) + 1.0)
    o = other.gaussian()
    value = frechet_distance(g.mu, g.sigma, o.mu, o.sigma)
    assert np.isfinite(value) and value > 40  # the mean moved by 1 in each of 50 dims


def test_fd_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="shape mismatch"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def test_feature_stats_streaming_matches_numpy():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(37, 4)) * [1, 2, 3, 4] + [5, 6, 7, 8]
    stats = FeatureStats(keep_features=True)
    stats.add(torch.from_numpy(x[:10]).float())
    stats.add(x[10:])
    g = stats.gaussian()
    np.testing.assert_allclose(g.mu, x.mean(0), rtol=1e-6)
    np.testing.assert_allclose(g.sigma, np.cov(x, rowvar=False), rtol=1e-5)
    assert stats.count == 37 and stats.features.shape == (37, 4)


def test_feature_stats_errors():
    stats = FeatureStats()
    with pytest.raises(ValueError, match="at least 2"):
        stats.gaussian()
    stats.add(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="changed"):
        stats.add(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="keep_features"):
        stats.features


def test_mmd2_unbiased_matches_brute_force():
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)) + 0.5
    k = lambda a, b: (a @ b / 3 + 1) ** 3  # noqa: E731
    m = 6
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    assert _mmd2_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy)


def test_kid_near_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(300, 16)), rng.normal(size=(300, 16))
    shifted = rng.normal(size=(300, 16)) + 0.5
    same = kernel_distance(a, b, num_subsets=20, max_subset_size=100)
    diff = kernel_distance(a, shifted, num_subsets=20, max_subset_size=100)
    assert abs(same) < 0.05
    assert diff > 0.3 and diff > 10 * abs(same)


def test_kid_deterministic_per_seed():
    rng = np.random.default_rng(9)
    a, b = rng.normal(size=(50, 4)), rng.normal(size=(40, 4))
    assert kernel_distance(a, b, 5, 20, seed=3) == kernel_distance(a, b, 5, 20, seed=3)
    assert kernel_distance(a, b, 5, 20, seed=3) != kernel_distance(a, b, 5, 20, seed=4)


def test_kid_errors():
    with pytest.raises(ValueError, match="one D"):
        kernel_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="at least 2"):
        kernel_distance(np.zeros((1, 3)), np.zeros((5, 3)))
