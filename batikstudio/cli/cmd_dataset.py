"""``batikstudio dataset``: check a folder or zip of photos and convert it into a training set.

Prints a summary (kept, skipped by reason, duplicate groups, class counts, conversions) and
one line per skipped file. With ``--check-only`` nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from batikstudio.errors import DatasetError
from batikstudio.io.dataset import (
    DatasetBuildRequest, DatasetCheckRequest, build_dataset, check_dataset,
)
from batikstudio.io.imagefile import CROP_MODES, DEFAULT_MAX_PIXELS
from batikstudio.jobs import InlineContext, TerminalProgress


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dataset",
        help="check and convert a folder or zip of images into a training data set",
        description="Convert the images in SRC (a folder or .zip, any depth) into square PNGs "
        "in the stylegan2-ada-pytorch layout (00000/img00000000.png + dataset.json), written "
        "to DST (a .zip or a folder). Fixes EXIF rotation, CMYK, palettes, transparency "
        "(composited on white) and 16-bit images; skips corrupt, truncated, tiny, huge, "
        "duplicate and non-image files, each listed with its reason. SRC is never modified.",
    )
    p.add_argument("source", type=Path, metavar="SRC", help="folder or .zip of images")
    p.add_argument("-o", "--output", type=Path, default=None, metavar="DST",
                   help="output .zip file or folder (not needed with --check-only)")
    p.add_argument("--res", type=int, default=256, help="output side, a power of two "
                   "(default 256)")
    p.add_argument("--crop", choices=CROP_MODES, default="center",
                   help="center / random (seeded) crop after scaling the shorter side, or none: "
                   "scale the longer side and pad with white (default center)")
    p.add_argument("--grayscale", action="store_true", help="write one-channel images")
    p.add_argument("--labels-from-folders", action="store_true",
                   help="class labels from the top-level subfolder names (sorted)")
    p.add_argument("--check-only", action="store_true", help="report only, write nothing")
    p.add_argument("--min-size", type=int, default=None,
                   help="skip images whose shorter side is smaller (default res/4, at least 8)")
    p.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS,
                   help=f"skip images with more pixels (default {DEFAULT_MAX_PIXELS:,})")
    p.add_argument("--seed", type=int, default=0, help="seed for --crop random (default 0)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace DST if it is a zip or a folder holding a data set")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    scan = DatasetCheckRequest(
        source=args.source, res=args.res, crop=args.crop, grayscale=args.grayscale,
        labels_from_folders=args.labels_from_folders, min_size=args.min_size,
        max_pixels=args.max_pixels, seed=args.seed, num_previews=0,
    )
    ctx = InlineContext(on_progress=TerminalProgress("dataset"))
    if args.check_only:
        report = check_dataset(scan, ctx)
    else:
        if args.output is None:
            raise DatasetError("give an output with -o DST, or use --check-only")
        report = build_dataset(DatasetBuildRequest(scan, args.output, args.overwrite), ctx)
    sys.stdout.write(report.to_text())
    return 0
