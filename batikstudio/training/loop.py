"""The training job: ``train(request, ctx) -> TrainResult``.

Runs iterations (:class:`~batikstudio.training.step.Trainer`) until ``total_kimg``, and every
tick (``kimg_per_tick``) reports a :class:`~batikstudio.training.config.TrainTick` through
``ctx.partial`` (losses, augment p, diffusion T, speed, sample grid), appends a row to
``metrics.jsonl`` and writes the sample grid; every ``snapshot_ticks`` ticks, at the end and
when stopped it writes a snapshot. ``ctx.cancelled`` is checked between iterations, so a
stop request writes a snapshot within one iteration. Under ``torchrun`` every process runs
this function; only rank 0 writes files or reports.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from batikstudio.errors import BatikError, DatasetError
from batikstudio.jobs import JobContext
from batikstudio.runtime import resolve_device
from batikstudio.training.checkpoint import restore_trainer, trainer_state
from batikstudio.training.config import TrainConfig, TrainRequest, TrainResult, TrainTick
from batikstudio.training.data import RealSampler, class_weight_vector
from batikstudio.training.distributed import DistInfo, all_mean, broadcast_module, init_distributed, shutdown
from batikstudio.training.export import kimg_in_all
from batikstudio.training.networks import (
    StartNets, build_scratch, load_start, nets_from_config_dicts, scratch_configs,
)
from batikstudio.training.runfolder import RunFolder, held_log_records, load_snapshot
from batikstudio.training.samples import sample_grid
from batikstudio.training.step import Trainer

log = logging.getLogger(__name__)


def train(request: TrainRequest, ctx: JobContext) -> TrainResult:
    """Train (or resume) a GAN into ``request.run_dir``; see the module docstring.

    Raises:
        BatikError: bad data set, bad start model, unusable run folder.
        ValueError: impossible options.
    """
    device = resolve_device(request.config.device)
    info = init_distributed(request.rank, request.world_size, device)
    if device.type == "cuda" and info.enabled:
        device = torch.device("cuda", info.local_rank)
        torch.cuda.set_device(device)
    finished = False
    try:
        result = _Run(request, ctx, device, info).run()
        finished = True
        return result
    finally:
        shutdown(info, finished)


def class_count(dataset: Any) -> int:
    """Number of classes of a data set with integer labels (0 without labels)."""
    labels = getattr(dataset, "labels", None)
    if labels is None or len(labels) == 0:
        return 0
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.min() < 0:
        return 0
    names = getattr(dataset, "class_names", None) or ()
    return max(len(names), int(labels.max()) + 1)


class _Run:
    """State of one call of :func:`train` (kept out of the public API)."""

    def __init__(self, request: TrainRequest, ctx: JobContext, device: torch.device, info: DistInfo) -> None:
        self.ctx, self.device, self.info = ctx, device, info
        self.folder = RunFolder(request.run_dir)
        self._rewrite_config = False
        self.cfg = self._start_layout(self._config(request), request.resume)
        g_kwargs = self.cfg.g_kwargs
        if self.cfg.mirror and g_kwargs.get("layout_res") and not g_kwargs.get("layout_by_class"):
            raise BatikError("a character model cannot train on mirrored images: a mirrored glyph is no "
                             "character (turn mirroring off)")
        self.metrics = dict(request.metrics)
        self.dataset = request.dataset
        if self.dataset is None:
            from batikstudio.io.datasetreader import open_dataset

            self.dataset = open_dataset(self.cfg.data)
        self.resolution = self.cfg.resolution or int(self.dataset.resolution)
        self.channels = int(getattr(self.dataset, "channels", 3))
        self.c_dim = class_count(self.dataset) if self.cfg.conditional else 0
        if self.cfg.conditional and self.c_dim == 0:
            raise DatasetError("conditional training needs a data set with class labels")
        self.class_names = tuple(getattr(self.dataset, "class_names", None) or ())[: self.c_dim]
        layout_res = int(self.cfg.g_kwargs.get("layout_res") or 0)
        self.layouts = None
        if layout_res and self.cfg.g_kwargs.get("layout_by_class"):
            from batikstudio.training.layouts import image_layouts

            ctx.status(f"reading the motif layouts of {len(self.dataset):,} images")
            self.layouts = image_layouts(self.dataset, layout_res)
            log.info("structure model: %d motif layouts, %d px", self.layouts.rows, layout_res)
        elif layout_res:
            from batikstudio.training.layouts import data_layouts

            ctx.status(f"reading the character layouts of {len(self.dataset):,} images")
            self.layouts = data_layouts(self.dataset, layout_res)
            log.info("character model: %d characters, %d px layouts", len(self.layouts.chars), layout_res)
        if self.cfg.batch % info.world_size:
            raise ValueError(f"batch {self.cfg.batch} is not divisible by {info.world_size} processes")
        self.request = request

    @staticmethod
    def _start_layout(cfg: TrainConfig, resume: bool) -> TrainConfig:
        """Fine-tuning a character model keeps it one: its layout size unless --layout says otherwise."""
        if resume or cfg.start == "scratch" or cfg.g_kwargs.get("layout_res") or cfg.arch != "stylegan2":
            return cfg
        from batikstudio.io.modelfile import read_model_meta

        try:
            g_config = read_model_meta(cfg.start).G_config or {}
        except BatikError:
            return cfg  # not a native file (an NVlabs pickle): load_start reads and checks it
        res = int(g_config.get("layout_res") or 0)
        if not res:
            return cfg
        by_class = bool(g_config.get("layout_by_class"))
        log.info("%s is a %s model: training it as one (%d px layouts)", Path(cfg.start).name,
                 "structure" if by_class else "character", res)
        return cfg.replace(g_kwargs={**cfg.g_kwargs, "layout_res": res, "layout_by_class": by_class})

    def _config(self, request: TrainRequest) -> TrainConfig:
        if not request.resume:
            return request.config
        stored = self.folder.read_config()
        if request.config.total_kimg > stored.total_kimg:
            stored = stored.replace(total_kimg=request.config.total_kimg)
        given = dict(request.config.class_weights)
        if given and given != dict(stored.class_weights):
            # the mix of classes may change between invocations; config.json keeps the new one
            log.info("resuming with class weights %s (were %s)", given, dict(stored.class_weights) or "uniform")
            stored = stored.replace(class_weights=given)
            self._rewrite_config = True
        given_mismatch = request.config.mismatch_weight
        if given_mismatch > 0 and given_mismatch != stored.mismatch_weight:
            log.info("resuming with mismatch weight %g (was %g)", given_mismatch, stored.mismatch_weight)
            stored = stored.replace(mismatch_weight=given_mismatch)
            self._rewrite_config = True
        if request.config.cpu_bf16 and not stored.cpu_bf16:
            # a speed option may be switched on when resuming (the run is then no longer
            # bit-identical to an uninterrupted float32 run)
            log.info("resuming with bfloat16 autocast on the CPU")
            stored = stored.replace(cpu_bf16=True)
        return stored

    # -- setup ----------------------------------------------------------------------------
    def _nets(self) -> tuple[StartNets, Any, Any]:
        cfg = self.cfg
        if self.layouts is not None:  # the table of a character model holds the data's characters
            cfg = cfg.replace(g_kwargs={**cfg.g_kwargs, "layout_chars": self.layouts.rows})
        per_proc = cfg.batch // self.info.world_size
        torch.manual_seed(cfg.seed)
        if cfg.start == "scratch" or self.request.resume:
            g_cfg, d_cfg = scratch_configs(cfg, self.resolution, self.channels, self.c_dim, per_proc)
            if self.request.resume:
                nets = self._nets_from_snapshot()
            else:
                nets = build_scratch(g_cfg, d_cfg)
        else:
            nets = load_start(cfg.start, cfg, self.resolution, self.channels, self.c_dim, per_proc)
        if cfg.layouts_from:
            self.layouts = self._kept_layouts(self.layouts)
        if self.layouts is not None and not self.request.resume:
            from batikstudio.training.layouts import fill_layout_table

            for net in (nets.G, nets.G_ema):
                fill_layout_table(net, self.layouts)
        for net in (nets.G, nets.D, nets.G_ema):
            net.to(self.device)
            broadcast_module(net, self.info)
        return nets, nets.G.cfg, nets.D.cfg

    def _kept_layouts(self, data: Any | None) -> Any:
        """``--layouts-from``: the given model's motif layouts (a resumed run: its snapshot's),
        checked against the data set's images."""
        from batikstudio.io.modelfile import read_model_meta
        from batikstudio.training.layouts import matched_layouts, stored_layouts

        if data is None or data.classes is None:
            raise BatikError("--layouts-from needs a structure model (--layout --layout-source images)")
        if self.request.resume:  # _nets_from_snapshot has found it
            source = self.folder.latest_snapshot()
        else:
            source = self.cfg.layouts_from
            read_model_meta(source)  # a Batik Studio model file, or a clear error
        kept = matched_layouts(data, *stored_layouts(source), source=Path(source).name)
        log.info("motif layouts from %s (not the data set's own)", Path(source).name)
        return kept

    def _class_group_size(self) -> int:
        """D's minibatch-std group size when batches are class-grouped, else 0."""
        cfg = self.cfg
        if not (cfg.class_groups and self.c_dim > 0):
            return 0
        per_proc = cfg.batch // self.info.world_size
        if getattr(self.d_cfg, "mbstd_num_channels", 0) <= 0:
            raise BatikError("class-grouped batches need a discriminator with a minibatch-std layer")
        group = self.d_cfg.mbstd_group_size
        return per_proc if group is None else min(int(group), per_proc)

    def _class_weights(self) -> list[float] | None:
        """The per-class draw weights of the options, checked against the data set."""
        if not self.cfg.class_weights:
            return None
        n_classes = class_count(self.dataset)
        if n_classes == 0:
            raise DatasetError("class weights need a data set with class labels")
        names = tuple(getattr(self.dataset, "class_names", None) or ())
        return class_weight_vector(self.cfg.class_weights, names, n_classes)

    def _nets_from_snapshot(self) -> StartNets:
        snap = self.folder.latest_snapshot()
        if snap is None:
            raise DatasetError(f"nothing to resume in {self.folder.path}: no snapshot")
        _, meta = load_snapshot(snap)
        nets = nets_from_config_dicts(self.cfg.arch, meta["G_config"], meta["D_config"])
        nets.training = dict(meta.get("training") or {})
        return nets

    def _trainer(self) -> tuple[Trainer, int]:
        cfg = self.cfg
        nets, self.g_cfg, self.d_cfg = self._nets()
        shared = torch.Generator().manual_seed(cfg.seed)
        sampler = RealSampler(self.dataset, self.resolution, self.c_dim, cfg.mirror, shared,
                              self.info.rank, self.info.world_size, class_groups=self._class_group_size(),
                              class_weights=self._class_weights(),
                              extra_labels=None if self.layouts is None else self.layouts.image_layouts(),
                              extra_side=0 if self.layouts is None else self.layouts.res)
        trainer = Trainer(cfg, nets.G, nets.D, nets.G_ema, sampler, self.device, self.info, self.resolution,
                          diffusion_rng=np.random.default_rng(cfg.seed))
        self.start_record = nets.training
        # kimg of earlier stages: a resumed run's own record carries it, a fine-tune
        # takes its start model's total
        if self.request.resume:
            self.kimg_before = float(nets.training.get("kimg_before") or 0.0)
        else:
            self.kimg_before = kimg_in_all(nets.training)
        tick = 0
        if self.request.resume:
            if self.info.is_main:
                self.folder.remove_partial_writes()
            tensors, meta = load_snapshot(self.folder.latest_snapshot())
            tick = restore_trainer(trainer, tensors, meta)
            log.info("resumed %s at %.3f kimg", self.folder.path, trainer.nimg / 1000)
        else:
            self._seed_strengths(trainer, nets.training)
        if self.info.rank > 0 or not self.request.resume:
            torch.manual_seed(cfg.seed * 1009 + self.info.rank + trainer.nimg)
        return trainer, tick

    @staticmethod
    def _seed_strengths(trainer: Trainer, record: dict[str, Any]) -> None:
        diff = record.get("diffusion") or {}
        if trainer.diffusion is not None and "p" in diff:
            trainer.diffusion.p = float(np.clip(float(diff["p"]), 0.0, 1.0))
            trainer.diffusion.update_T()
        aug = record.get("augment")
        p = record.get("augment_p", aug.get("p") if isinstance(aug, dict) else None)
        if trainer.cfg.augment == "ada" and trainer.augment is not None and isinstance(p, (int, float)):
            trainer.augment.p = float(np.clip(p, 0.0, 1.0))

    # -- main loop ------------------------------------------------------------------------
    def run(self) -> TrainResult:
        if not self.info.is_main:
            return self._run(*self._trainer())
        with held_log_records() as held:  # what loading did (the start file, grown, widened) goes to log.txt too
            trainer, tick = self._trainer()
        with self.folder.logging_to_file(earlier=held):
            return self._run(trainer, tick)

    def _run(self, trainer: Trainer, tick: int) -> TrainResult:
        if self.info.is_main and self._rewrite_config:
            self.folder.replace_config(self.cfg)
        if self.info.is_main and not self.request.resume:
            self.folder.write_config(self.cfg, {"resolution": self.resolution, "c_dim": self.c_dim,
                                                "r1_gamma": trainer.r1_gamma,
                                                "ema_kimg": self.cfg.effective_ema_kimg(),
                                                "world_size": self.info.world_size})
        if self.info.is_main and self.request.measure is not None:
            self.folder.write_measure(*self.request.measure)
        return self._loop(trainer, tick)

    def _cancelled(self) -> bool:
        flag = torch.tensor([1.0 if self.ctx.cancelled else 0.0], dtype=torch.float64)
        return bool(all_mean(flag, self.info).item() > 0)

    def _loop(self, trainer: Trainer, tick: int) -> TrainResult:
        cfg = self.cfg
        total_nimg = int(round(cfg.total_kimg * 1000))
        tick_nimg, tick_time, tick_iters, iters = trainer.nimg, time.monotonic(), 0, 0
        snapshot: Path | None = None
        stopped = False
        log.info("training %s: %d px, batch %d, %.1f kimg", self.folder.path, self.resolution, cfg.batch, cfg.total_kimg)
        while trainer.nimg < total_nimg:
            if self._cancelled():
                stopped = True
                break
            trainer.step()
            iters += 1
            tick_iters += 1
            if self.info.is_main:
                self.ctx.progress(trainer.nimg / 1000, cfg.total_kimg)
            done = trainer.nimg >= total_nimg
            if trainer.nimg >= tick_nimg + cfg.kimg_per_tick * 1000 or done:
                elapsed = max(time.monotonic() - tick_time, 1e-9)
                write = done or (tick + 1) % cfg.snapshot_ticks == 0
                snapshot = self._end_tick(trainer, tick, tick_nimg, elapsed, tick_iters, write) or snapshot
                tick += 1
                tick_nimg, tick_time, tick_iters = trainer.nimg, time.monotonic(), 0
        if stopped:
            log.info("stopped at %.3f kimg", trainer.nimg / 1000)
            snapshot = self._snapshot(trainer, tick) or snapshot
        return TrainResult(run_dir=str(self.folder.path), kimg=trainer.nimg / 1000,
                           snapshot=str(snapshot) if snapshot else None, stopped=stopped, iterations=iters)

    def _end_tick(self, trainer: Trainer, tick: int, tick_nimg: int, elapsed: float, iters: int,
                  write: bool) -> Path | None:
        stats = trainer.take_stats()
        if not self.info.is_main:
            return None
        kimg = trainer.nimg / 1000
        grid = self.sample_grid(trainer.G_ema)
        self.folder.save_grid(trainer.nimg, grid, {"run": str(self.folder.path), "kimg": kimg})
        snapshot = self._snapshot(trainer, tick + 1, stats) if write else None
        values = self._metrics(trainer) if write else {}
        if snapshot is not None and values:
            first = next(iter(values))
            self.folder.offer_best(snapshot, first, values[first])
        diff = trainer.diffusion
        row = TrainTick(kimg=kimg, tick=tick, losses=stats, augment_p=trainer.augment_p,
                        diffusion_p=diff.p if diff else 0.0, diffusion_T=diff.T if diff else 0,
                        kimg_per_s=(trainer.nimg - tick_nimg) / 1000 / elapsed, sec_per_iter=elapsed / max(iters, 1),
                        grid=grid, metrics=values, snapshot=str(snapshot) if snapshot else None)
        self.folder.append_metrics({k: v for k, v in row.__dict__.items() if k != "grid"})
        log.info("%s", row.summary())
        self.ctx.partial(row)
        return snapshot

    def _metrics(self, trainer: Trainer) -> dict[str, float]:
        out = {}
        with torch.random.fork_rng(devices=[]):
            for name, fn in self.metrics.items():
                out[name] = float(fn(trainer.G_ema, self.device))
        return out

    def _snapshot(self, trainer: Trainer, tick: int, stats: dict[str, float] | None = None) -> Path | None:
        if not self.info.is_main:
            return None
        record = self.training_record(trainer, stats)
        extra = {"architecture": self.cfg.arch, "G_config": self.g_cfg.to_dict(), "D_config": self.d_cfg.to_dict(),
                 "class_names": list(self.class_names), "config": self.cfg.to_dict(), "training": record}
        tensors, meta = trainer_state(trainer, tick, extra)
        return self.folder.save_snapshot(trainer.nimg, tensors, meta, keep_last=self.cfg.keep_last)

    def training_record(self, trainer: Trainer, stats: dict[str, float] | None) -> dict[str, Any]:
        """What a model exported from this run says about its training."""
        diff = trainer.diffusion
        return {
            "dataset": str(self.cfg.data), "kimg": trainer.nimg / 1000, "resolution": self.resolution,
            "kimg_before": self.kimg_before, "kimg_total": round(self.kimg_before + trainer.nimg / 1000, 3),
            "loss": self.cfg.loss, "augment": self.cfg.augment, "augment_p": trainer.augment_p,
            "diffusion": diff.state() if diff else None, "losses": dict(stats or {}),
            "options": self.cfg.to_dict(), "started_from": self.cfg.start,
            "world_size": self.info.world_size,
        }

    def sample_grid(self, G_ema: torch.nn.Module) -> np.ndarray:
        """Images of the fixed sample seeds from G_ema as one HWC uint8 grid."""
        return sample_grid(G_ema, self.cfg.sample_seeds, self.c_dim, self.device, tileable=self.cfg.tileable)
