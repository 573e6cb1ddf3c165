"""Full training state of a :class:`~batikstudio.training.step.Trainer` <-> snapshot contents.

The state is everything an uninterrupted run would carry on with: G, D, G_ema, both Adam
optimisers, augmentation p and its sign accumulator, Diffusion-GAN p / T / t table and its
generator, path-length mean, images shown, iteration, tick, and the torch / CUDA / numpy /
Python / shared-sampler RNG states.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import torch

from batikstudio.training.runfolder import sub_state
from batikstudio.training.state import capture_rng, optimizer_from_flat, optimizer_to_flat, restore_rng
from batikstudio.training.step import Trainer


def trainer_state(trainer: Trainer, tick: int, extra: Mapping[str, Any] | None = None) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Tensors and JSON metadata of the whole training state.

    Args:
        trainer: the running trainer.
        tick: current tick index.
        extra: more JSON to store (configs, class names, training record).
    """
    tensors: dict[str, torch.Tensor] = {}
    for prefix, net in (("G", trainer.G), ("D", trainer.D), ("G_ema", trainer.G_ema)):
        for k, v in net.state_dict().items():
            tensors[f"{prefix}.{k}"] = v
    og_t, og_meta = optimizer_to_flat(trainer.opt_G, "opt_G")
    od_t, od_meta = optimizer_to_flat(trainer.opt_D, "opt_D")
    rng_t, rng_meta = capture_rng(trainer.sampler.generator)
    tensors.update(og_t)
    tensors.update(od_t)
    tensors.update(rng_t)
    tensors["acc.ada"] = trainer.ada_acc.clone()
    tensors["acc.diffusion"] = trainer.diff_acc.clone()
    tensors["pl_mean"] = trainer.pl.pl_mean.reshape([]).clone()
    meta: dict[str, Any] = {
        "nimg": trainer.nimg,
        "kimg": trainer.nimg / 1000,
        "batch_idx": trainer.batch_idx,
        "tick": tick,
        "augment_p": trainer.augment_p,
        "diffusion": trainer.diffusion.state() if trainer.diffusion is not None else None,
        "diffusion_rng": trainer.diffusion.rng.bit_generator.state if trainer.diffusion is not None else None,
        "opt_G": og_meta,
        "opt_D": od_meta,
        "rng": rng_meta,
        "scalers": {k: s.state_dict() for k, s in trainer.scalers.items()},
    }
    meta.update(extra or {})
    return tensors, meta


def restore_trainer(trainer: Trainer, tensors: Mapping[str, torch.Tensor], meta: Mapping[str, Any],
                    restore_random: bool = True) -> int:
    """Load a snapshot's state into ``trainer``; returns the tick to continue from.

    Args:
        restore_random: also restore the RNG states (off when the process count changed,
            where per-process torch states cannot map one to one).
    """
    dev = trainer.device
    for prefix, net in (("G", trainer.G), ("D", trainer.D), ("G_ema", trainer.G_ema)):
        net.load_state_dict({k: v.to(dev) for k, v in sub_state(tensors, prefix).items()})
    optimizer_from_flat(trainer.opt_G, "opt_G", tensors, meta["opt_G"])
    optimizer_from_flat(trainer.opt_D, "opt_D", tensors, meta["opt_D"])
    _move_optimizer(trainer.opt_G, dev)
    _move_optimizer(trainer.opt_D, dev)
    trainer.nimg = int(meta["nimg"])
    trainer.batch_idx = int(meta["batch_idx"])
    if trainer.augment is not None and hasattr(trainer.augment, "p") and trainer.cfg.augment == "ada":
        trainer.augment.p = float(meta["augment_p"])
    if trainer.diffusion is not None and meta.get("diffusion"):
        trainer.diffusion.load_state(meta["diffusion"])
        if meta.get("diffusion_rng"):
            trainer.diffusion.rng = np.random.default_rng()
            trainer.diffusion.rng.bit_generator.state = meta["diffusion_rng"]
    trainer.ada_acc = tensors["acc.ada"].double().clone()
    trainer.diff_acc = tensors["acc.diffusion"].double().clone()
    trainer.pl.pl_mean = tensors["pl_mean"].float().clone()
    for key, state in (meta.get("scalers") or {}).items():
        if key in trainer.scalers:
            trainer.scalers[key].load_state_dict(state)
    if restore_random:
        restore_rng(tensors, meta["rng"], trainer.sampler.generator)
    return int(meta["tick"])


def _move_optimizer(opt: torch.optim.Optimizer, device: torch.device) -> None:
    for state in opt.state.values():
        for k, v in state.items():
            if isinstance(v, torch.Tensor) and k != "step":
                state[k] = v.to(device)
