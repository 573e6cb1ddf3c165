"""Tiny in-memory data set and configs for the training tests (8-16 px, 1 thread)."""

import numpy as np
import pytest

from batikstudio.training.config import TrainConfig

TINY_G = dict(z_dim=16, w_dim=16, mapping_layers=2, channel_base=128, channel_max=16)


class TinyDataset:
    """``n`` random RGB images of ``res`` px with ``k`` classes (the stand-in for open_dataset)."""

    def __init__(self, n: int = 24, res: int = 8, channels: int = 3, k: int = 2, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.imgs = rng.integers(0, 256, (n, res, res, channels), dtype=np.uint8)
        self.labels = np.arange(n) % k
        self.resolution = res
        self.channels = channels
        self.class_names = tuple(f"family{i}" for i in range(k))

    def __len__(self):
        return len(self.imgs)

    def __getitem__(self, i):
        return self.imgs[i], int(self.labels[i])


def tiny_config(**changes) -> TrainConfig:
    base = dict(batch=4, total_kimg=0.016, kimg_per_tick=0.008, snapshot_ticks=1, r1_interval=2,
                g_kwargs=TINY_G, sample_seeds=(0, 1, 2, 3), device="cpu", augment="none")
    base.update(changes)
    return TrainConfig(**base)


@pytest.fixture
def tiny_dataset():
    return TinyDataset()
