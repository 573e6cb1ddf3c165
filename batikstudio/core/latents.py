"""Latent-space controls: seeds, classes, truncation, style mixing, interpolation.

Conventions match NVlabs so a seed means the same motif here and in their tools:
``z = numpy.random.RandomState(seed).randn(1, z_dim)`` (float64, cast to float32), truncation
``w_avg.lerp(w, psi)`` on ``ws[:, :cutoff]``, style mixing replaces ranges of W layers.

W layer indexing (NVlabs): block at resolution ``2**L`` owns ws ``[2(L-2), 2(L-2)+2)``; the last
block also owns the final toRGB w. At 256 px (14 ws): coarse (4-8 px) = 0-3, middle (16-32 px)
= 4-7, fine (64-256 px) = 8-13.
"""

from __future__ import annotations

import math
import re
import threading
import weakref
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import torch

MIX_RANGE_NAMES = ("coarse", "middle", "fine")


# ---------------------------------------------------------------------------------------------
# seeds and classes


def parse_seeds(text: str, limit: int = 100_000) -> list[int]:
    """Parse ``"0-15,20,30-32"`` into a list of seeds (ranges inclusive).

    Raises:
        ValueError: on a malformed part, a negative or > 2**32-1 seed, or more than ``limit``.

    >>> parse_seeds("0-2,7")
    [0, 1, 2, 7]
    """
    seeds: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        match = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", part)
        if match is None:
            raise ValueError(f"bad seed list part {part!r}: use numbers and ranges like 0-15,20")
        lo = int(match.group(1))
        hi = int(match.group(2)) if match.group(2) is not None else lo
        if hi < lo:
            raise ValueError(f"bad seed range {part!r}: the end is before the start")
        if hi > 2**32 - 1:
            raise ValueError(f"seed {hi} is too large: seeds go up to {2**32 - 1}")
        if len(seeds) + hi - lo + 1 > limit:
            raise ValueError(f"too many seeds in {text!r} (limit {limit})")
        seeds.extend(range(lo, hi + 1))
    if not seeds:
        raise ValueError(f"no seeds in {text!r}")
    return seeds


def seed_to_z(seed: int, z_dim: int) -> np.ndarray:
    """The NVlabs latent for ``seed``: ``RandomState(seed).randn(1, z_dim)`` (float64, [1, z_dim])."""
    if not 0 <= int(seed) <= 2**32 - 1:
        raise ValueError(f"seed must be in 0..{2**32 - 1}, got {seed}")
    return np.random.RandomState(int(seed)).randn(1, z_dim)


