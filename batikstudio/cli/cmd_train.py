"""``batikstudio train``: train a GAN into a run folder, resume one, or export a snapshot.

Examples::

    batikstudio train --data batik.zip --out runs/batik --res 64 --batch 16 --kimg 100 --mirror
    batikstudio train --resume runs/batik --kimg 200 --metrics swd
    torchrun --nproc-per-node 2 -m batikstudio train --data batik.zip --out runs/batik
    batikstudio train --export runs/batik -o batik.safetensors
    batikstudio train --arch dcgan --data batik.zip --out runs/dcgan --res 64 --augment none

Ctrl-C stops after the current iteration and writes a snapshot (a second Ctrl-C aborts).
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time
from typing import Any

from batikstudio.errors import BatikError

DEFAULT_METRICS_NUM = 1024


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("train", help="train a generator (StyleGAN2, Wasserstein, Diffusion-GAN)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    io = p.add_argument_group("run")
    io.add_argument("--data", help="data set folder or zip (NVlabs layout)")
    io.add_argument("--out", "-o", help="run folder to create (or the model file with --export)")
    io.add_argument("--resume", metavar="RUN", help="continue the run in this folder")
    io.add_argument("--export", metavar="SNAPSHOT", help="export a snapshot (or a run's newest) as a model file")
    io.add_argument("--name", default="", help="with --export: the model's display name (default: the run folder's)")
    io.add_argument("--half", action="store_true",
                    help="with --export: store the weights as float16 (half the file size; "
                         "they are read back as float32)")
    io.add_argument("--kimg-before", type=float, metavar="KIMG",
                    help="with --export: kimg of earlier stages, when the run started from a file that does not "
                         "record its total (runs record it themselves)")
    io.add_argument("--start", "--start-from", dest="start", default="scratch",
                    help="scratch, a .safetensors model or an NVlabs .pkl (--start-from: the same, a spelling "
                         "torchrun does not mistake for its own --start-method)")
    io.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    io.add_argument("--seed", type=int, default=0)
    t = p.add_argument_group("training")
    t.add_argument("--arch", choices=("stylegan2", "dcgan"), default="stylegan2",
                   help="network family; dcgan defaults: --lr 0.0002 --betas 0.5,0.999 --r1-gamma 0 --style-mixing 0")
    t.add_argument("--res", type=int, help="resolution (default: the data set's; with --start-from a larger power "
                                           "of two than the model's grows it)")
    t.add_argument("--batch", type=int, default=16, help="global batch size")
    t.add_argument("--kimg", type=float, help="length in thousands of images (default 100)")
    t.add_argument("--minutes", type=float,
                   help="also stop (with a snapshot) after this many minutes of this invocation")
    t.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="what --minutes counts: wall-clock time, or this process's CPU time (fair budgets "
                        "on a shared machine with one torch thread)")
    t.add_argument("--loss", choices=("stylegan2", "wasserstein"), default="stylegan2")
    t.add_argument("--gp", choices=("r1", "wgan-gp"), default="r1", help="penalty for --loss wasserstein")
    t.add_argument("--r1-gamma", type=float, help="R1 weight (default 0.0002 * res^2 / batch)")
    t.add_argument("--pl-weight", type=float, default=0.0, help="path length regularisation (NVlabs: 2)")
    t.add_argument("--style-mixing", type=float, help="style mixing probability (default 0.9; dcgan 0)")
    t.add_argument("--lr", type=float, help="Adam learning rate (default 0.0025; dcgan 0.0002)")
    t.add_argument("--betas", type=_betas, metavar="B1,B2", help="Adam betas (default 0,0.99; dcgan 0.5,0.999)")
    t.add_argument("--ema-kimg", type=float, help="half-life of G_ema in kimg (default batch * 10 / 32)")
    t.add_argument("--ema-rampup", type=float, metavar="R",
                   help="the EMA half-life is at most R x the kimg of this run (default 0.05, like NVlabs); "
                        "0 = no ramp-up, for a new stage on the data a model was trained on (its G_ema "
                        "is already an average; with the ramp-up it would follow G for the first "
                        "ema-kimg / R kimg)")
    t.add_argument("--augment", choices=("ada", "diffaugment", "none"), default="ada")
    t.add_argument("--augment-ops", default="", help="comma-separated subset, e.g. translate or translation")
    t.add_argument("--no-wrap", action="store_true", help="pad translations with zeros instead of wrapping")
    t.add_argument("--ada-target", type=float, default=0.6)
    t.add_argument("--diffusion", action="store_true", help="Diffusion-GAN noise on D's inputs")
    t.add_argument("--diffusion-ts", choices=("priority", "uniform"), default="priority")
    t.add_argument("--t-max", type=int, default=1000)
    t.add_argument("--cond", action="store_true", help="condition on the data set's class labels")
    t.add_argument("--class-groups", action="store_true",
                   help="with --cond: every minibatch-std group of D holds one class, so D sees when "
                        "the seeds of a class all look alike")
    t.add_argument("--class-weights", type=_class_weights, default={}, metavar="NAME=W,...",
                   help="draw these classes W times as often as their share of the data (names or "
                        "indices; others weigh 1), e.g. kawung=2,ceplok=2; also on --resume")
    t.add_argument("--mismatch", type=float, default=0.0, metavar="W",
                   help="with --cond: D also sees each real image under a wrong class and counts it as "
                        "fake, with weight W (matching-aware D), so look-alike classes get told apart; "
                        "e.g. 0.5; 0 = off; may be given or changed on --resume")
    t.add_argument("--diversity", type=float, default=0.0, metavar="W",
                   help="weight of a diversity-sensitive term in G's loss (pairs of one class whose "
                        "images differ too little for their latents are penalised); 0 = off")
    t.add_argument("--diversity-cap", type=float, default=0.5, help="ratio above which that term stops pushing")
    t.add_argument("--recon", type=float, default=0.0, metavar="W",
                   help="with --layout: generated images are drawn with the real batch's classes and layouts, "
                        "and W times their error against those images joins G's loss (a character model: pixel "
                        "error; a structure model: only the standardised grey level at L x L px); e.g. 4; 0 = off")
    t.add_argument("--mirror", action="store_true", help="x-flip real images")
    t.add_argument("--freeze-d", type=int, default=0, help="freeze the first N blocks of D")
    t.add_argument("--train-g-top", type=int, default=0, metavar="N",
                   help="train only G's top N synthesis blocks, the rest of G fixed (e.g. 1 after growing a model "
                        "to a higher resolution); 0 = all")
    t.add_argument("--noise-max-res", type=int, default=0, metavar="R",
                   help="switch off G's per-pixel noise inputs above R px (strength 0, kept there), e.g. 64 "
                        "for a model grown to 128 px whose new layers' noise speckles flat fills; 0 = none off")
    t.add_argument("--layouts-from", default="", metavar="MODEL",
                   help="a structure model: take the motif layouts from this model file, one trained on the "
                        "same images at another resolution (e.g. the 64 px model when growing it to 128 px: "
                        "the layers it keeps read the layouts they learned), not from the data set")
    t.add_argument("--tileable", action="store_true", help="train with wrap-around padding (seamless tiles)")
    t.add_argument("--no-amp", action="store_true", help="no mixed precision on CUDA")
    t.add_argument("--cpu-bf16", action="store_true",
                   help="bfloat16 autocast on CPUs with native bf16 (~1.8x faster; float32 weights)")
    t.add_argument("--straight", action="store_true", help="NVlabs-like loop instead of the fast path")
    n = p.add_argument_group("networks (scratch runs)")
    n.add_argument("--z-dim", type=int)
    n.add_argument("--w-dim", type=int)
    n.add_argument("--map", type=int, help="mapping layers")
    n.add_argument("--mapping-lr", type=float, help="mapping network lr multiplier (NVlabs 0.01)")
    n.add_argument("--cbase", type=int, help="channel_base (with --start-from: a larger value widens the model, "
                   "keeping what it draws)")
    n.add_argument("--cmax", type=int, help="channel_max (with --start-from: a larger value widens the model)")
    n.add_argument("--layout", type=int, metavar="L",
                   help="stylegan2: a character model, told the layout of the character to write (its mean "
                        "ink at L x L px, e.g. 16) beside the class; needs a data set that names each image's "
                        "character (batikstudio calligraphy-data); with --start-from a model without one, "
                        "adds it (the model first draws what it drew before)")
    n.add_argument("--layout-source", choices=("chars", "images"),
                   help="with --layout: 'chars' (default) a character model; 'images' a structure model, "
                        "told each motif's own layout (its darkness at L x L px) and keeping the layouts "
                        "of the data with their classes, so that a seed draws one of its class's arrangements")
    n.add_argument("--ngf", type=int, help="dcgan: generator feature maps at half the resolution")
    n.add_argument("--ndf", type=int, help="dcgan: discriminator feature maps at half the resolution")
    n.add_argument("--no-noise", action="store_true",
                   help="stylegan2: no per-pixel noise inputs, so every variation must come from z "
                        "(texture-like data otherwise tends to vary only through the noise)")
    n.add_argument("--noise", action="store_true",
                   help="stylegan2: per-pixel noise inputs (the default for scratch runs); with --start-from "
                        "a model trained with --no-noise, adds them at zero strength and keeps its weights")
    n.add_argument("--mbstd-group", type=int, help="stylegan2: minibatch-std group size (default 4)")
    n.add_argument("--mbstd-channels", type=int, help="stylegan2: minibatch-std feature maps (default 1)")
    r = p.add_argument_group("reporting")
    r.add_argument("--tick", type=float, default=4.0, help="kimg per tick")
    r.add_argument("--snap", type=int, default=10, help="snapshot every N ticks")
    r.add_argument("--keep", type=int, default=3, help="keep the last N snapshots (and the best)")
    r.add_argument("--metrics",
                   help="metrics at every snapshot, e.g. swd (weight-free) or swd,fd-effnet; the first picks the best "
                        "snapshot; a resumed run goes on with the ones it had unless given ('none' stops them)")
    r.add_argument("--metrics-num", type=int,
                   help=f"images per metric evaluation (default {DEFAULT_METRICS_NUM}, or the run's own on --resume)")
    r.add_argument("--samples", type=int, default=16,
                   help="seeds in the per-tick sample grid (a multiple of the class count gives a column per class)")
    p.set_defaults(func=run)


def _betas(text: str) -> tuple[float, float]:
    try:
        b1, b2 = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad betas {text!r}: use two numbers, e.g. 0.5,0.999") from None
    return b1, b2


def _class_weights(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, sep, value = part.partition("=")
        try:
            weight = float(value) if sep and name.strip() else None
        except ValueError:
            weight = None
        if weight is None or not math.isfinite(weight) or weight < 0:
            raise argparse.ArgumentTypeError(f"bad class weight {part!r}: use NAME=W with W >= 0, e.g. kawung=2")
        out[name.strip()] = weight
    return out


def _g_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    names = {"z_dim": args.z_dim, "w_dim": args.w_dim, "mapping_layers": args.map,
             "mapping_lr_multiplier": args.mapping_lr, "channel_base": args.cbase, "channel_max": args.cmax,
             "ngf": args.ngf, "use_noise": _use_noise(args), "layout_res": args.layout}
    if args.layout_source and not args.layout:
        raise BatikError("--layout-source needs --layout L")
    if args.layout_source == "images":
        names["layout_by_class"] = True
    return {k: v for k, v in names.items() if v is not None}


def _use_noise(args: argparse.Namespace) -> bool | None:
    if args.noise and args.no_noise:
        raise BatikError("--noise and --no-noise contradict each other: pick one")
    return False if args.no_noise else (True if args.noise else None)


def _d_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    names = {"ndf": args.ndf, "mbstd_group_size": args.mbstd_group, "mbstd_num_channels": args.mbstd_channels}
    return {k: v for k, v in names.items() if v is not None}


def build_config(args: argparse.Namespace):
    """The :class:`TrainConfig` described by the command line."""
    from batikstudio.training.config import DiffusionConfig, TrainConfig

    ops = tuple(o.strip() for o in args.augment_ops.split(",") if o.strip())
    cfg = TrainConfig.for_arch(
        args.arch, data=args.data or "", resolution=args.res, batch=args.batch,
        total_kimg=args.kimg if args.kimg is not None else 100.0,
        loss=args.loss, gp=args.gp, r1_gamma=args.r1_gamma, pl_weight=args.pl_weight,
        style_mixing_prob=args.style_mixing, lr=args.lr, betas=args.betas, ema_kimg=args.ema_kimg,
        augment=args.augment, augment_ops=ops, augment_wrap=not args.no_wrap, ada_target=args.ada_target,
        diffusion=DiffusionConfig(enabled=args.diffusion, ts_dist=args.diffusion_ts, t_max=args.t_max),
        conditional=args.cond, class_groups=args.class_groups, class_weights=args.class_weights,
        mismatch_weight=args.mismatch, diversity_weight=args.diversity, diversity_cap=args.diversity_cap,
        recon_weight=args.recon, mirror=args.mirror, freeze_d=args.freeze_d,
        train_g_top=args.train_g_top, noise_max_res=args.noise_max_res,
        layouts_from=args.layouts_from,
        tileable=args.tileable,
        mixed_precision=not args.no_amp, cpu_bf16=args.cpu_bf16, fast_path=not args.straight,
        device=args.device, seed=args.seed,
        sample_seeds=tuple(range(max(1, args.samples))), kimg_per_tick=args.tick, snapshot_ticks=args.snap, keep_last=args.keep, start=args.start,
        g_kwargs=_g_kwargs(args), d_kwargs=_d_kwargs(args))
    if args.ema_rampup is not None:
        cfg = cfg.replace(ema_rampup=None if args.ema_rampup == 0 else args.ema_rampup)
    return cfg


def run(args: argparse.Namespace) -> int:
    if args.export:
        from batikstudio.training.export import export_snapshot

        if not args.out:
            raise BatikError("--export needs -o MODEL.safetensors")
        path = export_snapshot(args.export, args.out, name=args.name, kimg_before=args.kimg_before,
                               half=args.half)
        print(f"wrote {path}")
        return 0
    if args.resume:
        run_dir, resume = args.resume, True
    elif args.data and args.out:
        run_dir, resume = args.out, False
    else:
        raise BatikError("give --data and --out to start a run, --resume RUN to continue one, or --export")
    return _train(args, run_dir, resume)


def _train(args: argparse.Namespace, run_dir: str, resume: bool) -> int:
    from batikstudio.jobs import InlineContext, TerminalProgress
    from batikstudio.training.config import TrainRequest, TrainTick
    from batikstudio.training.loop import train

    cfg = build_config(args)
    if not resume and cfg.mismatch_weight > 0 and not cfg.conditional:
        raise BatikError("--mismatch needs --cond: it shows real images under wrong classes")
    if not resume and cfg.recon_weight > 0 and not cfg.g_kwargs.get("layout_res"):
        raise BatikError("--recon needs --layout: only a character model has one right answer per label")
    if not resume and cfg.g_kwargs.get("layout_res") and cfg.mirror and not cfg.g_kwargs.get("layout_by_class"):
        raise BatikError("--layout and --mirror do not go together: a mirrored glyph is no character")
    if resume and args.kimg is None:
        cfg = cfg.replace(total_kimg=0.001)  # keep the stored length unless --kimg extends it
    main_proc = int(os.environ.get("RANK", "0")) == 0

    def on_partial(tick: Any) -> None:
        if isinstance(tick, TrainTick) and main_proc:
            sys.stderr.write("\r" + tick.summary(digits=3).ljust(72) + "\n")

    bar = TerminalProgress("train") if main_proc else None
    ctx = InlineContext(on_progress=_with_budget(bar, args.minutes, args.clock, lambda: ctx.cancel()),
                        on_partial=on_partial)
    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGINT, previous)
        if main_proc:
            sys.stderr.write("\nstopping after this iteration, writing a snapshot (Ctrl-C again to abort)\n")
        ctx.cancel()

    signal.signal(signal.SIGINT, on_sigint)
    measure, record = _measurement(args, run_dir, resume, main_proc)
    dataset, metrics = _metric_hooks(*measure, run_dir, resume, cfg)
    try:
        result = train(TrainRequest(cfg, run_dir, resume=resume, dataset=dataset, metrics=metrics,
                                    measure=measure if record else None), ctx)
    finally:
        signal.signal(signal.SIGINT, previous)
    if main_proc:
        state = "stopped" if result.stopped else "finished"
        print(f"{state} at {result.kimg:.3f} kimg; snapshot {result.snapshot}")
    return 0


def _with_budget(bar: Any, minutes: float | None, clock: str, cancel: Any) -> Any:
    """The progress callback, which also cancels the run once ``minutes`` have passed."""
    if minutes is None:
        return bar
    if minutes <= 0:
        raise BatikError("--minutes must be positive")
    now = time.process_time if clock == "cpu" else time.monotonic
    deadline = now() + minutes * 60

    def report(done: float, total: float | None = None) -> None:
        if bar is not None:
            bar(done, total)
        if now() >= deadline:
            cancel()

    return report


def _measurement(args: argparse.Namespace, run_dir: str, resume: bool,
                 main_proc: bool) -> tuple[tuple[tuple[str, ...], int], bool]:
    """``((metric names, images per evaluation), record)`` for this invocation: ``--metrics`` /
    ``--metrics-num`` where given, else (on ``--resume``) what the run recorded in measure.json;
    ``record`` says whether the run folder should record them (a new run, or given options)."""
    from batikstudio.training.metrics import parse_metric_names

    recorded = None
    if resume and args.metrics is None:
        from batikstudio.training.runfolder import RunFolder

        recorded = RunFolder(run_dir, create=False).read_measure()
    if recorded is not None:
        names, num = recorded
        num = num if args.metrics_num is None else args.metrics_num
        if names and main_proc:
            print(f"measuring {','.join(names)} ({num} images) at every snapshot, as this run did "
                  "(--metrics none stops it)", file=sys.stderr)
    else:
        spec = (args.metrics or "").strip()
        names = () if spec.lower() in ("", "none") else parse_metric_names(spec)
        num = DEFAULT_METRICS_NUM if args.metrics_num is None else args.metrics_num
    if names and num < 2:
        raise BatikError("--metrics-num must be at least 2")
    return (names, num), not resume or args.metrics is not None or args.metrics_num is not None


def _metric_hooks(names: tuple[str, ...], num: int, run_dir: str, resume: bool, cfg: Any) -> tuple[Any, dict]:
    """The data set (opened once, shared with the trainer) and the metric hooks, or ``(None, {})``."""
    if not names:
        return None, {}
    from batikstudio.io.datasetreader import open_dataset
    from batikstudio.training.metrics.evaluate import MetricOptions, training_metrics

    if resume:
        from batikstudio.training.runfolder import RunFolder

        cfg = RunFolder(run_dir).read_config()
    dataset = open_dataset(cfg.data)
    # a run trained for seamless tiles is judged as it renders: wrapped
    return dataset, training_metrics(names, dataset, num=num, options=MetricOptions(tileable=cfg.tileable))
