"""The editable state of one motif (what the explorer's undo stack holds). Qt-free."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping

from batikstudio.render.request import NOISE_MODES, MixSpec, RenderRequest


@dataclass(frozen=True)
class MotifState:
    """Seed and every control of the motif view; immutable so undo can keep snapshots.

    ``directions`` holds one amount (standard deviations) per PCA axis shown, zeros omitted.
    ``psi_centre``: truncation towards the class's centre or the model's ``w_avg``
    (:class:`~batikstudio.render.request.RenderRequest`). ``text``: the character a character
    model writes (None: the seed's own). ``layout_seed``: the seed whose arrangement a structure
    model draws (None: the seed's own).
    """

    seed: int = 0
    class_index: int | None = None
    psi: float = 0.7
    cutoff: int | None = None
    noise_mode: str = "const"
    noise_gain: float = 1.0
    mix: tuple[MixSpec, ...] = ()
    directions: tuple[tuple[int, float], ...] = ()
    direction_layers: str | None = None
    tileable: bool = False
    psi_centre: str = "class"
    text: str | None = None
    layout_seed: int | None = None

    def __post_init__(self) -> None:
        if self.noise_mode not in NOISE_MODES:
            raise ValueError(f"unknown noise mode {self.noise_mode!r}")

    def with_direction(self, axis: int, amount: float) -> "MotifState":
        """Set one direction amount (0 removes it)."""
        d = {k: a for k, a in self.directions if k != axis}
        if amount != 0:
            d[axis] = float(amount)
        return replace(self, directions=tuple(sorted(d.items())))

    def direction(self, axis: int) -> float:
        return dict(self.directions).get(axis, 0.0)

    def with_mix(self, layers: str, seed: int | None) -> "MotifState":
        """Take the named W range from ``seed`` (``None`` clears that range)."""
        kept = tuple(m for m in self.mix if m.layers != layers)
        if seed is not None:
            kept = kept + (MixSpec(int(seed), layers, None),)
        return replace(self, mix=kept)

    def mix_seed(self, layers: str) -> int | None:
        for m in self.mix:
            if m.layers == layers:
                return m.seed
        return None

    def request(self, out_size: int | None = None, directions_count: int = 16,
                max_resolution: int | None = None) -> RenderRequest:
        return RenderRequest(
            seeds=(self.seed,), class_index=self.class_index, psi=self.psi, cutoff=self.cutoff,
            psi_centre=self.psi_centre, noise_mode=self.noise_mode, noise_gain=self.noise_gain, mix=self.mix,
            directions=self.directions, direction_layers=self.direction_layers,
            directions_count=directions_count, tileable=self.tileable, out_size=out_size,
            max_resolution=max_resolution, text=self.text, layout_seed=self.layout_seed,
        )

    def to_dict(self) -> dict[str, Any]:
        d = self.request().to_dict()
        d.pop("seeds")
        d["seed"] = self.seed
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "MotifState":
        req = RenderRequest.from_dict(d)
        gain = req.noise_gain if isinstance(req.noise_gain, float) else 1.0
        dl = req.direction_layers if isinstance(req.direction_layers, str) or req.direction_layers is None else None
        return cls(req.seeds[0], req.class_index, req.psi, req.cutoff, req.noise_mode, gain,
                   req.mix, req.directions, dl, req.tileable, req.psi_centre, req.char_for(0), req.layout_seed)
