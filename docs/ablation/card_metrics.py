"""Card metrics: model vs held-out (SWD, FD-EffNet), the training-data floor, and collapse vs the training set.
usage: card_metrics.py MODEL TRAIN_ZIP HELDOUT_ZIP N [--no-floor]

Generated images are rendered as the model was trained (wrap padding for a model trained tileable).
--no-floor skips the training-data floor, which does not depend on the model (about half the time)."""
import json, sys, time
import numpy as np
import torch
torch.set_num_threads(1)
from batikstudio.io.dataset import open_dataset
from batikstudio.io.models import open_model
from batikstudio.training.metrics.evaluate import compute_metrics
from batikstudio.training.metrics.spread import collapse
model_path, train_zip, held_zip, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
floor = "--no-floor" not in sys.argv[5:]
held, train, model = open_dataset(held_zip), open_dataset(train_zip), open_model(model_path)
t = time.time()
m = compute_metrics(["swd", "fd-effnet"], held, model, num_real=n, num_fake=n)
print("model vs held-out", json.dumps(m), f"{time.time() - t:.0f}s", flush=True)
classes = set(np.asarray(held.labels).tolist())
idx = np.array([i for i in range(len(train)) if int(train.labels[i]) in classes])
idx = np.random.default_rng(0).choice(idx, size=n, replace=False)
def batches(bs=100):
    for i in range(0, n, bs):
        imgs, _ = train.batch(np.sort(idx[i:i + bs]))
        yield imgs
if floor:
    floor_m = compute_metrics(["swd", "fd-effnet"], held, batches(), num_real=n)
    print("training data vs held-out (floor)", json.dumps(floor_m), flush=True)
spread = collapse(model.G_ema, train, per_class=32, tileable=model.trained_tileable)
print("collapse vs training data", json.dumps(spread))
