"""Images per second of a full training step on the CPU, with lazy R1 amortised, and peak memory.

Two configurations, as named in the training issue:

- ``64px``: 64 px RGB, z = w = 256, 2 mapping layers, channel_base 4096, channel_max 128,
  batch 16 (TRAINING-NOTES.md: NVlabs' original loop reaches about 9 images/s on 2 cores);
- ``paper256``: NVlabs' paper256 at 256 px (z = w = 512, 8 mapping layers, channel_base 16384,
  channel_max 512, conv_clamp 256, minibatch-std group 8, gamma 1), batch 8.

Both: non-saturating loss, DiffAugment, EMA, no path length; real images from an in-memory
random data set (no decoding cost). Each is timed for the straightforward (NVlabs order:
G step, then D step on a second batch, reference convolutions) path, the fast path, and the
fast path with bfloat16 autocast (only on CPUs with native bf16). A plain iteration (G and D
steps) and an iteration with the R1 step are timed separately and weighted 15/16 : 1/16, as
lazy R1 runs every 16 iterations. Every cell runs in its own subprocess, which reports its
peak resident memory (``ru_maxrss``, including the Python / torch baseline).

    BATIKSTUDIO_THREADS=1 .venv/bin/python bench/train.py [--quick] [--cpu-time] [--configs 64px paper256]
        [--processes 2]   # also: 2 data-parallel processes x 1 thread (gloo), global batch unchanged
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import torch

from batikstudio.runtime import configure_threads, cpu_has_native_bf16
from batikstudio.training.config import TrainConfig
from batikstudio.training.data import RealSampler
from batikstudio.training.distributed import DistInfo, init_distributed, shutdown
from batikstudio.training.networks import build_scratch, scratch_configs
from batikstudio.training.step import Trainer

NVLABS_64PX_IMG_S = 9.0  # original code, 64 px cmax 128 batch 16, 2-core dev machine
R1_INTERVAL = 16

CONFIGS = {
    "64px": dict(res=64, batch=16, r1_gamma=None,
                 g=dict(z_dim=256, w_dim=256, mapping_layers=2, channel_base=4096, channel_max=128,
                        num_fp16_res=0, conv_clamp=None),
                 d={}),
    "paper256": dict(res=256, batch=8, r1_gamma=1.0,
                     g=dict(z_dim=512, w_dim=512, mapping_layers=8, channel_base=16384, channel_max=512,
                            num_fp16_res=0, conv_clamp=256),
                     d={"mbstd_group_size": 8}),
}
VARIANTS = {
    "straightforward": dict(fast_path=False, cpu_bf16=False),
    "fast": dict(fast_path=True, cpu_bf16=False),
    "fast + bf16": dict(fast_path=True, cpu_bf16=True),
}


class RandomImages:
    """``n`` random RGB uint8 images in memory (the data set protocol of the trainer)."""

    def __init__(self, n: int, res: int) -> None:
        self.imgs = np.random.default_rng(0).integers(0, 256, (n, res, res, 3), dtype=np.uint8)
        self.resolution, self.channels, self.labels, self.class_names = res, 3, None, ()

    def __len__(self) -> int:
        return len(self.imgs)

    def __getitem__(self, i: int):
        return self.imgs[i], -1


def make_trainer(config: str, variant: str, info: DistInfo = DistInfo()) -> Trainer:
    """A trainer of one bench configuration on the CPU (random weights, seed 0); with ``info``
    one process's share of a data-parallel run."""
    spec = CONFIGS[config]
    cfg = TrainConfig(batch=spec["batch"], augment="diffaugment", device="cpu", r1_interval=R1_INTERVAL,
                      r1_gamma=spec["r1_gamma"], g_kwargs=spec["g"], d_kwargs=spec["d"], **VARIANTS[variant])
    res = spec["res"]
    torch.manual_seed(0)
    g_cfg, d_cfg = scratch_configs(cfg, res, 3, 0, cfg.batch // info.world_size)
    nets = build_scratch(g_cfg, d_cfg)
    sampler = RealSampler(RandomImages(64, res), res, 0, False, torch.Generator().manual_seed(0),
                          rank=info.rank, world_size=info.world_size)
    return Trainer(cfg, nets.G, nets.D, nets.G_ema, sampler, torch.device("cpu"), info, res)


def _timed_step(tr: Trainer, batch_idx: int, clock=time.perf_counter) -> float:
    tr.batch_idx = batch_idx  # 0 mod 16: the iteration includes the R1 step
    start = clock()
    tr.step()
    return clock() - start


def measure(config: str, variant: str, iters: int, cpu_time: bool = False) -> dict[str, float]:
    """Seconds of a plain iteration (median of ``iters``) and of an R1 iteration, peak RSS.

    ``cpu_time``: count this process's CPU time instead of wall time (robust on a busy
    machine; meaningful with one thread only).
    """
    clock = time.process_time if cpu_time else time.perf_counter
    info = init_distributed(None, None, torch.device("cpu"))  # torchrun-style env: a 2-process cell
    tr = make_trainer(config, variant, info)
    _timed_step(tr, 0)  # warm-up: first allocations, one-off kernels (includes R1)
    plain = float(np.median([_timed_step(tr, 1, clock) for _ in range(iters)]))
    with_r1 = float(np.median([_timed_step(tr, 0, clock) for _ in range(max(iters // 3, 1))]))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    shutdown(info)
    return {"plain_s": plain, "r1_s": with_r1, "peak_mib": peak_mib}


def amortised_s(row: dict[str, float]) -> float:
    """Seconds per iteration with R1 once every 16 iterations."""
    return ((R1_INTERVAL - 1) * row["plain_s"] + row["r1_s"]) / R1_INTERVAL


def run_cell(config: str, variant: str, iters: int, cpu_time: bool, processes: int = 1) -> dict[str, float]:
    """:func:`measure` in fresh subprocesses (so peak memory is their own).

    ``processes`` > 1: that many data-parallel processes (gloo, like ``torchrun``), one torch
    thread each, sharing the global batch; rank 0's times, the processes' summed peak memory.
    """
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", config, variant, "--iters", str(iters)]
    cmd += ["--cpu-time"] if cpu_time else []
    if processes == 1:
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
    else:
        port = str(29500 + os.getpid() % 1000)
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env={**os.environ, "RANK": str(r), "LOCAL_RANK": str(r), "WORLD_SIZE": str(processes),
                                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port, "BATIKSTUDIO_THREADS": "1"})
                 for r in range(processes)]
    rows = []
    for p in procs:
        out, err = p.communicate()
        if p.returncode != 0:
            raise RuntimeError(f"{config} / {variant} failed:\n{err[-3000:]}")
        rows.append(json.loads(out.strip().splitlines()[-1]))
    return {**rows[0], "peak_mib": sum(r["peak_mib"] for r in rows)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 timed plain iterations and 1 R1 iteration per cell")
    ap.add_argument("--iters", type=int, default=None, help="timed plain iterations per cell (default 6, quick 2)")
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    ap.add_argument("--cpu-time", action="store_true",
                    help="time process CPU time instead of wall time (busy machine; 1 thread only)")
    ap.add_argument("--processes", type=int, default=1,
                    help="also time the fastest path as N data-parallel processes of one thread each "
                         "(gloo, like torchrun) beside the threaded cells")
    ap.add_argument("--worker", nargs=2, metavar=("CONFIG", "VARIANT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    threads = configure_threads()
    iters = args.iters or (2 if args.quick else 6)
    if args.worker:
        print(json.dumps(measure(*args.worker, iters, args.cpu_time)))
        return 0
    variants = [v for v in VARIANTS if cpu_has_native_bf16() or "bf16" not in v]
    print(f"torch {torch.__version__}, {threads} thread(s), native bf16: {cpu_has_native_bf16()}, "
          f"{iters} timed iterations per cell, {'CPU' if args.cpu_time else 'wall'} time; "
          f"R1 every {R1_INTERVAL} (weighted 15/16 : 1/16)")
    print(f"{'config':9s} {'path':16s} {'plain s/it':>10s} {'R1 s/it':>8s} {'amort. s/it':>11s} "
          f"{'img/s':>7s} {'x straight':>10s} {'x NVlabs':>8s} {'peak MiB':>8s}")
    for config in args.configs:
        batch = CONFIGS[config]["batch"]
        base = None
        for variant in variants:
            row = run_cell(config, variant, iters, args.cpu_time)
            sec = amortised_s(row)
            base = base or sec
            ips = batch / sec
            vs_nvlabs = f"{ips / NVLABS_64PX_IMG_S:8.2f}" if config == "64px" else f"{'-':>8s}"
            print(f"{config:9s} {variant:16s} {row['plain_s']:10.2f} {row['r1_s']:8.2f} {sec:11.2f} "
                  f"{ips:7.2f} {base / sec:10.2f} {vs_nvlabs} {row['peak_mib']:8.0f}", flush=True)
        if args.processes > 1:
            variant = variants[-1]
            row = run_cell(config, variant, iters, args.cpu_time, args.processes)
            sec = amortised_s(row)
            ips = batch / sec
            vs_nvlabs = f"{ips / NVLABS_64PX_IMG_S:8.2f}" if config == "64px" else f"{'-':>8s}"
            label = f"{variant}, {args.processes}x1p"
            print(f"{config:9s} {label:16s} {row['plain_s']:10.2f} {row['r1_s']:8.2f} {sec:11.2f} "
                  f"{ips:7.2f} {base / sec:10.2f} {vs_nvlabs} {row['peak_mib']:8.0f}", flush=True)
    print(f"NVlabs' original loop: about {NVLABS_64PX_IMG_S:.0f} img/s on the 64px config on 2 cores "
          f"(target: 3x = {3 * NVLABS_64PX_IMG_S:.0f} img/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
