"""Grow a trained StyleGAN2 generator and discriminator to a higher resolution.

A model trained at 64 px can go on to 128 px without starting over: :func:`grow_generator`
builds the network for the new resolution, copies every trained weight (the blocks up to the
old resolution, the mapping network, the layout encoder keep their names and shapes) and adds
the new top blocks with fresh weights, their image outputs (``torgb``) set to zero. In the skip
architecture each block adds its ``torgb`` to the upsampled image of the block below, so the
grown generator first draws exactly the old images, upsampled with the network's own FIR filter
(the tests check it to float rounding); training then teaches the new blocks the detail.

:func:`grow_discriminator` adds the new input blocks in front of the trained ones. The old top
block's ``fromrgb`` has no place in the grown network (the new block below it feeds it
features), so D's input layers start fresh: D is retrained anyway, and only G's images must
survive. Resolutions must stay powers of two; only growth is possible; DCGAN models are not
supported.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch

from batikstudio.errors import BatikError


def _check(old_res: int, new_res: int) -> None:
    if new_res <= old_res or new_res & (new_res - 1):
        raise BatikError(f"a {old_res} px network can only grow to a larger power of two, not {new_res} px")


def _grown_state(old: torch.nn.Module, new: torch.nn.Module) -> dict[str, torch.Tensor]:
    """``new``'s state with every entry ``old`` has under the same name and shape copied in."""
    old_state = old.state_dict()
    state = {}
    for key, value in new.state_dict().items():
        kept = old_state.get(key)
        state[key] = kept.to(value.dtype).clone() if kept is not None and kept.shape == value.shape else value.clone()
    return state


def grow_generator(G: torch.nn.Module, resolution: int, template: torch.nn.Module | None = None) -> torch.nn.Module:
    """A copy of StyleGAN2 generator ``G`` at ``resolution`` px that draws ``G``'s images upsampled.

    ``template``: a generator at ``resolution`` whose random weights fill the new blocks (pass
    the same one for G and G_ema so they start alike); built from torch's global generator if None.

    Raises:
        BatikError: not a larger power of two, or not a skip-architecture generator.
    """
    old_res = G.cfg.img_resolution
    _check(old_res, resolution)
    if G.cfg.architecture != "skip":
        raise BatikError(f"only skip-architecture generators can grow, not {G.cfg.architecture!r}")
    cfg = replace(G.cfg, img_resolution=resolution)
    template = type(G)(cfg) if template is None else template
    state = _grown_state(G, template)
    res = old_res * 2
    while res <= resolution:  # the new blocks add nothing to the image until training moves them
        state[f"synthesis.b{res}.torgb.weight"].zero_()
        state[f"synthesis.b{res}.torgb.bias"].zero_()
        res *= 2
    out = type(G)(cfg).train(G.training)
    out.load_state_dict(state, strict=True)
    return out


def grow_discriminator(D: torch.nn.Module, resolution: int) -> torch.nn.Module:
    """A copy of StyleGAN2 discriminator ``D`` at ``resolution`` px with fresh input blocks.

    Raises:
        BatikError: not a larger power of two.
    """
    _check(D.cfg.img_resolution, resolution)
    cfg: Any = replace(D.cfg, img_resolution=resolution, cmap_dim=D.cfg.effective_cmap_dim or None)
    out = type(D)(cfg).train(D.training)
    out.load_state_dict(_grown_state(D, out), strict=True)
    return out
