"""``batikstudio model``: create an untrained model file, or describe a model file.

``model new --res 64 -o FILE`` writes a random-init StyleGAN2 (useful to try the app and as a
start for training); ``model info FILE`` prints configs, networks, training record and
provenance of a ``.safetensors`` model or an NVlabs ``.pkl`` (read safely, nothing runs).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from batikstudio.core.nets import DiscriminatorConfig, GeneratorConfig
from batikstudio.io.modelfile import describe_size, read_model_file
from batikstudio.io.models import is_pickle_file, model_sha256, new_random_model, snapshot_to_model_file
from batikstudio.io.nvlabs_pickle import read_nvlabs_snapshot


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("model", help="create an untrained model or show what a model file holds",
                       description="Create or inspect model files.")
    msub = p.add_subparsers(dest="model_command", metavar="ACTION", required=True)
    new = msub.add_parser("new", help="write an untrained (random) StyleGAN2 model",
                          description="Write an untrained StyleGAN2 model file (NVlabs-style "
                          "random init). The same options and seed always give the same file "
                          "contents.")
    new.add_argument("--res", type=int, required=True, help="image size, a power of two (4..1024)")
    new.add_argument("--channels", type=int, default=3, choices=(1, 3, 4),
                     help="1 gray, 3 RGB, 4 RGBA (default 3)")
    new.add_argument("--seed", type=int, default=0, help="random init seed (default 0)")
    new.add_argument("--c-dim", type=int, default=0, help="number of classes, 0 = unconditional")
    new.add_argument("--z-dim", type=int, default=512, help="latent size (default 512)")
    new.add_argument("--channel-base", type=int, default=8192,
                     help="channels at R px are min(base/R, max) (default 8192)")
    new.add_argument("--channel-max", type=int, default=256, help="channel cap (default 256)")
    new.add_argument("--with-d", action="store_true",
                     help="also store G and a discriminator D (to train from this file)")
    new.add_argument("--name", default="", help="display name (default: the file name)")
    new.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                     help="output .safetensors file")
    new.set_defaults(func=run_new)
    info = msub.add_parser("info", help="show configs, nets, training record and provenance",
                           description="Describe a .safetensors model or an NVlabs .pkl.")
    info.add_argument("file", type=Path, metavar="FILE")
    info.add_argument("--json", action="store_true", help="print the metadata as JSON")
    info.set_defaults(func=run_info)


def run_new(args: argparse.Namespace) -> int:
    if args.output.suffix.lower() != ".safetensors":
        raise ValueError(f"the output {args.output.name} must end in .safetensors")
    cfg = GeneratorConfig(z_dim=args.z_dim, c_dim=args.c_dim, w_dim=args.z_dim,
                          img_resolution=args.res, img_channels=args.channels,
                          channel_base=args.channel_base, channel_max=args.channel_max)
    d_cfg = None
    if args.with_d:
        d_cfg = DiscriminatorConfig(c_dim=args.c_dim, img_resolution=args.res,
                                    img_channels=args.channels, channel_base=args.channel_base,
                                    channel_max=args.channel_max)
    path = new_random_model(cfg, args.seed, args.output, d_cfg=d_cfg, name=args.name)
    print(f"wrote untrained {args.res}x{args.res} model (seed {args.seed}) to {path}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    path: Path = args.file
    sha = model_sha256(path)
    if is_pickle_file(path):
        model = snapshot_to_model_file(read_nvlabs_snapshot(path), path, sha)
        kind = "NVlabs pickle (read safely; import it with 'batikstudio import')"
    else:
        model = read_model_file(path)
        kind = "Batik Studio model file"
    meta = model.meta
    if args.json:
        print(json.dumps(dict(meta.to_dict(), sha256=sha), indent=1, sort_keys=True))
        return 0
    g = meta.G_config
    lines = [
        f"file:         {path} ({kind})",
        f"sha256:       {sha}",
        f"name:         {meta.name}",
        f"architecture: {meta.architecture}, format version {meta.format_version}",
        f"image:        {g.get('img_resolution')}x{g.get('img_resolution')}, "
        f"{g.get('img_channels')} channel(s), z_dim {g.get('z_dim')}, w_dim {g.get('w_dim')}",
        f"classes:      {', '.join(meta.class_labels) if meta.class_labels else 'none'}",
    ]
    if g.get("layout_res") and g.get("layout_by_class"):
        lines.append(f"layouts:      {g.get('layout_chars', 0):,} motif layouts by class (a structure model: a seed "
                     f"draws one of its class's arrangements; {g['layout_res']} px)")
    elif g.get("layout_res"):
        lines.append(f"characters:   {g.get('layout_chars', 0):,} (a character model: --text writes them; "
                     f"{g['layout_res']} px layouts)")
    for net in model.nets:
        count = sum(t.numel() for t in model.state_dict(net).values())
        lines.append(f"net {net + ':':<9} {describe_size(count)} parameters")
    training = meta.training
    if "kimg" in training:
        line = f"kimg:         {training['kimg']}"
        if training.get("kimg_before"):
            line += f" in its last stage, {training.get('kimg_total')} in all"
        lines.append(line)
    d = training.get("diffusion")
    if isinstance(d, dict):  # None when trained without Diffusion-GAN noise
        lines.append(f"diffusion:    p {d.get('p')}, T {d.get('T')}")
    if "augment" in training:
        aug = training["augment"]
        if isinstance(aug, dict):  # imported NVlabs ADA state
            lines.append(f"augment:      {aug.get('kind')} p {aug.get('p')}")
        else:  # a record written by our trainer
            lines.append(f"augment:      {aug} p {training.get('augment_p')}")
    prov = meta.provenance
    if prov.get("storage"):
        lines.append(f"storage:      {prov['storage']} (read back as float32)")
    if prov:
        lines.append("provenance:   " + ", ".join(f"{k} {v}" for k, v in sorted(prov.items())))
    if meta.description:
        lines.append(f"description:  {meta.description}")
    print("\n".join(lines))
    return 0
