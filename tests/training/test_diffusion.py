import numpy as np
import pytest
import torch

from batikstudio.training.config import DiffusionConfig
from batikstudio.training.diffusion import DiffusionNoise, alpha_bars, q_sample


def test_alpha_bars_linear_betas_over_T():
    ab = alpha_bars(100)
    betas = np.linspace(1e-4, 0.02, 100)
    assert ab[0] == 1.0 and ab.shape == (101,)
    assert ab[-1].item() == pytest.approx(np.prod(1 - betas), rel=1e-12)
    assert (ab[1:] < ab[:-1]).all()


def test_q_sample_maths_and_identity_at_t0():
    x = torch.rand(3, 3, 4, 4) * 2 - 1
    eps = torch.randn_like(x)
    ab = alpha_bars(50)
    t = torch.tensor([0, 10, 50])
    y = q_sample(x, t, ab, 0.05, eps)
    assert torch.equal(y[0], x[0])
    for i in (1, 2):
        a = ab[t[i]].item()
        expect = a ** 0.5 * x[i] + (1 - a) ** 0.5 * 0.05 * eps[i]
        assert torch.allclose(y[i], expect, atol=1e-6)


def test_t_table_half_zeros_and_within_T():
    dn = DiffusionNoise(DiffusionConfig(enabled=True), p=0.5, rng=np.random.default_rng(0))
    assert dn.T == 10 + round(0.5 * 990)
    assert (dn.t_table[32:] == 0).all()
    assert (dn.t_table[:32] >= 1).all() and (dn.t_table[:32] <= dn.T).all()
    x_t, t = dn(torch.zeros(64, 3, 4, 4))
    assert x_t.shape == (64, 3, 4, 4) and t.shape == (64, 1)


def test_priority_draws_favour_large_t():
    cfg = DiffusionConfig(enabled=True, t_min=100, t_max=100)
    pri = DiffusionNoise(cfg, rng=np.random.default_rng(0))
    uni = DiffusionNoise(DiffusionConfig(enabled=True, t_min=100, t_max=100, ts_dist="uniform"),
                         rng=np.random.default_rng(0))
    draws_p = np.concatenate([(pri.update_T(), pri.t_table[:32])[1] for _ in range(30)])
    draws_u = np.concatenate([(uni.update_T(), uni.t_table[:32])[1] for _ in range(30)])
    assert draws_p.mean() > draws_u.mean() + 10


def test_T_follows_p_and_state_round_trips():
    dn = DiffusionNoise(DiffusionConfig(enabled=True))
    assert dn.T == 10
    dn.p = 1.0
    dn.update_T()
    assert dn.T == 1000
    other = DiffusionNoise(DiffusionConfig(enabled=True))
    other.load_state(dn.state())
    assert other.T == 1000 and np.array_equal(other.t_table, dn.t_table)
