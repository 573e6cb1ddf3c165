"""Calligraphy training data: the GB2312 hanzi rendered from Kai-style fonts.

Each font is one style (one class). A glyph is drawn large, cropped to its ink bounding box,
scaled to fit inside the margin and centred: black ink on white, ``(res, res)`` uint8.
Characters the font lacks (it draws its ``.notdef`` box, or nothing) are skipped and counted.
Fonts are runtime inputs chosen by the user (e.g. Debian's fonts-arphic-ukai,
fonts-arphic-gkai00mp, fonts-lxgw-wenkai, fonts-cns11643-kai); nothing is bundled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from batikstudio.errors import DatasetError
from batikstudio.jobs import JobContext
from batikstudio.motifs.dataset import DatasetWriter

log = logging.getLogger(__name__)

GB2312_COUNT = 6763
_PROBE_MISSING = ("\U0010fffd", "\uffff")  # code points no font maps: they show .notdef


def gb2312_chars() -> list[str]:
    """The 6,763 hanzi of GB2312 levels 1 and 2, in code order.

    Decodes every two-byte code 0xB0A1..0xF7FE (rows 16-87, cells 1-94) with the ``gb2312``
    codec and skips the unassigned ones.

    >>> chars = gb2312_chars(); len(chars), chars[0]
    (6763, '啊')
    """
    out = []
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                out.append(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return out


def parse_font_arg(text: str) -> tuple[str, int]:
    """``"fonts/ukai.ttc#2"`` -> ``("fonts/ukai.ttc", 2)``; no ``#`` means face 0."""
    path, sep, idx = text.rpartition("#")
    if sep and idx.isdigit():
        return path, int(idx)
    return text, 0


@dataclass
class GlyphRenderer:
    """Renders single characters of one font face as centred ``(res, res)`` uint8 glyphs.

    Args:
        path: a .ttf / .otf / .ttc file.
        index: face index inside a .ttc collection.
        res: output size in pixels.
        margin: blank border as a fraction of ``res`` on every side.

    Raises:
        DatasetError: the font cannot be read.
    """

    path: str
    index: int = 0
    res: int = 64
    margin: float = 0.08
    font: ImageFont.FreeTypeFont = field(init=False, repr=False)
    _notdef: list[bytes] = field(init=False, repr=False, default_factory=list)

    def __post_init__(self) -> None:
        self.draw_size = self.res * 3
        try:
            self.font = ImageFont.truetype(str(self.path), self.draw_size, index=self.index)
        except OSError as exc:
            raise DatasetError(f"cannot read font {self.path} (face {self.index}): {exc}") from exc
        self._notdef = [b for b in (self._raw(ch)[1] for ch in _PROBE_MISSING) if b]

    @property
    def name(self) -> str:
        """``"AR PL UKai CN"`` (family) or ``"LXGW WenKai Bold"`` when the style is not plain."""
        family, style = self.font.getname()
        plain = style.lower() in ("regular", "book", "normal", "medium", "")
        return family if plain else f"{family} {style}"

    def _raw(self, ch: str) -> tuple[np.ndarray, bytes]:
        """The ink of ``ch`` cropped to its bounding box (0 paper .. 255 ink) and its bytes."""
        size = self.draw_size * 2
        img = Image.new("L", (size, size), 0)
        ImageDraw.Draw(img).text((size // 4, size // 4), ch, font=self.font, fill=255)
        arr = np.asarray(img)
        ys, xs = np.nonzero(arr > 32)
        if len(ys) == 0:
            return arr[:0, :0], b""
        crop = arr[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        # the shape as text: a byte string of the shape breaks once a side reaches 256 px
        return crop, crop.tobytes() + f"{crop.shape[0]}x{crop.shape[1]}".encode()

    def render(self, ch: str) -> np.ndarray | None:
        """``(res, res)`` uint8, black (0) ink on white (255); ``None`` if the font lacks ``ch``."""
        crop, key = self._raw(ch)
        if not key or key in self._notdef:
            return None
        box = self.res * (1.0 - 2.0 * self.margin)
        h, w = crop.shape
        scale = box / max(h, w)
        nh, nw = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
        small = cv2.resize(crop, (nw, nh), interpolation=cv2.INTER_AREA)
        out = np.zeros((self.res, self.res), np.uint8)
        y0, x0 = (self.res - nh) // 2, (self.res - nw) // 2
        out[y0 : y0 + nh, x0 : x0 + nw] = small
        return 255 - out


@dataclass(frozen=True)
class CalligraphyRequest:
    """What to render.

    Attributes:
        fonts: font files, optionally ``path#face`` for a .ttc; font ``k`` is class ``k``.
        dst: output folder, or a path ending in ``.zip``.
        res: glyph size in pixels.
        limit: only the first ``limit`` characters (default: all).
        chars: a custom character list (default: the GB2312 hanzi).
        margin: blank border fraction.
    """

    fonts: tuple[str, ...]
    dst: str
    res: int = 64
    limit: int | None = None
    chars: str | None = None
    margin: float = 0.08


@dataclass(frozen=True)
class CalligraphyResult:
    path: str
    count: int
    classes: tuple[str, ...]
    missing: tuple[int, ...]  # characters skipped per font


def _class_names(renderers: list[GlyphRenderer]) -> list[str]:
    """Font family names; a name used twice gets its file name, then its position added."""
    names = [r.name for r in renderers]
    names = [f"{n} ({Path(r.path).name})" if names.count(n) > 1 else n
             for n, r in zip(names, renderers)]
    return [f"{n} [{k}]" if names.count(n) > 1 else n for k, n in enumerate(names)]


def make_calligraphy_dataset(request: CalligraphyRequest, ctx: JobContext) -> CalligraphyResult:
    """Render every character in every font into a labelled data set (class = font index).

    Images are ordered character by character, fonts interleaved. Missing glyphs are skipped
    and counted per font (reported in the status and the result).

    Raises:
        DatasetError: no fonts, an unreadable font, or no glyph rendered at all.
        Cancelled: the context was cancelled (nothing is left at ``dst``).
    """
    if not request.fonts:
        raise DatasetError("give at least one font file")
    if not 8 <= request.res <= 1024:
        raise ValueError(f"res must be 8..1024, got {request.res}")
    renderers = [GlyphRenderer(p, i, request.res, request.margin)
                 for p, i in map(parse_font_arg, request.fonts)]
    chars = list(request.chars) if request.chars else gb2312_chars()
    if request.limit is not None:
        chars = chars[: max(0, request.limit)]
    classes = _class_names(renderers)
    missing = [0] * len(renderers)
    ctx.status(f"rendering {len(chars)} characters x {len(renderers)} fonts at {request.res} px")
    with DatasetWriter(request.dst) as writer:
        for j, ch in enumerate(chars):
            ctx.check()
            for k, r in enumerate(renderers):
                glyph = r.render(ch)
                if glyph is None:
                    missing[k] += 1
                    continue
                writer.add(glyph, k, ch)
            ctx.progress(j + 1, len(chars))
        if not writer.labels:
            raise DatasetError("no character could be rendered with the given fonts")
        writer.finish(classes)
    for name, miss in zip(classes, missing):
        if miss:
            ctx.status(f"{name}: {miss} of {len(chars)} characters missing, skipped")
            log.info("%s lacks %d of %d characters", name, miss, len(chars))
    return CalligraphyResult(request.dst, len(writer.labels), tuple(classes), tuple(missing))
