"""``batikstudio calligraphy-data``: render characters from font files into a data set.

One class per font (the font's family name). Default characters: the 6,763 GB2312 hanzi.
Glyphs are black on white, centred by their ink bounding box; characters a font lacks are
skipped and counted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from batikstudio.jobs import InlineContext, TerminalProgress
from batikstudio.motifs.calligraphy import CalligraphyRequest, make_calligraphy_dataset


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calligraphy-data",
        help="render the GB2312 hanzi from Kai-style fonts into a labelled data set",
        description="Render every character (default: the 6,763 GB2312 hanzi) in every "
        "--font into DST, a new folder or a .zip in the stylegan2-ada-pytorch layout; the "
        "class of an image is its font's index, the class names are the font family names. "
        "On Debian: apt-get install fonts-arphic-ukai fonts-arphic-gkai00mp "
        "fonts-lxgw-wenkai fonts-cns11643-kai.",
    )
    p.add_argument("--font", action="append", required=True, metavar="PATH[#FACE]",
                   help="a .ttf/.otf/.ttc file (repeat for more styles); '#N' picks face N "
                   "of a .ttc collection")
    p.add_argument("-o", "--output", type=Path, required=True, help="output folder or .zip")
    p.add_argument("--res", type=int, default=64, help="glyph size in pixels (default 64)")
    p.add_argument("--limit", type=int, default=None, help="only the first N characters")
    p.add_argument("--chars", default=None, help="render these characters instead of GB2312")
    p.add_argument("--margin", type=float, default=0.08,
                   help="blank border as a fraction of the size (default 0.08)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 0.0 <= args.margin < 0.5:
        raise ValueError(f"--margin must be in [0, 0.5), got {args.margin}")
    request = CalligraphyRequest(fonts=tuple(args.font), dst=str(args.output), res=args.res,
                                 limit=args.limit, chars=args.chars, margin=args.margin)
    ctx = InlineContext(on_progress=TerminalProgress("glyphs"),
                        on_status=lambda text: print(text, file=sys.stderr))
    result = make_calligraphy_dataset(request, ctx)
    print(f"wrote {result.count} glyphs in {len(result.classes)} styles to {result.path}")
    for name, miss in zip(result.classes, result.missing):
        print(f"  {name}: {miss} characters missing" if miss else f"  {name}: complete")
    return 0
