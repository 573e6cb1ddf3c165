"""The bar for a grown model: a smaller model's motifs upscaled, measured against the larger held-out set.

usage: upscaled_metrics.py MODEL HELDOUT_ZIP N [--method lanczos|bicubic|nearest]

Renders the model's seeds 0..N-1 exactly as ``card_metrics.py`` does (psi 1, classes drawn from the
held-out labels, wrap padding for a model trained tileable), upscales each to the held-out data's
size with the app's own print upscale (``batikstudio.imaging.upscale``, Lanczos by default), and
prints SWD (per pyramid level too) and FD-EffNet against N held-out images. A model trained at the
larger size should beat this: it is what a user gets without one. One thread.
"""
import argparse
import json
import time

import numpy as np
import torch

from batikstudio.imaging.upscale import upscale
from batikstudio.io.dataset import open_dataset
from batikstudio.io.models import open_model
from batikstudio.training.metrics.evaluate import compute_metrics, generator_batches

torch.set_num_threads(1)


def upscaled_batches(model, held, n: int, method: str):
    """NCHW uint8 batches of the model's motifs at the held-out resolution."""
    G = model.G_ema
    factor = int(held.resolution) / int(G.img_resolution)
    with torch.no_grad():
        for batch in generator_batches(G, n, 32, 0, held, bool(model.trained_tileable)):
            hwc = batch.permute(0, 2, 3, 1).cpu().numpy()
            big = np.stack([upscale(img, factor=factor, method=method) for img in hwc])
            yield torch.from_numpy(big).permute(0, 3, 1, 2).contiguous()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("heldout_zip")
    ap.add_argument("n", type=int)
    ap.add_argument("--method", default="lanczos", choices=("lanczos", "bicubic", "nearest"))
    a = ap.parse_args()
    held, model = open_dataset(a.heldout_zip), open_model(a.model)
    if int(held.resolution) <= int(model.G_ema.img_resolution):
        raise SystemExit(f"the held-out set ({held.resolution} px) is not larger than the model "
                         f"({model.G_ema.img_resolution} px)")
    t = time.time()
    m = compute_metrics(["swd", "fd-effnet"], held, upscaled_batches(model, held, a.n, a.method), num_real=a.n)
    print(f"{a.model} {a.method} x{int(held.resolution) // int(model.G_ema.img_resolution)} vs held-out",
          json.dumps(m), f"{time.time() - t:.0f}s", flush=True)


if __name__ == "__main__":
    main()