def seeds_to_z(seeds: Sequence[int], z_dim: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Stack the latents of ``seeds``: float32 tensor [len(seeds), z_dim] on ``device``."""
    z = np.concatenate([seed_to_z(s, z_dim) for s in seeds], axis=0)
    return torch.from_numpy(z).to(device=device, dtype=torch.float32)


def class_vector(
    c_dim: int, class_index: int | None, batch: int = 1, device: torch.device | str = "cpu"
) -> torch.Tensor | None:
    """One-hot class labels [batch, c_dim], or ``None`` for an unconditional model.

    Raises:
        ValueError: if a conditional model gets no class, or the index is out of range,
            or an unconditional model gets a class.
    """
    if c_dim == 0:
        if class_index is not None:
            raise ValueError("this model is unconditional: it takes no class")
        return None
    if class_index is None:
        raise ValueError(f"this model is conditional on {c_dim} classes: choose a class 0..{c_dim - 1}")
    if not 0 <= int(class_index) < c_dim:
        raise ValueError(f"class {class_index} is out of range: this model has classes 0..{c_dim - 1}")
    c = torch.zeros(batch, c_dim, device=device)
    c[:, int(class_index)] = 1
    return c


# ---------------------------------------------------------------------------------------------
# W layers: truncation and style mixing


def num_ws_for(resolution: int) -> int:
    """Number of W vectors of a StyleGAN2 synthesis network at ``resolution`` (2*log2(R) - 2)."""
    level = int(round(math.log2(resolution)))
    if 2**level != resolution or not 2 <= level <= 10:
        raise ValueError(f"resolution must be a power of two from 4 to 1024, got {resolution}")
    return 2 * level - 2


def ws_of_resolution(resolution: int, block: int) -> range:
    """The W indices owned by the synthesis block at ``block`` px in a ``resolution`` px model."""
    level = int(round(math.log2(block)))
    top = int(round(math.log2(resolution)))
    if 2**level != block or not 2 <= level <= top:
        raise ValueError(f"block {block} px is not a block of a {resolution} px model")
    start = 2 * (level - 2)
    stop = num_ws_for(resolution) if level == top else start + 2
    return range(start, stop)


def mixing_ranges(resolution: int) -> dict[str, range]:
    """Named W ranges ``coarse`` / ``middle`` / ``fine`` for a model at ``resolution``.

    From 64 px up: coarse = 4-8 px blocks, middle = 16-32 px, fine = 64 px and above (NVlabs'
    split). Below 64 px the blocks are split into thirds so every range stays meaningful; at
    8 px and below ``middle`` may be empty.

    >>> {k: (r.start, r.stop) for k, r in mixing_ranges(256).items()}
    {'coarse': (0, 4), 'middle': (4, 8), 'fine': (8, 14)}
    """
    top = int(round(math.log2(resolution)))
    num_ws_for(resolution)  # validates
    levels = list(range(2, top + 1))
    if resolution >= 64:
        groups = [levels[:2], levels[2:4], levels[4:]]
    else:
        n = len(levels)
        a = max(1, round(n / 3))
        b = max(a, n - max(1, round(n / 3)))
        groups = [levels[:a], levels[a:b], levels[b:]]
    ranges = {}
    for name, group in zip(MIX_RANGE_NAMES, groups):
        if group:
            first = ws_of_resolution(resolution, 2 ** group[0])
            last = ws_of_resolution(resolution, 2 ** group[-1])
            ranges[name] = range(first.start, last.stop)
        else:
            start = ranges[MIX_RANGE_NAMES[MIX_RANGE_NAMES.index(name) - 1]].stop
            ranges[name] = range(start, start)
    return ranges


def resolve_layers(spec: str | Sequence[int] | range, resolution: int) -> list[int]:
    """W indices from a name (``coarse``, ``middle``, ``fine``, ``coarse+middle``), a
    ``"0-3,5"`` string or a sequence of ints.

    Raises:
        ValueError: on an unknown name or an index outside ``0..num_ws-1``.
    """
    num_ws = num_ws_for(resolution)
    if isinstance(spec, str):
        names = [s.strip() for s in spec.split("+")]
        if all(name in MIX_RANGE_NAMES for name in names):
            ranges = mixing_ranges(resolution)
            indices = sorted({i for name in names for i in ranges[name]})
        else:
            try:
                indices = parse_seeds(spec)
            except ValueError as exc:
                raise ValueError(
                    f"bad layer range {spec!r}: use coarse, middle, fine or indices like 0-3"
                ) from exc
    else:
        indices = sorted({int(i) for i in spec})
    bad = [i for i in indices if not 0 <= i < num_ws]
    if bad:
        raise ValueError(f"W layer index {bad[0]} is out of range: this model has ws 0..{num_ws - 1}")
    return indices


PSI_CENTRES = ("class", "model")  # also batikstudio.render.request.PSI_CENTRES (kept torch-free there)
CLASS_CENTRE_SAMPLES = 2048
CLASS_CENTRE_SEED = 20260  # fixed: a class's centre, and so every truncated image, is reproducible

# mapping network -> (its weights' identity, {class: centre})
_centres: "weakref.WeakKeyDictionary[torch.nn.Module, tuple]" = weakref.WeakKeyDictionary()
_centres_lock = threading.Lock()


def truncation_centre(G: torch.nn.Module, class_index: int | None, centre: str = "class") -> torch.Tensor:
    """The point truncation pulls towards: [w_dim].

    ``"model"`` is the generator's tracked ``w_avg`` (NVlabs), the mean over every class the
    model was trained on; ``"class"`` is the mean w of the requested class (the mapping of
    :data:`CLASS_CENTRE_SAMPLES` fixed latents with that class), so that truncating a conditional
    model keeps each family's look instead of pulling every family towards one blend (the
    class-conditional truncation of StyleGAN-XL). Unconditional models, DCGAN models (whose
    "truncation" scales z) and ``class_index=None`` always use ``w_avg``. Cached per generator
    and class until the mapping's weights change.
    """
    if centre not in PSI_CENTRES:
        raise ValueError(f"unknown truncation centre {centre!r}: use {' or '.join(PSI_CENTRES)}")
    mapping = G.mapping
    w_avg = mapping.w_avg
    if centre == "model" or class_index is None or G.c_dim == 0 or not getattr(mapping, "class_centres", True):
        return w_avg
    weights = (str(w_avg.device), tuple(p._version for p in mapping.parameters()))
    k = int(class_index)
    with _centres_lock:  # renders of several threads may share a model
        stored_weights, cache = _centres.get(mapping, (None, {}))
        if stored_weights != weights:  # new weights (a training run's G_ema) or device: start over
            cache = {}
            _centres[mapping] = (weights, cache)
        if k not in cache:
            n = CLASS_CENTRE_SAMPLES if G.z_dim > 0 else 1
            z = None
            if G.z_dim > 0:
                z = torch.from_numpy(np.random.RandomState(CLASS_CENTRE_SEED).randn(n, G.z_dim))
                z = z.to(device=w_avg.device, dtype=torch.float32)
            # an ordinary tensor even when first asked under inference_mode, so that later
            # callers with autograd on can use it too
            with torch.inference_mode(False), torch.no_grad():
                w = mapping(z, class_vector(G.c_dim, k, n, w_avg.device), truncation_psi=1.0)
                cache[k] = w[:, 0].mean(0).to(w_avg.dtype)
        return cache[k]


def truncate(ws: torch.Tensor, w_avg: torch.Tensor, psi: float, cutoff: int | None = None) -> torch.Tensor:
    """Truncation in W: ``w_avg.lerp(ws, psi)`` on ``ws[:, :cutoff]`` (all layers if None).

    Args:
        ws: [N, num_ws, w_dim] float. w_avg: [w_dim]. psi: 1 = no truncation.
    Returns a new tensor; identical to what ``G.mapping(..., truncation_psi=psi)`` gives.
    """
    if ws.ndim != 3 or w_avg.shape[-1] != ws.shape[-1]:
        raise ValueError(f"expected ws [N, num_ws, {w_avg.shape[-1]}], got {list(ws.shape)}")
    if psi == 1:
        return ws.clone()
    out = ws.clone()
    if cutoff is None:
        out = w_avg.lerp(out, psi)
    else:
        out[:, :cutoff] = w_avg.lerp(out[:, :cutoff], psi)
    return out


def mix_styles(ws: torch.Tensor, donor: torch.Tensor, layers: Sequence[int]) -> torch.Tensor:
    """Replace ``ws[:, layers]`` with ``donor[:, layers]`` (both [N or 1, num_ws, w_dim])."""
    if ws.shape[1:] != donor.shape[1:]:
        raise ValueError(f"ws {list(ws.shape)} and donor {list(donor.shape)} differ in shape")
    out = ws.clone()
    if len(layers):
        idx = torch.as_tensor(list(layers), dtype=torch.long, device=ws.device)
        out[:, idx] = donor[:, idx].expand(out.shape[0], -1, -1).to(out.dtype)
    return out


# ---------------------------------------------------------------------------------------------
# interpolation


def lerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Linear interpolation (used in W)."""
    return a + (b - a) * t


