"""``batikstudio style``: neural style transfer from a style image (e.g. a photo of a real cloth)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from batikstudio.errors import ImageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "style",
        help="neural style transfer: restyle an image after a style image",
        description="Restyle CONTENT after STYLE. 'gatys' optimises the image on VGG features "
        "(bundled VGG16 trunk, or your torchvision VGG19 file with --weights; about a minute at "
        "256 px on 2 cores); 'fast' runs Magenta's arbitrary-style network (under a second, "
        "needs onnxruntime: pip install 'batikstudio[style]').",
    )
    p.add_argument("content", type=Path, help="content image (a motif, a photo)")
    p.add_argument("style", type=Path, help="style image (e.g. a photo of a batik cloth)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .png or .tif")
    p.add_argument("--method", choices=("gatys", "fast"), default="gatys", help="default gatys")
    p.add_argument("--weights", type=Path, default=None,
                   help="torchvision VGG19 state dict (vgg19-dcbb9e9d.pth) for gatys; "
                   "default: the bundled VGG16 trunk")
    p.add_argument("--size", type=int, default=256, help="longest side of the result (default 256)")
    colour = p.add_mutually_exclusive_group()
    colour.add_argument("--preserve-colour", "--preserve-color", action="store_true",
                        help="keep the content's colours (luminance-only transfer)")
    colour.add_argument("--colour", choices=("none", "luminance", "histogram", "style"), default=None,
                        help="colour handling: luminance = keep content chroma, histogram = "
                        "recolour the style to the content's colours first, style = give the "
                        "result the style's palette")
    p.add_argument("--iterations", default=None,
                   help="gatys steps per scale, coarse to fine, e.g. 100,50 (default 100,50)")
    p.add_argument("--style-weight", type=float, default=None, help="gatys style weight (default 3; higher = more pattern, less content)")
    p.add_argument("--content-weight", type=float, default=None, help="gatys content weight (default 1)")
    p.add_argument("--style-scale", type=float, default=None,
                   help="gatys: style image size relative to the result (default 0.5; larger = "
                   "bigger pattern elements)")
    p.add_argument("--optimizer", choices=("lbfgs", "adam"), default=None, help="gatys optimiser")
    p.add_argument("--strength", type=float, default=1.0,
                   help="fast: 0 = content's own style, 1 = full style (default 1)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default cpu)")
    p.set_defaults(func=run)


def _read(path: Path) -> np.ndarray:
    from batikstudio.io.imagefile import decode_image

    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ImageError(f"{path}: no such file") from exc
    except OSError as exc:
        raise ImageError(f"{path}: cannot read ({exc.strerror})") from exc
    return decode_image(data, min_size=16).pixels


def _parse_iterations(text: str) -> tuple[int, ...]:
    try:
        steps = tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise ValueError(f"bad --iterations {text!r}: use counts per scale, e.g. 100,50") from None
    if not steps:
        raise ValueError("--iterations needs at least one count")
    return steps


def build_request(args: argparse.Namespace, content: np.ndarray, style: np.ndarray):
    """The :class:`StyleTransferRequest` for parsed arguments and decoded images."""
    from batikstudio.imaging.style_transfer import GatysConfig, StyleTransferRequest

    overrides: dict = {}
    if args.iterations is not None:
        overrides["iterations"] = _parse_iterations(args.iterations)
    for name in ("style_weight", "content_weight", "style_scale", "optimizer"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    if overrides.get("optimizer") == "adam" and "learning_rate" not in overrides:
        overrides["learning_rate"] = 0.02
    # Gatys with the bundled VGG16 trunk drifts to pastel colours: by default its result takes
    # the style image's palette ("style"); the fast network keeps colours well on its own
    default = "style" if args.method == "gatys" else "none"
    colour = "luminance" if args.preserve_colour else (args.colour or default)
    return StyleTransferRequest(
        content=content, style=style, method=args.method, size=args.size, colour=colour,
        weights=str(args.weights) if args.weights is not None else None,
        gatys=GatysConfig(**overrides), strength=args.strength, device=args.device,
    )


def run(args: argparse.Namespace) -> int:
    from batikstudio.imaging.style_transfer import stylize
    from batikstudio.io.provenance import read_provenance, save_image
    from batikstudio.jobs import InlineContext, TerminalProgress

    content, style = _read(args.content), _read(args.style)
    request = build_request(args, content, style)
    start = time.monotonic()
    ctx = InlineContext(on_progress=TerminalProgress(f"style ({request.method})"))
    result = stylize(request, ctx)
    seconds = time.monotonic() - start
    source = read_provenance(args.content) if args.content.suffix.lower() in (".png", ".tif", ".tiff") else None
    prov = dict(source) if source else {"source_file": args.content.name}
    entry = {"name": "style_transfer", "method": request.method, "style_file": args.style.name,
             "size": request.size, "colour": request.colour,
             "weights": args.weights.name if args.weights else "bundled"}
    if request.method == "gatys":
        entry.update(iterations=list(request.gatys.iterations), style_weight=request.gatys.style_weight,
                     content_weight=request.gatys.content_weight, style_scale=request.gatys.style_scale,
                     optimizer=request.gatys.optimizer)
    else:
        entry["strength"] = request.strength
    prov["filters"] = [*prov.get("filters", []), entry]
    save_image(args.output, result, prov)
    print(f"{args.output} ({result.shape[1]}x{result.shape[0]}, {request.method}, {seconds:.1f}s)")
    return 0
