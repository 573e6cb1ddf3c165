"""``batikstudio generate``: render motifs to PNG files or a grid, with provenance."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from batikstudio.errors import BatikError, ImageError
from batikstudio.jobs import InlineContext, TerminalProgress
from batikstudio.render.request import PSI_CENTRES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="render motifs from a model (PNG files with provenance, or one grid image)",
        description="Render motifs from a model file (.safetensors or NVlabs .pkl). Every PNG "
        "carries its provenance, so --from-image can regenerate it pixel for pixel.",
    )
    p.add_argument("--model", required=True, help="model file (.safetensors or NVlabs .pkl)")
    p.add_argument("--seeds", default=None, help="seeds, e.g. 0-15,42 (default 0-15; with --text one seed "
                   "per character, 0, 1, ...)")
    p.add_argument("--text", default=None,
                   help="calligraphy models with a character table: the characters to write, seed i writing "
                        "character i (cycling); default: every seed writes its own character")
    p.add_argument("--arrangement", type=int, default=None, metavar="SEED",
                   help="batik structure models: every motif takes the arrangement (where its patches, cells "
                        "and bands lie) of this seed, keeping its own fills and colours")
    p.add_argument("--psi", type=float, default=1.0, help="truncation psi (1 = none; 0.7 is typical)")
    p.add_argument("--psi-centre", choices=PSI_CENTRES, default="class",
                   help="truncate towards the class's average (default; each family keeps its look) or the "
                        "model's average over all classes (NVlabs)")
    p.add_argument("--cutoff", type=int, default=None, help="truncate only the first N ws")
    p.add_argument("--class", dest="class_index", default=None,
                   help="class index or name, for conditional models; 'all' with --grid: one row per class")
    p.add_argument("--noise", choices=("const", "random", "none"), default="const", help="noise mode")
    p.add_argument("--noise-strength", type=float, default=1.0,
                   help="multiplier of every layer's noise strength (default 1)")
    p.add_argument("--mix", action="append", default=[], metavar="SEED:RANGE",
                   help="take a W range (coarse, middle, fine or 0-3) from another seed; repeatable")
    p.add_argument("--direction", action="append", default=[], metavar="K:AMOUNT",
                   help="move along PCA direction K by AMOUNT standard deviations; repeatable")
    p.add_argument("--direction-layers", default=None, help="limit directions to a W range")
    p.add_argument("--tileable", action=argparse.BooleanOptionalAction, default=None,
                   help="render a seamless tile (wrap padding); default: as the model was trained")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default cpu)")
    p.add_argument("--precision", choices=("float32", "bfloat16"), default="float32",
                   help="bfloat16 is about 2x faster on CPUs with native bf16; float32 is exact (default)")
    p.add_argument("--from-image", type=Path, default=None,
                   help="regenerate the image whose provenance is embedded in this PNG")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--out", type=Path, help="folder for one PNG per seed")
    out.add_argument("--grid", type=Path, help="write all seeds as one grid image (PNG)")
    out.add_argument("-o", "--output", type=Path, help="output file for --from-image")
    p.set_defaults(func=run)


def _class_index(value: str | None, class_labels: list[str]) -> int | None:
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    if value in class_labels:
        return class_labels.index(value)
    known = ", ".join(class_labels) or "none (the model is unconditional)"
    raise ValueError(f"unknown class {value!r}: this model's classes are {known}")


def _parse_direction(text: str) -> tuple[int, float]:
    k, sep, amount = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return int(k), float(amount)
    except ValueError:
        raise ValueError(f"bad --direction {text!r}: use K:AMOUNT, e.g. 0:2.5") from None


def _warn_emulated_bf16(precision: str, device) -> None:
    from batikstudio.runtime import cpu_has_native_bf16

    if precision == "bfloat16" and str(device) == "cpu" and not cpu_has_native_bf16():
        print("warning: this CPU has no native bfloat16 (AVX512-BF16 or AMX): --precision bfloat16 is "
              "emulated here and slower than float32", file=sys.stderr)


def build_request(args: argparse.Namespace, class_labels: list[str]):
    from batikstudio.core.latents import parse_seeds
    from batikstudio.render.request import MixSpec, RenderRequest

    text = "".join((args.text or "").split()) or None
    seeds = args.seeds if args.seeds is not None else (f"0-{len(text) - 1}" if text else "0-15")
    return RenderRequest(
        seeds=tuple(parse_seeds(seeds)),
        text=text,
        layout_seed=args.arrangement,
        class_index=_class_index(args.class_index, class_labels),
        psi=args.psi,
        psi_centre=args.psi_centre,
        cutoff=args.cutoff,
        noise_mode=args.noise,
        noise_gain=args.noise_strength,
        mix=tuple(MixSpec.parse(m) for m in args.mix),
        directions=tuple(_parse_direction(d) for d in args.direction),
        direction_layers=args.direction_layers,
        tileable=args.tileable,
        precision=args.precision,
    )


def run(args: argparse.Namespace) -> int:
    from batikstudio.io.models import open_model
    from batikstudio.runtime import resolve_device

    device = resolve_device(args.device)
    model = open_model(args.model, device=device)
    _check_family(args, model)
    _warn_emulated_bf16(args.precision, device)
    if args.tileable is None:
        args.tileable = model.trained_tileable
    if args.from_image is not None:
        return _regenerate(args, model)
    if args.out is None and args.grid is None:
        raise ValueError("say where to write: --out DIR (one PNG per seed) or --grid FILE")
    if args.class_index == "all":
        return _class_rows(args, model)
    if args.class_index is None and model.G_ema.c_dim:
        labels = list(model.class_labels)
        print(f"note: conditional model; using class 0 ({labels[0] if labels else 0}). "
              f"Pass --class NAME, a number or 'all' (with --grid).", file=sys.stderr)
        args.class_index = "0"
    req = build_request(args, list(model.class_labels))
    return _generate(args, model, req)


def _check_family(args: argparse.Namespace, model) -> None:
    """Refuse W-space edits on families without a W space (DCGAN: truncation scales z)."""
    if model.meta.architecture == "dcgan" and (args.mix or args.direction or args.direction_layers):
        raise BatikError("DCGAN models have no W space: --mix and --direction need a StyleGAN2 model")


def _class_rows(args, model) -> int:
    """``--class all --grid FILE``: one row per class, one column per seed."""
    from dataclasses import replace

    from batikstudio.io.provenance import save_image
    from batikstudio.render.engine import render_grid_image

    if args.grid is None or not model.G_ema.c_dim:
        raise ValueError("--class all needs --grid FILE and a conditional model")
    base = build_request(replace_class(args, "0"), list(model.class_labels))
    rows = [_render(model, replace(base, class_index=k)).images for k in range(model.G_ema.c_dim)]
    images = np.concatenate(rows)
    prov = {"kind": "class-grid", "model_sha256": model.sha256, "model_name": _model_name(model),
            "classes": list(model.class_labels), "render": base.to_dict()}
    save_image(args.grid, render_grid_image(images, cols=len(base.seeds), pad=2), prov)
    print(f"wrote {len(rows)} classes x {len(base.seeds)} seeds to {args.grid}")
    return 0


def replace_class(args: argparse.Namespace, value: str) -> argparse.Namespace:
    copy = argparse.Namespace(**vars(args))
    copy.class_index = value
    return copy


def _render(model, req):
    from batikstudio.render.directions_cache import default_cache
    from batikstudio.render.engine import render

    ctx = InlineContext(on_progress=TerminalProgress("rendering"))
    return render(model, req, directions=default_cache().for_request(model), ctx=ctx)


def _model_name(model) -> str:
    return str(getattr(model, "name", "") or Path(str(model.path)).stem)


def _generate(args, model, req) -> int:
    from batikstudio.io.provenance import save_image
    from batikstudio.render.engine import render_grid_image

    result = _render(model, req)
    name = _model_name(model)
    if args.grid is not None:
        prov = {"software": result.provenance(0)["software"], "kind": "grid", "model_sha256": model.sha256,
                "model_name": name, "render": req.to_dict()}
        save_image(args.grid, render_grid_image(result.images), prov)
        print(f"wrote a grid of {len(req.seeds)} motifs to {args.grid} ({result.seconds:.2f} s)")
        return 0
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BatikError(f"cannot create {args.out}: {exc.strerror}") from exc
    for i, seed in enumerate(req.seeds):
        save_image(args.out / f"seed{seed:05d}.png", result.images[i], result.provenance(i, name))
    print(f"wrote {len(req.seeds)} motifs to {args.out} ({result.seconds:.2f} s, "
          f"{result.seconds / len(req.seeds):.3f} s per image)")
    return 0


def _regenerate(args, model) -> int:
    from batikstudio.io.provenance import read_provenance, save_image
    from batikstudio.render.request import RenderRequest

    prov = read_provenance(args.from_image)
    if prov is None or "render" not in prov:
        raise ImageError(f"{args.from_image} carries no Batik Studio render provenance")
    if prov.get("model_sha256") and prov["model_sha256"] != model.sha256:
        raise BatikError(
            f"{args.from_image} was made with model sha256 {prov['model_sha256'][:12]}..., "
            f"but {args.model} is {model.sha256[:12]}...: open the model it was made with"
        )
    req = RenderRequest.from_dict(prov["render"])
    result = _render(model, req)
    image = result.images[0] if len(req.seeds) == 1 else None
    if image is None:
        from batikstudio.render.engine import render_grid_image

        image = render_grid_image(result.images)
    out = args.output or args.from_image.with_name(args.from_image.stem + "-regenerated.png")
    save_image(out, image, prov)
    from PIL import Image

    with Image.open(args.from_image) as src:
        original = np.asarray(src)
    same = original.shape == image.squeeze().shape and np.array_equal(original, image.squeeze())
    print(f"wrote {out}: {'identical to' if same else 'DIFFERENT from'} {args.from_image}")
    return 0 if same else 1
