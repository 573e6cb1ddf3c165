"""StyleGAN2 mapping network: z (and label c) -> W, with W-average tracking and truncation."""

from __future__ import annotations

import torch

from batikstudio.core.nets.layers import FullyConnectedLayer

__all__ = ["MappingNetwork", "normalize_2nd_moment"]


def normalize_2nd_moment(x: torch.Tensor, dim: int = 1, eps: float = 1e-8) -> torch.Tensor:
    """Scale ``x`` to unit root-mean-square along ``dim``: ``x * rsqrt(mean(x^2) + eps)``."""
    return x * (x.square().mean(dim=dim, keepdim=True) + eps).rsqrt()


class MappingNetwork(torch.nn.Module):
    """Fully connected mapping network (NVlabs ``MappingNetwork``; same parameter names).

    Args:
        z_dim: latent size, 0 = no latent (the discriminator's label mapping).
        c_dim: label size, 0 = no label.
        w_dim: output size.
        num_ws: broadcast the output to ``[N, num_ws, w_dim]``; None = return ``[N, w_dim]``.
        num_layers: number of FC layers (lrelu).
        embed_features: label embedding size, None = ``w_dim``.
        layer_features: hidden size, None = ``w_dim``.
        lr_multiplier: equalised-LR multiplier.
        w_avg_beta: decay of the tracked average W; None = no ``w_avg`` buffer (no truncation).
    """

    def __init__(self, z_dim: int, c_dim: int, w_dim: int, num_ws: int | None, num_layers: int = 8,
                 embed_features: int | None = None, layer_features: int | None = None,
                 lr_multiplier: float = 0.01, w_avg_beta: float | None = 0.995) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.c_dim = c_dim
        self.w_dim = w_dim
        self.num_ws = num_ws
        self.num_layers = num_layers
        self.w_avg_beta = w_avg_beta
        if embed_features is None:
            embed_features = w_dim
        if c_dim == 0:
            embed_features = 0
        if layer_features is None:
            layer_features = w_dim
        features = [z_dim + embed_features] + [layer_features] * (num_layers - 1) + [w_dim]
        if c_dim > 0:
            self.embed = FullyConnectedLayer(c_dim, embed_features)
        for idx in range(num_layers):
            layer = FullyConnectedLayer(features[idx], features[idx + 1], activation="lrelu",
                                        lr_multiplier=lr_multiplier)
            setattr(self, f"fc{idx}", layer)
        if num_ws is not None and w_avg_beta is not None:
            self.register_buffer("w_avg", torch.zeros([w_dim]))

    def forward(self, z: torch.Tensor | None, c: torch.Tensor | None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None, update_emas: bool = False) -> torch.Tensor:
        """Map latents to W.

        Args:
            z: ``[N, z_dim]`` (any float dtype; computed in float32), or None when ``z_dim`` is 0.
            c: ``[N, c_dim]`` labels (one-hot for classes); None allowed when ``c_dim`` is 0.
            truncation_psi: ``w = w_avg + psi * (w - w_avg)``; 1 = none.
            truncation_cutoff: truncate only ``ws[:, :cutoff]``; None = all.
            update_emas: move ``w_avg`` towards this batch's mean W (training only).

        Returns:
            ``[N, num_ws, w_dim]`` float32 (``[N, w_dim]`` when ``num_ws`` is None).

        Raises:
            ValueError: on wrong input shapes.
        """
        x = None
        if self.z_dim > 0:
            if z is None or z.ndim != 2 or z.shape[1] != self.z_dim:
                raise ValueError(f"z must be [N, {self.z_dim}], got {None if z is None else tuple(z.shape)}")
            x = normalize_2nd_moment(z.to(torch.float32))
        if self.c_dim > 0:
            if c is None or c.ndim != 2 or c.shape[1] != self.c_dim:
                raise ValueError(f"c must be [N, {self.c_dim}], got {None if c is None else tuple(c.shape)}")
            y = normalize_2nd_moment(self.embed(c.to(torch.float32)))
            x = torch.cat([x, y], dim=1) if x is not None else y
        for idx in range(self.num_layers):
            x = getattr(self, f"fc{idx}")(x)
        if update_emas and self.w_avg_beta is not None:
            with torch.no_grad():
                self.w_avg.copy_(x.detach().float().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        if self.num_ws is not None:
            x = x.unsqueeze(1).repeat([1, self.num_ws, 1])
        if truncation_psi != 1:
            if self.w_avg_beta is None:
                raise ValueError("truncation needs a w_avg (w_avg_beta is None)")
            if self.num_ws is None or truncation_cutoff is None:
                x = self.w_avg.lerp(x, truncation_psi)
            else:
                cut = self.w_avg.lerp(x[:, :truncation_cutoff], truncation_psi)
                x = torch.cat([cut, x[:, truncation_cutoff:]], dim=1)
        return x
