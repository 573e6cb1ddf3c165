"""The renderer: a RenderRequest and a loaded generator in, uint8 images out.

Order of latent edits (same as NVlabs' tools, plus directions last so sliders act on what is
seen): seed -> z -> mapping (psi 1) -> truncation (towards the class's centre by default) ->
style mixing (donors truncated alike) -> latent directions -> synthesis. Images are rendered
one at a time by default (``batch_size=1``) so that a seed's pixels never depend on which other
seeds shared its batch: that is what makes "regenerate from an image's provenance" pixel-exact.
Thumbnail grids may batch.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from batikstudio.core import latents
from batikstudio.core.directions import LatentDirections, apply_directions
from batikstudio.core.nets.layout import layout_kwargs
from batikstudio.imaging.grid import image_grid as render_grid_image  # noqa: F401 - re-exported
from batikstudio.render.request import RenderRequest, RenderResult

log = logging.getLogger(__name__)

DirectionsProvider = Callable[[RenderRequest], LatentDirections]


def to_uint8(img: torch.Tensor) -> np.ndarray:
    """NCHW float images in [-1, 1] -> NHWC uint8 (NVlabs rounding: ``x * 127.5 + 128``, clamp)."""
    out = (img.float() * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    return out.permute(0, 2, 3, 1).cpu().numpy()


def _device_of(G: torch.nn.Module) -> torch.device:
    return next(G.parameters()).device


NO_W_LAYERS = ("this model has a single latent vector, not one per layer (a DCGAN model): style mixing and "
               "per-layer directions need a StyleGAN2 model")


def compute_ws(G: torch.nn.Module, req: RenderRequest, seeds, directions: LatentDirections | None) -> torch.Tensor:
    """The edited ws [len(seeds), num_ws, w_dim] for ``seeds`` under ``req``."""
    return ws_from_z(G, req, latents.seeds_to_z(seeds, G.z_dim, _device_of(G)), directions)


def ws_from_z(G: torch.nn.Module, req: RenderRequest, z: torch.Tensor, directions: LatentDirections | None) -> torch.Tensor:
    """The edited ws [N, num_ws, w_dim] for latents ``z`` [N, z_dim] under ``req`` (its seeds unused)."""
    device = z.device
    c = latents.class_vector(G.c_dim, req.class_index, z.shape[0], device)
    centre = latents.truncation_centre(G, req.class_index, req.psi_centre) if req.psi != 1 else G.mapping.w_avg
    ws = latents.truncate(G.mapping(z, c), centre, req.psi, req.cutoff)
    res = G.img_resolution
    if ws.shape[1] == 1 and (req.mix or req.direction_layers is not None):
        raise ValueError(NO_W_LAYERS)
    for mix in req.mix:
        cls = mix.class_index if mix.class_index is not None else req.class_index
        dz = latents.seeds_to_z([mix.seed], G.z_dim, device)
        dc = latents.class_vector(G.c_dim, cls, 1, device)
        donor_centre = latents.truncation_centre(G, cls, req.psi_centre) if req.psi != 1 else G.mapping.w_avg
        donor = latents.truncate(G.mapping(dz, dc), donor_centre, req.psi, req.cutoff)
        ws = latents.mix_styles(ws, donor, latents.resolve_layers(mix.layers, res))
    if req.directions:
        if directions is None:
            raise ValueError("this request moves along latent directions but none were computed")
        layers = None if req.direction_layers is None else latents.resolve_layers(req.direction_layers, res)
        ws = apply_directions(ws, directions, dict(req.directions), layers)
    return ws


def request_layouts(G: torch.nn.Module, req: RenderRequest, seeds, start: int = 0) -> dict:
    """``{"layout": ...}`` for a character model (the request's text, else each seed's own
    character) or a structure model (the layout of the request's class that each seed, or the
    request's ``layout_seed``, draws), ``{}`` for other models; ``start`` is the position of
    ``seeds[0]`` in the batch.

    Raises:
        ValueError: a text for a model that writes no characters, or a character it does not know;
            an arrangement seed for a model that is no structure model.
    """
    cfg = getattr(G, "cfg", None)
    structure = bool(getattr(cfg, "layout_res", 0) and getattr(cfg, "layout_by_class", False))
    if req.layout_seed is not None and not structure:
        raise ValueError("only a structure model (a batik model with motif layouts) takes an arrangement seed")
    characters = bool(getattr(cfg, "layout_res", 0)) and not structure
    if req.text and not characters:
        raise ValueError("this model writes no characters: a text needs a calligraphy model with a "
                         "character table")
    if structure:
        picks = list(seeds) if req.layout_seed is None else [req.layout_seed] * len(seeds)
        return {"layout": G.seed_layouts(picks, [req.class_index or 0] * len(seeds))}
    if not characters:
        return {}
    if req.text:
        return {"layout": G.char_layouts("".join(req.char_for(start + k) for k in range(len(seeds))))}
    return layout_kwargs(G, seeds)


def _synthesize(G, ws: torch.Tensor, req: RenderRequest, seeds, start: int = 0) -> torch.Tensor:
    kwargs = dict(noise_mode=req.noise_mode, noise_gain=req.noise_gain, tileable=req.tileable)
    kwargs.update(request_layouts(G, req, seeds, start))
    if req.max_resolution is not None:
        kwargs["max_resolution"] = req.max_resolution
    if req.precision == "bfloat16":
        kwargs["dtype"] = torch.bfloat16
    if req.noise_mode != "random":
        return G.synthesis(ws, **kwargs)
    # random noise stays reproducible: one image at a time, seeded by its noise seed
    imgs = []
    for i, seed in enumerate(seeds):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(req.noise_seed if req.noise_seed is not None else int(seed))
            one = dict(kwargs, layout=kwargs["layout"][i : i + 1]) if "layout" in kwargs else kwargs
            imgs.append(G.synthesis(ws[i : i + 1], **one))
    return torch.cat(imgs)


def _resize(img: torch.Tensor, size: int) -> torch.Tensor:
    if img.shape[-1] == size and img.shape[-2] == size:
        return img
    if size < img.shape[-1]:
        return F.interpolate(img, size=(size, size), mode="area")
    return F.interpolate(img, size=(size, size), mode="bicubic", align_corners=False)


@torch.inference_mode()
def render(
    model,
    req: RenderRequest,
    directions: LatentDirections | DirectionsProvider | None = None,
    batch_size: int = 1,
    ctx=None,
) -> RenderResult:
    """Render every seed of ``req`` with ``model`` (a LoadedModel or a bare Generator).

    Args:
        model: object with ``G_ema`` (and ``sha256``), or a Generator module.
        directions: PCA directions, or a callable returning them for the request (called only
            when the request uses directions).
        batch_size: images per synthesis call (1 = exact per-seed pixels).
        ctx: optional JobContext (progress per image, cancellation between batches).

    Returns:
        RenderResult with images [N, H, W, C] uint8.

    Raises:
        ValueError: on a class or layer range the model does not have.
    """
    G = getattr(model, "G_ema", model)
    sha = getattr(model, "sha256", "")
    if callable(directions) and not isinstance(directions, LatentDirections):
        directions = directions(req) if req.directions else None
    start = time.perf_counter()
    seeds = list(req.seeds)
    out = []
    for i in range(0, len(seeds), max(1, batch_size)):
        if ctx is not None:
            ctx.check()
        chunk = seeds[i : i + batch_size]
        ws = compute_ws(G, req, chunk, directions)
        img = _synthesize(G, ws, req, chunk, start=i)
        if req.out_size is not None:
            img = _resize(img.float(), req.out_size)
        out.append(to_uint8(img))
        if ctx is not None:
            ctx.progress(i + len(chunk), len(seeds))
    images = np.concatenate(out, axis=0)
    seconds = time.perf_counter() - start
    log.debug("rendered %d images in %.3f s", len(seeds), seconds)
    return RenderResult(images=images, request=req, seconds=seconds, model_sha256=sha)
