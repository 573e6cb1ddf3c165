"""``batikstudio dyes``: split a motif into dye colours, one wax mask per stage, and a sheet.

Writes into OUTDIR: ``recoloured.png``, ``mask_stage_K.png`` for K = 0..N-1 (black = wax
before bath K; stage 0 has none), ``sheet.png`` (A4 at 100 DPI) and ``palette.json``. Every
PNG carries the input's provenance plus the separation settings.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from batikstudio.cli.cmd_filter import read_image, source_provenance
from batikstudio.errors import ExportError
from batikstudio.imaging.colour import SPACES, rgb_to_hex
from batikstudio.imaging.dyes import MAX_DYES, MIN_DYES, reduce_palette
from batikstudio.imaging.dyes_sheet import dye_sheet
from batikstudio.imaging.palettes import palette_names
from batikstudio.io.atomic import atomic_write_text
from batikstudio.io.provenance import read_dpi, save_image

SHEET_DPI = 100


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dyes",
        help="reduce a motif to dye colours: recoloured image, wax masks, dye sheet",
        description="Reduce a motif to a few dye colours (k-means in OKLab, or snapped to a "
        "named batik palette), ordered light to dark, and write one wax mask per dye stage "
        "(black = wax before that bath), a one-page dye sheet and palette.json.",
    )
    p.add_argument("input", type=Path, help="motif image")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUTDIR",
                   help="folder for the results (created if missing)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--colors", type=int, default=None,
                     help=f"number of dyes, {MIN_DYES}-{MAX_DYES} (default 4)")
    how.add_argument("--palette", default=None,
                     help=f"snap to a palette: {', '.join(palette_names())}, "
                     "or comma-separated #RRGGBB codes")
    p.add_argument("--min-region", type=int, default=0, metavar="PX",
                   help="merge single-colour regions smaller than PX pixels (default 0 = off)")
    p.add_argument("--seed", type=int, default=0, help="k-means seed (default 0)")
    p.add_argument("--space", choices=SPACES, default="oklab",
                   help="colour space for matching (default oklab)")
    p.set_defaults(func=run)


def _mask_image(mask: np.ndarray) -> np.ndarray:
    """bool wax mask -> uint8 film positive: 0 (black) = wax, 255 = bare cloth."""
    return np.where(mask, 0, 255).astype(np.uint8)


def run(args: argparse.Namespace) -> int:
    sep = reduce_palette(
        read_image(args.input), n_colors=args.colors, palette=args.palette,
        min_region=args.min_region, seed=args.seed, space=args.space,
    )
    try:
        args.output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create folder {args.output}: {exc.strerror}") from exc
    settings: dict[str, Any] = {
        "name": "dyes", "colors_requested": args.colors, "palette": args.palette,
        "min_region": args.min_region, "seed": args.seed, "space": args.space,
        "colors": [rgb_to_hex(c) for c in sep.colors],
    }
    base = source_provenance(args.input)
    prov = {**base, "filters": [*base.get("filters", []), settings]}
    dpi_pair = read_dpi(args.input)
    dpi = dpi_pair[0] if dpi_pair else None

    written = [save_image(args.output / "recoloured.png", sep.recoloured, prov, dpi=dpi)]
    for k, mask in enumerate(sep.wax_masks()):
        written.append(save_image(
            args.output / f"mask_stage_{k}.png", _mask_image(mask),
            {**prov, "wax_stage": k, "dye": rgb_to_hex(sep.colors[k])}, dpi=dpi,
        ))
    written.append(save_image(args.output / "sheet.png", dye_sheet(sep), prov, dpi=SHEET_DPI))
    record = {**sep.to_dict(), "settings": settings, "source_provenance": base,
              "masks": [f"mask_stage_{k}.png" for k in range(sep.n_colors)],
              "mask_format": "black (0) = wax before this stage's bath, white = bare cloth"}
    atomic_write_text(args.output / "palette.json", json.dumps(record, indent=2) + "\n")
    written.append(args.output / "palette.json")
    for path in written:
        print(path)
    return 0
