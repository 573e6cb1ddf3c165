"""GAN losses and regularisers: pure functions on logits and images.

* Non-saturating logistic loss (StyleGAN2): ``L_G = softplus(-D(G(z)))``,
  ``L_D = softplus(D(G(z))) + softplus(-D(x))``.
* Wasserstein (linear logits): ``L_G = -D(G(z))``, ``L_D = D(G(z)) - D(x)``.
* R1: ``gamma / 2 * ||grad_x D(x)||^2`` on real images (lazy: every k steps, times k).
* WGAN-GP: ``weight * (||grad D(x_hat)|| - 1)^2`` on random interpolates of real and fake.
* Path length regularisation (optional, costly on CPU).
* Style mixing: a random suffix of the ws comes from a second latent.
* Diversity-sensitive term (Yang et al., ICLR 2019; Mao et al., CVPR 2019): for pairs of
  images of one class, ``-min(mean|G(z1) - G(z2)| / mean|z1 - z2|, cap)`` added to G's loss,
  so a generator that gives every latent of a class the same image pays for it.

Logits are float [N, 1]; images NCHW float in [-1, 1]. Every loss returns per-sample values
[N] or [N, 1]; callers take the mean.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

Critic = Callable[[torch.Tensor], torch.Tensor]


def g_loss(kind: str, fake_logits: torch.Tensor) -> torch.Tensor:
    """Generator loss per sample for ``kind`` ``"stylegan2"`` or ``"wasserstein"``."""
    if kind == "stylegan2":
        return F.softplus(-fake_logits)
    if kind == "wasserstein":
        return -fake_logits
    raise ValueError(f"unknown loss {kind!r}")


def d_loss_fake(kind: str, fake_logits: torch.Tensor) -> torch.Tensor:
    """Discriminator loss on generated images, per sample."""
    if kind == "stylegan2":
        return F.softplus(fake_logits)
    if kind == "wasserstein":
        return fake_logits
    raise ValueError(f"unknown loss {kind!r}")


def d_loss_real(kind: str, real_logits: torch.Tensor) -> torch.Tensor:
    """Discriminator loss on real images, per sample."""
    if kind == "stylegan2":
        return F.softplus(-real_logits)
    if kind == "wasserstein":
        return -real_logits
    raise ValueError(f"unknown loss {kind!r}")


def r1_penalty(real: torch.Tensor, real_logits: torch.Tensor) -> torch.Tensor:
    """Squared gradient norm of D at the real images, per sample [N].

    ``real`` must require grad and ``real_logits`` be computed from it; the graph is kept
    (``create_graph``) so the penalty can be back-propagated into D.
    """
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    return grad.square().sum(dim=[1, 2, 3])


def wgan_gp_penalty(critic: Critic, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP: ``(||grad critic(x_hat)|| - 1)^2`` per sample [N], x_hat between real and fake.

    Args:
        critic: images -> logits [N, 1] (augmentation / noise included if used).
        real, fake: NCHW images of the same shape (fake is detached here).
    """
    if real.shape != fake.shape:
        raise ValueError(f"real {tuple(real.shape)} and fake {tuple(fake.shape)} differ")
    eps = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype)
    x_hat = (real.detach() * eps + fake.detach() * (1 - eps)).requires_grad_(True)
    logits = critic(x_hat)
    (grad,) = torch.autograd.grad(logits.sum(), x_hat, create_graph=True)
    norm = grad.flatten(1).square().sum(1).add(1e-12).sqrt()
    return (norm - 1).square()


class PathLength:
    """Path length regulariser with its running mean (state: ``pl_mean``).

    Args:
        decay: running mean decay (0.01 like NVlabs).
    """

    def __init__(self, decay: float = 0.01) -> None:
        self.decay = decay
        self.pl_mean = torch.zeros([])

    def penalty(self, img: torch.Tensor, ws: torch.Tensor) -> torch.Tensor:
        """Per-sample penalty [N]; ``img`` must be computed from ``ws`` (requires grad)."""
        noise = torch.randn_like(img) / math.sqrt(img.shape[2] * img.shape[3])
        (grad,) = torch.autograd.grad((img * noise).sum(), ws, create_graph=True)
        lengths = grad.square().sum(2).mean(1).sqrt()
        mean = self.pl_mean.to(lengths.device).lerp(lengths.mean().detach(), self.decay)
        self.pl_mean = mean.detach().cpu()
        return (lengths - mean).square()


def mix_styles(ws: torch.Tensor, ws2: torch.Tensor, prob: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Style mixing: with probability ``prob`` take ``ws2`` from a random layer on.

    Args:
        ws, ws2: [N, num_ws, w_dim].
        prob: mixing probability for the batch.
        generator: CPU generator for the decision and the cutoff (global one when ``None``).
    """
    if prob <= 0:
        return ws
    num_ws = ws.shape[1]
    cutoff = int(torch.randint(1, max(num_ws, 2), (), generator=generator))
    if float(torch.rand((), generator=generator)) >= prob or num_ws < 2:
        return ws
    return torch.cat([ws[:, :cutoff], ws2[:, cutoff:]], dim=1)


def diversity_pairs(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Index pairs ``(i, i + N/2)`` of a batch whose labels (one-hot or ``[N, 0]``) agree."""
    n = labels.shape[0] // 2
    first = torch.arange(n, device=labels.device)
    if labels.shape[1] == 0:
        return first, first + n
    same = (labels[:n] == labels[n:2 * n]).all(dim=1)
    return first[same], first[same] + n


def diversity_ratio(img: torch.Tensor, z: torch.Tensor, labels: torch.Tensor, cap: float) -> torch.Tensor | None:
    """Per-pair ``min(mean|img_i - img_j| / mean|z_i - z_j|, cap)`` over :func:`diversity_pairs`
    (None when the batch has no such pair). Maximise it (subtract it from G's loss)."""
    i, j = diversity_pairs(labels)
    if i.numel() == 0:
        return None
    d_img = (img[i].float() - img[j].float()).abs().flatten(1).mean(dim=1)
    d_z = (z[i].float() - z[j].float()).abs().mean(dim=1).clamp_min(1e-8)
    return (d_img / d_z).clamp(max=cap)


def recon_error(img: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error of images against their targets, plus twice that of their 4x
    box-downsampled versions (so that the layout of the ink counts beside its edges)."""
    fine = (img - target).abs().mean()
    coarse = (F.avg_pool2d(img, 4) - F.avg_pool2d(target, 4)).abs().mean() if img.shape[-1] >= 8 else 0.0
    return fine + 2.0 * coarse


def _grey_layout(img: torch.Tensor, res: int) -> torch.Tensor:
    """Grey level at ``res`` px (box averages), standardised per image (like the layouts)."""
    x = F.avg_pool2d(img.mean(dim=1, keepdim=True), img.shape[-1] // res).flatten(1)
    x = x - x.mean(dim=1, keepdim=True)
    return x / x.std(dim=1, keepdim=True).clamp_min(0.05)


def layout_error(img: torch.Tensor, target: torch.Tensor, res: int) -> torch.Tensor:
    """Mean absolute difference of the standardised grey levels of images and their targets at
    ``res`` px: whether a motif keeps the arrangement of its layout, whatever its fills, colours,
    brightness and contrast (which its layout does not tell)."""
    return (_grey_layout(img, res) - _grey_layout(target, res)).abs().mean()
