"""Per-family checks of a batik model against held-out real motifs (finer than the classifier alone).

usage: python docs/ablation/batik_families.py TRAIN_ZIP HELDOUT_ZIP MODEL [MODEL ...]
       [--per-class 100] [--psi 1] [--cache classifier.pt] [--unseen-grid unseen.png] [--res R]

For every family: SWD (x1e3, 100 images a side) between the model's seeds 0..per_class-1 and the
held-out motifs of that family, beside the floor (training motifs of the family against the same
held-out ones), the classifier of ``family_classifier.py`` (``--cache`` reuses its weights), and the
*arrangement distance*: how far each motif's 16 px grey levels (standardised) are from the nearest
held-out motif of its family under any wrap-around shift or mirroring (SWD and the classifier
look at texture; this looks at where the patches, cells and bands lie), beside its floor (training
motifs of the family).

For a structure model (``layout_by_class``) also:
* *unseen layouts*: each held-out motif's own layout (the model never saw it) drawn in its family;
  how often the classifier names that family (and a grid, ``--unseen-grid``);
* *copies?*: the mean pixel distance between a seed's motif and the training motif whose layout it
  drew, beside the distance from that training motif to the nearest other training motif of its
  family (a copy would be far closer than that).
A model of a higher resolution than the data is judged at the data's (box filter); ``--res R``
box-filters the data to R px first (see family_classifier.py: use data rendered at the model's size).
Deterministic (seed 0); one thread.
"""
import argparse
import os
import sys

import numpy as np
import torch
from PIL import Image

torch.set_num_threads(1)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from family_classifier import at_res, load, predict, ready  # noqa: E402

