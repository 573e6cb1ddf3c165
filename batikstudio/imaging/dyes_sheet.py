"""A one-page dye sheet for the workshop: motif, palette, and one panel per wax + dye stage.

The page (A4 portrait at 100 DPI by default) shows, top to bottom: a title line; the original
and the recoloured motif next to the palette swatches (hex code, CIELAB L*, coverage); then
one panel per stage with the wax mask (dark = wax, as in the exported ``mask_stage_k.png``)
and the cloth after that stage's bath.
"""

from __future__ import annotations

import logging
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from batikstudio.imaging.colour import lightness, rgb_to_hex
from batikstudio.imaging.dyes import DyeSeparation

log = logging.getLogger(__name__)

A4_INCHES = (8.27, 11.69)
_INK = (40, 40, 40)
_GREY = (110, 110, 110)
_FRAME = (170, 170, 170)
_WAX = (60, 52, 40)  # wax drawn dark, like the film positive of a mask
_FOOTNOTE = (
    "Dark in a mask = wax. Stage k covers every area of colours 0..k-1 with wax, then dyes with",
    "colour k. Swatches are the target colours on the finished cloth (overdye mixing not modelled).",
)
_FONT_FILES = ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _font(size: int, bold: bool = False) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    names = _FONT_FILES if not bold else tuple(n.replace("Sans", "Sans-Bold") for n in _FONT_FILES)
    for name in names:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    log.debug("DejaVu Sans not found; using PIL's default font")
    return ImageFont.load_default(size=size)


def _thumb(image: np.ndarray, box: int) -> Image.Image:
    """Fit an HxWx3 uint8 image into a ``box`` x ``box`` square, keeping its aspect."""
    h, w = image.shape[:2]
    scale = box / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    pil = Image.fromarray(image)
    resample = Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.BOX
    return pil.resize(size, resample)


def _paste(page: Image.Image, draw: ImageDraw.ImageDraw, img: Image.Image, x: int, y: int) -> None:
    page.paste(img, (x, y))
    draw.rectangle((x - 1, y - 1, x + img.width, y + img.height), outline=_FRAME)


def _mask_rgb(mask: np.ndarray) -> np.ndarray:
    out = np.full(mask.shape + (3,), 255, dtype=np.uint8)
    out[mask] = _WAX
    return out


def _swatches(draw: ImageDraw.ImageDraw, sep: DyeSeparation, x: int, y: int, width: int) -> None:
    font, small = _font(15), _font(12)
    draw.text((x, y), "Dyes, light to dark", fill=_INK, font=_font(16, bold=True))
    y += 28
    size = 30
    light, cover = lightness(sep.colors), sep.coverage()
    for i, colour in enumerate(sep.colors):
        draw.rectangle((x, y, x + size, y + size), fill=tuple(int(v) for v in colour), outline=_FRAME)
        draw.text((x + size + 8, y - 1), f"{i}  {rgb_to_hex(colour)}", fill=_INK, font=font)
        draw.text(
            (x + size + 8, y + 17), f"L* {light[i]:.0f}   {100 * cover[i]:.1f}% of cloth",
            fill=_GREY, font=small,
        )
        y += size + 12


def dye_sheet(
    sep: DyeSeparation, title: str | None = None, dpi: int = 100, page_inches=A4_INCHES
) -> np.ndarray:
    """Render the dye sheet of a separation as one page.

    Args:
        sep: the separation (its ``source`` is shown as the original when present).
        title: heading; default "Dye sheet: K colours (palette NAME | k-means)".
        dpi: page resolution; 100 gives an 827 x 1169 px A4 page.
        page_inches: page (width, height) in inches, portrait.

    Returns:
        ``(H, W, 3)`` uint8 page, white background.

    >>> from batikstudio.imaging.dyes import reduce_palette
    >>> img = np.zeros((8, 8, 3), np.uint8); img[:4] = 240
    >>> dye_sheet(reduce_palette(img, n_colors=2)).shape
    (1169, 827, 3)
    """
    width, height = round(page_inches[0] * dpi), round(page_inches[1] * dpi)
    scale = dpi / 100.0
    margin, gap = round(36 * scale), round(16 * scale)
    page = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(page)
    kind = f"palette {sep.palette_name}" if sep.palette_name else "k-means"
    heading = title or f"Dye sheet: {sep.n_colors} colours ({kind})"
    draw.text((margin, margin), heading, fill=_INK, font=_font(round(24 * scale), bold=True))
    y = margin + round(44 * scale)

    # top row: original, recoloured, swatches
    big = min(round(240 * scale), (width - 2 * margin - 2 * gap - round(200 * scale)) // 2)
    label = _font(round(14 * scale))
    x = margin
    panels = ([("Original", sep.source)] if sep.source is not None else []) + [
        ("Recoloured", sep.recoloured)
    ]
    for name, image in panels:
        draw.text((x, y), name, fill=_GREY, font=label)
        _paste(page, draw, _thumb(image, big), x, y + round(20 * scale))
        x += big + gap
    _swatches(draw, sep, x + gap, y, width - margin - x - gap)
    y += max(big + round(20 * scale), 40 + sep.n_colors * 42) + round(28 * scale)

    foot_h = round(34 * scale)
    _stages(page, draw, sep, margin, y, width - 2 * margin, height - margin - y - foot_h, scale)
    foot = _font(round(11 * scale))
    for i, line in enumerate(_FOOTNOTE):
        draw.text((margin, height - margin - foot_h + round((8 + 14 * i) * scale)), line,
                  fill=_GREY, font=foot)
    return np.asarray(page, dtype=np.uint8).copy()


def _stages(
    page: Image.Image, draw: ImageDraw.ImageDraw, sep: DyeSeparation,
    x0: int, y0: int, width: int, height: int, scale: float,
) -> None:
    """Draw the stage panels (two per row) into the box at (x0, y0) of the given size."""
    head = _font(round(16 * scale), bold=True)
    draw.text((x0, y0), "Stages: wax (dark) goes on before each bath, lightest dye first",
              fill=_INK, font=head)
    y0 += round(30 * scale)
    height -= round(30 * scale)
    cols, gap, label_h = 2, round(16 * scale), round(40 * scale)
    rows = math.ceil(sep.n_colors / cols)
    cell_w = (width - gap * (cols - 1)) // cols
    thumb = max(8, min((cell_w - gap) // 2, height // rows - label_h - gap))
    font, small = _font(round(14 * scale)), _font(round(12 * scale))
    masks = sep.wax_masks()
    for k in range(sep.n_colors):
        x = x0 + (k % cols) * (cell_w + gap)
        y = y0 + (k // cols) * (thumb + label_h + gap)
        colour = tuple(int(v) for v in sep.colors[k])
        draw.rectangle((x, y + 2, x + 14, y + 16), fill=colour, outline=_FRAME)
        draw.text((x + 20, y), f"Stage {k}: dye {rgb_to_hex(colour)}", fill=_INK, font=font)
        wax_note = "no wax" if k == 0 else (
            "wax on colour 0" if k == 1 else f"wax on colours 0-{k - 1}"
        )
        draw.text((x + 20, y + round(18 * scale)), f"{wax_note}  |  cloth after bath",
                  fill=_GREY, font=small)
        ty = y + label_h
        _paste(page, draw, _thumb(_mask_rgb(masks[k]), thumb), x, ty)
        _paste(page, draw, _thumb(sep.cloth_after(k), thumb), x + thumb + gap, ty)
