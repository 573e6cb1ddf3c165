"""Frozen configs for the StyleGAN2 generator and discriminator.

Field names follow the NVlabs constructor arguments so stored init kwargs of NVlabs /
Diffusion-GAN pickles convert one to one (:meth:`GeneratorConfig.from_nvlabs_kwargs`,
:meth:`DiscriminatorConfig.from_nvlabs_kwargs`). ``to_dict`` / ``from_dict`` give a plain JSON
form for the native model file; ``from_dict`` validates every field.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["GeneratorConfig", "DiscriminatorConfig", "channels_for"]

_ARCHITECTURES = ("orig", "skip", "resnet")
_CHANNELS = (1, 3, 4)

# NVlabs keys that do not change the maths (memory layout, training-only switches).
_HARMLESS_KEYS = {"fp16_channels_last", "channels_last", "epochs", "freeze_layers"}


def channels_for(res: int, channel_base: int, channel_max: int) -> int:
    """Feature maps at resolution ``res``: ``min(channel_base // res, channel_max)``."""
    return min(channel_base // res, channel_max)


def _check_positive_int(name: str, value: Any, allow_zero: bool = False) -> None:
    ok = isinstance(value, int) and not isinstance(value, bool)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be an integer {bound}, got {value!r}")


def _check_common(cfg: Any) -> None:
    res = cfg.img_resolution
    if not isinstance(res, int) or isinstance(res, bool) or res < 4 or res > 1024 or res & (res - 1):
        raise ValueError(f"img_resolution must be a power of two in 4..1024, got {res!r}")
    if cfg.img_channels not in _CHANNELS or isinstance(cfg.img_channels, bool):
        raise ValueError(f"img_channels must be one of {_CHANNELS}, got {cfg.img_channels!r}")
    if cfg.architecture not in _ARCHITECTURES:
        raise ValueError(f"architecture must be one of {_ARCHITECTURES}, got {cfg.architecture!r}")
    _check_positive_int("c_dim", cfg.c_dim, allow_zero=True)
    _check_positive_int("channel_base", cfg.channel_base)
    _check_positive_int("channel_max", cfg.channel_max)
    _check_positive_int("num_fp16_res", cfg.num_fp16_res, allow_zero=True)
    if channels_for(res, cfg.channel_base, cfg.channel_max) < 1:
        raise ValueError(f"channel_base {cfg.channel_base} gives no channels at {res} px")
    if cfg.conv_clamp is not None and not (isinstance(cfg.conv_clamp, (int, float)) and cfg.conv_clamp > 0):
        raise ValueError(f"conv_clamp must be None or > 0, got {cfg.conv_clamp!r}")
    taps = cfg.resample_filter
    if len(taps) < 1 or any(not isinstance(t, (int, float)) for t in taps) or sum(taps) == 0:
        raise ValueError(f"resample_filter must be non-empty taps with a non-zero sum, got {taps!r}")


def _from_dict(cls, d: Mapping[str, Any]):
    if not isinstance(d, Mapping):
        raise ValueError(f"{cls.__name__} must be built from a mapping, got {type(d).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} field(s): {', '.join(unknown)}")
    kw = dict(d)
    if "resample_filter" in kw and kw["resample_filter"] is not None:
        kw["resample_filter"] = tuple(kw["resample_filter"])
    try:
        return cls(**kw)
    except TypeError as exc:  # missing required fields
        raise ValueError(f"bad {cls.__name__}: {exc}") from exc


def _take(src: Mapping[str, Any], mapping: Mapping[str, str], where: str, out: dict) -> None:
    """Copy known NVlabs keys to config fields; raise on unknown keys that change the maths."""
    for key, value in src.items():
        if key in mapping:
            out[mapping[key]] = value
        elif key not in _HARMLESS_KEYS:
            raise ValueError(f"unsupported NVlabs {where} argument {key!r}={value!r}")


def _require(value: Any, expected: Any, name: str) -> None:
    if value != expected:
        raise ValueError(f"unsupported NVlabs argument {name}={value!r} (only {expected!r})")


@dataclass(frozen=True)
class GeneratorConfig:
    """StyleGAN2 generator hyper-parameters (NVlabs ``Generator`` arguments, flattened).

    Attributes:
        z_dim: input latent size (> 0).
        c_dim: class-label size, 0 = unconditional.
        w_dim: intermediate latent size.
        img_resolution: output size in pixels, a power of two in 4..1024.
        img_channels: 1 (gray), 3 (RGB) or 4 (RGBA).
        mapping_layers: fully connected layers in the mapping network.
        mapping_lr_multiplier: equalised-LR multiplier of the mapping layers.
        w_avg_beta: decay of the tracked average W (truncation centre).
        embed_features: label embedding size, None = ``w_dim``.
        layer_features: mapping hidden size, None = ``w_dim``.
        channel_base: channels at resolution R are ``min(channel_base // R, channel_max)``.
        channel_max: the cap on channels.
        num_fp16_res: highest resolutions that run in float16 on CUDA (float32 on CPU).
        conv_clamp: clamp conv outputs to +-this (None = off).
        architecture: ``'skip'``, ``'resnet'`` or ``'orig'``.
        resample_filter: 1-D FIR taps for up/downsampling.
        use_noise: per-pixel noise inputs in the synthesis layers.
        layout_res: 0, or the side of a character layout (a small ink map, e.g. 16) that a
            character model takes beside w and adds, encoded, to its 4 px .. ``layout_res`` px
            feature maps (see :mod:`batikstudio.core.nets.layout`); not an NVlabs option.
        layout_chars: size of the model's own table of layouts (characters it can be asked
            for by name, or motif layouts), 0 = none.
        layout_by_class: the table holds motif layouts, each of one class (a *structure
            model*: a seed draws one of its class's layouts), not characters.
    """

    z_dim: int
    c_dim: int
    w_dim: int
    img_resolution: int
    img_channels: int
    mapping_layers: int = 8
    mapping_lr_multiplier: float = 0.01
    w_avg_beta: float = 0.995
    embed_features: int | None = None
    layer_features: int | None = None
    channel_base: int = 32768
    channel_max: int = 512
    num_fp16_res: int = 0
    conv_clamp: float | None = None
    architecture: str = "skip"
    resample_filter: tuple[float, ...] = (1, 3, 3, 1)
    use_noise: bool = True
    layout_res: int = 0
    layout_chars: int = 0
    layout_by_class: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "resample_filter", tuple(self.resample_filter))
        _check_common(self)
        _check_positive_int("z_dim", self.z_dim)
        if self.layout_res and (self.layout_res not in (4, 8, 16, 32) or self.layout_res > self.img_resolution // 2):
            raise ValueError(f"layout_res must be 0 or one of 4, 8, 16, 32 and at most half the image size "
                             f"({self.img_resolution} px), got {self.layout_res!r}")
        bad_chars = not isinstance(self.layout_chars, int) or self.layout_chars < 0
        if bad_chars or (self.layout_chars and not self.layout_res):
            raise ValueError(f"layout_chars must be >= 0 and needs a layout_res, got {self.layout_chars!r}")
        if not isinstance(self.layout_by_class, bool) or (self.layout_by_class and not self.layout_res):
            raise ValueError(f"layout_by_class must be a bool and needs a layout_res, got {self.layout_by_class!r}")
        _check_positive_int("w_dim", self.w_dim)
        _check_positive_int("mapping_layers", self.mapping_layers)
        for name in ("embed_features", "layer_features"):
            if getattr(self, name) is not None:
                _check_positive_int(name, getattr(self, name))
        if not (isinstance(self.mapping_lr_multiplier, (int, float)) and self.mapping_lr_multiplier > 0):
            raise ValueError(f"mapping_lr_multiplier must be > 0, got {self.mapping_lr_multiplier!r}")
        if not (isinstance(self.w_avg_beta, (int, float)) and 0 <= self.w_avg_beta <= 1):
            raise ValueError(f"w_avg_beta must be in [0, 1], got {self.w_avg_beta!r}")

    @property
    def num_ws(self) -> int:
        """Number of W vectors the synthesis network consumes: ``2 * log2(res) - 2``."""
        return 2 * int(math.log2(self.img_resolution)) - 2

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly dict (tuples become lists)."""
        d = dataclasses.asdict(self)
        d["resample_filter"] = list(self.resample_filter)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GeneratorConfig:
        """Build and validate from :meth:`to_dict` output.

        Raises:
            ValueError: naming the unknown, missing or invalid field.
        """
        return _from_dict(cls, d)

    @classmethod
    def from_nvlabs_kwargs(cls, init_kwargs: Mapping[str, Any]) -> GeneratorConfig:
        """Convert the stored ``G`` init kwargs of an NVlabs / Diffusion-GAN pickle.

        Missing keys take the NVlabs class defaults. Keys that would change the maths and
        that we do not implement (another activation, kernel size) raise.

        Raises:
            ValueError: naming the unsupported key.
        """
        kw = dict(init_kwargs)
        out: dict[str, Any] = {}
        mapping_kw = dict(kw.pop("mapping_kwargs", None) or {})
        synth_kw = dict(kw.pop("synthesis_kwargs", None) or {})
        _take(kw, {k: k for k in ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels")},
              "Generator", out)
        _require(mapping_kw.pop("activation", "lrelu"), "lrelu", "mapping_kwargs.activation")
        _take(mapping_kw, {"num_layers": "mapping_layers", "lr_multiplier": "mapping_lr_multiplier",
                           "w_avg_beta": "w_avg_beta", "embed_features": "embed_features",
                           "layer_features": "layer_features"}, "mapping_kwargs", out)
        _require(synth_kw.pop("activation", "lrelu"), "lrelu", "synthesis_kwargs.activation")
        _require(synth_kw.pop("kernel_size", 3), 3, "synthesis_kwargs.kernel_size")
        _take(synth_kw, {k: k for k in ("channel_base", "channel_max", "num_fp16_res", "conv_clamp",
                                        "architecture", "resample_filter", "use_noise")},
              "synthesis_kwargs", out)
        if out.get("w_avg_beta", 0.995) is None:
            raise ValueError("unsupported NVlabs argument w_avg_beta=None for a generator")
        return cls.from_dict(out)


@dataclass(frozen=True)
class DiscriminatorConfig:
    """StyleGAN2 discriminator hyper-parameters (NVlabs ``Discriminator`` arguments, flattened).

    Attributes:
        c_dim: class-label size, 0 = unconditional.
        img_resolution: input size, a power of two in 4..1024.
        img_channels: 1, 3 or 4.
        architecture: ``'resnet'`` (NVlabs default), ``'skip'`` or ``'orig'``.
        channel_base, channel_max: as in :class:`GeneratorConfig`.
        num_fp16_res: highest resolutions run in float16 on CUDA.
        conv_clamp: clamp conv outputs to +-this (None = off).
        cmap_dim: projection size for conditioning, None = channels at 4 px.
        mbstd_group_size: minibatch-std group size (None = whole batch).
        mbstd_num_channels: minibatch-std features, 0 = off.
        t_dim: Diffusion-GAN step conditioning size (1 for Diffusion-GAN), 0 = plain NVlabs D.
            The step is concatenated to the label and fed through D's mapping network.
        mapping_layers: layers of D's label mapping network (used when ``c_dim + t_dim > 0``).
        mapping_lr_multiplier: equalised-LR multiplier of that mapping network.
        resample_filter: 1-D FIR taps.
    """

    c_dim: int
    img_resolution: int
    img_channels: int
    architecture: str = "resnet"
    channel_base: int = 32768
    channel_max: int = 512
    num_fp16_res: int = 0
    conv_clamp: float | None = None
    cmap_dim: int | None = None
    mbstd_group_size: int | None = 4
    mbstd_num_channels: int = 1
    t_dim: int = 0
    mapping_layers: int = 8
    mapping_lr_multiplier: float = 0.01
    resample_filter: tuple[float, ...] = (1, 3, 3, 1)

    def __post_init__(self) -> None:
        object.__setattr__(self, "resample_filter", tuple(self.resample_filter))
        _check_common(self)
        _check_positive_int("t_dim", self.t_dim, allow_zero=True)
        _check_positive_int("mapping_layers", self.mapping_layers)
        _check_positive_int("mbstd_num_channels", self.mbstd_num_channels, allow_zero=True)
        if self.cmap_dim is not None:
            _check_positive_int("cmap_dim", self.cmap_dim)
        if self.mbstd_group_size is not None:
            _check_positive_int("mbstd_group_size", self.mbstd_group_size)
        if not (isinstance(self.mapping_lr_multiplier, (int, float)) and self.mapping_lr_multiplier > 0):
            raise ValueError(f"mapping_lr_multiplier must be > 0, got {self.mapping_lr_multiplier!r}")
        c4 = channels_for(4, self.channel_base, self.channel_max)
        if self.mbstd_num_channels and c4 % self.mbstd_num_channels:
            raise ValueError(f"mbstd_num_channels {self.mbstd_num_channels} must divide the {c4} channels at 4 px")

    @property
    def effective_cmap_dim(self) -> int:
        """Projection size actually used: 0 when there is no label and no step conditioning."""
        if self.c_dim + self.t_dim == 0:
            return 0
        return self.cmap_dim if self.cmap_dim is not None else channels_for(4, self.channel_base, self.channel_max)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly dict (tuples become lists)."""
        d = dataclasses.asdict(self)
        d["resample_filter"] = list(self.resample_filter)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DiscriminatorConfig:
        """Build and validate from :meth:`to_dict` output.

        Raises:
            ValueError: naming the unknown, missing or invalid field.
        """
        return _from_dict(cls, d)

    @classmethod
    def from_nvlabs_kwargs(cls, init_kwargs: Mapping[str, Any], diffusion: bool = False) -> DiscriminatorConfig:
        """Convert the stored ``D`` init kwargs of an NVlabs or Diffusion-GAN pickle.

        Args:
            init_kwargs: the stored kwargs (``block_kwargs``, ``mapping_kwargs``,
                ``epilogue_kwargs`` nested).
            diffusion: the pickle comes from Diffusion-GAN, whose D class takes ``t_dim``
                (default 1) and concatenates the diffusion step to the label.

        Raises:
            ValueError: naming the unsupported key.
        """
        kw = dict(init_kwargs)
        out: dict[str, Any] = {"t_dim": kw.pop("t_dim", 1 if diffusion else 0)}
        if not diffusion and out["t_dim"]:
            raise ValueError("t_dim given but diffusion=False; pass diffusion=True for Diffusion-GAN")
        block_kw = dict(kw.pop("block_kwargs", None) or {})
        mapping_kw = dict(kw.pop("mapping_kwargs", None) or {})
        epi_kw = dict(kw.pop("epilogue_kwargs", None) or {})
        _take(kw, {k: k for k in ("c_dim", "img_resolution", "img_channels", "architecture", "channel_base",
                                  "channel_max", "num_fp16_res", "conv_clamp", "cmap_dim")},
              "Discriminator", out)
        _require(block_kw.pop("activation", "lrelu"), "lrelu", "block_kwargs.activation")
        _take(block_kw, {"resample_filter": "resample_filter"}, "block_kwargs", out)
        _require(mapping_kw.pop("activation", "lrelu"), "lrelu", "mapping_kwargs.activation")
        for key in ("embed_features", "layer_features", "w_avg_beta"):
            if mapping_kw.pop(key, None) is not None:
                raise ValueError(f"unsupported NVlabs argument mapping_kwargs.{key} for a discriminator")
        _take(mapping_kw, {"num_layers": "mapping_layers", "lr_multiplier": "mapping_lr_multiplier"},
              "mapping_kwargs", out)
        _require(epi_kw.pop("activation", "lrelu"), "lrelu", "epilogue_kwargs.activation")
        _take(epi_kw, {"mbstd_group_size": "mbstd_group_size", "mbstd_num_channels": "mbstd_num_channels"},
              "epilogue_kwargs", out)
        return cls.from_dict(out)
