"""Upscale motifs to print resolution: crisp vector re-drawing or a good resampler.

A 256 px motif is only 4.3 cm at 150 ppi. Flat-colour motifs (after palette reduction)
upscale best as vectors (:mod:`batikstudio.imaging.vector`): outlines stay smooth at any
size. Photographic motifs use Lanczos resampling, optionally followed by an unsharp mask.
"""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image, ImageFilter

from batikstudio.errors import ImageError
from batikstudio.io.provenance import to_pil

log = logging.getLogger(__name__)

METHODS = ("lanczos", "vector", "nearest", "bicubic")


def target_size(shape: tuple[int, ...], factor: float | None, size: tuple[int, int] | None) -> tuple[int, int]:
    """(width, height) from a scale factor or an explicit size (exactly one of them).

    >>> target_size((64, 32, 3), 2.5, None)
    (80, 160)
    """
    if (factor is None) == (size is None):
        raise ValueError("give exactly one of factor or size")
    if size is not None:
        w, h = int(size[0]), int(size[1])
    else:
        if not factor > 0:
            raise ValueError(f"scale factor must be positive, got {factor}")
        w, h = round(shape[1] * factor), round(shape[0] * factor)
    if w < 1 or h < 1:
        raise ValueError(f"output size must be at least 1 x 1, got {w} x {h}")
    return w, h


def upscale(
    img: np.ndarray,
    factor: float | None = None,
    size: tuple[int, int] | None = None,
    method: str = "lanczos",
    labels: np.ndarray | None = None,
    colors: np.ndarray | None = None,
    sharpen: float = 0.0,
    wrap: bool = False,
) -> np.ndarray:
    """Resize a motif for print.

    Args:
        img: HxWxC uint8 (C in 1, 3, 4) or HxW uint8 motif; for ``'vector'`` only its size
            is used.
        factor: scale factor (> 0) ... or
        size: explicit (width, height) in pixels.
        method: ``'lanczos'`` (photographic motifs), ``'vector'`` (flat-colour motifs: trace
            ``labels``/``colors`` and render the outlines at the new size), ``'nearest'``
            (pixel art), ``'bicubic'``.
        labels: HxW int label map for ``'vector'`` (same H, W as ``img``).
        colors: Kx3 uint8 dye colours for ``'vector'``.
        sharpen: unsharp-mask strength for raster methods (0 = off, 0.5 = moderate);
            radius scales with the factor so it sharpens the upscaled edges, not noise.
        wrap: treat the image as one tile of a repeat (seamless tiles stay seamless): ``'vector'``
            traces it periodically, the raster methods filter across the wrap edges instead
            of clamping there (which would draw a seam line at every tile edge of a print).

    Returns:
        ``size[1] x size[0] x C`` uint8 (3 channels for ``'vector'``).

    Raises:
        ImageError: on a bad image or missing dye layers for ``'vector'``.
        ValueError: on a bad method, factor or size.

    >>> upscale(np.zeros((16, 16, 3), np.uint8), factor=4).shape
    (64, 64, 3)
    """
    if method not in METHODS:
        raise ValueError(f"unknown upscale method {method!r}: choose from {', '.join(METHODS)}")
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim not in (2, 3):
        raise ImageError(f"expected an HxW(xC) uint8 image, got {getattr(img, 'dtype', type(img))}")
    w, h = target_size(img.shape, factor, size)
    if method == "vector":
        return _vector(img, (w, h), labels, colors, wrap)
    resample = {"lanczos": Image.LANCZOS, "nearest": Image.NEAREST, "bicubic": Image.BICUBIC}[method]
    H, W = img.shape[:2]
    if wrap:
        # the filters reach 3 source pixels (more when shrinking): pad with the tile's other
        # side and resample only the tile itself (PIL's box keeps the padding as support)
        m = int(np.ceil(3 * max(1.0, W / w, H / h))) + 1
        pil = to_pil(_pad_wrap(img, m)).resize((w, h), resample=resample, box=(m, m, m + W, m + H))
    else:
        pil = to_pil(img).resize((w, h), resample=resample)
    if sharpen > 0 and method != "nearest":
        radius = max(0.8, 0.6 * max(w / W, h / H))
        unsharp = ImageFilter.UnsharpMask(radius=radius, percent=int(sharpen * 150), threshold=2)
        if wrap:
            m = int(np.ceil(3 * radius)) + 1
            pil = to_pil(_pad_wrap(np.asarray(pil), m)).filter(unsharp).crop((m, m, m + w, m + h))
        else:
            pil = pil.filter(unsharp)
    out = np.asarray(pil)
    if img.ndim == 3 and out.ndim == 2:
        out = out[:, :, None]
    return np.ascontiguousarray(out)


def _pad_wrap(img: np.ndarray, m: int) -> np.ndarray:
    """The image with ``m`` rows and columns of its opposite side added on each side."""
    return np.pad(img, ((m, m), (m, m)) + ((0, 0),) * (img.ndim - 2), mode="wrap")


def _vector(
    img: np.ndarray, size: tuple[int, int], labels: np.ndarray | None,
    colors: np.ndarray | None, wrap: bool,
) -> np.ndarray:
    from batikstudio.imaging.vector import render_layers, trace_layers

    if labels is None or colors is None:
        raise ImageError("vector upscaling needs dye layers: pass labels and colors "
                         "(reduce the palette first)")
    if tuple(labels.shape) != tuple(img.shape[:2]):
        raise ImageError(f"labels {labels.shape} do not match the image {img.shape[:2]}")
    layers = trace_layers(labels, colors, wrap=wrap)
    return render_layers(layers, (labels.shape[1], labels.shape[0]), size)
