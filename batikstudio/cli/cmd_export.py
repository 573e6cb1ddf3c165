"""``batikstudio export``: lay a motif out as a repeat at a physical print size.

Raster outputs (``.png``, ``.tif``) carry the DPI and the input's provenance plus the print
settings; vector outputs (``.svg``, ``.pdf``) have one layer per dye. Examples::

    batikstudio export motif.png -o print.tif --layout half-drop --size 21x18in --dpi 150
    batikstudio export motif.png -o cap.png --preset batik-cap --colors 5
    batikstudio export motif.png -o panel.pdf --preset wallpaper-panel --repeat 8in
    batikstudio export motif.png -o drop.png --layout half-drop --offset 1/3 --seamless seam

Every export prints the tile's seam score for the chosen layout, and warns in one line
when the seam is plainly visible and no ``--seamless`` step was asked for.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from batikstudio.cli.cmd_filter import read_image, source_provenance
from batikstudio.errors import ExportError
from batikstudio.imaging.export import (
    RASTER_SUFFIXES, VECTOR_SUFFIXES, PrintExportRequest, SeamCheck, VectorExportRequest,
    check_seam, export_print, export_vector, reduce_to_dyes,
)
from batikstudio.imaging.printsize import (
    DEFAULT_MAX_PIXELS, DPI_PRESETS, FIT_WIDTH_PRESETS, PRESET_SIZES, UNIT_INCHES, PrintSpec,
    parse_size, preset,
)
from batikstudio.imaging.repeat import CREAM, TileLayout, parse_offset
from batikstudio.imaging.seamless import METHODS as SEAMLESS_METHODS
from batikstudio.imaging.seamless import make_seamless
from batikstudio.imaging.upscale import METHODS as UPSCALE_METHODS
from batikstudio.jobs import InlineContext, TerminalProgress


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="lay a motif out as a repeat at a print size and DPI (PNG, TIFF, SVG, PDF)",
        description="Lay a motif out as block / half-drop / half-brick / mirror / centre "
        "repeat at a physical size, upscaled to the DPI (Lanczos, or crisp vectors of the "
        "dye layers), with DPI and provenance embedded. SVG and PDF get one layer per dye.",
    )
    p.add_argument("input", type=Path, help="motif image (the repeat tile)")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="output file: .png, .tif/.tiff, .svg or .pdf")
    p.add_argument("--layout", default="block",
                   help="block, half-drop, half-brick, mirror or centre (default block)")
    p.add_argument("--size", default=None,
                   help="print size, e.g. 20x20cm, 21x18in, 24in (square); default batik-cap")
    p.add_argument("--preset", default=None, choices=sorted(PRESET_SIZES),
                   help="named print size (overridden by --size)")
    p.add_argument("--dpi", default=None,
                   help=f"dots per inch or {'/'.join(DPI_PRESETS)} (default 300)")
    p.add_argument("--repeat", default=None,
                   help="repeat (tile) width, e.g. 10cm or 6in (default 20 cm, at most the width)")
    p.add_argument("--fit-width", action="store_true",
                   help="round the repeat so a whole number spans the width (on for "
                   "wallpaper/roll presets)")
    p.add_argument("--offset", default="1/2", help="drop / brick offset: 1/2 or 1/3 (default 1/2)")
    p.add_argument("--seamless", choices=SEAMLESS_METHODS, default=None,
                   help="make the motif seamless first, for the chosen layout and offset "
                   "(half-drop / half-brick: the edge meets the next copy one drop lower)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--colors", type=int, default=None,
                     help="reduce to N dye colours and upscale as vectors (crisp edges)")
    how.add_argument("--palette", default=None, help="snap to a named palette or #hex list")
    p.add_argument("--method", choices=UPSCALE_METHODS, default=None,
                   help="upscaling (default: vector with --colors/--palette, else lanczos)")
    p.add_argument("--sharpen", type=float, default=0.0, help="unsharp mask after raster upscaling")
    p.add_argument("--background", default=None, help="ground colour for centre, #RRGGBB")
    p.add_argument("--max-pixels", default=None,
                   help=f"refuse larger prints, e.g. 400MP (default {DEFAULT_MAX_PIXELS / 1e6:g}MP)")
    p.set_defaults(func=run)


def parse_pixels(text: str | None) -> int:
    """``'200MP'``, ``'2e8'`` or ``'200000000'`` -> pixels."""
    if text is None:
        return DEFAULT_MAX_PIXELS
    m = re.fullmatch(r"\s*([\d.e+]+)\s*(mp)?\s*", text, re.IGNORECASE)
    if not m:
        raise ValueError(f"cannot read pixel limit {text!r}: write e.g. 400MP")
    value = float(m.group(1)) * (1e6 if m.group(2) else 1)
    if value < 1:
        raise ValueError(f"pixel limit must be positive, got {text}")
    return int(value)


def parse_colour(text: str | None) -> tuple[int, int, int]:
    if text is None:
        return CREAM
    m = re.fullmatch(r"#?([0-9a-fA-F]{6})", text.strip())
    if not m:
        raise ValueError(f"cannot read colour {text!r}: write #RRGGBB")
    v = m.group(1)
    return (int(v[0:2], 16), int(v[2:4], 16), int(v[4:6], 16))


def build_spec(args: argparse.Namespace) -> tuple[PrintSpec, bool]:
    """The print spec from --size / --preset / --dpi, and whether the width must fit."""
    dpi: float | str = args.dpi if args.dpi is not None else 300
    if isinstance(dpi, str) and dpi.lower() not in DPI_PRESETS:
        dpi = float(dpi)
    fit = args.fit_width
    if args.size is not None:
        w, h, unit = parse_size(args.size)
        spec = PrintSpec(w, h if h is not None else w, unit, 300)
        if isinstance(dpi, str):
            dpi = DPI_PRESETS[dpi.lower()]
        return spec.with_dpi(float(dpi)), fit
    name = args.preset or "batik-cap"
    return preset(name, dpi), fit or name in FIT_WIDTH_PRESETS


def _repeat_in(text: str | None, unit: str) -> float | None:
    if text is None:
        return None
    value, _, rep_unit = parse_size(text, default_unit=unit)
    return value * UNIT_INCHES[rep_unit] / UNIT_INCHES[unit]


def run(args: argparse.Namespace) -> int:
    suffix = args.output.suffix.lower()
    if suffix not in RASTER_SUFFIXES and suffix not in VECTOR_SUFFIXES:
        raise ExportError(f"cannot export to {args.output.name}: use .png, .tif, .svg or .pdf")
    spec, fit = build_spec(args)
    layout = TileLayout.parse(args.layout)
    offset = parse_offset(args.offset)
    repeat = _repeat_in(args.repeat, spec.unit)
    background = parse_colour(args.background)
    image = read_image(args.input)
    prov = source_provenance(args.input)
    if suffix in VECTOR_SUFFIXES:
        if args.seamless:
            image = make_seamless(image, args.seamless, layout=layout, offset=offset)
        check = check_seam(image, layout, offset, args.seamless)
        labels, colors = reduce_to_dyes(image, args.colors, args.palette)
        request = VectorExportRequest(
            (args.output,), spec, layout, offset, repeat, fit, background, prov)
        for path in export_vector(labels, colors, request):
            print(path)
        report_seam(check)
        return 0
    method = args.method or ("vector" if (args.colors or args.palette) else "lanczos")
    request = PrintExportRequest(
        output=args.output, spec=spec, layout=layout, offset=offset, repeat=repeat,
        fit_width=fit, method=method, seamless=args.seamless, n_colors=args.colors,
        palette=args.palette, background=background, sharpen=args.sharpen, provenance=prov,
        max_pixels=parse_pixels(args.max_pixels),
    )
    checks: list[SeamCheck] = []  # printed after the progress bar is done
    ctx = InlineContext(on_progress=TerminalProgress("export"),
                        on_partial=lambda r: checks.append(r) if isinstance(r, SeamCheck) else None)
    path = export_print(image, request, ctx)
    w, h = spec.pixel_size
    print(f"{path} ({w} x {h} px, {spec.describe()})")
    for check in checks:
        report_seam(check)
    return 0


def report_seam(check: SeamCheck) -> None:
    """Print the seam score line, and the one-line warning on a visible, unrepaired seam."""
    print(check.describe())
    warning = check.warning()
    if warning:
        print(warning, file=sys.stderr)
