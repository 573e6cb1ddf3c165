"""The training estimate times real iterations of the run's own networks."""

import pytest

from batikstudio.errors import BatikError
from batikstudio.jobs import Cancelled, RecordingContext
from batikstudio.training.estimate import EstimateRequest, estimate_training, format_bytes, format_seconds
from batikstudio.training.networks import build_scratch, scratch_configs

from .conftest import tiny_config


def test_estimate_counts_parameters_and_times_iterations():
    cfg = tiny_config(batch=4, augment="ada")
    ctx = RecordingContext()
    est = estimate_training(EstimateRequest(cfg, resolution=16, channels=3, c_dim=0), ctx)
    g_cfg, d_cfg = scratch_configs(cfg, 16, 3, 0, 4)
    nets = build_scratch(g_cfg, d_cfg)
    assert est.g_params == sum(p.numel() for p in nets.G.parameters())
    assert est.d_params == sum(p.numel() for p in nets.D.parameters())
    # weights, grads and two Adam moments of G and D, plus G_ema, as float32
    assert est.state_bytes == 4 * (4 * (est.g_params + est.d_params) + est.g_params)
    # at least the generated batch (4 x 3 x 16 x 16 floats) is among the activations
    assert est.activation_bytes >= 4 * 3 * 16 * 16 * 4
    assert est.memory_bytes == est.state_bytes + est.activation_bytes and not est.measured_memory
    assert est.sec_per_iter > 0
    assert est.sec_per_kimg == pytest.approx(1000 * est.sec_per_iter / 4)
    assert ctx.progress_log[-1] == (3, 3)
    assert "per kimg" in est.summary() and est.device == "cpu"


def test_bigger_networks_need_more_memory():
    small = estimate_training(EstimateRequest(tiny_config(), 8), RecordingContext())
    big_cfg = tiny_config(g_kwargs=dict(z_dim=16, w_dim=16, mapping_layers=2, channel_base=256, channel_max=32))
    big = estimate_training(EstimateRequest(big_cfg, 8), RecordingContext())
    assert big.g_params > small.g_params and big.memory_bytes > small.memory_bytes


def test_estimate_stops_when_cancelled():
    ctx = RecordingContext(cancel_after=1)
    with pytest.raises(Cancelled):
        estimate_training(EstimateRequest(tiny_config(), 8), ctx)


def test_a_start_model_that_does_not_fit_is_refused(tmp_path):
    from batikstudio.core.nets import GeneratorConfig
    from batikstudio.io.models import new_random_model

    model = new_random_model(GeneratorConfig(z_dim=16, c_dim=0, w_dim=16, img_resolution=16, img_channels=3,
                                             mapping_layers=2, channel_base=128, channel_max=16),
                             seed=0, path=tmp_path / "m.safetensors")
    with pytest.raises(BatikError, match="16 px"):
        estimate_training(EstimateRequest(tiny_config(start=str(model)), 8), RecordingContext())
    est = estimate_training(EstimateRequest(tiny_config(start=str(model)), 16), RecordingContext())
    assert est.g_params > 0


def test_formatting():
    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(5 * 2**30) == "5.0 GiB"
    assert format_seconds(5) == "5.0 s"
    assert format_seconds(3725) == "1 h 02 min"
