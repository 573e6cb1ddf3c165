"""The trainer panel's jobs and the torchrun command line (no Qt)."""

import argparse
import sys

import pytest

from batikstudio.app.train_jobs import (
    ExportRequest, TrainPlan, export_job, options_not_passed, resume_plan, torchrun_command, train_cli_args,
    training_job,
)
from batikstudio.cli import cmd_train
from batikstudio.errors import BatikError
from batikstudio.io.dataset import DatasetBuildRequest, DatasetCheckRequest
from batikstudio.io.modelfile import read_model_meta
from batikstudio.jobs import RecordingContext
from batikstudio.training.config import DiffusionConfig, TrainConfig, TrainTick

TINY_G = dict(z_dim=16, w_dim=16, mapping_layers=2, channel_base=128, channel_max=16)


def _parse(argv):
    parser = argparse.ArgumentParser()
    cmd_train.register(parser.add_subparsers())
    return parser.parse_args(argv)


def test_cli_args_give_back_the_same_config():
    cfg = TrainConfig(data="d.zip", resolution=32, batch=8, total_kimg=12.5, loss="wasserstein", gp="wgan-gp",
                      r1_gamma=0.5, pl_weight=2.0, style_mixing_prob=0.5, lr=0.0015, ema_kimg=2.0,
                      augment="diffaugment", augment_ops=("translation",), augment_wrap=False, ada_target=0.7,
                      diffusion=DiffusionConfig(enabled=True, ts_dist="uniform", t_max=500), conditional=True,
                      class_groups=True,
                      mirror=True, freeze_d=2, tileable=True, mixed_precision=False, fast_path=False,
                      cpu_bf16=True, device="cuda", seed=3, kimg_per_tick=0.5, snapshot_ticks=4, keep_last=2,
                      start="base.pkl", g_kwargs=dict(TINY_G, mapping_lr_multiplier=0.1, use_noise=False),
                      class_weights={"kawung": 2.5, "3": 0.0}, mismatch_weight=0.5,
                      d_kwargs=dict(mbstd_group_size=8, mbstd_num_channels=4))
    plan = TrainPlan(config=cfg, run_dir="/runs/r1", gpus=4)
    cmd = torchrun_command(plan, python="/usr/bin/python3")
    assert cmd[:8] == ["/usr/bin/python3", "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "4",
                       "-m", "batikstudio"]
    args = _parse(cmd[8:])
    assert args.data == "d.zip" and args.out == "/runs/r1"
    # torchrun's own parser must hand every option to batikstudio (``--start`` would be taken
    # for an abbreviation of its ``--start-method``)
    from torch.distributed.run import get_args_parser

    ours = get_args_parser().parse_args(cmd[3:])
    assert ours.module and ours.training_script == "batikstudio" and ours.training_script_args == cmd[8:]
    assert cmd_train.build_config(args) == cfg
    assert options_not_passed(cfg) == []


def test_defaults_round_trip_and_unpassable_options_are_named():
    cfg = TrainConfig(data="d.zip")
    assert cmd_train.build_config(_parse(["train", "--data", "d.zip", "--out", "r"] + train_cli_args(cfg))) == cfg
    odd = cfg.replace(ema_rampup=None, sample_seeds=(1, 2), diffusion=DiffusionConfig(enabled=True, t_min=5),
                      g_kwargs={"num_fp16_res": 0})
    assert options_not_passed(odd) == ["diffusion", "ema_rampup", "g_kwargs.num_fp16_res", "sample_seeds"]


def test_resume_command_and_bad_gpu_count():
    plan = TrainPlan(config=TrainConfig(total_kimg=50), run_dir="/runs/r1", resume=True, gpus=2)
    assert torchrun_command(plan, "py")[-9:] == ["train", "--resume", "/runs/r1", "--kimg", "50",
                                                 "--metrics", "swd", "--metrics-num", "512"]
    quiet = TrainPlan(config=TrainConfig(total_kimg=50), run_dir="/runs/r1", resume=True, gpus=2, metrics=())
    # no metrics is said out loud: a resumed run would otherwise go on with the ones it recorded
    assert torchrun_command(quiet, "py")[-7:] == ["train", "--resume", "/runs/r1", "--kimg", "50", "--metrics", "none"]
    with pytest.raises(ValueError):
        torchrun_command(TrainPlan(config=TrainConfig(), run_dir="r", gpus=0))
    assert torchrun_command(plan)[0] == sys.executable


