"""Render requests: frozen, made on the GUI thread or from the CLI, serialisable as provenance."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import numpy as np

from batikstudio import __version__

NOISE_MODES = ("const", "random", "none")
PSI_CENTRES = ("class", "model")  # batikstudio.core.latents.PSI_CENTRES (kept import-light)
PRECISIONS = ("float32", "bfloat16")


@dataclass(frozen=True)
class MixSpec:
    """Take W ``layers`` (a name like ``coarse``/``middle``/``fine``, ``"0-3"``, or a tuple of
    indices) from the motif of ``seed`` (with ``class_index`` for conditional models)."""

    seed: int
    layers: str | tuple[int, ...]
    class_index: int | None = None

    def to_dict(self) -> dict[str, Any]:
        layers = self.layers if isinstance(self.layers, str) else list(self.layers)
        return {"seed": self.seed, "layers": layers, "class": self.class_index}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "MixSpec":
        layers = d["layers"]
        return cls(int(d["seed"]), layers if isinstance(layers, str) else tuple(int(i) for i in layers),
                   None if d.get("class") is None else int(d["class"]))

    @classmethod
    def parse(cls, text: str) -> "MixSpec":
        """Parse ``SEED:LAYERS`` such as ``12:coarse`` or ``7:0-3``."""
        seed, sep, layers = text.partition(":")
        if not sep or not seed.strip().isdigit() or not layers.strip():
            raise ValueError(f"bad --mix {text!r}: use SEED:RANGE, e.g. 12:coarse or 7:0-3")
        return cls(int(seed), layers.strip())


@dataclass(frozen=True)
class RenderRequest:
    """Everything that decides the pixels of a batch of motifs.

    Attributes:
        seeds: one image per seed (NVlabs ``RandomState(seed).randn`` latents).
        class_index: class for conditional models (None for unconditional ones).
        psi: truncation psi (1 = none). cutoff: truncate only ws[:cutoff] (None = all).
        psi_centre: what truncation pulls towards: ``"class"`` (the requested class's mean w;
            conditional models keep each family's look) or ``"model"`` (the model's ``w_avg``
            over all classes, NVlabs; what provenance written before this option meant).
            The same for unconditional models.
        noise_mode: ``const`` (fixed per model), ``random`` (seeded by ``noise_seed`` or the
            image seed, so still reproducible) or ``none``.
        noise_gain: multiplier of every layer's noise strength, or one per noise layer.
        mix: style mixing donors applied in order.
        directions: (axis, amount in standard deviations) pairs; ``direction_layers`` limits
            them to a W range (name or indices; None = all layers).
        directions_seed / directions_samples / directions_count: identify the PCA.
        tileable: render with wrap-around padding (seamless tiles).
        out_size: resize the result to this many pixels square (None = native).
        max_resolution: quick preview: stop synthesis at this block resolution (the skip
            image so far, a blurrier version of the same motif); None = full render.
        precision: ``float32`` (exact, the default) or ``bfloat16`` (about twice as fast on
            CPUs with native bf16; pixels differ by a few levels).
        text: character models (calligraphy): the characters to write, seed ``i`` writing
            ``text[i % len(text)]`` (white space dropped); None = every seed writes its own
            character from the model's table (see :meth:`Generator.seed_characters`).
        layout_seed: structure models (batik): every image draws the arrangement (motif layout
            of the requested class) of this seed, keeping its own fills and colours; None =
            each seed its own arrangement.
    """

    seeds: tuple[int, ...] = (0,)
    class_index: int | None = None
    psi: float = 1.0
    cutoff: int | None = None
    psi_centre: str = "class"
    noise_mode: str = "const"
    noise_gain: float | tuple[float, ...] = 1.0
    noise_seed: int | None = None
    mix: tuple[MixSpec, ...] = ()
    directions: tuple[tuple[int, float], ...] = ()
    direction_layers: str | tuple[int, ...] | None = None
    directions_seed: int = 0
    directions_samples: int = 8192
    directions_count: int = 16
    tileable: bool = False
    out_size: int | None = None
    max_resolution: int | None = None
    precision: str = "float32"
    text: str | None = None
    layout_seed: int | None = None

    def __post_init__(self) -> None:
        if self.text is not None:
            text = "".join(ch for ch in str(self.text) if not ch.isspace())
            object.__setattr__(self, "text", text or None)
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r}: use {' or '.join(PRECISIONS)}")
        if not self.seeds:
            raise ValueError("a render request needs at least one seed")
        if self.noise_mode not in NOISE_MODES:
            raise ValueError(f"unknown noise mode {self.noise_mode!r}: use one of {', '.join(NOISE_MODES)}")
        if not np.isfinite(self.psi):
            raise ValueError("psi must be a finite number")
        if self.psi_centre not in PSI_CENTRES:
            raise ValueError(f"unknown truncation centre {self.psi_centre!r}: use {' or '.join(PSI_CENTRES)}")
        if self.cutoff is not None and self.cutoff < 0:
            raise ValueError("truncation cutoff must be >= 0")
        if self.layout_seed is not None and self.layout_seed < 0:
            raise ValueError("the arrangement seed must be >= 0")
        if self.out_size is not None and self.out_size < 1:
            raise ValueError("out_size must be positive")

    def with_seeds(self, seeds) -> "RenderRequest":
        return replace(self, seeds=tuple(int(s) for s in seeds))

    def for_seed(self, seed: int) -> "RenderRequest":
        """The request for one image of this batch (what goes into that image's provenance)."""
        return replace(self, seeds=(int(seed),), text=self.char_for(list(self.seeds).index(int(seed)))
                       if self.text and int(seed) in self.seeds else self.text)

    def char_for(self, position: int) -> str | None:
        """The character the image at ``position`` of the batch writes (None: the seed's own)."""
        return self.text[position % len(self.text)] if self.text else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (the core of an image's provenance)."""
        gain = self.noise_gain if isinstance(self.noise_gain, (int, float)) else list(self.noise_gain)
        dl = self.direction_layers
        return {
            "seeds": list(self.seeds),
            "class": self.class_index,
            "psi": self.psi,
            "cutoff": self.cutoff,
            "psi_centre": self.psi_centre,
            "noise_mode": self.noise_mode,
            "noise_gain": gain,
            "noise_seed": self.noise_seed,
            "mix": [m.to_dict() for m in self.mix],
            "directions": [[int(k), float(a)] for k, a in self.directions],
            "direction_layers": dl if dl is None or isinstance(dl, str) else list(dl),
            "directions_seed": self.directions_seed,
            "directions_samples": self.directions_samples,
            "directions_count": self.directions_count,
            "tileable": self.tileable,
            "out_size": self.out_size,
            "max_resolution": self.max_resolution,
            "precision": self.precision,
            "text": self.text,
            "layout_seed": self.layout_seed,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RenderRequest":
        """Inverse of :meth:`to_dict`; unknown keys are ignored, missing ones take defaults.

        Raises:
            ValueError: if a value has the wrong type.
        """
        try:
            gain = d.get("noise_gain", 1.0)
            dl = d.get("direction_layers")
            return cls(
                seeds=tuple(int(s) for s in d.get("seeds", [d.get("seed", 0)])),
                class_index=None if d.get("class") is None else int(d["class"]),
                psi=float(d.get("psi", 1.0)),
                cutoff=None if d.get("cutoff") is None else int(d["cutoff"]),
                # provenance from before the option was truncated towards the model's w_avg
                psi_centre=str(d.get("psi_centre", "model")),
                noise_mode=str(d.get("noise_mode", "const")),
                noise_gain=float(gain) if isinstance(gain, (int, float)) else tuple(float(g) for g in gain),
                noise_seed=None if d.get("noise_seed") is None else int(d["noise_seed"]),
                mix=tuple(MixSpec.from_dict(m) for m in d.get("mix", [])),
                directions=tuple((int(k), float(a)) for k, a in d.get("directions", [])),
                direction_layers=dl if dl is None or isinstance(dl, str) else tuple(int(i) for i in dl),
                directions_seed=int(d.get("directions_seed", 0)),
                directions_samples=int(d.get("directions_samples", 8192)),
                directions_count=int(d.get("directions_count", 16)),
                tileable=bool(d.get("tileable", False)),
                out_size=None if d.get("out_size") is None else int(d["out_size"]),
                max_resolution=None if d.get("max_resolution") is None else int(d["max_resolution"]),
                precision=str(d.get("precision", "float32")),
                text=None if d.get("text") is None else str(d["text"]),
                layout_seed=None if d.get("layout_seed") is None else int(d["layout_seed"]),
            )
        except (TypeError, KeyError, AttributeError) as exc:
            raise ValueError(f"render settings are malformed: {exc}") from exc


@dataclass(frozen=True)
class RenderResult:
    """Rendered motifs.

    Attributes:
        images: [N, H, W, C] uint8 (C = 1, 3 or 4), one per seed in request order.
        request: the request that made them.
        seconds: wall time of the render.
        model_sha256: hash of the model file (provenance).
    """

    images: np.ndarray
    request: RenderRequest
    seconds: float
    model_sha256: str = ""
    extra: dict = field(default_factory=dict)

    def provenance(self, index: int = 0, model_name: str = "") -> dict[str, Any]:
        """Provenance of image ``index``: model hash + the one-seed request."""
        req = self.request.for_seed(self.request.seeds[index])
        return {
            "software": f"batikstudio {__version__}",
            "kind": "generated",
            "model_sha256": self.model_sha256,
            "model_name": model_name,
            "seed": req.seeds[0],
            "render": req.to_dict(),
        }
