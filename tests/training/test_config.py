import pytest

from batikstudio.training.config import ADA_OPS, DIFFAUGMENT_OPS, DiffusionConfig, TrainConfig


def test_defaults_follow_the_brief():
    cfg = TrainConfig()
    assert cfg.lr == 0.0025 and cfg.betas == (0.0, 0.99)
    assert cfg.ada_target == 0.6 and cfg.augment == "ada"
    d = cfg.diffusion
    assert (d.t_min, d.t_max, d.noise_std, d.ada_kimg, d.target, d.ts_dist) == (10, 1000, 0.05, 100.0, 0.6, "priority")


def test_r1_gamma_heuristic_and_override():
    assert TrainConfig(batch=16).effective_r1_gamma(64) == pytest.approx(0.0512)
    assert TrainConfig(r1_gamma=1.0).effective_r1_gamma(64) == 1.0
    assert TrainConfig(batch=32).effective_ema_kimg() == pytest.approx(10.0)


def test_augment_ops_default_and_subset():
    assert TrainConfig(augment="ada").effective_augment_ops() == ADA_OPS
    assert TrainConfig(augment="diffaugment").effective_augment_ops() == DIFFAUGMENT_OPS
    assert TrainConfig(augment="diffaugment", augment_ops=("translation",)).effective_augment_ops() == ("translation",)
    assert TrainConfig(augment="none").effective_augment_ops() == ()


def test_round_trip_through_dict():
    cfg = TrainConfig(data="x.zip", batch=8, augment_ops=("translate",), diffusion=DiffusionConfig(enabled=True),
                      g_kwargs={"z_dim": 64}, sample_seeds=(3, 4), conditional=True, mismatch_weight=0.5)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("bad", [dict(loss="hinge"), dict(augment="mixup"), dict(batch=0),
                                 dict(augment="ada", augment_ops=("color",)), dict(resolution=48),
                                 dict(diffusion=DiffusionConfig(ts_dist="cosine")),
                                 dict(conditional=True, mismatch_weight=-1.0),
                                 dict(conditional=True, mismatch_weight=float("nan"))])
def test_bad_options_raise(bad):
    with pytest.raises(ValueError):
        TrainConfig(**bad)


def test_unknown_key_in_dict_raises():
    with pytest.raises(ValueError, match="unknown"):
        TrainConfig.from_dict({"batchsize": 3})


def test_the_tick_summary_names_each_strength():
    """The log line once said ``p=1.000`` for DiffAugment's fixed probability beside the Diffusion-GAN
    T, which read as the Diffusion-GAN p: each strength now has its own name."""
    from batikstudio.training.config import TrainTick

    tick = TrainTick(kimg=64.0, tick=31, losses={"G": 1.739, "D": 0.8091}, augment_p=1.0, diffusion_p=0.63808,
                     diffusion_T=642, kimg_per_s=0.011, sec_per_iter=1.39)
    line = tick.summary()
    assert line == "tick 31 kimg 64.000 G=1.739 D=0.8091 augment_p=1.000 diffusion_p=0.638 T=642 1.39 s/it"
    plain = TrainTick(kimg=1.0, tick=0, losses={"G": 1.0}, augment_p=0.25, diffusion_p=0.0, diffusion_T=0,
                      kimg_per_s=0.1, sec_per_iter=0.5)
    assert "diffusion" not in plain.summary() and "augment_p=0.250" in plain.summary(digits=3)
