"""Provenance embedded in exported images, so any print can be regenerated.

Provenance is a JSON-serialisable dict (model sha256, seed, psi, class, mixing, directions,
noise mode, filters, repeat...). In PNG files it is stored as an ``iTXt`` chunk named
``batikstudio`` (the whole JSON) plus a few readable ``tEXt`` chunks (``Software``,
``Source``); in TIFF files as JSON in the ImageDescription tag (270) and Software (305).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from PIL import Image, PngImagePlugin, UnidentifiedImageError

from batikstudio import __version__
from batikstudio.errors import ImageError
from batikstudio.io.atomic import atomic_path

PROVENANCE_KEY = "batikstudio"
SOFTWARE = f"Batik Studio {__version__}"


def to_pil(image: np.ndarray) -> Image.Image:
    """Convert an HWC (or HW) uint8 array with 1, 3 or 4 channels to a PIL image.

    Raises:
        ImageError: on another dtype or shape.
    """
    if image.dtype != np.uint8:
        raise ImageError(f"expected a uint8 image, got dtype {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        return Image.fromarray(image, mode="L")
    if image.ndim == 3 and image.shape[2] in (3, 4):
        return Image.fromarray(image, mode="RGB" if image.shape[2] == 3 else "RGBA")
    raise ImageError(f"expected an HxW or HxWxC image with C in 1, 3, 4; got shape {image.shape}")


def _jsonable(provenance: Mapping[str, Any]) -> str:
    return json.dumps(provenance, sort_keys=True, separators=(",", ":"), default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"provenance value of type {type(value).__name__} is not JSON-serialisable")


def save_image(
    path: str | os.PathLike[str],
    image: np.ndarray | Image.Image,
    provenance: Mapping[str, Any] | None = None,
    dpi: float | None = None,
) -> Path:
    """Write a PNG or TIFF atomically, with provenance and DPI embedded.

    Args:
        path: target file; the suffix (``.png``, ``.tif``, ``.tiff``) picks the format.
        image: HWC uint8 array (1, 3 or 4 channels) or a PIL image.
        provenance: JSON-serialisable dict describing how the image was made.
        dpi: dots per inch written into the file (pHYs chunk / resolution tags).

    Raises:
        ExportError: if the file cannot be written (folder missing, disk full).
        ImageError: if the image has an unsupported shape or dtype, or the suffix is unknown.
    """
    path = Path(path)
    pil = image if isinstance(image, Image.Image) else to_pil(image)
    suffix = path.suffix.lower()
    kwargs: dict[str, Any] = {}
    if dpi is not None:
        kwargs["dpi"] = (float(dpi), float(dpi))
    if suffix == ".png":
        info = PngImagePlugin.PngInfo()
        info.add_text("Software", SOFTWARE)
        if provenance:
            info.add_itxt(PROVENANCE_KEY, _jsonable(provenance), zip=True)
            if "model_sha256" in provenance:
                info.add_text("Source", f"model sha256 {provenance['model_sha256']}")
        kwargs["pnginfo"] = info
        fmt = "PNG"
    elif suffix in (".tif", ".tiff"):
        tags = {305: SOFTWARE}
        if provenance:
            tags[270] = _jsonable(provenance)
        kwargs["tiffinfo"] = tags
        kwargs["compression"] = "tiff_lzw"
        fmt = "TIFF"
    else:
        raise ImageError(f"unsupported image format {suffix!r} for {path.name}: use .png or .tif")
    with atomic_path(path) as tmp:
        pil.save(tmp, format=fmt, **kwargs)
    return path


def read_provenance(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Read the provenance dict from a PNG or TIFF written by :func:`save_image`.

    Returns:
        The dict, or ``None`` when the image carries no Batik Studio provenance.

    Raises:
        ImageError: if the file cannot be opened as an image or its provenance is corrupt.
    """
    path = Path(path)
    try:
        with Image.open(path) as img:
            text = None
            if img.format == "PNG":
                text = img.text.get(PROVENANCE_KEY) if hasattr(img, "text") else None
            elif img.format == "TIFF":
                desc = img.tag_v2.get(270)
                if isinstance(desc, str) and desc.startswith("{"):
                    text = desc
    except FileNotFoundError as exc:
        raise ImageError(f"{path}: no such file") from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageError(f"{path}: not a readable image ({exc})") from exc
    if text is None:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImageError(f"{path}: provenance metadata is corrupt ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise ImageError(f"{path}: provenance metadata is not a JSON object")
    return data


def read_dpi(path: str | os.PathLike[str]) -> tuple[float, float] | None:
    """Return the (x, y) DPI stored in an image file, or ``None``."""
    with Image.open(path) as img:
        dpi = img.info.get("dpi")
    return (float(dpi[0]), float(dpi[1])) if dpi else None
