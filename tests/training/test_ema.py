import pytest
import torch

from batikstudio.training.ema import ema_beta, update_ema


def test_beta_halves_after_ema_kimg():
    beta = ema_beta(batch=10, ema_kimg=1.0, nimg=10**9, rampup=None)
    assert beta ** 100 == pytest.approx(0.5)
    assert ema_beta(10, 1.0, nimg=100, rampup=0.05) < beta
    assert ema_beta(10, 1.0, nimg=0, rampup=0.05) == 0.0


def test_update_ema_lerps_params_and_copies_buffers():
    a, b = torch.nn.BatchNorm1d(2), torch.nn.BatchNorm1d(2)
    with torch.no_grad():
        a.weight.fill_(0.0)
        b.weight.fill_(1.0)
        b.running_mean.fill_(3.0)
    update_ema(a, b, beta=0.75)
    assert torch.allclose(a.weight, torch.full((2,), 0.25))
    assert torch.equal(a.running_mean, b.running_mean)
