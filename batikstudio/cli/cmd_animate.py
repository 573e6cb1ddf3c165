"""``batikstudio animate``: assemble image files into a looping GIF or an H.264 MP4.

Frames are read one at a time while the video is written, so long sequences (a latent walk
saved as PNGs, a folder of renders) need little memory. Rendering frames from a model is
the generator's job; this command is only the frame sink.
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

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "animate",
        help="assemble image files into a looping GIF or an MP4 (H.264)",
        description="Write image files (or every image in a folder, in natural name order) "
        "as an animation. The output suffix picks the format: .gif or .mp4.",
    )
    p.add_argument("frames", nargs="+", type=Path, help="image files, or one folder of them")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .gif or .mp4")
    p.add_argument("--fps", type=float, default=12.0, help="frames per second (default 12)")
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