def slerp(a: torch.Tensor, b: torch.Tensor, t: float, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation along the last axis (used in Z, whose samples lie near a sphere).

    Interpolates direction by angle and norm linearly; falls back to lerp for (anti)parallel
    vectors.
    """
    na = a.norm(dim=-1, keepdim=True)
    nb = b.norm(dim=-1, keepdim=True)
    ua, ub = a / na.clamp_min(eps), b / nb.clamp_min(eps)
    dot = (ua * ub).sum(-1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.acos(dot)
    so = torch.sin(omega)
    safe = so.abs() > 1e-5
    wa = torch.where(safe, torch.sin((1 - t) * omega) / so.where(safe, torch.ones_like(so)), 1 - t + 0 * so)
    wb = torch.where(safe, torch.sin(t * omega) / so.where(safe, torch.ones_like(so)), t + 0 * so)
    direction = wa * ua + wb * ub
    norm = na + (nb - na) * t
    return direction / direction.norm(dim=-1, keepdim=True).clamp_min(eps) * norm


def ease(t: float, kind: str = "linear") -> float:
    """Easing of a segment parameter in [0, 1]: ``linear`` or ``smooth`` (cosine ease in/out)."""
    if kind == "linear":
        return t
    if kind == "smooth":
        return 0.5 - 0.5 * math.cos(math.pi * t)
    raise ValueError(f"unknown easing {kind!r}: use linear or smooth")


@dataclass(frozen=True)
class PathPoint:
    """One frame of a keyframe path: the segment (from key ``index`` to the next) and ``t``."""

    frame: int
    index: int
    t: float


def keyframe_schedule(
    num_keys: int, frames_per_segment: int, loop: bool = True, easing: str = "linear"
) -> Iterator[PathPoint]:
    """Frames along a path through ``num_keys`` keyframes.

    A looping path returns to the first key (the last frame is just before it, so a looping
    animation has no repeated frame); an open path ends exactly on the last key.
    """
    if num_keys < 2:
        raise ValueError("an interpolation path needs at least two keyframes")
    if frames_per_segment < 1:
        raise ValueError("frames per segment must be at least 1")
    segments = num_keys if loop else num_keys - 1
    frame = 0
    for seg in range(segments):
        for k in range(frames_per_segment):
            yield PathPoint(frame, seg, ease(k / frames_per_segment, easing))
            frame += 1
    if not loop:
        yield PathPoint(frame, num_keys - 2, 1.0)


def interpolate_keys(keys: torch.Tensor, point: PathPoint, space: str = "w") -> torch.Tensor:
    """The latent at ``point`` between ``keys[i]`` and ``keys[i+1 mod n]``.

    Args:
        keys: [K, ...] latents (z [K, z_dim] for ``space='z'``, ws [K, num_ws, w_dim] for 'w').
        space: ``'w'`` uses lerp, ``'z'`` slerp.
    Returns the latent with a leading batch axis of 1.
    """
    a = keys[point.index]
    b = keys[(point.index + 1) % keys.shape[0]]
    if space == "w":
        out = lerp(a, b, point.t)
    elif space == "z":
        out = slerp(a, b, point.t)
    else:
        raise ValueError(f"unknown interpolation space {space!r}: use w or z")
    return out.unsqueeze(0)
