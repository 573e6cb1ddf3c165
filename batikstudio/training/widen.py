"""Grow a trained StyleGAN2 generator and discriminator to more channels, keeping what they draw.

A small model that has stopped improving needs capacity, but training a wider one from scratch
throws its hundreds of kimg away. :func:`widen_generator` builds the wider network (a larger
``channel_base`` / ``channel_max``) and copies every trained weight into it:

* a layer's new *output* channels get the fresh network's random weights, so they compute
  something and learn from the first step;
* every connection *from* a new channel starts at zero, so nothing downstream changes: the wide
  generator draws exactly the same images (the tests check it to float rounding);
* where a layer's equalised-learning-rate gain depends on its fan-in (``1/sqrt(fan_in)``), the
  copied weights are rescaled by the ratio of the old and new gains.

The discriminator is grown the same way, with its label projection kept at the old size
(``cmap_dim``), and its 4x4 head's minibatch-std channel moved behind the new channels. Its
minibatch-std feature then averages over the new channels too, so D's scores shift a little:
D is retrained anyway, and only G's images must survive. Only growth is possible (every
resolution keeps at least its channels); DCGAN models are not supported.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch

from batikstudio.core.nets.config import channels_for
from batikstudio.errors import BatikError


def _check_growth(old: Any, new: Any) -> None:
    res = [2 ** i for i in range(2, old.img_resolution.bit_length())]
    for r in res:
        a = channels_for(r, old.channel_base, old.channel_max)
        b = channels_for(r, new.channel_base, new.channel_max)
        if b < a:
            raise BatikError(f"a network can only grow: at {r} px it has {a} channels, the new size gives {b} "
                             f"(channel_base {new.channel_base}, channel_max {new.channel_max})")


def _gains(net: torch.nn.Module) -> dict[str, float]:
    """Fan-in dependent gain of each module that has one, by the name of its weight."""
    return {f"{name}.weight" if name else "weight": float(m.weight_gain)
            for name, m in net.named_modules() if hasattr(m, "weight_gain")}


def _grow(old: torch.Tensor, template: torch.Tensor, gain: float, mbstd: int = 0) -> torch.Tensor:
    """``template`` with ``old`` in its leading corner and zero from new input channels.

    Weights (2+ dims) are ``[out, in, ...]``; ``mbstd`` trailing input channels of ``old`` (the
    4x4 head's minibatch-std features) are moved to the end of the new input range.
    """
    if old.shape == template.shape and not mbstd:
        return old * gain if old.dim() >= 2 else old.clone()
    out = template.clone()
    if old.dim() == 1 or old.dim() == 3:  # biases, styles' biases, the 4x4 constant
        out[:old.shape[0]] = old
        return out
    n_in = old.shape[1] - mbstd
    out[:, n_in:] = 0
    out[:old.shape[0], :n_in] = old[:, :n_in] * gain
    if mbstd:
        out[:old.shape[0], -mbstd:] = old[:, n_in:] * gain
    return out


def _grown_state(old_net: torch.nn.Module, wide: torch.nn.Module, head_mbstd: int = 0) -> dict[str, torch.Tensor]:
    old_state = old_net.state_dict()
    old_gains, new_gains = _gains(old_net), _gains(wide)
    state = {}
    for key, template in wide.state_dict().items():
        old = old_state[key]
        gain = old_gains.get(key, 1.0) / new_gains.get(key, 1.0) if key in new_gains else 1.0
        mbstd = head_mbstd if key == "b4.conv.weight" else 0
        state[key] = _grow(old.to(template.dtype), template, gain, mbstd)
    return state


def widen_generator(G: torch.nn.Module, channel_base: int, channel_max: int,
                    template: torch.nn.Module | None = None) -> torch.nn.Module:
    """A wider copy of StyleGAN2 generator ``G`` that renders the same images.

    ``template``: a wide generator whose random weights fill the new output channels (pass the
    same one for G and G_ema so they start alike); built from torch's global generator if None.
    """
    cfg = replace(G.cfg, channel_base=channel_base, channel_max=channel_max)
    _check_growth(G.cfg, cfg)
    wide = type(G)(cfg) if template is None else template
    out = type(G)(cfg).train(G.training)
    out.load_state_dict(_grown_state(G, wide), strict=True)
    return out


def widen_discriminator(D: torch.nn.Module, channel_base: int, channel_max: int) -> torch.nn.Module:
    """A wider copy of StyleGAN2 discriminator ``D`` (label projection kept at its size)."""
    cfg = replace(D.cfg, channel_base=channel_base, channel_max=channel_max,
                  cmap_dim=D.cfg.effective_cmap_dim or None)
    _check_growth(D.cfg, cfg)
    wide = type(D)(cfg).train(D.training)
    wide.load_state_dict(_grown_state(D, wide, head_mbstd=D.cfg.mbstd_num_channels), strict=True)
    return wide
