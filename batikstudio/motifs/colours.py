"""The classic batik palettes used by the procedural motifs (after shared/BATIK.md).

Motifs are drawn as *role labels* (small integers), not colours; a :class:`Palette` maps each
role to an RGB colour when the motif is finished. Roles:

==========  =====================================================================
GROUND      the cloth (lightest, wax-protected first)
LIGHT       a light dye (light soga, pale blue)
MID         a middle tone
MAIN        the main dye (soga brown, indigo, Lasem red)
DARK        the darkest dye (near-black blue / brown); crackle veins use it
ACCENT      a second hue (indigo in sogan, yellow or green on the north coast)
ACCENT2     a third hue (pesisir only; otherwise a repeat of a tone)
BAND0..6    seven nested cloud bands, dark to light (mega mendung)
==========  =====================================================================

The colour table here is deliberately small and independent of ``imaging/palettes.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RGB = tuple[int, int, int]

GROUND, LIGHT, MID, MAIN, DARK, ACCENT, ACCENT2 = range(7)
N_ROLES = 7
BAND0 = 8  # BAND0 + k for k in 0..6, dark to light
N_BANDS = 7
N_LABELS = BAND0 + N_BANDS


def hex_rgb(code: str) -> RGB:
    """``"#6B3E1E"`` -> ``(107, 62, 30)``."""
    code = code.lstrip("#")
    return (int(code[0:2], 16), int(code[2:4], 16), int(code[4:6], 16))


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))  # type: ignore[return-value]


@dataclass(frozen=True)
class Palette:
    """A named set of dye colours.

    Args:
        name: registry key (``"sogan"``...).
        roles: seven RGB colours for GROUND, LIGHT, MID, MAIN, DARK, ACCENT, ACCENT2.
        bands: seven RGB colours, dark to light, for nested cloud bands; empty means
            "interpolate from DARK to LIGHT".
        note: one line on where the palette comes from.
    """

    name: str
    roles: tuple[RGB, ...]
    bands: tuple[RGB, ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        if len(self.roles) != 7:
            raise ValueError(f"palette {self.name}: expected 7 role colours, got {len(self.roles)}")
        if self.bands and len(self.bands) != N_BANDS:
            raise ValueError(f"palette {self.name}: expected {N_BANDS} band colours")

    def band_colours(self) -> tuple[RGB, ...]:
        """Seven colours, dark to light, for the nested bands of mega mendung clouds."""
        if self.bands:
            return self.bands
        dark, light = self.roles[DARK], self.roles[LIGHT]
        return tuple(_mix(dark, light, k / (N_BANDS - 1)) for k in range(N_BANDS))

    def lut(self, swap: tuple[tuple[int, int], ...] = ()) -> np.ndarray:
        """Label -> colour table, shape (256, 3) uint8; ``swap`` exchanges role pairs.

        >>> Palette("x", ((255, 255, 255),) * 7).lut().shape
        (256, 3)
        """
        table = np.zeros((256, 3), np.uint8)
        roles = list(self.roles)
        for a, b in swap:
            roles[a], roles[b] = roles[b], roles[a]
        table[: len(roles)] = roles
        table[BAND0 : BAND0 + N_BANDS] = self.band_colours()
        return table

    def colours(self) -> np.ndarray:
        """Every distinct colour of the palette, shape (K, 3) uint8."""
        allc = list(self.roles) + list(self.band_colours())
        return np.unique(np.array(allc, np.uint8), axis=0)


def _p(name: str, roles: str, bands: str = "", note: str = "") -> Palette:
    return Palette(
        name,
        tuple(hex_rgb(c) for c in roles.split()),
        tuple(hex_rgb(c) for c in bands.split()),
        note,
    )


# roles: GROUND LIGHT MID MAIN DARK ACCENT ACCENT2
PALETTES: dict[str, Palette] = {
    p.name: p
    for p in (
        _p("sogan", "#EFE6D2 #C8A165 #9C6B3A #6B3E1E #2A1A12 #1F2A44 #C8A165",
           note="Yogya: white cloth, soga browns, indigo-black"),
        _p("sogan_solo", "#D9BC86 #B08550 #8A5A2E #6B3E1E #2A1A12 #1F2A44 #EFE6D2",
           note="Solo: yellowish soga ground, browns"),
        _p("indigo", "#EFE9DC #A9B7CC #55688C #1F2A44 #0E1422 #6B7FA6 #C8A165",
           note="kelengan: indigo on white"),
        _p("pesisir", "#F4ECD8 #E9B949 #D1495B #2E7D6B #1F2A44 #E07A1F #7A9E3F",
           note="north coast: bright, many colours"),
        _p("lasem", "#EFE6D2 #D9A07E #C8A165 #9E1B1B #2B1414 #1F2A44 #6B3E1E",
           note="Lasem red (bang-bangan, tiga negeri)"),
        _p("mega_mendung", "#F1ECE0 #BFD7EA #5B8DB8 #1D4E89 #0B2545 #8DB3D8 #3A6EA5",
           "#0B2545 #163A63 #1D4E89 #3A6EA5 #5B8DB8 #8DB3D8 #BFD7EA",
           note="Cirebon clouds: blues #0B2545 to #BFD7EA"),
        _p("mega_mendung_red", "#F1E3CF #F2C1B6 #C4453C #9E1B1B #3F0A0A #E08A7A #6E1212",
           "#3F0A0A #6E1212 #9E1B1B #C4453C #D9685C #E89A8C #F2C1B6",
           note="Cirebon clouds in red"),
    )
}


def get_palette(name: str) -> Palette:
    """Look a palette up by name.

    Raises:
        ValueError: for an unknown name (lists the known ones).
    """
    try:
        return PALETTES[name]
    except KeyError:
        raise ValueError(f"unknown palette {name!r}; known: {', '.join(PALETTES)}") from None