from batikstudio.core.latents import seeds_to_z  # noqa: E402
from batikstudio.core.nets.layout import ink_layouts, seed_class_rows, standardise_layouts  # noqa: E402
from batikstudio.io.models import open_model  # noqa: E402
from batikstudio.render.engine import render  # noqa: E402
from batikstudio.render.request import RenderRequest  # noqa: E402
from batikstudio.training.metrics.evaluate import compute_metrics  # noqa: E402
from batikstudio.training.samples import tile_grid  # noqa: E402


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    return ((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)


def swd(a: torch.Tensor, b: torch.Tensor) -> float:
    """SWD x1e3 of two sets of [-1, 1] NCHW images."""
    batches = lambda x: [to_uint8(x[s:s + 50]) for s in range(0, len(x), 50)]  # noqa: E731
    return compute_metrics("swd", batches(a), batches(b))["swd"]


def grey_layouts(x: torch.Tensor, res: int = 16) -> torch.Tensor:
    """Standardised grey level at ``res`` px of [-1, 1] images: ``[N, res, res]``."""
    g = torch.nn.functional.avg_pool2d(x.mean(dim=1, keepdim=True), x.shape[-1] // res)[:, 0]
    g = g - g.mean(dim=(1, 2), keepdim=True)
    return g / g.flatten(1).std(dim=1).clamp_min(0.05).view(-1, 1, 1)


def arrangement_distance(x: torch.Tensor, real: torch.Tensor) -> float:
    """Mean over ``x`` of the distance (mean |difference| of the standardised 16 px grey levels) to the
    nearest of ``real``, over every wrap-around shift and the mirror image (motifs tile): how far each
    arrangement is from one that occurs in real motifs."""
    a, r = grey_layouts(x).flatten(1), grey_layouts(real)
    cands = torch.cat([torch.roll(v, (dy, dx), dims=(1, 2)).flatten(1) for v in (r, r.flip(2))
                       for dy in range(r.shape[1]) for dx in range(r.shape[2])])
    best = torch.cat([torch.cdist(a[s:s + 25], cands, p=1).min(dim=1).values for s in range(0, len(a), 25)])
    return float(best.mean() / a.shape[1])


def seeds_images(model, cls: int, n: int, psi: float, res: int) -> torch.Tensor:
    req = RenderRequest(seeds=tuple(range(n)), class_index=cls, psi=psi, tileable=bool(model.trained_tileable))
    imgs = render(model, req, batch_size=50).images
    return at_res(torch.from_numpy(imgs).permute(0, 3, 1, 2).float() / 127.5 - 1, res)


def unseen(model, hx: torch.Tensor, hy: np.ndarray, psi: float) -> torch.Tensor:
    """Held-out motifs' own layouts, drawn in their families (seed = index; psi towards the global w average)."""
    G = model.G_ema
    L = G.cfg.layout_res
    lay = standardise_layouts(ink_layouts(to_uint8(hx).numpy(), L))
    out = []
    with torch.no_grad():
        for s in range(0, len(hx), 50):
            idx = np.arange(s, min(s + 50, len(hx)))
            z = seeds_to_z(idx.tolist(), G.z_dim)
            c = torch.eye(G.c_dim)[torch.from_numpy(hy[idx])]
            w_avg = G.mapping.w_avg
            ws = G.mapping(z, c)
            ws = w_avg + psi * (ws - w_avg)
            out.append(G.synthesis(ws, noise_mode="const", tileable=bool(model.trained_tileable),
                                   layout=torch.from_numpy(lay[idx]).reshape(-1, 1, L, L)).clamp(-1, 1))
    return at_res(torch.cat(out), hx.shape[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("train_zip")
    ap.add_argument("heldout_zip")
    ap.add_argument("models", nargs="+")
    ap.add_argument("--per-class", type=int, default=100)
    ap.add_argument("--psi", type=float, default=1.0)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--cache", default=None)
    ap.add_argument("--unseen-grid", default=None)
    ap.add_argument("--res", type=int, default=None, help="box-filter the data (and the models) to this size")
    a = ap.parse_args()
    x, y, names = load(a.train_zip, a.res)
    hx, hy, _ = load(a.heldout_zip, a.res)
    k = len(names)
    net = ready(x, y, k, a.epochs, a.cache)
    n = a.per_class
    floor = {cls: swd(x[np.flatnonzero(y == cls)[:n]], hx[hy == cls][:n]) for cls in range(k)}
    arr_floor = {cls: arrangement_distance(x[np.flatnonzero(y == cls)[:n]], hx[hy == cls]) for cls in range(k)}
    for path in a.models:
        model = open_model(path)
        G = model.G_ema
        structure = bool(getattr(G.cfg, "layout_by_class", False))
        print(f"== {os.path.basename(path)}, psi {a.psi}, {n} seeds per family"
              f"{' (a structure model)' if structure else ''}")
        print(f"{'family':12s} {'named':>6s} {'SWD':>6s} {'floor':>6s} {'arr':>6s} {'floor':>6s}"
              + ("  copy-dist  nearest-other" if structure else ""))
        rows_all = G.layout_classes.tolist() if structure else []
        for cls in range(k):
            gen = seeds_images(model, cls, n, a.psi, x.shape[-1])
            named = float(np.mean(predict(net, gen) == cls))
            line = (f"{names[cls]:12s} {named:6.2f} {swd(gen, hx[hy == cls][:n]):6.1f} {floor[cls]:6.1f} "
                    f"{arrangement_distance(gen, hx[hy == cls]):6.3f} {arr_floor[cls]:6.3f}")
            if structure:
                src = torch.stack([x[r] for r in seed_class_rows(range(n), [cls] * n, rows_all)])
                fam = x[np.flatnonzero(y == cls)]
                copy = (gen - src).abs().flatten(1).mean(1)
                d = torch.cdist(src.flatten(1), fam.flatten(1), p=1) / src[0].numel()
                d[d < 1e-6] = float("inf")  # the source itself
                line += f"  {copy.mean():9.3f}  {d.min(dim=1).values.mean():13.3f}"
            print(line, flush=True)
        if structure:
            imgs = unseen(model, hx, hy, a.psi)
            pred = predict(net, imgs)
            print(f"unseen layouts (held-out motifs' own): named the family {np.mean(pred == hy):.3f}; per family "
                  + ", ".join(f"{names[c]} {np.mean(pred[hy == c] == c):.2f}" for c in range(k)))
            if a.unseen_grid:
                pick = np.concatenate([np.flatnonzero(hy == c)[:10] for c in range(k)])
                pix = to_uint8(torch.cat([hx[pick], imgs[pick]])).permute(0, 2, 3, 1).numpy()
                order = np.concatenate([np.stack([pix[i:i + 10], pix[len(pick) + i:len(pick) + i + 10]])
                                        for i in range(0, len(pick), 10)])
                Image.fromarray(tile_grid(order.reshape(-1, *pix.shape[1:]), cols=10)).save(a.unseen_grid)
                print(f"wrote {a.unseen_grid} (pairs of rows: held-out motif, the model's motif from its layout)")


if __name__ == "__main__":
    main()
