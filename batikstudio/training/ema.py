"""Exponential moving average of the generator's weights (G_ema), like NVlabs.

The half-life is given in kimg: after ``ema_kimg * 1000`` images the old weights weigh
one half. With a ramp-up ratio the half-life is at most ``rampup * kimg so far``, so early
averages do not drag the random initialisation along.
"""

from __future__ import annotations

import torch


def ema_beta(batch: int, ema_kimg: float, nimg: int, rampup: float | None = 0.05) -> float:
    """Decay factor of one EMA update after ``nimg`` images at global ``batch``.

    >>> round(ema_beta(32, 10.0, 10**9), 6)
    0.997784
    """
    ema_nimg = ema_kimg * 1000
    if rampup is not None:
        ema_nimg = min(ema_nimg, nimg * rampup)
    if ema_nimg <= 0:
        return 0.0
    return 0.5 ** (batch / max(ema_nimg, 1e-8))


@torch.no_grad()
def update_ema(G_ema: torch.nn.Module, G: torch.nn.Module, beta: float) -> None:
    """``G_ema = G + (G_ema - G) * beta`` for parameters; buffers are copied from G.

    Both modules must have identical parameter and buffer names.
    """
    src = dict(G.named_parameters())
    names = [name for name, _ in G_ema.named_parameters()]
    # p_ema + (1 - beta) * (p - p_ema), all tensors in one call
    torch._foreach_lerp_([p for _, p in G_ema.named_parameters()], [src[n].detach() for n in names], 1.0 - beta)
    src_b = dict(G.named_buffers())
    for name, b_ema in G_ema.named_buffers():
        b_ema.copy_(src_b[name])
