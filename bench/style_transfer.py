"""Benchmark and visual comparison of style transfer (Gatys vs fast) on the CPU.

Prints seconds, iterations and seconds per iteration for a 256 px Gatys run (target: <= 60 s on
2 cores) and for the fast network, and writes a comparison strip (content | style | results).

    python bench/style_transfer.py --threads 2 --out /tmp/style-bench.png

Content: scikit-image's "chelsea" photo when scikit-image is installed (not a project
dependency), else a synthetic picture. Style: a tile of the procedural batik grid in
../shared/images when present, else a synthetic stripe cloth. Timings are noisy when other
processes share the CPU: run it on an idle machine for numbers to quote.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from batikstudio.imaging.style_transfer import GatysConfig, StyleTransferRequest, stylize
from batikstudio.jobs import InlineContext

ROOT = Path(__file__).resolve().parents[1]
GRID = ROOT.parent / "shared" / "images" / "procedural-prototype-grid.png"


def content_image(square: bool) -> np.ndarray:
    try:
        from skimage import data

        img = data.chelsea()
    except ImportError:
        yy, xx = np.mgrid[0:300, 0:450]
        img = np.stack([xx * 255 // 450, yy * 255 // 300, 128 + 100 * np.sin(xx / 20.0) * np.cos(yy / 25.0)], -1)
        img = img.astype(np.uint8)
    if square:
        side = min(img.shape[:2])
        left = (img.shape[1] - side) // 2
        img = img[:, left : left + side]
    return np.ascontiguousarray(img)


def style_image(tile: tuple[int, int]) -> np.ndarray:
    if GRID.is_file():
        grid = np.asarray(Image.open(GRID).convert("RGB"))
        r, c = tile
        return grid[4 + 132 * r : 4 + 132 * r + 124, 4 + 132 * c : 4 + 132 * c + 124].copy()
    yy, xx = np.mgrid[0:128, 0:128]
    img = np.full((128, 128, 3), (31, 42, 68), np.uint8)
    img[((xx + yy) // 8) % 3 == 0] = (200, 161, 101)
    return img


def timed(request: StyleTransferRequest) -> tuple[np.ndarray, float, float, int]:
    """Result, wall seconds, CPU seconds of this process (all threads), progress reports."""
    steps = []
    ctx = InlineContext(on_progress=lambda done, total: steps.append(done))
    start, cpu = time.perf_counter(), time.process_time()
    out = stylize(request, ctx)
    return out, time.perf_counter() - start, time.process_time() - cpu, len(steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--iterations", default="100,50")
    parser.add_argument("--style-weight", type=float, default=GatysConfig().style_weight)
    parser.add_argument("--tile", default="3,6", help="row,col of the grid tile used as style")
    parser.add_argument("--colour", default="none")
    parser.add_argument("--out", type=Path, default=Path("style-bench.png"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    content = content_image(square=True)
    style = style_image(tuple(int(v) for v in args.tile.split(",")))
    config = GatysConfig(iterations=tuple(int(v) for v in args.iterations.split(",")),
                         style_weight=args.style_weight, preview_every=0)
    print(f"threads {torch.get_num_threads()}, content {content.shape[1]}x{content.shape[0]} -> "
          f"{args.size} px, style {style.shape[1]}x{style.shape[0]}")
    # warm-up: loads the weights and lets the allocator settle, not counted
    stylize(StyleTransferRequest(content, style, size=32, gatys=GatysConfig(iterations=(1,))), InlineContext())
    gatys, t_g, cpu_g, n_g = timed(StyleTransferRequest(content, style, size=args.size, gatys=config,
                                                 colour=args.colour))
    print(f"gatys {args.iterations} steps: {t_g:.1f} s for {n_g} iterations "
          f"({t_g / max(n_g, 1):.2f} s/iteration); target <= 60 s: ratio {t_g / 60.0:.2f}")
    # CPU seconds / threads is what the wall time would be on an idle machine with perfect scaling
    print(f"gatys CPU time {cpu_g:.1f} s; / {args.threads} threads = {cpu_g / args.threads:.1f} s "
          f"(idle-machine estimate; ratio to 60 s {cpu_g / args.threads / 60.0:.2f})")
    images = [content, style, gatys]
    try:
        stylize(StyleTransferRequest(content, style, method="fast", size=32), InlineContext())
        fast, t_f, _, _ = timed(StyleTransferRequest(content, style, method="fast", size=args.size,
                                                  colour=args.colour))
        print(f"fast: {t_f:.2f} s; gatys/fast time ratio {t_g / t_f:.0f}")
        images.append(fast)
    except ImportError as exc:
        print(f"fast skipped: {exc}")
    side = args.size
    strip = [np.asarray(Image.fromarray(im).resize((side, side * im.shape[0] // im.shape[1]))) for im in images]
    height = max(s.shape[0] for s in strip)
    strip = [np.pad(s, ((0, height - s.shape[0]), (0, 0), (0, 0)), constant_values=255) for s in strip]
    Image.fromarray(np.concatenate(strip, 1)).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
