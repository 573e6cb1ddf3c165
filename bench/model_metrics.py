"""Metrics of a model against held-out data, plus the training-data floor (for model cards).

Usage: python bench/model_metrics.py MODEL TRAIN_ZIP HELDOUT_ZIP N
"""
import json, sys, time
import numpy as np
from batikstudio.io.dataset import open_dataset
from batikstudio.io.models import open_model
from batikstudio.training.metrics.evaluate import compute_metrics
model, train_zip, held_zip, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
held = open_dataset(held_zip); train = open_dataset(train_zip)
t = time.time()
m = compute_metrics(["swd", "fd-effnet"], held, open_model(model), num_real=n, num_fake=n)
print("model vs held-out", json.dumps(m), f"{time.time()-t:.0f}s")
def batches(ds, n, bs=100):
    for i in range(0, n, bs):
        imgs, _ = ds.batch(np.arange(i, min(n, i + bs)))
        yield imgs
m2 = compute_metrics(["swd", "fd-effnet"], held, batches(train, n), num_real=n)
print("training data vs held-out (floor)", json.dumps(m2))
