"""``batikstudio filter``: clean calligraphy artifacts (grey haze, specks), keeping provenance."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from batikstudio.errors import ImageError
from batikstudio.imaging.artifact import ArtifactFilterParams, apply_artifact_filter
from batikstudio.io.provenance import read_dpi, read_provenance, save_image

_GRAY_MODES = ("1", "L", "LA", "I", "I;16", "F")


def register(sub: argparse._SubParsersAction) -> None:
    defaults = ArtifactFilterParams()
    p = sub.add_parser(
        "filter",
        help="clean generated calligraphy: lift grey haze to white, erase specks, binarise",
        description="Lift near-white pixels to paper white, erase small dark specks and "
        "optionally binarise. The output keeps the input's provenance and DPI and records "
        "the filter settings.",
    )
    p.add_argument("input", type=Path, help="image to clean (PNG, TIFF, JPEG...)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .png or .tif")
    p.add_argument("--threshold", type=int, default=defaults.white_threshold,
                   help="luma 0-255 at and above which pixels become white "
                   f"(default {defaults.white_threshold})")
    p.add_argument("--speck-area", type=int, default=defaults.speck_area,
                   help="erase dark specks of at most this many pixels, 0 = off "
                   f"(default {defaults.speck_area})")
    p.add_argument("--binarize", action="store_true", help="also make the result pure black/white")
    p.add_argument("--binarize-threshold", type=int, default=None,
                   help="luma below which pixels become black (default: Otsu's method)")
    p.set_defaults(func=run)


def read_image(path: Path) -> np.ndarray:
    """Read an image as HxW (gray), HxWx3 (RGB) or HxWx4 (RGBA) uint8.

    Raises:
        ImageError: if the file is missing or not an image.
    """
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in _GRAY_MODES:
                img = img.convert("L")
            elif img.mode not in ("RGB", "RGBA"):
                img = img.convert("RGBA" if "transparency" in img.info else "RGB")
            return np.asarray(img, dtype=np.uint8).copy()
    except FileNotFoundError as exc:
        raise ImageError(f"{path}: no such file") from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageError(f"{path}: not a readable image ({exc})") from exc


def source_provenance(path: Path) -> dict[str, Any]:
    """The input's provenance (or a stub naming the file), to extend and re-embed."""
    prov = read_provenance(path)
    return dict(prov) if prov else {"source_file": path.name}


def run(args: argparse.Namespace) -> int:
    params = ArtifactFilterParams(
        white_threshold=args.threshold,
        speck_area=args.speck_area,
        binarize=args.binarize,
        binarize_threshold=args.binarize_threshold,
    )
    image = read_image(args.input)
    cleaned = apply_artifact_filter(image, params)
    prov = source_provenance(args.input)
    prov["filters"] = [*prov.get("filters", []), {"name": "artifact", **params.to_dict()}]
    dpi = read_dpi(args.input)
    save_image(args.output, cleaned, prov, dpi=dpi[0] if dpi else None)
    print(args.output)
    return 0
