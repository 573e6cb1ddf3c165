"""Robust reading of untrusted image files, and fitting them into a square.

:func:`decode_image` turns the bytes of one file (a camera JPEG, a scanned TIFF, a palette
PNG with transparency, a 16-bit PNG, ...) into an 8-bit RGB or grayscale array, or raises
:class:`ImageRejected` with a :class:`SkipReason` and a one-line detail. It never changes
PIL's global settings: ``ImageFile.LOAD_TRUNCATED_IMAGES`` stays off so truncated files are
detected, and the pixel limit is checked per call (``max_pixels``) instead of by editing
``Image.MAX_IMAGE_PIXELS``. Only a fixed list of plain raster formats is opened, so no
file can make PIL start an external program (EPS would start Ghostscript).

:func:`fit_to_square` resizes (Lanczos) and crops or pads an image to ``res x res``.
"""

from __future__ import annotations

import enum
import io
import logging
import warnings
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from batikstudio.errors import ImageError

log = logging.getLogger(__name__)

# Plain raster formats only; PIL identifies content, not the extension. (MPO, the JPEG
# variant of some cameras, is opened by the JPEG plugin.) Formats this Pillow build lacks
# (WEBP without libwebp) drop out.
Image.init()
ALLOWED_FORMATS: tuple[str, ...] = tuple(
    f for f in ("PNG", "JPEG", "BMP", "DIB", "GIF", "TIFF", "WEBP", "PPM", "TGA", "PCX")
    if f in Image.OPEN
)
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    ext for ext, fmt in Image.registered_extensions().items()
    if fmt in ALLOWED_FORMATS or fmt == "MPO"
)
# PIL's own default limit: about a quarter GiB of RGBA pixels.
DEFAULT_MAX_PIXELS = 89_478_485
WHITE = 255
CROP_MODES: tuple[str, ...] = ("center", "random", "none")


class SkipReason(str, enum.Enum):
    """Why a source file is not in a data set (the value is the stable code in reports)."""

    NOT_IMAGE = "not_image"
    CORRUPT = "corrupt"
    TRUNCATED = "truncated"
    TOO_SMALL = "too_small"
    TOO_LARGE = "too_large"
    UNSUPPORTED = "unsupported"
    UNREADABLE = "unreadable"
    UNSAFE_NAME = "unsafe_name"
    DUPLICATE = "duplicate"
    UNLABELLED = "unlabelled"

    @property
    def label(self) -> str:
        """A few plain words for summaries ("too large")."""
        return "not an image" if self is SkipReason.NOT_IMAGE else self.value.replace("_", " ")


