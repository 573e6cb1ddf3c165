"""Seconds per training iteration: fast path vs the straightforward (NVlabs-like) path.

The configuration of TRAINING-NOTES.md: 64 px RGB, z = w = 256, 2 mapping layers,
channel_base 4096, channel_max 256, batch 16, non-saturating loss, lazy R1 (every 16),
DiffAugment, EMA, no path length. Real images come from an in-memory random data set (no
decoding cost). NVlabs' original loop measured 2.88 s/iteration (5.6 img/s) on 2 cores.

    BATIKSTUDIO_THREADS=1 python bench/train.py [--iters 6] [--batch 16] [--cmax 256] [--res 64]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from batikstudio.runtime import configure_threads
from batikstudio.training.config import TrainConfig
from batikstudio.training.data import RealSampler
from batikstudio.training.distributed import DistInfo
from batikstudio.training.networks import build_scratch, scratch_configs
from batikstudio.training.step import Trainer, cpu_has_native_bf16

NVLABS_S_PER_ITER = 2.88


class RandomImages:
    def __init__(self, n: int, res: int) -> None:
        self.imgs = np.random.default_rng(0).integers(0, 256, (n, res, res, 3), dtype=np.uint8)
        self.resolution, self.channels, self.labels, self.class_names = res, 3, None, ()

    def __len__(self) -> int:
        return len(self.imgs)

    def __getitem__(self, i: int):
        return self.imgs[i], -1


def time_trainer(fast: bool, args: argparse.Namespace, cpu_bf16: bool = False) -> float:
    cfg = TrainConfig(batch=args.batch, augment="diffaugment", fast_path=fast, device="cpu", r1_interval=16,
                      cpu_bf16=cpu_bf16,
                      g_kwargs=dict(z_dim=256, w_dim=256, mapping_layers=2, channel_base=4096,
                                    channel_max=args.cmax, num_fp16_res=0, conv_clamp=None))
    ds = RandomImages(256, args.res)
    torch.manual_seed(0)
    g_cfg, d_cfg = scratch_configs(cfg, args.res, 3, 0, args.batch)
    nets = build_scratch(g_cfg, d_cfg)
    sampler = RealSampler(ds, args.res, 0, False, torch.Generator().manual_seed(0))
    tr = Trainer(cfg, nets.G, nets.D, nets.G_ema, sampler, torch.device("cpu"), DistInfo(), args.res)
    tr.step()  # warm-up (includes the first R1 step)
    tr.batch_idx = 1
    times = []
    for _ in range(args.iters):
        t0 = time.perf_counter()
        tr.step()
        times.append(time.perf_counter() - t0)
    # lazy R1 runs once every 16 iterations: weight the measured R1-free iterations
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iters", type=int, default=6)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--cmax", type=int, default=256)
    ap.add_argument("--res", type=int, default=64)
    args = ap.parse_args()
    threads = configure_threads()
    print(f"torch {torch.__version__}, {threads} thread(s), {args.res} px, batch {args.batch}, cmax {args.cmax}")
    straight = time_trainer(False, args)
    fast = time_trainer(True, args)
    rows = [("straightforward", straight), ("fast path", fast)]
    if cpu_has_native_bf16():
        rows.append(("fast + cpu bf16", time_trainer(True, args, cpu_bf16=True)))
    for name, s in rows:
        print(f"{name:16s} {s:6.2f} s/iteration  {args.batch / s:6.1f} img/s  {straight / s:5.2f}x")
    print(f"fast / straightforward speed-up: {straight / fast:.2f}x")
    print(f"fast vs NVlabs loop ({NVLABS_S_PER_ITER} s/it, 2 cores, batch 16): {NVLABS_S_PER_ITER / fast:.2f}x")


if __name__ == "__main__":
    main()
