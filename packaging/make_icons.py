"""Draw the Batik Studio application icon: one kawung unit in soga brown on cream.

Writes ``resources/icons/batikstudio.svg`` and ``batikstudio-<N>.png`` for N in 16..512,
plus ``batikstudio.ico`` (Windows) and ``batikstudio.icns`` (macOS) from one geometry, so the SVG and the PNGs agree. The PNGs
are drawn with Pillow at 4x and reduced with a Lanczos filter (antialiased edges).

Run from the repository root (a development step; the build only copies the results)::

    python packaging/make_icons.py
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
UNIT = 512.0  # geometry below is in a 512 x 512 box

CREAM = "#EFE6D2"
SOGA = "#6B3E1E"
SOGA_LIGHT = "#C8A165"
INDIGO = "#1F2A44"


@dataclass(frozen=True)
class Oval:
    """One kawung petal: an ellipse centred at (cx, cy), long axis at ``angle`` degrees."""

    cx: float
    cy: float
    rx: float
    ry: float
    angle: float
    fill: str


def _petals() -> list[tuple[Oval, Oval, list[tuple[float, float]]]]:
    """Four petals on the diagonals; each has an outer oval, an inner oval and two seed dots."""
    centre, dist = UNIT / 2, 132.0
    out = []
    for k in range(4):
        angle = 45.0 + 90.0 * k
        a = math.radians(angle)
        cx, cy = centre + dist * math.cos(a), centre + dist * math.sin(a)
        outer = Oval(cx, cy, 104.0, 58.0, angle, SOGA)
        inner = Oval(cx, cy, 72.0, 32.0, angle, SOGA_LIGHT)
        seeds = [(cx + s * 30.0 * math.cos(a), cy + s * 30.0 * math.sin(a)) for s in (-1, 1)]
        out.append((outer, inner, seeds))
    return out


SEED_R = 11.0
CENTRE_R = 16.0
BACKGROUND_RADIUS = 96.0
BORDER = 14.0


def svg_text() -> str:
    """The icon as an SVG document (512 x 512 user units)."""
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 512 512">',
        "  <title>Batik Studio</title>",
        f'  <rect x="{BORDER / 2}" y="{BORDER / 2}" width="{UNIT - BORDER}" height="{UNIT - BORDER}" '
        f'rx="{BACKGROUND_RADIUS}" fill="{CREAM}" stroke="{SOGA}" stroke-width="{BORDER}"/>',
    ]
    for outer, inner, seeds in _petals():
        for oval in (outer, inner):
            parts.append(
                f'  <ellipse cx="{oval.cx:.2f}" cy="{oval.cy:.2f}" rx="{oval.rx}" ry="{oval.ry}" '
                f'transform="rotate({oval.angle} {oval.cx:.2f} {oval.cy:.2f})" fill="{oval.fill}"/>'
            )
        for x, y in seeds:
            parts.append(f'  <circle cx="{x:.2f}" cy="{y:.2f}" r="{SEED_R}" fill="{INDIGO}"/>')
    parts.append(f'  <circle cx="256" cy="256" r="{CENTRE_R}" fill="{SOGA}"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _ellipse_points(oval: Oval, scale: float, n: int = 180) -> list[tuple[float, float]]:
    a = math.radians(oval.angle)
    pts = []
    for i in range(n):
        t = 2 * math.pi * i / n
        x, y = oval.rx * math.cos(t), oval.ry * math.sin(t)
        pts.append(((oval.cx + x * math.cos(a) - y * math.sin(a)) * scale,
                    (oval.cy + x * math.sin(a) + y * math.cos(a)) * scale))
    return pts


def _circle(draw: ImageDraw.ImageDraw, x: float, y: float, r: float, scale: float, fill: str) -> None:
    draw.ellipse([(x - r) * scale, (y - r) * scale, (x + r) * scale, (y + r) * scale], fill=fill)


def render_png(size: int) -> Image.Image:
    """The icon as an RGBA image of ``size`` x ``size`` pixels (transparent corners)."""
    big = size * 4
    scale = big / UNIT
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle([0, 0, big - 1, big - 1], radius=(BACKGROUND_RADIUS + BORDER / 2) * scale, fill=SOGA)
    draw.rounded_rectangle([BORDER * scale, BORDER * scale, big - 1 - BORDER * scale, big - 1 - BORDER * scale],
                           radius=(BACKGROUND_RADIUS - BORDER / 2) * scale, fill=CREAM)
    for outer, inner, seeds in _petals():
        draw.polygon(_ellipse_points(outer, scale), fill=outer.fill)
        draw.polygon(_ellipse_points(inner, scale), fill=inner.fill)
        for x, y in seeds:
            _circle(draw, x, y, SEED_R, scale, INDIGO)
    _circle(draw, UNIT / 2, UNIT / 2, CENTRE_R, scale, SOGA)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "batikstudio.svg").write_text(svg_text(), encoding="utf-8")
    images = {}
    for size in SIZES:
        images[size] = render_png(size)
        images[size].save(OUT / f"batikstudio-{size}.png", optimize=True)
    images[256].save(OUT / "batikstudio.ico", sizes=[(s, s) for s in ICO_SIZES])
    render_png(1024).save(OUT / "batikstudio.icns")  # macOS; Pillow derives the smaller sizes
    sys.stdout.write(f"wrote {OUT}: batikstudio.svg, {len(SIZES)} PNG sizes, .ico, .icns\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
