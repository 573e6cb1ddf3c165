"""Latent directions by PCA of sampled W (GANSpace, Härkönen et al. 2020).

Sample ``num_samples`` latents, map them to W (no truncation), and take the principal axes of
the W cloud. Moving a motif's ws along axis k by ``amount * stddev_k`` gives interpretable edits
(layout, scale, colour...), most visible when limited to a range of W layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import torch


@dataclass(frozen=True)
class LatentDirections:
    """Principal axes of W.

    Attributes:
        components: [K, w_dim] float32, unit rows, ordered by variance (sign fixed so the
            largest-magnitude entry is positive, for reproducibility).
        stddev: [K] float32 standard deviation of W along each axis.
        mean: [w_dim] float32 mean of the sampled W.
        num_samples: how many latents were sampled. seed: their RandomState seed.
    """

    components: torch.Tensor
    stddev: torch.Tensor
    mean: torch.Tensor
    num_samples: int
    seed: int

    @property
    def count(self) -> int:
        return int(self.components.shape[0])


@torch.inference_mode()
def compute_directions(
    G: torch.nn.Module,
    num_components: int = 16,
    num_samples: int = 8192,
    seed: int = 0,
    batch: int = 1024,
    device: torch.device | str = "cpu",
    ctx=None,
) -> LatentDirections:
    """PCA of ``G.mapping`` outputs for ``num_samples`` random latents (and random classes).

    Args:
        G: a generator with ``z_dim``, ``c_dim``, ``w_dim`` and ``mapping(z, c)``.
        num_components: K, at most ``w_dim``.
        ctx: optional JobContext for progress and cancellation.

    Raises:
        ValueError: if ``num_components`` or ``num_samples`` is out of range.
    """
    if not 1 <= num_components <= G.w_dim:
        raise ValueError(f"num_components must be 1..{G.w_dim}, got {num_components}")
    if num_samples < num_components + 1:
        raise ValueError(f"need more samples ({num_samples}) than components ({num_components})")
    rng = np.random.RandomState(seed)
    chunks = []
    for start in range(0, num_samples, batch):
        n = min(batch, num_samples - start)
        z = torch.from_numpy(rng.randn(n, G.z_dim)).to(device=device, dtype=torch.float32)
        c = None
        if G.c_dim:
            c = torch.zeros(n, G.c_dim, device=device)
            c[torch.arange(n), torch.from_numpy(rng.randint(0, G.c_dim, n))] = 1
        chunks.append(G.mapping(z, c)[:, 0].double().cpu())
        if ctx is not None:
            ctx.progress(start + n, num_samples)
            ctx.check()
    w = torch.cat(chunks)
    mean = w.mean(0)
    _, s, vh = torch.linalg.svd(w - mean, full_matrices=False)
    comps = vh[:num_components]
    flip = torch.sign(comps.gather(1, comps.abs().argmax(1, keepdim=True)))
    comps = comps * flip
    std = s[:num_components] / np.sqrt(num_samples - 1)
    return LatentDirections(comps.float(), std.float(), mean.float(), num_samples, seed)


def apply_directions(
    ws: torch.Tensor,
    directions: LatentDirections,
    amounts: Mapping[int, float],
    layers: Sequence[int] | None = None,
) -> torch.Tensor:
    """Move ``ws`` along principal axes.

    Args:
        ws: [N, num_ws, w_dim] float.
        amounts: axis index -> amount in standard deviations (e.g. ``{0: 2.0, 3: -1.5}``).
        layers: W indices to edit (default all).
    Raises:
        ValueError: on an axis index outside ``0..K-1``.
    """
    out = ws.clone()
    if not amounts:
        return out
    delta = torch.zeros(ws.shape[-1], dtype=torch.float32)
    for k, amount in amounts.items():
        if not 0 <= int(k) < directions.count:
            raise ValueError(f"direction {k} does not exist: there are {directions.count} (0..{directions.count - 1})")
        delta += float(amount) * directions.stddev[int(k)] * directions.components[int(k)]
    delta = delta.to(device=ws.device, dtype=ws.dtype)
    if layers is None:
        out += delta
    else:
        idx = torch.as_tensor(list(layers), dtype=torch.long, device=ws.device)
        out[:, idx] += delta
    return out
