"""Named batik dye palettes (hex sRGB), after the colour notes in BATIK.md.

Values quoted in BATIK.md: cream ground #EFE6D2, soga browns #6B3E1E and #C8A165, indigo
#1F2A44, Lasem red #9E1B1B, mega mendung blues #0B2545 to #BFD7EA. The other shades (the
darkest browns and blues, the pesisir brights, the in-between mega mendung bands) are this
project's choices, picked to stay within each tradition's look. Order inside a palette does
not matter: dye separation sorts colours light to dark itself.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping, Sequence

import numpy as np

from batikstudio.imaging.colour import hex_to_rgb, oklab_to_rgb, rgb_to_hex, rgb_to_oklab

MIN_COLOURS = 2
MAX_COLOURS = 16


def _oklab_ramp(light: str, dark: str, steps: int) -> tuple[str, ...]:
    """``steps`` hex colours evenly spaced in OKLab from ``light`` to ``dark``."""
    ends = rgb_to_oklab(np.array([hex_to_rgb(light), hex_to_rgb(dark)], dtype=np.uint8))
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return tuple(rgb_to_hex(c) for c in oklab_to_rgb(ends[0] * (1 - t) + ends[1] * t))


PALETTES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        # Yogya classic: white/cream ground, soga brown, indigo-black
        "yogya": ("#EFE6D2", "#6B3E1E", "#1F2A44"),
        # Solo classic: yellowish soga ground instead of white
        "solo": ("#C8A165", "#6B3E1E", "#1F2A44"),
        # sogan: the brown family over cream
        "sogan": ("#EFE6D2", "#C8A165", "#6B3E1E", "#2B1A10"),
        # indigo (biru): cream, mid and dark indigo, near-black blue
        "indigo": ("#EFE6D2", "#7A8FB0", "#1F2A44", "#0E1422"),
        # Lasem bang-biru: red and blue over cream
        "lasem": ("#EFE6D2", "#9E1B1B", "#1F2A44"),
        # truntum: cream flowers on dark brown
        "truntum": ("#EFE6D2", "#3B2314"),
        # pesisir (north coast): bright, up to 7-8 colours
        "pesisir": ("#F7F1E1", "#F2C14E", "#E07A5F", "#3D9970", "#9E1B1B", "#2E86AB", "#1F2A44"),
        # mega mendung: seven cloud bands, light to dark
        "mega_mendung": _oklab_ramp("#BFD7EA", "#0B2545", 7),
        "mega_mendung_red": _oklab_ramp("#F4D6D2", "#5A0E0E", 7),
    }
)


def palette_names() -> list[str]:
    """Names accepted by :func:`resolve_palette`, sorted."""
    return sorted(PALETTES)


def resolve_palette(spec: str | Sequence[str]) -> np.ndarray:
    """Turn a palette name, a comma-separated hex string or a list of hex codes into colours.

    Args:
        spec: ``"lasem"``, ``"#EFE6D2,#9E1B1B"`` or ``["#EFE6D2", "#9E1B1B"]``.

    Returns:
        ``(K, 3)`` uint8 sRGB colours, duplicates removed, in the order given.

    Raises:
        ValueError: on an unknown name, a malformed hex code, or fewer than 2 / more than 16
            distinct colours.

    >>> resolve_palette("truntum").tolist()
    [[239, 230, 210], [59, 35, 20]]
    """
    if isinstance(spec, str):
        key = spec.strip().lower()
        if key in PALETTES:
            codes: Sequence[str] = PALETTES[key]
        elif "#" in spec or "," in spec:
            codes = [c for c in spec.split(",") if c.strip()]
        else:
            raise ValueError(
                f"unknown palette {spec!r}: use one of {', '.join(palette_names())} "
                "or a comma-separated list of #RRGGBB codes"
            )
    else:
        codes = list(spec)
    colours: list[tuple[int, int, int]] = []
    for code in codes:
        rgb = hex_to_rgb(code)
        if rgb not in colours:
            colours.append(rgb)
    if not MIN_COLOURS <= len(colours) <= MAX_COLOURS:
        raise ValueError(
            f"a palette needs {MIN_COLOURS} to {MAX_COLOURS} distinct colours, got {len(colours)}"
        )
    return np.array(colours, dtype=np.uint8)