def test_training_job_builds_the_data_set_trains_resumes_and_exports(tmp_path):
    from batikstudio.motifs.jobs import MotifDatasetRequest, make_motif_dataset

    src = tmp_path / "motifs"
    make_motif_dataset(MotifDatasetRequest(dst=str(src), count=8, res=16), RecordingContext())
    run = tmp_path / "run"
    cfg = TrainConfig(data=str(run / "dataset.zip"), resolution=16, batch=4, total_kimg=0.008, kimg_per_tick=0.004,
                      snapshot_ticks=1, g_kwargs=TINY_G, sample_seeds=(0, 1), device="cpu", augment="none")
    build = DatasetBuildRequest(DatasetCheckRequest(str(src), res=16), cfg.data)
    ctx = RecordingContext()
    result = training_job(TrainPlan(cfg, str(run), build, metrics_num=16), ctx)
    assert (run / "dataset.zip").is_file() and result.kimg == pytest.approx(0.008)
    assert any("preparing the data set" in s for s in ctx.status_log)
    ticks = [p for p in ctx.partials if isinstance(p, TrainTick)]
    assert [p.kimg for p in ticks] == [0.004, 0.008]  # no previews
    assert all(p.metrics["swd"] > 0 for p in ticks)  # measured at every snapshot, for the plot
    longer = resume_plan(str(run))
    assert (longer.metrics, longer.metrics_num) == (("swd",), 16)  # what the run recorded
    longer = TrainPlan(longer.config.replace(total_kimg=0.012), longer.run_dir, resume=True, metrics=())
    assert training_job(longer, RecordingContext()).kimg == pytest.approx(0.012)
    assert resume_plan(str(run)).metrics == ()  # measuring nothing is recorded too
    out = export_job(ExportRequest(str(run), str(tmp_path / "lib" / "mine.safetensors"), "mine"), RecordingContext())
    meta = read_model_meta(out)
    assert meta.name == "mine" and meta.training["kimg"] == pytest.approx(0.012)


def test_noise_and_minibatch_std_flags_reach_the_networks():
    from batikstudio.training.networks import build_scratch, scratch_configs

    args = _parse(["train", "--data", "d.zip", "--out", "r", "--z-dim", "16", "--w-dim", "16", "--cbase", "128",
                   "--cmax", "16", "--no-noise", "--mbstd-group", "8", "--mbstd-channels", "2"])
    cfg = cmd_train.build_config(args)
    g_cfg, d_cfg = scratch_configs(cfg, resolution=16, channels=3, c_dim=0, batch_per_process=8)
    assert g_cfg.use_noise is False
    assert (d_cfg.mbstd_group_size, d_cfg.mbstd_num_channels) == (8, 2)
    nets = build_scratch(g_cfg, d_cfg)
    assert not any("noise" in name for name, _ in nets.G.named_parameters())
    assert nets.D.b4.mbstd.group_size == 8 and nets.D.b4.conv.weight.shape[1] == 16 + 2
    with_noise = scratch_configs(cmd_train.build_config(_parse(["train", "--data", "d.zip", "--out", "r"])),
                                 resolution=16, channels=3, c_dim=0, batch_per_process=8)[0]
    assert with_noise.use_noise is True
    asked = cmd_train.build_config(_parse(["train", "--data", "d.zip", "--out", "r", "--noise"]))
    assert asked.g_kwargs["use_noise"] is True
    with pytest.raises(BatikError, match="--noise and --no-noise"):
        cmd_train.build_config(_parse(["train", "--data", "d.zip", "--out", "r", "--noise", "--no-noise"]))
