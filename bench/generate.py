"""Benchmark StyleGAN2 generation on CPU: fast path vs the straightforward (NVlabs-like) path.

Prints a table of seconds per image at batch 1 and batch 8, for a 64 px config and the
'paper256' config (z = w = 512, 8 mapping layers, channel_base 16384, channel_max 512, random
weights), with 1 and 2 torch threads, and the straightforward/fast ratio. Times are the best of
the repeats (least disturbed by other processes).

Usage::

    .venv/bin/python bench/generate.py            # full table
    .venv/bin/python bench/generate.py --quick    # one timed repeat per cell
    .venv/bin/python bench/generate.py --configs paper256 --threads 2 --batches 1 --bf16
"""

from __future__ import annotations

import argparse
import time

import torch

from batikstudio.core.nets import Generator, GeneratorConfig


CONFIGS = {
    "64px": GeneratorConfig(z_dim=256, c_dim=0, w_dim=256, img_resolution=64, img_channels=3, mapping_layers=4,
                            channel_base=16384, channel_max=256),
    "paper256": GeneratorConfig(z_dim=512, c_dim=0, w_dim=512, img_resolution=256, img_channels=3,
                                mapping_layers=8, channel_base=16384, channel_max=512, conv_clamp=256),
}

# NVlabs original code on a 2-core dev machine (REFERENCE.md), seconds per image.
NVLABS_PAPER256 = {1: 0.25, 8: 0.48}


def time_generation(G: Generator, batch: int, fast: bool, repeats: int, dtype: torch.dtype | None = None,
                    clock=time.perf_counter) -> float:
    """Best-of-``repeats`` seconds per image for ``G(z)`` with const noise (after one warm-up)."""
    z = torch.randn(batch, G.z_dim, generator=torch.Generator().manual_seed(batch))
    best = float("inf")
    with torch.inference_mode():
        G(z, None, noise_mode="const", fast=fast, dtype=dtype)
        for _ in range(repeats):
            start = clock()
            G(z, None, noise_mode="const", fast=fast, dtype=dtype)
            best = min(best, clock() - start)
    return best / batch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one timed repeat per cell")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--no-straightforward", action="store_true", help="time the fast path only")
    parser.add_argument("--bf16", action="store_true", help="add a column for the bfloat16 fast path")
    parser.add_argument("--cpu-time", action="store_true",
                        help="report process CPU time instead of wall time (robust on a busy machine; "
                             "meaningful with 1 thread only)")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else 3
    clock = time.process_time if args.cpu_time else time.perf_counter

    print(f"torch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"{'process CPU' if args.cpu_time else 'wall'} time")
    bf16_head = f" {'bf16 s/img':>11}" if args.bf16 else ""
    print(f"{'config':<9} {'thr':>3} {'batch':>5} {'fast s/img':>11} {'straight s/img':>15} {'ratio':>6}{bf16_head}")
    for name in args.configs:
        torch.manual_seed(0)
        G = Generator(CONFIGS[name]).eval()
        for threads in args.threads:
            torch.set_num_threads(threads)
            for batch in args.batches:
                fast = time_generation(G, batch, True, repeats, clock=clock)
                bf16 = f" {time_generation(G, batch, True, repeats, torch.bfloat16, clock):>11.3f}" if args.bf16 else ""
                if args.no_straightforward:
                    print(f"{name:<9} {threads:>3} {batch:>5} {fast:>11.3f} {'-':>15} {'-':>6}{bf16}")
                    continue
                slow = time_generation(G, batch, False, repeats, clock=clock)
                print(f"{name:<9} {threads:>3} {batch:>5} {fast:>11.3f} {slow:>15.3f} {slow / fast:>6.2f}{bf16}")
    if "paper256" in args.configs:
        print("NVlabs original, paper256, 2 cores: "
              + ", ".join(f"batch {b}: {t:.2f} s/img" for b, t in NVLABS_PAPER256.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
