"""Animations along a keyframe path: motifs (MotifStates) in, HWC uint8 frames out. Qt-free.

Each key is a full :class:`~batikstudio.render.motif.MotifState` (seed, class, psi, mixing,
directions...). Two interpolation spaces, as in DESIGN.md:

* ``w``: every key is turned into its edited ws (exactly what a still render of that key
  uses, via :func:`~batikstudio.render.engine.compute_ws`) and the ws are lerped, so frame 0
  of a segment is pixel-identical to a still render of its key.
* ``z``: the seeds' z are slerped; the z of a frame is then mapped, truncated, mixed and
  moved along directions with the settings of *both* ends of its segment, and those two ws
  are lerped. When two keys differ only by seed this is plain "slerp in Z, then map".

Synthesis settings (noise mode, tileable) come from the nearer key of the segment; noise
strength is lerped. Frames are rendered one at a time, so the same frame has the same pixels
in a preview, an export and the CLI.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from batikstudio import __version__
from batikstudio.core import latents
from batikstudio.core.directions import LatentDirections
from batikstudio.errors import ExportError
from batikstudio.imaging.animation import write_animation
from batikstudio.io.atomic import atomic_write_text
from batikstudio.jobs import JobContext
from batikstudio.render.engine import compute_ws, request_layouts, to_uint8, ws_from_z
from batikstudio.render.motif import MotifState
from batikstudio.render.request import RenderRequest

log = logging.getLogger(__name__)

SPACES = ("w", "z")
EASINGS = ("linear", "smooth")
PROVENANCE_SUFFIX = ".json"  # sidecar: ``walk.gif`` -> ``walk.gif.json``


def frame_count(num_keys: int, frames_per_segment: int, loop: bool = True) -> int:
    """Frames of a path: ``segments * frames_per_segment`` (+1 closing frame when open).

    >>> frame_count(3, 12, loop=True), frame_count(3, 12, loop=False)
    (36, 25)
    """
    segments = num_keys if loop else num_keys - 1
    return segments * frames_per_segment + (0 if loop else 1)


def check_path_options(keys: Sequence[MotifState], frames_per_segment: int, space: str, easing: str,
                       size: int | None = None) -> None:
    """Validate a keyframe path; raises ValueError with a one-line message."""
    if len(keys) < 2:
        raise ValueError("an animation needs at least two keyframes")
    if frames_per_segment < 1:
        raise ValueError("frames per segment must be at least 1")
    if space not in SPACES:
        raise ValueError(f"unknown interpolation space {space!r}: use w or z")
    if easing not in EASINGS:
        raise ValueError(f"unknown easing {easing!r}: use linear or smooth")
    if size is not None and size < 1:
        raise ValueError("frame size must be positive")


def _directions_for(directions: Any, req: RenderRequest) -> LatentDirections | None:
    if not req.directions:
        return None
    if callable(directions) and not isinstance(directions, LatentDirections):
        return directions(req)
    return directions


def _same_settings(a: RenderRequest, b: RenderRequest) -> bool:
    """True when two keys differ at most by seed (their ws from one z are then equal)."""
    return replace(a, seeds=(0,)) == replace(b, seeds=(0,))


def _resize(img: torch.Tensor, size: int | None) -> torch.Tensor:
    if size is None or (img.shape[-1] == size and img.shape[-2] == size):
        return img
    mode = "area" if size < img.shape[-1] else "bicubic"
    kwargs = {} if mode == "area" else {"align_corners": False}
    return F.interpolate(img.float(), size=(size, size), mode=mode, **kwargs)


def _synthesize(G: torch.nn.Module, ws: torch.Tensor, a: RenderRequest, b: RenderRequest, t: float) -> torch.Tensor:
    near = a if t < 0.5 else b
    gain: Any = near.noise_gain
    if isinstance(a.noise_gain, float) and isinstance(b.noise_gain, float) and a.noise_mode == b.noise_mode:
        gain = a.noise_gain + (b.noise_gain - a.noise_gain) * t
    kwargs = dict(noise_mode=near.noise_mode, noise_gain=gain, tileable=near.tileable)
    la, lb = request_layouts(G, a, a.seeds[:1]), request_layouts(G, b, b.seeds[:1])
    if la:  # a character model morphs from one key's character into the next one's
        kwargs["layout"] = torch.lerp(la["layout"], lb["layout"], float(t)).expand(ws.shape[0], -1, -1, -1)
    if near.noise_mode != "random":
        return G.synthesis(ws, **kwargs)
    with torch.random.fork_rng(devices=[]):  # the same noise on every frame: no flicker
        torch.manual_seed(near.noise_seed if near.noise_seed is not None else near.seeds[0])
        return G.synthesis(ws, **kwargs)


@torch.inference_mode()
def interpolation_frames(
    model: Any,
    keys: Sequence[MotifState],
    frames_per_segment: int,
    loop: bool = True,
    space: str = "w",
    easing: str = "linear",
    size: int | None = None,
    directions: Any = None,
) -> Iterator[np.ndarray]:
    """Yield the frames of a path through ``keys``, one HxWxC uint8 image at a time.

    Args:
        model: a LoadedModel (``G_ema``) or a bare Generator.
        keys: two or more motif states; a looping path returns to ``keys[0]``.
        frames_per_segment: frames from one key to the next (the next key is not repeated).
        loop: close the path (no repeated frame at the seam); an open path ends on the last key.
        space: ``'w'`` (lerp of edited ws) or ``'z'`` (slerp of z, then mapping).
        easing: ``'linear'`` or ``'smooth'`` (cosine ease in/out at every key).
        size: frame side in pixels (None = the model's resolution).
        directions: LatentDirections, or a callable ``RenderRequest -> LatentDirections``,
            needed only when a key moves along directions.

    Yields:
        ``frame_count(len(keys), frames_per_segment, loop)`` frames [H, W, C] uint8.

    Raises:
        ValueError: on fewer than two keys, a bad option, or a key the model cannot render
            (a class it does not have...).

    >>> from batikstudio.core.nets import GeneratorConfig, Generator
    >>> G = Generator(GeneratorConfig(z_dim=8, c_dim=0, w_dim=8, img_resolution=8, img_channels=3,
    ...                               mapping_layers=1, channel_base=64, channel_max=8)).eval()
    >>> frames = list(interpolation_frames(G, [MotifState(seed=1), MotifState(seed=2)], 3))
    >>> len(frames), frames[0].shape, frames[0].dtype
    (6, (8, 8, 3), dtype('uint8'))
    """
    check_path_options(keys, frames_per_segment, space, easing, size)
    G = getattr(model, "G_ema", model)
    device = next(G.parameters()).device
    reqs = [k.request() for k in keys]
    dirs = [_directions_for(directions, r) for r in reqs]
    z_keys = latents.seeds_to_z([k.seed for k in keys], G.z_dim, device)
    ws_keys = None
    if space == "w":
        ws_keys = torch.cat([compute_ws(G, r, r.seeds, d) for r, d in zip(reqs, dirs)])
    for point in latents.keyframe_schedule(len(keys), frames_per_segment, loop, easing):
        i, j = point.index, (point.index + 1) % len(keys)
        if ws_keys is not None:
            ws = latents.interpolate_keys(ws_keys, point, "w")
        else:
            z = latents.interpolate_keys(z_keys, point, "z")
            ws = ws_from_z(G, reqs[i], z, dirs[i])
            if point.t > 0 and not _same_settings(reqs[i], reqs[j]):
                ws = latents.lerp(ws, ws_from_z(G, reqs[j], z, dirs[j]), point.t)
        img = _synthesize(G, ws, reqs[i], reqs[j], point.t)
        yield to_uint8(_resize(img, size))[0]


@dataclass(frozen=True)
class AnimationRequest:
    """A keyframe path to render (a preview: frames kept in memory).

    Attributes:
        model: LoadedModel (``G_ema``, ``sha256``) or a Generator.
        keys: two or more MotifStates.
        frames_per_segment, loop, space, easing, size: see :func:`interpolation_frames`.
        directions: LatentDirections (or None when no key uses directions).
    """

    model: Any
    keys: tuple[MotifState, ...]
    frames_per_segment: int = 12
    loop: bool = True
    space: str = "w"
    easing: str = "linear"
    size: int | None = None
    directions: Any = None

    @property
    def num_frames(self) -> int:
        return frame_count(len(self.keys), self.frames_per_segment, self.loop)

    def frames(self) -> Iterator[np.ndarray]:
        return interpolation_frames(self.model, self.keys, self.frames_per_segment, self.loop,
                                    self.space, self.easing, self.size, self.directions)


def render_animation(request: AnimationRequest, ctx: JobContext) -> list[np.ndarray]:
    """Job: render every frame of ``request`` into a list of HxWxC uint8 images.

    Each frame is handed over as ``ctx.partial((index, frame))`` as soon as it exists, so a
    player can start before the last frame; progress counts frames.
    """
    total = request.num_frames
    ctx.status(f"rendering {total} frames")
    out: list[np.ndarray] = []
    for i, frame in enumerate(request.frames()):
        ctx.check()
        out.append(frame)
        ctx.partial((i, frame))
        ctx.progress(i + 1, total)
    return out


@dataclass(frozen=True)
class AnimationExportRequest:
    """An animation to write as GIF or MP4 (chosen by the suffix of ``path``).

    Attributes:
        animation: the keyframe path.
        path: ``.gif`` or ``.mp4`` target; provenance goes to ``<path>.json``.
        fps: frames per second (GIF: at most 50).
        quality: MP4 quality 1..10. model_name: recorded in the provenance.
    """

    animation: AnimationRequest
    path: str | Path
    fps: float = 12.0
    quality: float = 8.0
    model_name: str = ""


def provenance_path(path: str | Path) -> Path:
    """The sidecar JSON of an animation file: ``walk.gif`` -> ``walk.gif.json``."""
    path = Path(path)
    return path.with_name(path.name + PROVENANCE_SUFFIX)


def animation_provenance(request: AnimationExportRequest) -> dict[str, Any]:
    """Everything needed to render the animation again, frame for frame."""
    a = request.animation
    return {
        "software": f"batikstudio {__version__}",
        "kind": "animation",
        "model_sha256": getattr(a.model, "sha256", ""),
        "model_name": request.model_name,
        "keys": [k.to_dict() for k in a.keys],
        "frames_per_segment": a.frames_per_segment,
        "frames": a.num_frames,
        "fps": request.fps,
        "loop": a.loop,
        "space": a.space,
        "easing": a.easing,
        "size": a.size,
        "file": Path(request.path).name,
    }


def read_animation_provenance(path: str | Path) -> dict[str, Any]:
    """Read the sidecar of an animation file (``<path>.json``).

    Raises:
        ExportError: if the sidecar is missing or not valid JSON.
    """
    side = provenance_path(path)
    try:
        return json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportError(f"no readable provenance for {Path(path).name} ({side.name}): {exc}") from exc


def keys_from_provenance(prov: dict[str, Any]) -> tuple[MotifState, ...]:
    """The keyframes recorded by :func:`animation_provenance`."""
    return tuple(MotifState.from_dict(k) for k in prov["keys"])


def export_animation(request: AnimationExportRequest, ctx: JobContext) -> Path:
    """Job: stream the frames of ``request.animation`` into a GIF/MP4 and write provenance.

    Frames are rendered while the file is written (MP4 memory stays flat). Progress counts
    frames written; a cancelled export leaves no file. Returns the animation's path.

    Raises:
        ExportError: unsupported suffix or unwritable path. ValueError: bad options.
        Cancelled: when ``ctx`` was cancelled.
    """
    a = request.animation
    check_path_options(a.keys, a.frames_per_segment, a.space, a.easing, a.size)
    path = Path(request.path)
    suffix = path.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise ExportError(f"unsupported animation format {suffix!r}: use .gif or .mp4")
    total = a.num_frames
    ctx.status(f"writing {total} frames to {path.name}")
    options: dict[str, Any] = {"ctx": ctx, "total": total}
    if suffix == ".gif":
        options["loop"] = True
    else:
        options["quality"] = request.quality
    out = write_animation(a.frames(), path, request.fps, **options)
    atomic_write_text(provenance_path(out), json.dumps(animation_provenance(request), indent=1))
    log.info("wrote %s (%d frames)", out, total)
    return out
