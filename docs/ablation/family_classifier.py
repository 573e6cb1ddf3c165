"""Would the generated motifs be taken for their family? A classifier trained on the real motifs says.

usage: python docs/ablation/family_classifier.py TRAIN_ZIP HELDOUT_ZIP MODEL [MODEL ...]
       [--per-class 100] [--psi 1] [--epochs 8] [--cache classifier.pt] [--res R]

A small convolutional classifier (wrap-around padding, random wrap shifts and flips, since the
motifs tile) is trained on the procedural training motifs, checked on the held-out motifs (its
accuracy there is the ceiling), then given ``per-class`` seeds of every family of each MODEL
(rendered as the model was trained; a model of a higher resolution than the data is box-filtered
down to the data's). ``--res R`` box-filters the data to R px first: a 128 px model and its 128 px
data judged at 64 px (the classifier is fast there). Judge a model with data rendered at its own
resolution: the classifier, trained on one rendering, misnames motifs rendered at another and
box-filtered (real 128 px sekar jagad filtered to 64 px: 5 % named by the 64 px classifier). Printed per family: how often the classifier names the
requested family, and the family it names most often otherwise. Deterministic (seed 0); about
10-12 minutes of training on one thread (``--cache`` keeps the weights).
"""
import argparse, os, time
import numpy as np
import torch
import torch.nn.functional as F
torch.set_num_threads(1)
from batikstudio.io.dataset import open_dataset
from batikstudio.io.models import open_model
from batikstudio.render.engine import render
from batikstudio.render.request import RenderRequest


def make_net(k: int) -> torch.nn.Module:
    def conv(i, o, s):
        return [torch.nn.Conv2d(i, o, 3, s, 1, padding_mode="circular"), torch.nn.BatchNorm2d(o), torch.nn.ReLU()]
    return torch.nn.Sequential(*conv(3, 32, 1), *conv(32, 48, 2), *conv(48, 64, 2), *conv(64, 96, 2),
                               *conv(96, 128, 2), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                               torch.nn.Linear(128, k))


def load(zip_path: str, res: int | None = None) -> tuple[torch.Tensor, np.ndarray, list[str]]:
    """A labelled data set as [-1, 1] NCHW images (box-filtered down to ``res`` px when given)."""
    ds = open_dataset(zip_path)
    imgs, _ = ds.batch(np.arange(len(ds)))
    x = torch.from_numpy(np.asarray(imgs)).float() / 127.5 - 1
    return (x if res is None else at_res(x, res)), np.asarray(ds.labels), list(ds.class_names)


def jitter(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    dy, dx = (int(v) for v in torch.randint(0, x.shape[-1], (2,), generator=g))
    x = torch.roll(x, (dy, dx), dims=(2, 3))
    if float(torch.rand((), generator=g)) < 0.5:
        x = x.flip(3)
    return x


def train(x: torch.Tensor, y: np.ndarray, k: int, epochs: int) -> torch.nn.Module:
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    net = make_net(k)
    opt = torch.optim.Adam(net.parameters(), 2e-3)
    steps = epochs * (len(x) // 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=steps)
    yt = torch.from_numpy(y)
    net.train()
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        for s in range(0, len(x) - 63, 64):
            idx = perm[s:s + 64]
            loss = F.cross_entropy(net(jitter(x[idx], g)), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    return net.eval()


def predict(net: torch.nn.Module, x: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return torch.cat([net(x[s:s + 256]).argmax(1) for s in range(0, len(x), 256)]).numpy()


def at_res(x: torch.Tensor, res: int) -> torch.Tensor:
    """NCHW images box-filtered down to ``res`` px (unchanged when they are that size already)."""
    if x.shape[-1] == res:
        return x
    if x.shape[-1] < res or x.shape[-1] % res:
        raise SystemExit(f"cannot compare {x.shape[-1]} px images with {res} px data")
    return F.avg_pool2d(x.float(), x.shape[-1] // res)


def generated(path: str, k: int, per_class: int, psi: float, res: int | None = None) -> torch.Tensor:
    """``per_class`` seeds of every class, rendered as the app renders them (as trained), at ``res`` px."""
    model = open_model(path)
    out = [render(model, RenderRequest(seeds=tuple(range(per_class)), class_index=cls, psi=psi,
                                       tileable=bool(model.trained_tileable)), batch_size=50).images
           for cls in range(k)]
    x = torch.from_numpy(np.concatenate(out)).permute(0, 3, 1, 2).float() / 127.5 - 1
    return x if res is None else at_res(x, res)


def report(name: str, pred: np.ndarray, y: np.ndarray, names: list[str]) -> None:
    k = len(names)
    print(f"{name}: named the family {np.mean(pred == y):.3f}")
    for cls in range(k):
        p = pred[y == cls]
        wrong = np.bincount(p[p != cls], minlength=k)
        other = f", else mostly {names[int(wrong.argmax())]} ({wrong.max() / len(p):.2f})" if wrong.sum() else ""
        print(f"  {names[cls]:12s} {np.mean(p == cls):.2f}{other}")


def ready(x, y, k: int, epochs: int, cache: str | None) -> torch.nn.Module:
    """The classifier: loaded from ``cache`` when that file exists, else trained (and saved there)."""
    if cache and os.path.exists(cache):
        net = make_net(k)
        net.load_state_dict(torch.load(cache, weights_only=True))
        return net.eval()
    net = train(x, y, k, epochs)
    if cache:
        torch.save(net.state_dict(), cache)
    return net


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("train_zip")
    ap.add_argument("heldout_zip")
    ap.add_argument("models", nargs="*")
    ap.add_argument("--per-class", type=int, default=100)
    ap.add_argument("--psi", type=float, default=1.0)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--cache", default=None)
    ap.add_argument("--res", type=int, default=None, help="box-filter the data (and the models) to this size")
    a = ap.parse_args()
    t0 = time.time()
    x, y, names = load(a.train_zip, a.res)
    k = len(names)
    net = ready(x, y, k, a.epochs, a.cache)
    print(f"classifier ready, {time.time() - t0:.0f}s")
    hx, hy, _ = load(a.heldout_zip, a.res)
    report("held-out motifs (the ceiling)", predict(net, hx), hy, names)
    for path in a.models:
        gy = np.repeat(np.arange(k), a.per_class)
        report(f"{os.path.basename(path)}, psi {a.psi}, {a.per_class} seeds per family",
               predict(net, generated(path, k, a.per_class, a.psi, x.shape[-1])), gy, names)


if __name__ == "__main__":
    main()
