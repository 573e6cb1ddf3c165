"""``batikstudio motifs``: render a labelled procedural batik data set, or a contact sheet.

The data set uses the stylegan2-ada-pytorch layout (``00000/img00000000.png`` + a
``dataset.json`` with ``labels`` = family index and ``classes`` = family names), written to a
new folder or a ``.zip``, atomically. ``--sheet`` writes one PNG instead: every family in a row,
``--count`` seeds per row (``--tiled`` shows each motif repeated 2 x 2 to check the seams).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from batikstudio.io.provenance import save_image
from batikstudio.jobs import InlineContext, TerminalProgress
from batikstudio.motifs.colours import PALETTES
from batikstudio.motifs.families import FAMILIES
from batikstudio.motifs.generate import contact_sheet, render_motif
from batikstudio.motifs.jobs import MotifDatasetRequest, make_motif_dataset
from batikstudio.motifs.spec import EDITIONS, LATEST_EDITION


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "motifs",
        help="render a labelled data set of procedural batik motifs (or a contact sheet)",
        description="Render COUNT seamless procedural motifs, balanced round-robin over the "
        f"families ({', '.join(FAMILIES)}), into DST: a new folder or a .zip in the "
        "stylegan2-ada-pytorch layout, labelled by family. Same seed, same pixels.",
    )
    p.add_argument("-o", "--output", type=Path, required=True, help="folder, .zip, or sheet .png")
    p.add_argument("--count", type=int, default=1000,
                   help="images in the data set, or seeds per family with --sheet (default 1000)")
    p.add_argument("--res", type=int, default=256, help="image size in pixels (default 256)")
    p.add_argument("--families", default=",".join(FAMILIES),
                   help="comma-separated family names, in class order (default: all)")
    p.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    p.add_argument("--palette", choices=sorted(PALETTES), default=None,
                   help="one palette for every motif (default: typical palettes per family)")
    p.add_argument("--edition", type=int, choices=EDITIONS, default=LATEST_EDITION,
                   help=f"motif generator edition (default {LATEST_EDITION}); 1 is the generator the 32 px "
                   "batik model and the 64 px one up to its stage 14 were trained on, 2 keeps every sekar "
                   "jagad island outlined where two dark islands meet")
    p.add_argument("--workers", type=int, default=1,
                   help="processes rendering at once (default 1; the images do not depend on it)")
    p.add_argument("--sheet", action="store_true",
                   help="write a contact sheet PNG (families x COUNT seeds) instead")
    p.add_argument("--tiled", action="store_true", help="with --sheet: show each motif 2 x 2")
    p.set_defaults(func=run)


def _families(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    for n in names:
        if n not in FAMILIES:
            raise ValueError(f"unknown motif family {n!r}; known: {', '.join(FAMILIES)}")
    return names


def _sheet(args: argparse.Namespace, families: tuple[str, ...]) -> int:
    if not 1 <= args.count <= 64:
        raise ValueError("--sheet needs --count between 1 and 64 (seeds per family)")
    images = []
    for fam in families:
        for s in range(args.seed, args.seed + args.count):
            img = render_motif(fam, s, args.res, args.palette, args.edition)
            images.append(np.tile(img, (2, 2, 1)) if args.tiled else img)
    sheet = contact_sheet(images, args.count)
    save_image(args.output, sheet, {"source": "procedural motifs", "families": list(families),
                                    "seeds": [args.seed, args.seed + args.count - 1],
                                    "res": args.res, "tiled": bool(args.tiled),
                                    "motif_edition": args.edition})
    print(f"wrote {args.output} ({len(families)} families x {args.count} seeds)")
    return 0


def run(args: argparse.Namespace) -> int:
    families = _families(args.families)
    if args.sheet:
        return _sheet(args, families)
    request = MotifDatasetRequest(dst=str(args.output), count=args.count, res=args.res,
                                  families=families, seed=args.seed, palette=args.palette,
                                  workers=args.workers, edition=args.edition)
    request.validate()
    ctx = InlineContext(on_progress=TerminalProgress("motifs"))
    result = make_motif_dataset(request, ctx)
    print(f"wrote {result.count} motifs of {len(result.classes)} families to {result.path}")
    return 0
