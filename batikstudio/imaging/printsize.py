"""Physical print sizes, DPI, presets and the pixel limit for print export.

A :class:`PrintSpec` is a physical size (cm, mm or inches) plus a resolution in dots per
inch; it converts to a pixel size by rounding to the nearest pixel (20 cm at 300 DPI is
``20 / 2.54 * 300 = 2362.2`` -> 2362 px). Presets follow the print conventions in BATIK.md:
print-on-demand fabric works at 150 ppi, mills want 300 DPI at final size.

Exports are refused *before* any large array is allocated when they exceed a pixel limit
(:func:`check_pixel_limit`), with a message that states the requested size.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from batikstudio.errors import ExportError

#: inches per unit
UNIT_INCHES: dict[str, float] = {"in": 1.0, "cm": 1.0 / 2.54, "mm": 1.0 / 25.4}
#: PDF points per inch
POINTS_PER_INCH = 72.0
#: default refusal threshold: 200 megapixels (600 MB as RGB)
DEFAULT_MAX_PIXELS = 200_000_000
#: named resolutions: print-on-demand fabric and mill / final-size printing
DPI_PRESETS: dict[str, int] = {"pod": 150, "fabric": 150, "mill": 300, "print": 300}


@dataclass(frozen=True)
class PrintSpec:
    """A physical print size at a resolution.

    Args:
        width: physical width in ``unit`` (> 0).
        height: physical height in ``unit`` (> 0).
        unit: ``'cm'``, ``'mm'`` or ``'in'``.
        dpi: dots (pixels) per inch, > 0; 150 for print-on-demand fabric, 300 for mills.

    >>> PrintSpec(20, 20, "cm", dpi=300).pixel_size
    (2362, 2362)
    """

    width: float
    height: float
    unit: str = "cm"
    dpi: float = 300

    def __post_init__(self) -> None:
        if self.unit not in UNIT_INCHES:
            raise ValueError(f"unknown unit {self.unit!r}: use cm, mm or in")
        if not (self.width > 0 and self.height > 0):
            raise ValueError(f"print size must be positive, got {self.width} x {self.height}")
        if not self.dpi > 0:
            raise ValueError(f"DPI must be positive, got {self.dpi}")

    @property
    def width_in(self) -> float:
        return self.width * UNIT_INCHES[self.unit]

    @property
    def height_in(self) -> float:
        return self.height * UNIT_INCHES[self.unit]

    @property
    def pixel_size(self) -> tuple[int, int]:
        """(width, height) in pixels, each rounded to the nearest pixel and at least 1."""
        return (to_pixels(self.width, self.unit, self.dpi), to_pixels(self.height, self.unit, self.dpi))

    @property
    def points(self) -> tuple[float, float]:
        """(width, height) in PDF points (1/72 in)."""
        return (self.width_in * POINTS_PER_INCH, self.height_in * POINTS_PER_INCH)

    @property
    def megapixels(self) -> float:
        w, h = self.pixel_size
        return w * h / 1e6

    def with_dpi(self, dpi: float) -> "PrintSpec":
        return replace(self, dpi=dpi)

    def describe(self) -> str:
        """Human-readable size, e.g. ``'20 x 20 cm at 300 DPI'``."""
        return f"{_num(self.width)} x {_num(self.height)} {self.unit} at {_num(self.dpi)} DPI"


def to_pixels(length: float, unit: str, dpi: float) -> int:
    """Convert a physical length to whole pixels (nearest, at least 1).

    >>> to_pixels(6, "in", 300)
    1800
    """
    if unit not in UNIT_INCHES:
        raise ValueError(f"unknown unit {unit!r}: use cm, mm or in")
    return max(1, int(math.floor(length * UNIT_INCHES[unit] * dpi + 0.5)))


def _num(value: float) -> str:
    return f"{value:g}"


# name -> (width, height, unit); dpi is chosen separately (default 300)
PRESET_SIZES: dict[str, tuple[float, float, str]] = {
    "swatch": (8, 8, "in"),
    "fat-quarter": (21, 18, "in"),
    "wallpaper-panel": (24, 36, "in"),
    "batik-cap": (20, 20, "cm"),
    "roll-eu": (53, 100, "cm"),
    "roll-70": (70, 100, "cm"),
}
#: presets whose repeat must divide the width exactly (an integer number of repeats across)
FIT_WIDTH_PRESETS = frozenset({"wallpaper-panel", "roll-eu", "roll-70"})


def preset(name: str, dpi: float | str = 300) -> PrintSpec:
    """A named print size at a DPI (a number or a name from :data:`DPI_PRESETS`).

    Presets: swatch 8 x 8 in, fat-quarter 21 x 18 in, wallpaper-panel 24 x 36 in (the repeat
    must divide the 24 in width), batik-cap 20 x 20 cm (one copper stamp), roll-eu 53 cm
    and roll-70 70 cm wide (100 cm long).

    >>> preset("batik-cap", "pod").pixel_size
    (1181, 1181)

    Raises:
        ValueError: on an unknown preset or DPI name.
    """
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    if key not in PRESET_SIZES:
        raise ValueError(f"unknown size preset {name!r}: choose from {', '.join(PRESET_SIZES)}")
    if isinstance(dpi, str):
        if dpi.lower() not in DPI_PRESETS:
            raise ValueError(f"unknown DPI preset {dpi!r}: choose from {', '.join(DPI_PRESETS)}")
        dpi = DPI_PRESETS[dpi.lower()]
    w, h, unit = PRESET_SIZES[key]
    return PrintSpec(w, h, unit, dpi)


_SIZE_RE = re.compile(
    r"^\s*(?P<w>\d+(?:\.\d*)?)\s*(?:(?:x|\*|×)\s*(?P<h>\d+(?:\.\d*)?))?\s*(?P<unit>cm|mm|in|inch|inches|\")?\s*$",
    re.IGNORECASE,
)


def parse_size(text: str, default_unit: str = "cm") -> tuple[float, float | None, str]:
    """Parse ``'20x20cm'``, ``'8 x 8 in'``, ``'24in'`` into (width, height or None, unit).

    >>> parse_size("21x18in")
    (21.0, 18.0, 'in')

    Raises:
        ValueError: if the text is not a size.
    """
    m = _SIZE_RE.match(text)
    if not m:
        raise ValueError(f"cannot read size {text!r}: write e.g. 20x20cm, 8x8in or 24in")
    unit = (m.group("unit") or default_unit).lower()
    unit = "in" if unit in ("inch", "inches", '"') else unit
    h = float(m.group("h")) if m.group("h") else None
    return float(m.group("w")), h, unit


def check_pixel_limit(
    spec: PrintSpec, max_pixels: int = DEFAULT_MAX_PIXELS, pixel_size: tuple[int, int] | None = None
) -> tuple[int, int]:
    """Return the spec's pixel size, or refuse it when it exceeds ``max_pixels``.

    Call this before allocating anything of that size.

    Raises:
        ExportError: with the requested physical and pixel size, e.g. "a 60 x 60 in print at
            300 DPI is 18000 x 18000 px = 324 MP, over the 200 MP limit ...".
    """
    w, h = pixel_size if pixel_size is not None else spec.pixel_size
    if w * h > max_pixels:
        raise ExportError(
            f"a {_num(spec.width)} x {_num(spec.height)} {spec.unit} print at {_num(spec.dpi)} DPI "
            f"is {w} x {h} px = {w * h / 1e6:.0f} MP, over the {max_pixels / 1e6:g} MP limit; "
            "lower the DPI or the size, or raise the limit (--max-pixels)"
        )
    return w, h


@dataclass(frozen=True)
class RepeatFit:
    """How many repeats fit across a width, and the resulting repeat width (same unit)."""

    count: int
    repeat: float


def fit_repeats(width: float, target_repeat: float) -> RepeatFit:
    """Pick the repeat size nearest ``target_repeat`` so a whole number fits ``width``.

    Wallpaper panels and rolls need ``width / repeat`` to be an integer so the pattern
    matches across drops.

    >>> fit_repeats(24, 7)
    RepeatFit(count=3, repeat=8.0)
    """
    if not (width > 0 and target_repeat > 0):
        raise ValueError("width and repeat must be positive")
    ratio = width / target_repeat
    candidates = {max(1, math.floor(ratio)), max(1, math.ceil(ratio))}
    # compare in log space so 2x too big and 2x too small count the same
    count = min(candidates, key=lambda n: (abs(math.log((width / n) / target_repeat)), n))
    return RepeatFit(count, width / count)


def fit_repeats_px(width_px: int, target_px: int) -> RepeatFit:
    """Pixel version of :func:`fit_repeats`: prefer a count that divides ``width_px`` exactly.

    Looks at counts within 25 % of the ideal one and takes the divisor nearest the target
    repeat; if none divides, the nearest count (the repeat is then ``round(width/count)``
    and the last repeat is cut by at most ``count`` pixels).

    >>> fit_repeats_px(7200, 2362)
    RepeatFit(count=3, repeat=2400)
    """
    if width_px < 1 or target_px < 1:
        raise ValueError("width and repeat must be at least 1 px")
    ideal = fit_repeats(width_px, target_px).count
    lo, hi = max(1, int(ideal * 0.75)), max(1, int(math.ceil(ideal * 1.25)))
    divisors = [n for n in range(lo, hi + 1) if width_px % n == 0]
    if divisors:
        count = min(divisors, key=lambda n: abs(math.log((width_px / n) / target_px)))
        return RepeatFit(count, width_px // count)
    return RepeatFit(ideal, int(round(width_px / ideal)))
