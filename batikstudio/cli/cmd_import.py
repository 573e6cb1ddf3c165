"""``batikstudio import X.pkl -o Y.safetensors``: convert an NVlabs snapshot pickle once.

The pickle is read with the restricted unpickler (nothing in it runs); prints what was
converted: networks and their sizes, Diffusion-GAN p/T, ADA p, kimg.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from batikstudio.io.modelfile import describe_size
from batikstudio.io.models import import_pickle
from batikstudio.jobs import InlineContext


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import", help="convert an NVlabs .pkl (stylegan2-ada-pytorch, Diffusion-GAN) to a model file",
        description="Convert an NVlabs network snapshot (.pkl from stylegan2-ada-pytorch or "
        "Diffusion-GAN) into a Batik Studio .safetensors model file. The pickle is read "
        "without running any code in it; a pickle that asks for anything else is refused.",
    )
    p.add_argument("source", type=Path, metavar="X.pkl", help="NVlabs snapshot pickle")
    p.add_argument("-o", "--output", type=Path, default=None, metavar="Y.safetensors",
                   help="output model file (default: next to X with .safetensors)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    dst = args.output if args.output is not None else args.source.with_suffix(".safetensors")
    report = import_pickle(args.source, dst, InlineContext())
    sizes = ", ".join(f"{n} ({describe_size(c)} parameters)" for n, c in report.num_params.items())
    print(f"converted {report.source.name} -> {report.destination}: {sizes}")
    g = report.meta.G_config
    print(f"  generator: {g['img_resolution']}x{g['img_resolution']}, {g['img_channels']} "
          f"channel(s), c_dim {g['c_dim']}")
    training = report.meta.training
    if "kimg" in training:
        print(f"  kimg: {training['kimg']:g}")
    if "diffusion" in training:
        d = training["diffusion"]
        print(f"  Diffusion-GAN: p {d.get('p')}, T {d.get('T')}")
    if "augment" in training:
        print(f"  ADA: p {training['augment'].get('p')}")
    return 0
