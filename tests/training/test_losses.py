import math

import pytest
import torch
import torch.nn.functional as F

from batikstudio.training import losses


class ToyD(torch.nn.Module):
    """Small non-linear critic: conv, tanh, linear."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4 * 8 * 8, 1)

    def forward(self, x):
        return self.fc(torch.tanh(self.conv(x)).flatten(1))


def test_nonsaturating_and_wasserstein_values():
    logits = torch.tensor([[0.0], [2.0]])
    assert torch.allclose(losses.g_loss("stylegan2", logits), F.softplus(-logits))
    assert torch.allclose(losses.d_loss_fake("stylegan2", logits), F.softplus(logits))
    assert torch.allclose(losses.d_loss_real("stylegan2", logits), F.softplus(-logits))
    assert losses.g_loss("stylegan2", torch.zeros(1, 1)).item() == pytest.approx(math.log(2))
    assert torch.equal(losses.g_loss("wasserstein", logits), -logits)
    assert torch.equal(losses.d_loss_fake("wasserstein", logits) + losses.d_loss_real("wasserstein", logits),
                       torch.zeros_like(logits))
    with pytest.raises(ValueError):
        losses.g_loss("hinge", logits)


def test_r1_penalty_matches_finite_differences():
    torch.manual_seed(1)
    D = ToyD().double()
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64, requires_grad=True)
    penalty = losses.r1_penalty(x, D(x))
    # central differences of D at each pixel of sample 0
    h = 1e-6
    grad = torch.zeros(3 * 8 * 8, dtype=torch.float64)
    base = x.detach().clone()
    for i in range(grad.numel()):
        e = torch.zeros_like(base)
        e[0].view(-1)[i] = h
        grad[i] = (D(base + e)[0, 0] - D(base - e)[0, 0]) / (2 * h)
    assert penalty[0].item() == pytest.approx(grad.square().sum().item(), rel=1e-6)
    # the penalty back-propagates into D's weights
    penalty.sum().backward()
    assert D.conv.weight.grad is not None and D.conv.weight.grad.abs().sum() > 0


def test_wgan_gp_is_zero_for_a_unit_norm_linear_critic():
    w = torch.randn(3 * 8 * 8)
    w = w / w.norm()

    def critic(x):
        return (x.flatten(1) @ w)[:, None]

    pen = losses.wgan_gp_penalty(critic, torch.randn(4, 3, 8, 8), torch.randn(4, 3, 8, 8))
    assert pen.shape == (4,)
    assert pen.abs().max().item() < 1e-8

    def steep(x):
        return 3 * critic(x)

    assert losses.wgan_gp_penalty(steep, torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8)).mean().item() == pytest.approx(4.0, rel=1e-5)


def test_wgan_gp_shape_mismatch_raises():
    with pytest.raises(ValueError):
        losses.wgan_gp_penalty(lambda x: x.sum((1, 2, 3))[:, None], torch.zeros(2, 3, 8, 8), torch.zeros(2, 3, 4, 4))


def test_mix_styles_takes_a_suffix_from_the_second_latent():
    ws, ws2 = torch.zeros(2, 6, 4), torch.ones(2, 6, 4)
    g = torch.Generator().manual_seed(0)
    mixed = losses.mix_styles(ws, ws2, 1.0, g)
    rows = mixed[0, :, 0]
    k = int((rows == 0).sum())
    assert 1 <= k < 6 and torch.equal(rows, torch.cat([torch.zeros(k), torch.ones(6 - k)]))
    assert torch.equal(losses.mix_styles(ws, ws2, 0.0, g), ws)


def test_path_length_penalty_is_differentiable_and_tracks_mean():
    ws = torch.randn(3, 4, 5, requires_grad=True)
    lin = torch.nn.Linear(5, 2 * 4 * 4)
    img = lin(ws).sum(1).view(3, 2, 4, 4)
    pl = losses.PathLength(decay=0.5)
    pen = pl.penalty(img, ws)
    assert pen.shape == (3,) and torch.isfinite(pen).all()
    assert pl.pl_mean.item() > 0
    pen.sum().backward()
    assert lin.weight.grad is not None


def test_diversity_pairs_keep_only_same_class_pairs():
    eye = torch.eye(3)
    labels = torch.stack([eye[0], eye[1], eye[2], eye[0], eye[0], eye[2]])  # pairs (0,3) (1,4) (2,5)
    i, j = losses.diversity_pairs(labels)
    assert i.tolist() == [0, 2] and j.tolist() == [3, 5]
    i, j = losses.diversity_pairs(torch.zeros(6, 0))  # unconditional: every pair
    assert i.tolist() == [0, 1, 2] and j.tolist() == [3, 4, 5]


def test_diversity_ratio_is_zero_for_a_collapsed_generator_and_capped():
    z = torch.randn(8, 16)
    labels = torch.zeros(8, 0)
    same = torch.zeros(1, 3, 4, 4).repeat(8, 1, 1, 1)
    assert losses.diversity_ratio(same, z, labels, cap=0.5).abs().max() == 0
    img = torch.randn(8, 3, 4, 4)
    ratio = losses.diversity_ratio(img, z, labels, cap=100.0)
    want = (img[:4] - img[4:]).abs().flatten(1).mean(1) / (z[:4] - z[4:]).abs().mean(1)
    assert torch.allclose(ratio, want)
    assert losses.diversity_ratio(img * 100, z, labels, cap=0.5).max() == 0.5
    # maximising the ratio pushes the two images of a pair apart
    x = torch.zeros(2, 1, 2, 2, requires_grad=True)
    pair_z = torch.tensor([[0.0], [1.0]])
    (-losses.diversity_ratio(x + torch.tensor([0.0, 0.1]).view(2, 1, 1, 1), pair_z, torch.zeros(2, 0), 1.0).sum()).backward()
    assert (x.grad[0] > 0).all() and (x.grad[1] < 0).all()
    assert losses.diversity_ratio(img, z, torch.eye(8), cap=1.0) is None  # no same-class pair
