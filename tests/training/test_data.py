"""RealSampler: class-grouped batches for D's minibatch-std groups."""

import numpy as np
import pytest
import torch

from batikstudio.errors import DatasetError
from batikstudio.training.data import RealSampler, class_weight_vector
from tests.training.conftest import TinyDataset


def _groups(labels: torch.Tensor, group: int) -> torch.Tensor:
    """Classes arranged like the minibatch-std layer groups items: [group, N / group]."""
    return labels.argmax(1).reshape(group, -1)


def _sampler(k=5, n=60, group=4, rank=0, world=1, seed=0):
    ds = TinyDataset(n=n, res=8, k=k)
    ds.labels = np.random.default_rng(1).integers(0, k, n)  # uneven class sizes
    return ds, RealSampler(ds, 8, k, False, torch.Generator().manual_seed(seed), rank=rank, world_size=world,
                           class_groups=group)


def test_every_minibatch_std_group_holds_one_class_real_and_fake():
    ds, s = _sampler()
    seen = set()
    for _ in range(20):
        x, c = s.next_real(16, torch.device("cpu"))
        g = _groups(c, 4)
        assert (g == g[0]).all()  # each column (a group) is one class
        for img, lab in zip(x, c.argmax(1)):  # the images really are of that class
            matches = [i for i in range(len(ds)) if ds.labels[i] == lab and
                       np.allclose(ds.imgs[i].transpose(2, 0, 1) / 127.5 - 1, img.numpy(), atol=1e-6)]
            assert matches
        fake = _groups(s.next_fake_labels(16, torch.device("cpu")), 4)
        assert (fake == fake[0]).all()
        seen.update(g[0].tolist())
    assert seen == set(range(5))  # all classes get drawn


def test_groups_stay_one_class_on_each_of_two_processes_and_match_one_process():
    _, single = _sampler(seed=3)
    parts = [_sampler(seed=3, rank=r, world=2, group=4)[1] for r in range(2)]
    x1, c1 = single.next_real(16, torch.device("cpu"))
    halves = [p.next_real(16, torch.device("cpu")) for p in parts]
    for (x, c) in halves:  # per process: 8 items in groups of 4, each group one class
        g = _groups(c, 4)
        assert (g == g[0]).all()
    assert torch.equal(torch.stack([halves[0][1], halves[1][1]], 1).reshape(16, -1), c1)
    assert torch.equal(torch.stack([halves[0][0], halves[1][0]], 1).reshape(16, 3, 8, 8), x1)


def test_class_mix_follows_the_data_and_bad_batches_are_refused():
    ds, s = _sampler(n=400, group=4)
    counts = np.zeros(5)
    for _ in range(150):
        counts += s.next_real(16, torch.device("cpu"))[1].sum(0).numpy()
    want = np.bincount(ds.labels, minlength=5) / len(ds)
    assert np.abs(counts / counts.sum() - want).max() < 0.04
    with pytest.raises(ValueError, match="divisible"):
        s.next_real(10, torch.device("cpu"))
    unlabelled = TinyDataset(n=8, res=8, k=2)
    unlabelled.labels = None
    with pytest.raises(DatasetError, match="one class label"):
        RealSampler(unlabelled, 8, 2, False, torch.Generator(), class_groups=4)
    plain = RealSampler(TinyDataset(n=8, res=8, k=2), 8, 0, False, torch.Generator(), class_groups=4)
    assert plain.class_groups == 0  # unconditional: nothing to group


@pytest.mark.parametrize("group", [0, 4])
def test_class_weights_shift_the_mix_of_real_and_fake_classes(group):
    ds = TinyDataset(n=400, res=8, k=5)
    ds.labels = np.random.default_rng(1).integers(0, 5, 400)
    weights = [1.0, 3.0, 0.0, 1.0, 2.0]
    s = RealSampler(ds, 8, 5, False, torch.Generator().manual_seed(0), class_groups=group, class_weights=weights)
    real, fake = np.zeros(5), np.zeros(5)
    for _ in range(200):
        x, c = s.next_real(16, torch.device("cpu"))
        real += c.sum(0).numpy()
        fake += s.next_fake_labels(16, torch.device("cpu")).sum(0).numpy()
        for img, lab in zip(x[:2], c[:2].argmax(1)):  # images still match their labels
            assert any(ds.labels[i] == lab and np.allclose(ds.imgs[i].transpose(2, 0, 1) / 127.5 - 1, img.numpy(),
                                                           atol=1e-6) for i in range(len(ds)))
    share = np.bincount(ds.labels, minlength=5) * weights
    want = share / share.sum()
    assert real[2] == 0 and fake[2] == 0  # weight 0: never drawn
    assert np.abs(real / real.sum() - want).max() < 0.04
    assert np.abs(fake / fake.sum() - want).max() < 0.04


def test_bad_class_weights_are_refused():
    ds = TinyDataset(n=8, res=8, k=2)
    for weights, msg in [([1.0], "2 classes"), ([0.0, 0.0], "no image"), ([1.0, -1.0], ">= 0")]:
        with pytest.raises(DatasetError, match=msg):
            RealSampler(ds, 8, 2, False, torch.Generator(), class_weights=weights)


def test_class_weight_vector_names_indices_and_unknown_names():
    names = ["parang", "lereng", "kawung"]
    assert class_weight_vector({}, names, 3) is None
    assert class_weight_vector({"kawung": 3, "1": 0.5}, names, 3) == [1.0, 0.5, 3.0]
    with pytest.raises(DatasetError, match="no such class.*parang, lereng, kawung"):
        class_weight_vector({"ceplok": 2}, names, 3)


def test_wrong_labels_are_always_another_class_and_cover_the_others():
    s = RealSampler(TinyDataset(n=40, res=8, k=4), 8, 4, False, torch.Generator().manual_seed(0))
    counts = np.zeros((4, 4))
    for _ in range(100):
        _, c = s.next_real(8, torch.device("cpu"))
        wrong = s.next_wrong_labels(c, 8)
        assert wrong.shape == c.shape and torch.equal(wrong.sum(1), torch.ones(8))
        np.add.at(counts, (c.argmax(1).numpy(), wrong.argmax(1).numpy()), 1)
    assert np.diag(counts).sum() == 0  # never the image's own class
    off = counts[~np.eye(4, dtype=bool)].reshape(4, 3)
    assert off.min() > 0.6 * off.mean()  # every other class, about evenly
    with pytest.raises(ValueError, match="two classes"):
        RealSampler(TinyDataset(n=8, res=8, k=1), 8, 1, False, torch.Generator()).next_wrong_labels(torch.ones(2, 1), 2)


def test_wrong_labels_keep_the_processes_generators_in_step():
    ds = TinyDataset(n=40, res=8, k=3)
    ranks = [RealSampler(ds, 8, 3, False, torch.Generator().manual_seed(5), rank=r, world_size=2) for r in range(2)]
    whole = RealSampler(ds, 8, 3, False, torch.Generator().manual_seed(5))
    labels = torch.eye(3)[torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])]
    parts = [s.next_wrong_labels(labels[r::2], 8) for r, s in enumerate(ranks)]
    together = whole.next_wrong_labels(labels, 8)
    assert all(torch.equal(parts[r], together[r::2]) for r in range(2))
    z = whole.next_z(8, 2, torch.device("cpu"))  # the generators are still in step afterwards
    assert all(torch.equal(s.next_z(8, 2, torch.device("cpu")), z[r::2]) for r, s in enumerate(ranks))
