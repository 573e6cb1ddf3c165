"""Does the discriminator know the classes? Its scores for held-out real images under every label.

usage: python docs/ablation/d_classes.py MODEL HELDOUT_ZIP [--per-class 64]

MODEL must carry its discriminator (training exports do). For each class, held-out images of
that class are scored under each of the labels (clean images, t = 0). Printed: the mean score
matrix (rows: the images' class, columns: the label given), per class the margin (own label
minus the mean of the other labels) and how often the own label scores highest ("D accuracy").
A conditional G only learns to draw a class as far as D tells the classes apart.
"""
import argparse
import numpy as np
import torch
torch.set_num_threads(1)
from batikstudio.io.dataset import open_dataset
from batikstudio.io.models import open_model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("heldout")
    ap.add_argument("--per-class", type=int, default=64)
    a = ap.parse_args()
    m = open_model(a.model, with_training_nets=True)
    if m.D is None:
        raise SystemExit(f"{a.model} has no discriminator (export with the training nets)")
    D = m.D.eval()
    ds = open_dataset(a.heldout)
    labels = np.asarray(ds.labels)
    names = list(getattr(ds, "class_names", None) or range(D.c_dim))
    k = D.c_dim
    mean = np.zeros((k, k))
    margins, acc = [], []
    for cls in range(k):
        idx = np.flatnonzero(labels == cls)[: a.per_class]
        imgs, _ = ds.batch(idx)
        x = torch.from_numpy(np.asarray(imgs)).float() / 127.5 - 1
        scores = np.zeros((len(idx), k))
        for c in range(k):
            with torch.no_grad():
                scores[:, c] = D(x, torch.eye(k)[[c] * len(idx)]).squeeze(1).numpy()
        mean[cls] = scores.mean(0)
        others = np.delete(scores, cls, axis=1)
        margins.append(float((scores[:, cls] - others.mean(1)).mean()))
        acc.append(float((scores.argmax(1) == cls).mean()))
    np.set_printoptions(precision=2, suppress=True, linewidth=200)
    print("mean D score (rows: images of class, columns: label given)")
    for cls in range(k):
        print(f"{str(names[cls]):14s}", mean[cls])
    print(f"{'class':14s} {'margin':>7s} {'D acc':>6s}")
    for cls in range(k):
        print(f"{str(names[cls]):14s} {margins[cls]:7.2f} {acc[cls]:6.2f}")
    print(f"{'mean':14s} {np.mean(margins):7.2f} {np.mean(acc):6.2f}")


if __name__ == "__main__":
    main()
