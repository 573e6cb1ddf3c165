"""Benchmark the metrics on CPU: SWD on N real vs N fake images (random pixels, no generator),
and EfficientNet-Lite0 feature extraction per image.

Prints seconds per phase and the ratio of the SWD time to a 60 s budget (the trainer's cheap
default should stay well under 1.0 at 2k images, 64 px). Generation time is not included
(see bench/generate.py). Timings on a shared machine are noisy.

Usage::

    .venv/bin/python bench/metrics.py                  # 2048 images, 64 px, 1 thread
    .venv/bin/python bench/metrics.py --num 512 --res 32 --threads 2 --effnet 64
"""

from __future__ import annotations

import argparse
import time

import torch

from batikstudio.training.metrics.evaluate import MetricOptions, MetricSuite


def _batches(num: int, res: int, batch: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    for start in range(0, num, batch):
        n = min(batch, num - start)
        yield torch.randint(0, 256, (n, 3, res, res), generator=g, dtype=torch.int64).to(torch.uint8)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num", type=int, default=2048)
    ap.add_argument("--res", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--effnet", type=int, default=32, help="images through EfficientNet-Lite0 (0: skip)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    opts = MetricOptions(batch_size=64)
    suite = MetricSuite("swd", "cpu", opts)
    t0 = time.perf_counter()
    real = suite.collect(_batches(args.num, args.res, 64, 0), args.res, 0)
    t1 = time.perf_counter()
    fake = suite.collect(_batches(args.num, args.res, 64, 1), args.res, 1)
    t2 = time.perf_counter()
    values = suite.compare(real, fake)
    t3 = time.perf_counter()
    print(f"SWD {args.num} vs {args.num} images, {args.res} px, {args.threads} thread(s): "
          f"real descriptors {t1 - t0:.1f} s, fake {t2 - t1:.1f} s, distance {t3 - t2:.1f} s, "
          f"total {t3 - t0:.1f} s (ratio to 60 s: {(t3 - t0) / 60:.2f}); swd = {values['swd']:.2f}")
    print(f"  per trainer call (real side cached): {t3 - t1:.1f} s (ratio to 60 s: {(t3 - t1) / 60:.2f})")
    if args.effnet:
        eff = MetricSuite("fd-effnet", "cpu", opts)
        t0 = time.perf_counter()
        eff.collect(_batches(args.effnet, args.res, 32, 2), args.res, 0)
        dt = time.perf_counter() - t0
        print(f"EfficientNet-Lite0 features: {dt / args.effnet * 1000:.0f} ms per image ({args.effnet} images)")


if __name__ == "__main__":
    main()
