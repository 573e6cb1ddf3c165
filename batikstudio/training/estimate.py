"""Memory and time-per-kimg estimate of a training configuration, by timing real iterations.

The wizard's options page runs :func:`estimate_training` as a job before a run starts. It
builds the run's real networks (from scratch, or the start model), a real
:class:`~batikstudio.training.step.Trainer` over random stand-in images at the training
resolution, and times a couple of real iterations on the chosen device:

* **time**: one warm-up iteration (first-call overhead, excluded), then one iteration that
  includes the lazy R1 step and one that does not; the mean iteration is
  ``(t_r1 + (r1_interval - 1) * t_plain) / r1_interval`` and ``sec_per_kimg = 1000 *
  sec_per_iter / batch``. Data loading from disk is not included (it is small next to the
  networks on CPU, and overlaps on GPU).
* **memory**: on CUDA the measured peak (``torch.cuda.max_memory_allocated``). Elsewhere an
  account: weights, gradients and both Adam moments of G and D plus G_ema (4 bytes per
  float32 parameter each) and the activations kept for the backward pass, taken as the sum of
  the output sizes of every leaf module of G and D during one timed iteration.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from batikstudio.jobs import JobContext
from batikstudio.runtime import resolve_device
from batikstudio.training.config import TrainConfig
from batikstudio.training.data import RealSampler
from batikstudio.training.distributed import DistInfo
from batikstudio.training.networks import StartNets, build_scratch, load_start, scratch_configs
from batikstudio.training.step import Trainer

log = logging.getLogger(__name__)

__all__ = ["EstimateRequest", "TrainEstimate", "estimate_training", "format_bytes", "format_seconds"]


@dataclass(frozen=True)
class EstimateRequest:
    """What to estimate.

    Attributes:
        config: the run's options (``device``, ``batch``, ``start``, nets, augmentation...).
        resolution: training resolution in pixels (a power of two).
        channels: 1 (grayscale) or 3 (RGB).
        c_dim: number of classes for a conditional run (0 otherwise).
    """

    config: TrainConfig
    resolution: int
    channels: int = 3
    c_dim: int = 0


@dataclass(frozen=True)
class TrainEstimate:
    """The outcome of :func:`estimate_training`.

    Attributes:
        device: the device the iterations ran on (``"cpu"``, ``"cuda:0"``...).
        g_params / d_params: parameter counts of G and D.
        state_bytes: weights + gradients + Adam moments of G and D, plus G_ema.
        activation_bytes: activations of one iteration (outputs of G's and D's leaf modules).
        memory_bytes: the estimate of the run's memory (measured peak on CUDA).
        measured_memory: True when ``memory_bytes`` is a measured CUDA peak.
        sec_per_iter: mean wall time of one iteration (lazy R1 share included).
        sec_per_kimg: wall time per 1,000 real images shown to D.
        batch: the global batch the times are for.
    """

    device: str
    g_params: int
    d_params: int
    state_bytes: int
    activation_bytes: int
    memory_bytes: int
    measured_memory: bool
    sec_per_iter: float
    sec_per_kimg: float
    batch: int

    def summary(self) -> str:
        """One line for people, e.g. ``"cpu: about 1.2 GiB, 3 min 20 s per kimg ..."``."""
        how = "measured peak" if self.measured_memory else "estimated"
        return (f"{self.device}: {format_bytes(self.memory_bytes)} ({how}), "
                f"{format_seconds(self.sec_per_kimg)} per kimg ({self.sec_per_iter:.2f} s per iteration "
                f"of {self.batch}); G {self.g_params / 1e6:.2f} M, D {self.d_params / 1e6:.2f} M parameters")


class _RandomImages:
    """Stand-in data set: ``n`` random HWC uint8 images with round-robin labels."""

    def __init__(self, n: int, resolution: int, channels: int, c_dim: int) -> None:
        rng = np.random.default_rng(0)
        self.imgs = rng.integers(0, 256, (n, resolution, resolution, channels), dtype=np.uint8)
        self.labels = np.arange(n) % max(c_dim, 1) if c_dim else None
        self.channels = channels

    def __len__(self) -> int:
        return len(self.imgs)

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        return self.imgs[i], int(self.labels[i]) if self.labels is not None else -1


class _ActivationMeter:
    """Sums the output bytes of every leaf module while armed (forward hooks)."""

    def __init__(self, *nets: torch.nn.Module) -> None:
        self.total = 0
        self.armed = False
        self.handles = [m.register_forward_hook(self._hook) for net in nets for m in net.modules()
                        if not any(True for _ in m.children())]

    def _hook(self, _module: torch.nn.Module, _inputs: Any, output: Any) -> None:
        if not self.armed:
            return
        outs = output if isinstance(output, (tuple, list)) else (output,)
        self.total += sum(o.numel() * o.element_size() for o in outs if isinstance(o, torch.Tensor))

    def close(self) -> None:
        for h in self.handles:
            h.remove()


def _nets(req: EstimateRequest) -> StartNets:
    cfg = req.config
    if cfg.start == "scratch":
        g_cfg, d_cfg = scratch_configs(cfg, req.resolution, req.channels, req.c_dim, cfg.batch)
        torch.manual_seed(cfg.seed)
        return build_scratch(g_cfg, d_cfg)
    return load_start(cfg.start, cfg, req.resolution, req.channels, req.c_dim, cfg.batch)


def _timed_step(trainer: Trainer, device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    trainer.step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - t0


def estimate_training(request: EstimateRequest, ctx: JobContext) -> TrainEstimate:
    """Job: build the run's networks and time real iterations (see the module docstring).

    Raises:
        BatikError: the start model cannot be read or does not fit (resolution, classes).
        ValueError: the device is not available.
        Cancelled: when ``ctx`` is cancelled between iterations.
    """
    cfg = request.config
    device = resolve_device(cfg.device)
    ctx.status(f"building the networks on {device}")
    nets = _nets(request)
    for net in (nets.G, nets.D, nets.G_ema):
        net.to(device)
    ctx.check()
    data = _RandomImages(max(cfg.batch, 8), request.resolution, request.channels, request.c_dim)
    sampler = RealSampler(data, request.resolution, request.c_dim, cfg.mirror, torch.Generator().manual_seed(0))
    trainer = Trainer(cfg, nets.G, nets.D, nets.G_ema, sampler, device, DistInfo(), request.resolution,
                      diffusion_rng=np.random.default_rng(0))
    g_params = sum(p.numel() for p in nets.G.parameters())
    d_params = sum(p.numel() for p in nets.D.parameters())
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    meter = _ActivationMeter(nets.G, nets.D)
    try:
        ctx.status("timing a warm-up iteration")
        trainer.step()
        ctx.progress(1, 3)
        ctx.check()
        interval = cfg.r1_interval if trainer.use_r1 else 1
        trainer.batch_idx = interval  # the next step runs R1 (when used), the one after does not
        meter.armed = True
        t_first = _timed_step(trainer, device)
        meter.armed = False
        ctx.progress(2, 3)
        ctx.check()
        t_plain = _timed_step(trainer, device) if interval > 1 else t_first
        ctx.progress(3, 3)
    finally:
        meter.close()
    sec_per_iter = (t_first + (interval - 1) * t_plain) / interval
    state = 4 * (4 * (g_params + d_params) + g_params)
    measured = device.type == "cuda"
    memory = int(torch.cuda.max_memory_allocated(device)) if measured else state + meter.total
    est = TrainEstimate(device=str(device), g_params=g_params, d_params=d_params, state_bytes=state,
                        activation_bytes=meter.total, memory_bytes=memory, measured_memory=measured,
                        sec_per_iter=sec_per_iter, sec_per_kimg=1000.0 * sec_per_iter / cfg.batch,
                        batch=cfg.batch)
    log.info("estimate: %s", est.summary())
    return est


def format_bytes(n: float) -> str:
    """``1536 -> "1.5 KiB"``.

    >>> format_bytes(3 * 2**30)
    '3.0 GiB'
    """
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover - the loop always returns


def format_seconds(sec: float) -> str:
    """A duration for people: ``"45 s"``, ``"3 min 20 s"``, ``"2 h 05 min"``.

    >>> format_seconds(200)
    '3 min 20 s'
    """
    sec = max(0.0, float(sec))
    if sec < 60:
        return f"{sec:.1f} s" if sec < 10 else f"{sec:.0f} s"
    minutes, s = divmod(int(round(sec)), 60)
    if minutes < 60:
        return f"{minutes} min {s:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
