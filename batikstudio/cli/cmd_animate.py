"""``batikstudio animate``: a latent walk from a model, or image files, as a GIF or an MP4.

Two modes:

* ``--model M --seeds 1,5,9``: render a path through the seeds' motifs (lerp in W or slerp
  in Z) and write it, with a ``<output>.json`` provenance sidecar.
* ``FRAMES...``: assemble image files (or a folder of them) into an animation.

Frames are produced one at a time while the video is written, so long clips need little
memory.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from batikstudio.cli.cmd_filter import read_image
from batikstudio.errors import ImageError
from batikstudio.imaging.animation import GIF_PALETTES, write_animation
from batikstudio.jobs import InlineContext, TerminalProgress
from batikstudio.render.request import PSI_CENTRES

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "animate",
        help="animate between seeds of a model, or assemble image files, into a GIF or an MP4",
        description="With --model and --seeds, render a walk through those motifs. Otherwise "
        "write image files (or every image in a folder, in natural name order) as an "
        "animation. The output suffix picks the format: .gif or .mp4.",
    )
    p.add_argument("frames", nargs="*", type=Path, help="image files, or one folder of them")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .gif or .mp4")
    p.add_argument("--fps", type=float, default=12.0, help="frames per second (default 12)")
    walk = p.add_argument_group("latent walk (with --model)")
    walk.add_argument("--model", default=None, help="model file (.safetensors or NVlabs .pkl)")
    walk.add_argument("--seeds", default=None, help="keyframe seeds in order, e.g. 1,5,9")
    walk.add_argument("--frames", dest="frames_per_segment", type=int, default=24,
                      help="frames from one seed to the next (default 24)")
    walk.add_argument("--space", choices=("w", "z"), default="w",
                      help="interpolate in W (lerp, default) or Z (slerp)")
    walk.add_argument("--easing", choices=("linear", "smooth"), default="linear",
                      help="speed along each segment (default linear)")
    walk.add_argument("--loop", action="store_true",
                      help="return to the first seed at the end (seamless loop)")
    walk.add_argument("--psi", type=float, default=1.0, help="truncation psi (default 1 = none)")
    walk.add_argument("--psi-centre", choices=PSI_CENTRES, default="class",
                      help="truncate towards the class's average (default) or the model's (NVlabs)")
    walk.add_argument("--class", dest="class_index", default=None,
                      help="class index or name, for conditional models")
    walk.add_argument("--size", type=int, default=None, help="frame size in pixels (default: model's)")
    walk.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default cpu)")
    p.add_argument("--pingpong", action="store_true",
                   help="play forward then backward, for a seamless loop")
    p.add_argument("--no-loop", action="store_true", help="GIF: play once instead of looping")
    p.add_argument("--palette", choices=GIF_PALETTES, default="global",
                   help="GIF: one palette for all frames (default) or one per frame")
    p.add_argument("--quality", type=float, default=8.0, help="MP4: 1 (small) to 10 (best)")
    p.set_defaults(func=run)


def _natural_key(path: Path) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def frame_files(inputs: Sequence[Path]) -> list[Path]:
    """Expand one folder into its image files (natural order); keep a file list as given.

    Raises:
        ImageError: if a path is missing or a folder holds no images.
    """
    if len(inputs) == 1 and inputs[0].is_dir():
        files = sorted(
            (p for p in inputs[0].iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key
        )
        if not files:
            raise ImageError(f"{inputs[0]}: no image files ({', '.join(IMAGE_SUFFIXES)})")
        return files
    for path in inputs:
        if not path.is_file():
            raise ImageError(f"{path}: no such file")
    return list(inputs)


def _frames(files: Sequence[Path]) -> Iterator[np.ndarray]:
    for path in files:
        yield read_image(path)


def run(args: argparse.Namespace) -> int:
    if args.model is not None:
        return run_walk(args)
    if args.seeds is not None:
        raise ValueError("--seeds needs --model")
    if not args.frames:
        raise ValueError("give image files or a folder to assemble, or --model and --seeds")
    files = frame_files(args.frames)
    if args.pingpong and len(files) > 2:
        files = files + files[-2:0:-1]  # back again, without repeating the two ends
    suffix = args.output.suffix.lower()
    options: dict = {"total": len(files)}
    if suffix == ".gif":
        options.update(loop=not args.no_loop, palette=args.palette)
    elif suffix == ".mp4":
        options.update(quality=args.quality)
    ctx = InlineContext(on_progress=TerminalProgress(f"animate {args.output.name}"))
    write_animation(_frames(files), args.output, args.fps, ctx=ctx, **options)
    print(args.output)
    return 0


def _walk_class(value: str | None, labels: list[str], c_dim: int) -> int | None:
    """Class index from ``--class`` (index or label); class 0 by default for conditional models."""
    if value is None:
        return 0 if c_dim else None
    if value.isdigit():
        return int(value)
    if value in labels:
        return labels.index(value)
    known = ", ".join(labels) or "none (the model is unconditional)"
    raise ValueError(f"unknown class {value!r}: this model's classes are {known}")


def run_walk(args: argparse.Namespace) -> int:
    """Render a latent walk through ``--seeds`` of ``--model`` into ``--output``."""
    from batikstudio.core.latents import parse_seeds
    from batikstudio.io.models import open_model
    from batikstudio.render.animation import AnimationExportRequest, AnimationRequest, export_animation
    from batikstudio.render.motif import MotifState
    from batikstudio.runtime import resolve_device

    if args.frames:
        raise ValueError("give either image files or --model, not both")
    if args.seeds is None:
        raise ValueError("--model needs --seeds, e.g. --seeds 1,5,9")
    seeds = parse_seeds(args.seeds, limit=1000)
    model = open_model(args.model, device=resolve_device(args.device))
    cls = _walk_class(args.class_index, list(model.class_labels), model.G_ema.c_dim)
    keys = tuple(MotifState(seed=s, class_index=cls, psi=args.psi, psi_centre=args.psi_centre,
                           tileable=model.trained_tileable) for s in seeds)
    anim = AnimationRequest(model, keys, args.frames_per_segment, args.loop, args.space,
                            args.easing, args.size)
    request = AnimationExportRequest(anim, args.output, args.fps, args.quality,
                                     model_name=Path(str(model.path)).stem)
    ctx = InlineContext(on_progress=TerminalProgress(f"animate {args.output.name}"))
    export_animation(request, ctx)
    print(args.output)
    return 0