class ImageRejected(ImageError):
    """A file cannot be used as a training image; ``reason`` says why, the message says more."""

    def __init__(self, reason: SkipReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class DecodedImage:
    """One decoded image.

    Attributes:
        pixels: HWC uint8 array in [0, 255], C = 3 (RGB) or 1 (grayscale).
        notes: conversions applied, in plain words ("CMYK converted to RGB", ...).
        original_size: (width, height) as stored in the file, before EXIF rotation.
        format: the PIL format name ("PNG", "JPEG", ...).
    """

    pixels: np.ndarray
    notes: tuple[str, ...]
    original_size: tuple[int, int]
    format: str


def is_image_name(name: str) -> bool:
    """True if ``name`` has the extension of a format :func:`decode_image` accepts."""
    dot = name.rfind(".")
    return dot >= 0 and name[dot:].lower() in IMAGE_EXTENSIONS


def decode_image(
    data: bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_size: int = 1,
    grayscale: bool = False,
    draft_side: int | None = None,
) -> DecodedImage:
    """Decode untrusted image bytes to an 8-bit RGB (or grayscale) HWC array.

    Applies the EXIF orientation; converts CMYK, YCbCr and 16-bit images; composites palette
    transparency, LA and RGBA on white. ``draft_side`` lets JPEGs decode at a reduced scale
    whose shorter side is still >= ``draft_side`` (much faster for camera photos).

    Args:
        data: the file's bytes.
        max_pixels: refuse images with more pixels than this (decompression bombs).
        min_size: refuse images whose shorter side is below this, in pixels.
        grayscale: return one channel (L) instead of RGB.
        draft_side: see above; ``None`` decodes at full size.

    Returns:
        :class:`DecodedImage` with ``pixels`` HWC uint8, C = 1 if ``grayscale`` else 3.

    Raises:
        ImageRejected: with reason CORRUPT, TRUNCATED, TOO_SMALL, TOO_LARGE or UNSUPPORTED.

    >>> import io
    >>> buf = io.BytesIO(); Image.new("RGBA", (4, 2), (0, 0, 0, 0)).save(buf, "PNG")
    >>> img = decode_image(buf.getvalue())
    >>> img.pixels.shape, int(img.pixels.min()), img.notes
    ((2, 4, 3), 255, ('transparency composited on white',))
    """
    im = _open_checked(data, max_pixels, min_size)
    original_size = im.size
    fmt = im.format or "?"
    notes: list[str] = []
    if getattr(im, "n_frames", 1) > 1:
        notes.append("first frame of an animation or multi-page file")
    if draft_side is not None and fmt in ("JPEG", "MPO"):
        scale = draft_side / min(im.size)
        im.draft(None, (max(1, int(np.ceil(im.size[0] * scale))),
                        max(1, int(np.ceil(im.size[1] * scale)))))
    _load_checked(im)
    im = _apply_exif(im, notes)
    im = _to_8bit(im, grayscale, notes)
    pixels = np.asarray(im, dtype=np.uint8)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    return DecodedImage(np.ascontiguousarray(pixels), tuple(notes), original_size, fmt)


def _open_checked(data: bytes, max_pixels: int, min_size: int) -> Image.Image:
    """Open (header only) and check the size before any pixel is decoded."""
    if not data:
        raise ImageRejected(SkipReason.CORRUPT, "empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(SkipReason.TOO_LARGE, f"decompression bomb guard: {exc}") from exc
    except Image.UnidentifiedImageError as exc:
        raise ImageRejected(SkipReason.CORRUPT, "not a readable image format") from exc
    except Exception as exc:  # PIL plugins raise many types on malformed headers
        raise ImageRejected(SkipReason.CORRUPT, f"bad image header: {exc}") from exc
    width, height = im.size
    if width * height > max_pixels:
        raise ImageRejected(
            SkipReason.TOO_LARGE,
            f"{width}x{height} is over the {max_pixels:,} pixel limit (decompression bomb guard)",
        )
    if min(width, height) < min_size:
        raise ImageRejected(
            SkipReason.TOO_SMALL, f"{width}x{height} is smaller than {min_size} px"
        )
    return im


def _load_checked(im: Image.Image) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(SkipReason.TOO_LARGE, f"decompression bomb guard: {exc}") from exc
    except (OSError, EOFError) as exc:
        if isinstance(exc, EOFError) or "truncat" in str(exc).lower():
            raise ImageRejected(SkipReason.TRUNCATED, f"file is truncated: {exc}") from exc
        raise ImageRejected(SkipReason.CORRUPT, f"cannot decode: {exc}") from exc
    except Exception as exc:  # PIL decoders raise many types on malformed data
        raise ImageRejected(SkipReason.CORRUPT, f"cannot decode: {exc}") from exc


def _apply_exif(im: Image.Image, notes: list[str]) -> Image.Image:
    try:
        orientation = im.getexif().get(0x0112, 1)
        if orientation in (1, None):
            return im
        out = ImageOps.exif_transpose(im)
    except Exception as exc:  # broken EXIF blocks must not lose an otherwise good image
        log.debug("ignoring unreadable EXIF: %s", exc)
        notes.append("unreadable EXIF orientation ignored")
        return im
    notes.append(f"EXIF orientation {orientation} applied")
    return out


def _to_8bit(im: Image.Image, grayscale: bool, notes: list[str]) -> Image.Image:
    """Any PIL mode -> 'RGB' or 'L', 8 bits, alpha composited on white."""
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit gray (PIL may hold it as 32-bit 'I'): 0..65535 maps to 0..255, beyond clips
        arr = np.asarray(im).astype(np.float64)
        arr = np.clip(np.round(arr / 257.0), 0, 255).astype(np.uint8)
        notes.append("16-bit gray scaled to 8 bit")
        im = Image.fromarray(arr, "L")
    elif mode == "F":
        raise ImageRejected(SkipReason.UNSUPPORTED, "32-bit float pixels are not supported")
    elif (mode == "P" and "transparency" in im.info) or mode in ("PA", "LA", "La", "RGBA", "RGBa"):
        im = _composite_on_white(im)
        notes.append("transparency composited on white")
    elif mode == "CMYK":
        im = im.convert("RGB")
        notes.append("CMYK converted to RGB")
    elif mode not in ("RGB", "L", "1", "P"):
        im = im.convert("RGB")
        notes.append(f"{mode} converted to RGB")
    if grayscale:
        return im if im.mode == "L" else im.convert("L")
    return im if im.mode == "RGB" else im.convert("RGB")


def _composite_on_white(im: Image.Image) -> Image.Image:
    rgba = im.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (WHITE, WHITE, WHITE, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def fit_to_square(
    pixels: np.ndarray, res: int, crop: str = "center", seed: int = 0, name: str = ""
) -> np.ndarray:
    """Resize (Lanczos) and crop or pad an HWC uint8 image to ``res x res``.

    Modes:
        ``center``: scale the shorter side to ``res``, keep the middle.
        ``random``: scale the shorter side to ``res``, keep a window chosen by a generator
        seeded with ``(seed, crc32(name))``: the same file always gets the same crop.
        ``none``: nothing is cut off: scale the longer side to ``res`` and pad the rest with
        white (centred), so motifs are neither cropped nor squashed.

    Args:
        pixels: HWC uint8, C = 1 or 3.
        res: output side in pixels (> 0).
        crop: one of :data:`CROP_MODES`.
        seed, name: select the window for ``random``.

    Returns:
        HWC uint8 array of shape (res, res, C).

    >>> fit_to_square(np.zeros((20, 40, 3), np.uint8), 8).shape
    (8, 8, 3)
    """
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 3) or pixels.dtype != np.uint8:
        raise ImageError(f"expected HWC uint8 with 1 or 3 channels, got {pixels.dtype} "
                         f"{tuple(pixels.shape)}")
    if crop not in CROP_MODES:
        raise ImageError(f"crop must be one of {', '.join(CROP_MODES)}, not {crop!r}")
    h, w, c = pixels.shape
    scale = res / (max(h, w) if crop == "none" else min(h, w))
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    if crop != "none":
        new_w, new_h = max(new_w, res), max(new_h, res)
    im = Image.fromarray(pixels[:, :, 0] if c == 1 else pixels)
    if (new_w, new_h) != (w, h):
        im = im.resize((new_w, new_h), Image.Resampling.LANCZOS)
    out = np.asarray(im).reshape(new_h, new_w, c)
    if crop == "none":
        canvas = np.full((res, res, c), WHITE, np.uint8)
        top, left = (res - new_h) // 2, (res - new_w) // 2
        canvas[top:top + new_h, left:left + new_w] = out[:res, :res]
        return canvas
    if crop == "random":
        rng = np.random.default_rng([seed & 0xFFFFFFFF, zlib.crc32(name.encode("utf-8"))])
        top = int(rng.integers(0, new_h - res + 1))
        left = int(rng.integers(0, new_w - res + 1))
    else:
        top, left = (new_h - res) // 2, (new_w - res) // 2
    return np.ascontiguousarray(out[top:top + res, left:left + res])
