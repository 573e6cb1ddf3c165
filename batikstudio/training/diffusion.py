"""Diffusion-GAN instance noise on the discriminator's inputs (Wang et al. 2022).

Before every D call, real and generated images are noised with a forward diffusion step:
``x_t = sqrt(abar_t) * x + sqrt(1 - abar_t) * noise_std * eps``. Betas are linear from 1e-4
to 0.02 spread over the current number of steps T, and ``abar`` has 1 prepended so that
t = 0 leaves the image clean. T adapts from a strength p (``T = t_min + round(p * (t_max -
t_min))``), p itself being steered like ADA (:func:`~batikstudio.training.augment.ada_adjust`).
The t of each image is drawn from a 64-entry table: 32 values from 1..T (``priority``:
P(k) proportional to k; or uniform) and 32 zeros. D receives t (float [N, 1]) as its
extra condition.
"""

from __future__ import annotations

import numpy as np
import torch

from batikstudio.training.config import DiffusionConfig

BETA_START = 1e-4
BETA_END = 2e-2
TABLE_SIZE = 64


def alpha_bars(T: int) -> torch.Tensor:
    """Cumulative products ``abar_t`` for t = 0..T (float64 [T + 1], abar_0 = 1).

    >>> alpha_bars(10)[0].item(), alpha_bars(10).shape
    (1.0, torch.Size([11]))
    """
    if T < 1:
        raise ValueError(f"T must be >= 1, got {T}")
    betas = torch.linspace(BETA_START, BETA_END, T, dtype=torch.float64)
    return torch.cat([torch.ones(1, dtype=torch.float64), torch.cumprod(1 - betas, 0)])


def q_sample(x: torch.Tensor, t: torch.Tensor, abar: torch.Tensor, noise_std: float,
             eps: torch.Tensor | None = None) -> torch.Tensor:
    """Noise NCHW images ``x`` to steps ``t`` (int64 [N]).

    Args:
        x: images, nominally in [-1, 1].
        t: step of each image, 0..T (0 = unchanged).
        abar: :func:`alpha_bars` of the current T.
        noise_std: std of the Gaussian noise before scaling.
        eps: standard normal noise like ``x`` (drawn when ``None``).

    >>> x = torch.rand(2, 3, 4, 4)
    >>> torch.equal(q_sample(x, torch.zeros(2, dtype=torch.long), alpha_bars(10), 0.05), x)
    True
    """
    if eps is None:
        eps = torch.randn_like(x)
    a = abar.to(device=x.device)[t].to(x.dtype).view(-1, 1, 1, 1)
    out = a.sqrt() * x + (1 - a).sqrt() * noise_std * eps
    # exact identity at t = 0 (sqrt(1) * x is x, but keep it bitwise)
    return torch.where(t.view(-1, 1, 1, 1) == 0, x, out)


class DiffusionNoise:
    """Adaptive diffusion noise: strength ``p``, steps ``T``, t table.

    Args:
        cfg: the run's :class:`DiffusionConfig`.
        p: initial strength in [0, 1] (e.g. from a resumed run or a Diffusion-GAN pickle).
        rng: numpy generator for the t table (shared by all processes of a run).
    """

    def __init__(self, cfg: DiffusionConfig, p: float = 0.0, rng: np.random.Generator | None = None) -> None:
        self.cfg = cfg
        self.p = float(p)
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.T = cfg.t_min
        self.abar = alpha_bars(self.T)
        self.t_table = np.zeros(TABLE_SIZE, dtype=np.int64)
        self.update_T()

    def T_for(self, p: float) -> int:
        """Number of diffusion steps for strength ``p``."""
        c = self.cfg
        return int(np.clip(c.t_min + round(p * (c.t_max - c.t_min)), c.t_min, c.t_max))

    def update_T(self) -> None:
        """Recompute T, the betas and a fresh t table from the current ``p``."""
        self.T = self.T_for(self.p)
        self.abar = alpha_bars(self.T)
        half = TABLE_SIZE // 2
        steps = np.arange(1, self.T + 1)
        if self.cfg.ts_dist == "priority":
            prob = steps / steps.sum()
            drawn = self.rng.choice(steps, size=half, p=prob)
        else:
            drawn = self.rng.choice(steps, size=half)
        table = np.zeros(TABLE_SIZE, dtype=np.int64)
        table[:half] = drawn
        self.t_table = table

    def sample_t(self, n: int, device: torch.device | str = "cpu") -> torch.Tensor:
        """Draw ``n`` steps from the table (int64 [n]) with torch's global generator."""
        idx = torch.randint(0, TABLE_SIZE, (n,))
        return torch.from_numpy(self.t_table)[idx].to(device)

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Noise NCHW images; returns ``(x_t, t)`` with t float [N, 1] for D."""
        if x.ndim != 4:
            raise ValueError(f"expected NCHW images, got shape {tuple(x.shape)}")
        t = self.sample_t(x.shape[0], x.device)
        x_t = q_sample(x, t, self.abar, self.cfg.noise_std)
        return x_t, t.to(x.dtype).view(-1, 1)

    def state(self) -> dict:
        """JSON-serialisable state (p, T, t table)."""
        return {"p": self.p, "T": self.T, "t_table": self.t_table.tolist()}

    def load_state(self, state: dict) -> None:
        """Restore :meth:`state` exactly (no redraw of the table)."""
        self.p = float(state["p"])
        self.T = int(state["T"])
        self.abar = alpha_bars(self.T)
        self.t_table = np.asarray(state["t_table"], dtype=np.int64)
