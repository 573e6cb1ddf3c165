"""The trainer panel's jobs and the torchrun command line (no Qt here).

A :class:`TrainPlan` is what the wizard (or the recovery offer) hands the trainer panel: the
run's :class:`~batikstudio.training.config.TrainConfig`, its folder, and the data set to build
into that folder first. :func:`training_job` runs it in this process;
:func:`torchrun_command` turns it into a ``torchrun ... -m batikstudio train`` command line
for runs on several GPUs.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from batikstudio.io.dataset import DatasetBuildRequest, DatasetReport, build_dataset
from batikstudio.jobs import JobContext
from batikstudio.training.config import DiffusionConfig, TrainConfig, TrainRequest, TrainResult

log = logging.getLogger(__name__)

DATASET_NAME = "dataset.zip"


@dataclass(frozen=True)
class TrainPlan:
    """A run to start or resume.

    Attributes:
        config: the run's options; ``config.data`` is where the data set is (or will be built).
        run_dir: the run folder.
        build: the data set to build at ``config.data`` before training (``None``: it exists).
        resume: continue from the newest snapshot in ``run_dir``.
        gpus: processes for a multi-GPU run (1 = train in the app's process).
        label: a name for people.
        metrics: measured at every snapshot (the first picks the best snapshot and is plotted);
            SWD needs no weights and costs about one generated image per ``metrics_num``.
        metrics_num: images per measurement.
    """

    config: TrainConfig
    run_dir: str
    build: DatasetBuildRequest | None = None
    resume: bool = False
    gpus: int = 1
    label: str = ""
    metrics: tuple[str, ...] = ("swd",)
    metrics_num: int = 512

    @property
    def name(self) -> str:
        return self.label or Path(self.run_dir).name


def resume_plan(run_dir: str, label: str = "") -> TrainPlan:
    """A plan that continues the run in ``run_dir`` with its stored options.

    Raises:
        BatikError: when ``run_dir`` is not a run folder.
    """
    from batikstudio.training.runfolder import RunFolder

    folder = RunFolder(run_dir, create=False)
    cfg = folder.read_config()
    plan = TrainPlan(config=cfg, run_dir=str(run_dir), resume=True, label=label)
    recorded = folder.read_measure()  # what the run was scored with, when it says
    return plan if recorded is None else replace(plan, metrics=recorded[0], metrics_num=recorded[1])


class _DatasetStage:
    """A context for the data set build inside the training job: progress becomes status
    lines (the panel's progress is kimg), previews are dropped, cancelling is shared."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self._last = -1

    def progress(self, done: float, total: float | None = None) -> None:
        step = int(done) // 25
        if total and (step != self._last or done >= total):
            self._last = step
            self.ctx.status(f"preparing the data set: {done:.0f} of {total:.0f} files")

    def status(self, text: str) -> None:
        self.ctx.status(text)

    def partial(self, result: Any) -> None:
        pass

    @property
    def cancelled(self) -> bool:
        return self.ctx.cancelled

    def check(self) -> None:
        self.ctx.check()


def prepare_dataset(plan: TrainPlan, ctx: JobContext) -> DatasetReport | None:
    """Job: build the plan's data set (if any) at ``plan.config.data``."""
    if plan.build is None or plan.resume:
        return None
    build = plan.build
    if Path(build.dest) != Path(plan.config.data):
        raise ValueError("the plan builds its data set somewhere else than config.data")
    ctx.status("preparing the data set")
    report = build_dataset(DatasetBuildRequest(build.scan, build.dest, overwrite=True,
                                               png_compress_level=build.png_compress_level), _DatasetStage(ctx))
    log.info("data set for %s: %s", plan.run_dir, report.summary().splitlines()[0])
    return report


def training_job(plan: TrainPlan, ctx: JobContext) -> TrainResult:
    """Job: build the data set when needed, then train (or resume) in this process."""
    prepare_dataset(plan, ctx)
    ctx.check()
    ctx.status("resuming" if plan.resume else "starting")
    from batikstudio.training.loop import train  # lazy: the panel imports fast without it

    dataset, hooks = None, {}
    if plan.metrics:
        from batikstudio.io.datasetreader import open_dataset
        from batikstudio.training.metrics.evaluate import MetricOptions, training_metrics

        dataset = open_dataset(plan.config.data)
        hooks = training_metrics(plan.metrics, dataset, num=plan.metrics_num,
                                 options=MetricOptions(tileable=plan.config.tileable))
    return train(TrainRequest(plan.config, plan.run_dir, resume=plan.resume, dataset=dataset, metrics=hooks,
                              measure=(tuple(plan.metrics), plan.metrics_num)), ctx)


@dataclass(frozen=True)
class ExportRequest:
    """Export the newest snapshot of ``run_dir`` as the model file ``out``."""

    run_dir: str
    out: str
    name: str = ""


def export_job(request: ExportRequest, ctx: JobContext) -> str:
    """Job: write the model file; returns its path."""
    from batikstudio.training.export import export_snapshot

    ctx.status(f"exporting {Path(request.out).name}")
    Path(request.out).parent.mkdir(parents=True, exist_ok=True)
    return str(export_snapshot(request.run_dir, request.out, name=request.name))


# -- torchrun ---------------------------------------------------------------------------------

_FLAGS: dict[str, str] = {  # TrainConfig field -> `batikstudio train` option taking a value
    "start": "--start-from", "device": "--device", "seed": "--seed", "resolution": "--res", "batch": "--batch",
    "total_kimg": "--kimg", "loss": "--loss", "gp": "--gp", "r1_gamma": "--r1-gamma",
    "pl_weight": "--pl-weight", "style_mixing_prob": "--style-mixing", "lr": "--lr", "ema_kimg": "--ema-kimg",
    "augment": "--augment", "ada_target": "--ada-target", "freeze_d": "--freeze-d",
    "train_g_top": "--train-g-top", "noise_max_res": "--noise-max-res",
    "layouts_from": "--layouts-from",
    "mismatch_weight": "--mismatch", "diversity_weight": "--diversity", "diversity_cap": "--diversity-cap",
    "recon_weight": "--recon", "kimg_per_tick": "--tick", "snapshot_ticks": "--snap", "keep_last": "--keep",
}
_SWITCHES: dict[str, tuple[str, bool]] = {  # field -> (switch, the value the switch sets)
    "augment_wrap": ("--no-wrap", False), "conditional": ("--cond", True), "class_groups": ("--class-groups", True),
    "mirror": ("--mirror", True),
    "tileable": ("--tileable", True), "mixed_precision": ("--no-amp", False), "fast_path": ("--straight", False),
    "cpu_bf16": ("--cpu-bf16", True),
}
_G_FLAGS = {"z_dim": "--z-dim", "w_dim": "--w-dim", "mapping_layers": "--map",
            "mapping_lr_multiplier": "--mapping-lr", "channel_base": "--cbase", "channel_max": "--cmax",
            "ngf": "--ngf", "layout_res": "--layout"}
_D_FLAGS = {"ndf": "--ndf", "mbstd_group_size": "--mbstd-group", "mbstd_num_channels": "--mbstd-channels"}


def train_cli_args(cfg: TrainConfig) -> list[str]:
    """The ``batikstudio train`` options that give ``cfg`` (without --data / --out / --resume)."""
    args: list[str] = []
    for name, flag in _FLAGS.items():
        value = getattr(cfg, name)
        if value is not None:
            args += [flag, str(value)]
    for name, (switch, value) in _SWITCHES.items():
        if getattr(cfg, name) == value:
            args.append(switch)
    if cfg.augment_ops:
        args += ["--augment-ops", ",".join(cfg.augment_ops)]
    if cfg.class_weights:
        args += ["--class-weights", ",".join(f"{k}={v!r}" for k, v in cfg.class_weights.items())]
    if cfg.diffusion.enabled:
        args += ["--diffusion", "--diffusion-ts", cfg.diffusion.ts_dist, "--t-max", str(cfg.diffusion.t_max)]
    for kwargs, flags in ((cfg.g_kwargs, _G_FLAGS), (cfg.d_kwargs, _D_FLAGS)):
        args += [a for name, flag in flags.items() if name in kwargs for a in (flag, str(kwargs[name]))]
    if cfg.g_kwargs.get("use_noise") is False:
        args.append("--no-noise")
    return args


def options_not_passed(cfg: TrainConfig) -> list[str]:
    """Options of ``cfg`` that differ from the defaults but ``batikstudio train`` cannot take
    (a multi-GPU run would use the defaults instead)."""
    base = TrainConfig()
    names = set(_FLAGS) | set(_SWITCHES) | {"data", "augment_ops", "class_weights", "diffusion", "g_kwargs", "d_kwargs"}
    out = [f.name for f in cfg.__dataclass_fields__.values()
           if f.name not in names and getattr(cfg, f.name) != getattr(base, f.name)]
    diff = DiffusionConfig(enabled=cfg.diffusion.enabled, ts_dist=cfg.diffusion.ts_dist, t_max=cfg.diffusion.t_max)
    if cfg.diffusion != diff:
        out.append("diffusion")
    out += [f"g_kwargs.{k}" for k, v in cfg.g_kwargs.items()
            if k not in _G_FLAGS and not (k == "use_noise" and v is False)]
    out += [f"d_kwargs.{k}" for k in cfg.d_kwargs if k not in _D_FLAGS]
    return sorted(out)


def torchrun_command(plan: TrainPlan, python: str | None = None) -> list[str]:
    """``python -m torch.distributed.run --standalone --nproc-per-node N -m batikstudio train ...``.

    The data set must already exist at ``plan.config.data`` (build it first). A resumed run
    passes ``--resume RUN --kimg TOTAL``; a new one ``--data DATA --out RUN`` and its options.
    """
    if plan.gpus < 1:
        raise ValueError(f"gpus must be >= 1, got {plan.gpus}")
    head = [python or sys.executable, "-m", "torch.distributed.run", "--standalone",
            "--nproc-per-node", str(plan.gpus), "-m", "batikstudio", "train"]
    # "none" said out loud: a resumed run otherwise goes on with the metrics it recorded
    measure = ["--metrics", ",".join(plan.metrics) or "none"]
    if plan.metrics:
        measure += ["--metrics-num", str(plan.metrics_num)]
    if plan.resume:
        return head + ["--resume", str(plan.run_dir), "--kimg", str(plan.config.total_kimg)] + measure
    return (head + ["--data", str(plan.config.data), "--out", str(plan.run_dir)] + train_cli_args(plan.config)
            + measure)
