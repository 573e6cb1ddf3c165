"""Build or load the networks a run starts from: scratch, a native model file or a pickle.

The family comes from ``TrainConfig.arch`` and the registry
:data:`batikstudio.core.nets.ARCHITECTURES`. StyleGAN2 scratch defaults are the NVlabs
``auto`` flavour scaled to the resolution (``channel_base`` 16384 up to 128 px, else 32768;
channel_max 512; 8 mapping layers; z = w = 512; fp16 on the 4 highest resolutions with
conv_clamp 256 -- fp16 only matters on CUDA), overridable by ``TrainConfig.g_kwargs`` /
``d_kwargs``. D gets ``t_dim = 1`` for Diffusion-GAN runs and a minibatch-std group no
larger than the per-process batch. DCGAN scratch nets take the defaults of
:class:`~batikstudio.core.nets.DCGANGeneratorConfig` / ``DCGANDiscriminatorConfig`` with the
same overrides (D's ``channel_max`` follows G's unless given).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from batikstudio.core.nets import ARCHITECTURES, architecture_of
from batikstudio.errors import BatikError, ModelFileError
from batikstudio.training.config import TrainConfig

log = logging.getLogger(__name__)


@dataclass
class StartNets:
    """Networks to train and what came with them.

    Attributes:
        G, D, G_ema: modules on the CPU (moved by the caller).
        training: the source's training record (Diffusion-GAN p/T when imported).
        class_names: class labels of a conditional source model.
    """

    G: torch.nn.Module
    D: torch.nn.Module
    G_ema: torch.nn.Module
    training: dict[str, Any] = field(default_factory=dict)
    class_names: tuple[str, ...] = ()


def check_arch_options(cfg: TrainConfig) -> None:
    """Refuse options the chosen network family cannot honour.

    Raises:
        BatikError: one sentence naming the option (DCGAN: no Diffusion-GAN, no style mixing,
            no path length regularisation).
    """
    if cfg.arch != "dcgan":
        return
    if cfg.diffusion.enabled:
        raise BatikError("DCGAN discriminators take no diffusion step: --diffusion needs --arch stylegan2")
    if cfg.style_mixing_prob > 0:
        raise BatikError("DCGAN models have no W space: style mixing needs --arch stylegan2 (use --style-mixing 0)")
    if cfg.pl_weight > 0:
        raise BatikError("DCGAN models have no W space: path length regularisation needs --arch stylegan2")


def _stylegan2_kwargs(cfg: TrainConfig, resolution: int, channels: int, c_dim: int,
                      batch_per_process: int) -> tuple[dict[str, Any], dict[str, Any]]:
    base = 16384 if resolution <= 128 else 32768
    g = dict(z_dim=512, w_dim=512, mapping_layers=8, channel_base=base, channel_max=512,
             num_fp16_res=4, conv_clamp=256)
    g.update(cfg.g_kwargs)
    g.update(c_dim=c_dim, img_resolution=resolution, img_channels=channels)
    d = dict(channel_base=g["channel_base"], channel_max=g["channel_max"], num_fp16_res=g["num_fp16_res"],
             conv_clamp=g["conv_clamp"], mbstd_group_size=min(4, batch_per_process))
    d.update(cfg.d_kwargs)
    d.update(c_dim=c_dim, img_resolution=resolution, img_channels=channels,
             t_dim=1 if cfg.diffusion.enabled else 0)
    return g, d


def _dcgan_kwargs(cfg: TrainConfig, resolution: int, channels: int, c_dim: int,
                  batch_per_process: int) -> tuple[dict[str, Any], dict[str, Any]]:
    g = dict(cfg.g_kwargs)
    g.update(c_dim=c_dim, img_resolution=resolution, img_channels=channels)
    d = {"channel_max": g["channel_max"]} if "channel_max" in g else {}
    d.update(cfg.d_kwargs)
    d.update(c_dim=c_dim, img_resolution=resolution, img_channels=channels)
    return g, d


_SCRATCH_KWARGS = {"stylegan2": _stylegan2_kwargs, "dcgan": _dcgan_kwargs}


def scratch_configs(cfg: TrainConfig, resolution: int, channels: int, c_dim: int,
                    batch_per_process: int) -> tuple[Any, Any]:
    """Generator and discriminator configs of ``cfg.arch`` for a scratch run (overrides applied).

    Raises:
        BatikError: bad overrides, or options the family cannot honour.
    """
    check_arch_options(cfg)
    g, d = _SCRATCH_KWARGS[cfg.arch](cfg, resolution, channels, c_dim, batch_per_process)
    g_cfg_cls, _, d_cfg_cls, _ = ARCHITECTURES[cfg.arch]
    try:
        return g_cfg_cls.from_dict(g), d_cfg_cls.from_dict(d)
    except ValueError as exc:
        raise BatikError(f"bad network options for {cfg.arch}: {exc}") from exc


def build_scratch(g_cfg: Any, d_cfg: Any) -> StartNets:
    """Fresh networks of the configs' family (initialised from torch's global generator: seed it first)."""
    _, g_cls, _, d_cls = ARCHITECTURES[architecture_of(g_cfg)]
    G = g_cls(g_cfg)
    D = d_cls(d_cfg)
    G_ema = copy.deepcopy(G).eval()
    return StartNets(G=G, D=D, G_ema=G_ema)


def nets_from_config_dicts(arch: str, g_config: dict[str, Any], d_config: dict[str, Any]) -> StartNets:
    """Untrained G, D, G_ema (eval) of family ``arch`` from stored config dicts (a snapshot's)."""
    g_cfg_cls, g_cls, d_cfg_cls, d_cls = ARCHITECTURES[arch]
    g_cfg = g_cfg_cls.from_dict(g_config)
    return StartNets(G=g_cls(g_cfg), D=d_cls(d_cfg_cls.from_dict(d_config)), G_ema=g_cls(g_cfg).eval())


_NOISE_KEYS = ("noise_const", "noise_strength")


def without_noise(G: torch.nn.Module) -> torch.nn.Module:
    """A copy of StyleGAN2 generator ``G`` without per-pixel noise inputs (all other weights kept)."""
    cfg = replace(G.cfg, use_noise=False)
    out = type(G)(cfg).train(G.training)
    state = {k: v for k, v in G.state_dict().items() if not k.endswith(_NOISE_KEYS)}
    out.load_state_dict(state, strict=True)
    return out


def with_noise(G: torch.nn.Module) -> torch.nn.Module:
    """A copy of noise-free generator ``G`` with per-pixel noise inputs added at zero strength.

    It renders the same images until training raises the strengths; the constant noise maps
    are drawn from torch's global generator (seed it first).
    """
    cfg = replace(G.cfg, use_noise=True)
    out = type(G)(cfg).train(G.training)
    missing, unexpected = out.load_state_dict(G.state_dict(), strict=False)
    if unexpected or any(not k.endswith(_NOISE_KEYS) for k in missing):
        raise ModelFileError(f"cannot add noise inputs: unexpected {unexpected}, missing {missing}")
    return out


def _maybe_widen(G: torch.nn.Module, G_ema: torch.nn.Module, D: torch.nn.Module | None, cfg: TrainConfig,
                 name: str) -> tuple[torch.nn.Module, torch.nn.Module, torch.nn.Module | None]:
    """Grow the nets when ``--cbase`` / ``--cmax`` ask for more channels than the file has."""
    want = {k: cfg.g_kwargs[k] for k in ("channel_base", "channel_max") if cfg.g_kwargs.get(k) is not None}
    have = {k: getattr(G_ema.cfg, k, None) for k in want}
    if not want or want == have:
        return G, G_ema, D
    if cfg.arch != "stylegan2":
        raise ModelFileError(f"{name}: only StyleGAN2 networks can be widened (--cbase / --cmax)")
    from batikstudio.training.widen import widen_discriminator, widen_generator

    base = want.get("channel_base", G_ema.cfg.channel_base)
    top = want.get("channel_max", G_ema.cfg.channel_max)
    template = type(G_ema)(replace(G_ema.cfg, channel_base=base, channel_max=top))
    G_ema = widen_generator(G_ema, base, top, template).eval()
    G = widen_generator(G, base, top, template)
    if D is not None:
        D = widen_discriminator(D, base, top)
    log.info("widened %s to channel_base %d, channel_max %d: G %.1f M parameters (it draws the same images)",
             name, base, top, sum(p.numel() for p in G.parameters()) / 1e6)
    return G, G_ema, D


def _maybe_grow(G: torch.nn.Module, G_ema: torch.nn.Module, D: torch.nn.Module | None, cfg: TrainConfig,
                resolution: int, name: str) -> tuple[torch.nn.Module, torch.nn.Module, torch.nn.Module | None]:
    """Grow the nets to the training resolution when it is a larger power of two than the file's."""
    have = G_ema.cfg.img_resolution
    if resolution <= have or resolution & (resolution - 1) or cfg.arch != "stylegan2":
        return G, G_ema, D  # the caller's check explains any mismatch
    if getattr(G_ema.cfg, "architecture", "skip") != "skip":
        raise ModelFileError(f"{name}: only skip-architecture generators can grow from {have} to {resolution} px")
    from batikstudio.training.grow import grow_discriminator, grow_generator

    template = type(G_ema)(replace(G_ema.cfg, img_resolution=resolution))
    G_ema = grow_generator(G_ema, resolution, template).eval()
    G = grow_generator(G, resolution, template)
    if D is not None:
        D = grow_discriminator(D, resolution)
    log.info("grew %s from %d to %d px: new top blocks that first draw its images upsampled; D's input blocks "
             "start fresh", name, have, resolution)
    return G, G_ema, D


def _maybe_add_layout(G: torch.nn.Module, G_ema: torch.nn.Module, cfg: TrainConfig,
                      name: str) -> tuple[torch.nn.Module, torch.nn.Module]:
    """Make the nets character models when ``--layout`` asks for one: a layout encoder whose
    output starts at zero (the nets draw what they drew before) and a table sized for the data
    (filled by the caller)."""
    res = int(cfg.g_kwargs.get("layout_res") or 0)
    chars = int(cfg.g_kwargs.get("layout_chars") or 0)
    by_class = bool(cfg.g_kwargs.get("layout_by_class"))
    have = (getattr(G_ema.cfg, "layout_res", 0), getattr(G_ema.cfg, "layout_chars", 0),
            getattr(G_ema.cfg, "layout_by_class", False))
    if not res or have == (res, chars, by_class):
        return G, G_ema
    if cfg.arch != "stylegan2":
        raise ModelFileError(f"{name}: only StyleGAN2 networks can be character models (--layout)")
    if have[0] not in (0, res):
        raise ModelFileError(f"{name} reads {have[0]} px layouts, not {res} px: use --layout {have[0]}")
    out = []
    for net in (G, G_ema):
        grown = type(net)(replace(net.cfg, layout_res=res, layout_chars=chars,
                                  layout_by_class=by_class)).train(net.training)
        state = {k: v for k, v in net.state_dict().items() if not k.startswith("layout_")}
        missing, unexpected = grown.load_state_dict(state, strict=False)
        if unexpected or any(not (k.startswith("layout_") or ".layout_encoder." in k) for k in missing):
            raise ModelFileError(f"cannot make {name} a character model: unexpected {unexpected}, missing {missing}")
        out.append(grown)
    log.info("%s is now a %s model: %d px layouts, a table of %d", name, "structure" if by_class else "character",
             res, chars)
    return out[0], out[1]


def load_start(path: str, cfg: TrainConfig, resolution: int, channels: int, c_dim: int,
               batch_per_process: int) -> StartNets:
    """Networks from a native model file or an NVlabs / Diffusion-GAN pickle.

    Missing G is copied from G_ema; a missing D is built fresh from the G config. The
    source must match the data (resolution, channels, classes).

    Raises:
        ModelFileError: unreadable file, or one that does not fit the data set.
    """
    from batikstudio.io import models  # lazy: heavier import, only for fine-tuning

    check_arch_options(cfg)
    p = Path(path)
    loaded = models.open_model(p, device="cpu", with_training_nets=True)
    if loaded.meta.architecture != cfg.arch:
        raise ModelFileError(f"{p.name} is a {loaded.meta.architecture} model: "
                             f"train it with --arch {loaded.meta.architecture}")
    G_ema, G, D = copy.deepcopy(loaded.G_ema), loaded.G, loaded.D
    if G is None:
        G = copy.deepcopy(G_ema)
    G, G_ema, D = _maybe_grow(G, G_ema, D, cfg, resolution, p.name)
    g_cfg = G_ema.cfg
    if (g_cfg.img_resolution, g_cfg.img_channels, g_cfg.c_dim) != (resolution, channels, c_dim):
        raise ModelFileError(
            f"{p.name} makes {g_cfg.img_resolution} px, {g_cfg.img_channels} channels, {g_cfg.c_dim} classes; "
            f"the data set needs {resolution} px, {channels} channels, {c_dim} classes")
    G, G_ema, D = _maybe_widen(G, G_ema, D, cfg, p.name)
    G, G_ema = _maybe_add_layout(G, G_ema, cfg, p.name)
    want_noise = cfg.g_kwargs.get("use_noise")
    if want_noise is False and getattr(g_cfg, "use_noise", False):
        log.info("dropping the noise inputs of %s (--no-noise): every variation must now come from z", p.name)
        G, G_ema = (without_noise(net) for net in (G, G_ema))
    elif want_noise is True and getattr(g_cfg, "use_noise", True) is False:
        log.info("adding noise inputs (zero strength) to %s (--noise)", p.name)
        G, G_ema = (with_noise(net) for net in (G, G_ema))
        maps = {k: v for k, v in G.state_dict().items() if k.endswith("noise_const")}
        G_ema.load_state_dict(maps, strict=False)  # the same constant noise maps, G_ema's own weights
    want_t = 1 if cfg.diffusion.enabled else 0
    if D is None or getattr(D.cfg, "t_dim", 0) != want_t:
        if D is not None:
            log.warning("the discriminator of %s is %st-conditioned; training a fresh one",
                        p.name, "not " if want_t else "")
        _, d_cfg = scratch_configs(cfg.replace(g_kwargs={**g_cfg.to_dict(), **dict(cfg.g_kwargs)}),
                                   resolution, channels, c_dim, batch_per_process)
        D = ARCHITECTURES[cfg.arch][3](d_cfg)
    G.train()
    D.train()
    log.info("starting from %s (%s)", p.name, "with its D" if D is not None else "fresh D")
    return StartNets(G=G, D=D, G_ema=G_ema, training=dict(loaded.meta.training or {}),
                     class_names=tuple(loaded.class_labels))
