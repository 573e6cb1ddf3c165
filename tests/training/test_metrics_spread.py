"""The seed-collapse metric: 1 for a generator that ignores z, about 0 for one as varied as the data."""

import numpy as np
import pytest
import torch

from batikstudio.errors import DatasetError
from batikstudio.training.metrics.evaluate import MetricOptions, compute_metrics, training_metrics
from batikstudio.training.metrics.spread import collapse, spread


class LabelledNoise:
    """k classes of uniform random images, class k brighter by 40 * k."""

    def __init__(self, n=120, res=16, k=3, seed=0):
        rng = np.random.default_rng(seed)
        self.labels = np.arange(n) % k
        self.imgs = [np.clip(rng.integers(0, 120, (res, res, 3)) + 40 * lab, 0, 255).astype(np.uint8)
                     for lab in self.labels]
        self.resolution, self.channels, self.class_names = res, 3, tuple(f"c{i}" for i in range(k))

    def __len__(self):
        return len(self.imgs)

    def __getitem__(self, i):
        return self.imgs[i], int(self.labels[i])


class ToyG(torch.nn.Module):
    """A 'generator' whose images depend on z with weight ``use_z`` (0 = collapsed)."""

    def __init__(self, use_z, c_dim=3, res=16):
        super().__init__()
        self.z_dim, self.c_dim, self.img_resolution, self.img_channels = 16, c_dim, res, 3
        self.proj = torch.nn.Linear(16, 3 * res * res)
        self.use_z = use_z

    def forward(self, z, c, truncation_psi=1.0, noise_mode="const"):
        base = (c.argmax(1).float() * 0.3 - 0.5).view(-1, 1, 1, 1) if self.c_dim else 0.0
        x = self.proj(z).view(-1, 3, self.img_resolution, self.img_resolution)
        x = x / x.std() * 0.27 * self.use_z  # uniform 0..120 in [-1, 1] units has std ~0.27
        return (base + x).clamp(-1, 1)


def test_spread_is_the_mean_std_across_images():
    a = np.zeros((4, 1, 2, 2))
    assert spread(a) == 0
    b = np.array([0.0, 2.0]).reshape(2, 1, 1, 1) * np.ones((2, 1, 2, 2))
    assert spread(b) == pytest.approx(np.sqrt(2.0))
    with pytest.raises(ValueError):
        spread(np.zeros((1, 1, 2, 2)))


def test_collapsed_generator_scores_one_and_a_varied_one_near_zero():
    ds = LabelledNoise()
    torch.manual_seed(0)
    stuck = collapse(ToyG(use_z=0.0), ds, per_class=16)
    assert stuck["collapse"] == pytest.approx(1.0) and stuck["spread_fake"] == 0
    varied = collapse(ToyG(use_z=1.0), ds, per_class=16)
    assert varied["collapse"] < 0.15 and varied["spread_real"] == pytest.approx(stuck["spread_real"])
    half = collapse(ToyG(use_z=0.5), ds, per_class=16)["collapse"]
    assert 0.3 < half < 0.7


def test_collapse_through_compute_metrics_and_training_hooks():
    ds = LabelledNoise()
    torch.manual_seed(0)
    G = ToyG(use_z=0.0)
    out = compute_metrics("collapse", ds, G, options=MetricOptions(collapse_per_class=8))
    assert out["collapse"] == pytest.approx(1.0) and set(out) == {"collapse", "spread_fake", "spread_real"}
    both = compute_metrics("swd,collapse", ds, G, num_real=64, num_fake=64, options=MetricOptions(collapse_per_class=8))
    assert both["collapse"] == pytest.approx(1.0) and both["swd"] > 0
    hook = training_metrics("collapse", ds, options=MetricOptions(collapse_per_class=8))["collapse"]
    assert hook(G, "cpu") == pytest.approx(1.0)
    with pytest.raises(ValueError, match="data set"):
        compute_metrics("collapse", [torch.zeros(2, 3, 16, 16, dtype=torch.uint8)], G)
    unlabelled = LabelledNoise()
    unlabelled.labels = None
    with pytest.raises(DatasetError, match="class labels"):
        collapse(G, unlabelled, per_class=4)
