"""How fast could a training step be on this CPU? A compute bound for ``bench/train.py``'s 64 px config.

Counts the floating-point operations of one fast-path iteration (G and D steps, lazy R1
amortised 1/16) with ``torch.utils.flop_counter`` (convolutions and matrix products, forward
and backward, as the trainer really runs them), then measures in the same run, on the same
threads:

- the step itself (wall seconds per iteration; bf16 blocks where the CPU has native bf16, as in training);
- the best throughput of this CPU on the step's own dominant convolution shapes, in the
  step's own precision (bf16 where the CPU has it natively, else float32)
  (each shape run alone in a tight loop: the kernels at their best, with no other work);

and prints FLOPs per image, the step's achieved GFLOP/s, and the images per second the step
would reach if every FLOP ran at that best throughput with zero overhead: an upper bound for
any implementation of the same method on this machine. Compare it with the issue's 3x target.

    BATIKSTUDIO_THREADS=2 .venv/bin/python bench/train_roofline.py [--iters 4]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import NVLABS_64PX_IMG_S, R1_INTERVAL, make_trainer  # noqa: E402

from batikstudio.runtime import configure_threads  # noqa: E402

TARGET_X = 3.0


def count_flops(tr, batch_idx: int) -> tuple[int, collections.Counter]:
    """FLOPs of one iteration (``batch_idx`` 0 includes R1) and the FLOPs per convolution shape."""
    shapes: collections.Counter = collections.Counter()
    orig = torch.nn.functional.conv2d

    def spy(x, w, *args, **kwargs):
        shapes[(tuple(x.shape), tuple(w.shape), kwargs.get("groups", args[4] if len(args) > 4 else 1))] += 1
        return orig(x, w, *args, **kwargs)

    tr.batch_idx = batch_idx
    torch.nn.functional.conv2d = spy
    try:
        with FlopCounterMode(display=False) as counter:
            tr.step()
    finally:
        torch.nn.functional.conv2d = orig
    return counter.get_total_flops(), shapes


def timed_step(tr, batch_idx: int) -> float:
    tr.batch_idx = batch_idx
    start = time.perf_counter()
    tr.step()
    return time.perf_counter() - start


def best_conv_gflops(shapes: collections.Counter, dtype: torch.dtype, top: int = 4, reps: int = 20) -> float:
    """Highest forward+backward GFLOP/s in ``dtype`` over the ``top`` most frequent 3x3 conv shapes."""
    best = 0.0
    candidates = [s for s in shapes.most_common() if s[0][1][2] == 3 and s[0][2] == 1][:top]
    for (xs, ws, _), _n in candidates:
        x = torch.randn(xs, dtype=dtype).contiguous(memory_format=torch.channels_last).requires_grad_(True)
        w = torch.randn(ws, dtype=dtype).requires_grad_(True)
        flops_fwd = 2 * xs[0] * ws[0] * ws[1] * ws[2] * ws[3] * xs[2] * xs[3]
        for _ in range(3):
            torch.nn.functional.conv2d(x, w, padding=1).sum().backward()
        start = time.perf_counter()
        for _ in range(reps):
            torch.nn.functional.conv2d(x, w, padding=1).sum().backward()
        sec = (time.perf_counter() - start) / reps
        best = max(best, 3 * flops_fwd / sec / 1e9)  # forward + input grad + weight grad
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=4, help="timed plain iterations")
    args = ap.parse_args(argv)
    threads = configure_threads()
    tr = make_trainer("64px", "fast + bf16")
    dtype = tr.amp_dtype or torch.float32  # the trainer falls back to float32 without native bf16
    blocks = "bf16 blocks" if dtype == torch.bfloat16 else "float32 (this CPU has no native bf16)"
    timed_step(tr, 0)  # warm-up
    plain_flops, shapes = count_flops(tr, 1)
    r1_flops, _ = count_flops(tr, 0)
    flops = ((R1_INTERVAL - 1) * plain_flops + r1_flops) / R1_INTERVAL
    plain = float(np.median([timed_step(tr, 1) for _ in range(args.iters)]))
    with_r1 = timed_step(tr, 0)
    sec = ((R1_INTERVAL - 1) * plain + with_r1) / R1_INTERVAL
    peak = best_conv_gflops(shapes, dtype)
    batch = tr.cfg.batch
    per_img = flops / batch
    img_s, bound = batch / sec, peak * 1e9 / per_img
    target = TARGET_X * NVLABS_64PX_IMG_S
    print(f"64px config, batch {batch}, {threads} thread(s), fast path, {blocks}")
    print(f"FLOPs per iteration (R1 amortised 1/{R1_INTERVAL}): {flops / 1e9:.1f} G = {per_img / 1e9:.2f} G per image")
    print(f"measured step: {sec:.3f} s/it = {img_s:.1f} img/s, {flops / sec / 1e9:.0f} GFLOP/s achieved")
    print(f"best {'bf16' if dtype == torch.bfloat16 else 'float32'} conv throughput on the step's own shapes: "
          f"{peak:.0f} GFLOP/s")
    print(f"compute bound (every FLOP at that throughput, zero overhead): {bound:.1f} img/s "
          f"= {bound / NVLABS_64PX_IMG_S:.2f}x NVlabs' {NVLABS_64PX_IMG_S:.0f} img/s")
    print(f"measured / bound: {img_s / bound:.2f};  3x target {target:.0f} img/s / bound: {target / bound:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
