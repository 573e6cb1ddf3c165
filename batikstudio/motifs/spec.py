"""The random choices behind one procedural motif, and the family descriptor type."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from batikstudio.motifs.canvas import Canvas


#: Generator editions. The random choices of a (family, seed) are the same in every edition; an
#: edition changes how they are drawn, and data sets name theirs so old ones can be made again.
#: 1: the first generator (batik-motifs-32, and batik-motifs-64 up to its stage 14, were trained on it).
#: 2: a sekar jagad outline between two dark-ground islands is drawn in the ground colour, so that
#: every island stays outlined (in edition 1 about a quarter of the outline length vanished into
#: the dark grounds it ran between).
EDITIONS = (1, 2)
LATEST_EDITION = EDITIONS[-1]


@dataclass(frozen=True)
class MotifSpec:
    """Every random choice of a motif that is not fine geometry (those come from the seed).

    Attributes:
        family: registry name (``"parang"``...).
        seed: the seed the motif was drawn from.
        palette: name in :data:`batikstudio.motifs.colours.PALETTES`.
        scale: repeats of the family's lattice per tile (bigger: smaller ornaments).
        variant: index of the family's sub-style (e.g. ceplok rosette vs grompol).
        mirror: flip left-right (parang / lereng: Yogya vs Solo diagonal).
        invert: dark ground, light ornaments.
        line: outline width in tile units (0.004 is about 1 px at 256 px).
        fill: isen-isen for the empty ground (a key of ``fills.FILLS`` or ``"none"``).
        crackle: wax crackle density 0..1 (0: none).
        edition: the generator edition that draws it (see :data:`EDITIONS`).
    """

    family: str
    seed: int
    palette: str
    scale: int
    variant: int = 0
    mirror: bool = False
    invert: bool = False
    line: float = 0.006
    fill: str = "none"
    crackle: float = 0.0
    edition: int = LATEST_EDITION


def check_edition(edition: int) -> int:
    """``edition`` as an int, or ``ValueError`` naming the known editions."""
    if edition not in EDITIONS:
        raise ValueError(f"unknown motif generator edition {edition!r}; known: "
                         f"{', '.join(map(str, EDITIONS))}")
    return int(edition)


DrawFn = Callable[[Canvas, MotifSpec, np.random.Generator], None]

ALL_FILLS = ("none", "cecek", "cecek_pitu", "sisik", "sawut", "galaran", "ukel", "cecek_sawut")


@dataclass(frozen=True)
class Family:
    """A motif family: its drawing function and the ranges its random choices come from.

    Attributes:
        name: registry key.
        draw: ``draw(canvas, spec, rng)`` paints role labels on the canvas.
        scales: allowed values of :attr:`MotifSpec.scale`.
        palettes: palettes typical for the family (one is drawn when none is given).
        variants: number of sub-styles.
        mirror: whether a left-right flip is a meaningful variation.
        invert_p: probability of a dark ground.
        fills: isen-isen that suit the family's ground.
        crackle_p: probability of wax crackle.
    """

    name: str
    draw: DrawFn
    scales: tuple[int, ...]
    palettes: tuple[str, ...]
    variants: int = 1
    mirror: bool = False
    invert_p: float = 0.3
    fills: tuple[str, ...] = ALL_FILLS
    crackle_p: float = 0.4


def family_rng(family: str, seed: int, stream: int) -> np.random.Generator:
    """A generator fixed by (family, seed, stream): same inputs, same numbers, any machine."""
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return np.random.default_rng([int(seed), zlib.crc32(family.encode()), int(stream)])
