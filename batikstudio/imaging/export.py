"""Print export: a motif laid out as a repeat at a physical size, with DPI and provenance.

:func:`export_print` is a job (``export_print(tile, request, ctx)``; bind ``tile`` with
``functools.partial`` to get the ``(request, ctx)`` form): it optionally makes the motif
seamless, upscales it to the repeat size at the print DPI (Lanczos or crisp vector
re-drawing of dye layers), lays out the repeat, and writes a PNG or TIFF atomically with
the DPI and provenance embedded. Over-limit sizes are refused before anything is allocated.
The seamless step knows the layout (a half-drop tile must continue its left edge one drop
lower); the job reports the tile's seam score for the layout as a :class:`SeamCheck`
partial result, logs it and stores it in the provenance.

:func:`export_vector` writes the same layout as SVG and/or PDF, one layer per dye.

The repeat (tile) size is physical: ``repeat`` in the print's unit (default 20 cm, one
batik cap, at most the print width); its height follows the motif's aspect ratio. With
``fit_width`` it is rounded so a whole number of repeats spans the width (wallpaper).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from batikstudio.errors import ExportError, ImageError
from batikstudio.imaging.printsize import (
    DEFAULT_MAX_PIXELS, UNIT_INCHES, PrintSpec, check_pixel_limit, fit_repeats, fit_repeats_px,
    to_pixels,
)
from batikstudio.imaging.repeat import CREAM, TileLayout, iter_paste, tile_placements
from batikstudio.imaging.seamless import make_seamless, seam_score
from batikstudio.imaging.upscale import upscale
from batikstudio.imaging.vector import VectorPage, layers_to_pdf, layers_to_svg, trace_layers
from batikstudio.io.atomic import atomic_write_bytes, atomic_write_text
from batikstudio.io.provenance import save_image
from batikstudio.jobs import InlineContext, JobContext

log = logging.getLogger(__name__)

DEFAULT_REPEAT_CM = 20.0  # one batik cap
RASTER_SUFFIXES = {".png": "png", ".tif": "tiff", ".tiff": "tiff"}
VECTOR_SUFFIXES = (".svg", ".pdf")
#: a layout seam score above this is a plainly visible seam (the Print tab's verdict agrees)
SEAM_VISIBLE_ABOVE = 3.0


@dataclass(frozen=True)
class SeamCheck:
    """How visible the seam is where copies of the exported tile meet.

    Attributes:
        layout: the repeat layout.
        offset: drop / brick offset (used by half-drop / half-brick).
        score: :func:`~batikstudio.imaging.seamless.seam_score` of the tile (after the
            seamless step, if any) for ``layout``; None for a tile under 4 px a side.
        seamless: the seamless method that was applied, or None.
    """

    layout: TileLayout
    offset: float
    score: float | None
    seamless: str | None = None

    @property
    def visible(self) -> bool:
        """True when the seam is plainly visible (score over :data:`SEAM_VISIBLE_ABOVE`)."""
        return self.score is not None and self.score > SEAM_VISIBLE_ABOVE

    def describe(self) -> str:
        """One line, e.g. ``'seam score (half-drop 1/2): 4.20'``."""
        name = self.layout.value
        if self.layout in (TileLayout.HALF_DROP, TileLayout.HALF_BRICK):
            name += f" {_fraction(self.offset)}"
        score = "n/a (tile under 4 px)" if self.score is None else f"{self.score:.2f}"
        done = f" after --seamless {self.seamless}" if self.seamless else ""
        return f"seam score ({name}){done}: {score}"

    def warning(self) -> str | None:
        """A one-line warning when no seamless step was chosen and the seam is visible."""
        if self.seamless or not self.visible:
            return None
        return (f"warning: {self.describe()} means a visible seam in this layout; "
                "add --seamless blend|seam to repair it for the layout")


def _fraction(offset: float) -> str:
    for den in (2, 3, 4):
        num = round(offset * den)
        if abs(offset * den - num) < 1e-6:
            return f"{num}/{den}"
    return f"{offset:g}"


def check_seam(
    tile: np.ndarray, layout: TileLayout | str, offset: float, seamless: str | None = None
) -> SeamCheck:
    """The :class:`SeamCheck` of an HxW(xC) uint8 tile for ``layout`` (logged at INFO).

    >>> check_seam(np.zeros((8, 8), np.uint8), "half-drop", 0.5).describe()
    'seam score (half-drop 1/2): 1.00'
    """
    layout = TileLayout.parse(layout)
    score = seam_score(tile, layout, offset) if min(tile.shape[:2]) >= 4 else None
    check = SeamCheck(layout, float(offset), score, seamless)
    log.info("%s", check.describe())
    return check


@dataclass(frozen=True)
class PrintExportRequest:
    """What to export and how (made by the CLI or the GUI, read by the job).

    Args:
        output: target ``.png``, ``.tif`` or ``.tiff`` file (its folder must exist).
        spec: physical print size and DPI.
        layout: repeat layout.
        offset: drop / brick offset as a fraction of the tile (1/2 or 1/3).
        repeat: repeat width in ``spec.unit`` (None: 20 cm, at most the print width).
        fit_width: round the repeat so a whole number of repeats spans the print width.
        method: upscaling, ``'lanczos'``, ``'vector'``, ``'nearest'`` or ``'bicubic'``.
        seamless: ``'blend'`` or ``'seam'`` to make the motif seamless for ``layout`` and
            ``offset`` first (drop-aware for half-drop / half-brick; None: as is).
        n_colors: dyes for the palette reduction that ``'vector'`` needs when no dye layers
            are passed (None: 6, or the palette's size).
        palette: palette name or hex list for that reduction (instead of ``n_colors``).
        background: RGB ground for the CENTRE layout.
        sharpen: unsharp-mask strength after raster upscaling (0 = off).
        format: ``'png'`` or ``'tiff'``; None: from the suffix (they must agree).
        provenance: how the motif was made; export settings are added under ``"print"``.
        max_pixels: refuse prints with more pixels than this.
    """

    output: Path
    spec: PrintSpec
    layout: TileLayout = TileLayout.BLOCK
    offset: float = 0.5
    repeat: float | None = None
    fit_width: bool = False
    method: str = "lanczos"
    seamless: str | None = None
    n_colors: int | None = None
    palette: str | None = None
    background: tuple[int, int, int] = CREAM
    sharpen: float = 0.0
    format: str | None = None
    provenance: Mapping[str, Any] = field(default_factory=dict)
    max_pixels: int = DEFAULT_MAX_PIXELS


@dataclass(frozen=True)
class VectorExportRequest:
    """A vector export: the layout at the print's physical size, as SVG and/or PDF.

    Args:
        outputs: one or more ``.svg`` / ``.pdf`` paths.
        spec: physical page size (its DPI is not used).
        layout, offset, repeat, fit_width, background: as in :class:`PrintExportRequest`.
        provenance: stored as JSON in the SVG ``<metadata>`` / PDF ``/Subject``.
    """

    outputs: tuple[Path, ...]
    spec: PrintSpec
    layout: TileLayout = TileLayout.BLOCK
    offset: float = 0.5
    repeat: float | None = None
    fit_width: bool = False
    background: tuple[int, int, int] = CREAM
    provenance: Mapping[str, Any] = field(default_factory=dict)


def repeat_width(spec: PrintSpec, repeat: float | None, fit_width: bool) -> float:
    """The physical repeat width in ``spec.unit`` (see module docstring).

    >>> repeat_width(PrintSpec(24, 36, "in"), 7, fit_width=True)
    8.0
    """
    if repeat is None:
        repeat = min(spec.width, DEFAULT_REPEAT_CM / 2.54 / UNIT_INCHES[spec.unit])
    if not repeat > 0:
        raise ValueError(f"repeat size must be positive, got {repeat}")
    return fit_repeats(spec.width, repeat).repeat if fit_width else float(repeat)


def tile_pixel_size(
    tile_shape: tuple[int, ...], spec: PrintSpec, repeat: float | None, fit_width: bool
) -> tuple[int, int]:
    """(width, height) in pixels of one repeat at the print DPI, keeping the motif's aspect.

    With ``fit_width`` the pixel width divides the print's pixel width when possible.

    >>> tile_pixel_size((256, 256, 3), PrintSpec(20, 20, "cm", 300), None, False)
    (2362, 2362)
    """
    rw = repeat_width(spec, repeat, fit_width)
    tw = to_pixels(rw, spec.unit, spec.dpi)
    if fit_width:
        tw = fit_repeats_px(spec.pixel_size[0], tw).repeat
    th = max(1, int(round(tw * tile_shape[0] / tile_shape[1])))
    return int(tw), th


def _raster_format(request: PrintExportRequest) -> str:
    suffix = Path(request.output).suffix.lower()
    if suffix not in RASTER_SUFFIXES:
        raise ExportError(f"cannot export a print as {suffix or 'a file without suffix'}: "
                          "use .png, .tif or .tiff (or .svg / .pdf for vectors)")
    fmt = RASTER_SUFFIXES[suffix]
    wanted = {"png": "png", "tif": "tiff", "tiff": "tiff"}.get((request.format or fmt).lower())
    if wanted != fmt:
        raise ExportError(f"format {request.format!r} does not match the file name {Path(request.output).name}")
    return fmt


def _print_record(
    request: PrintExportRequest, size: tuple[int, int], tile_px: tuple[int, int], seam: SeamCheck
) -> dict:
    spec = request.spec
    return {
        "seam_score": None if seam.score is None else round(seam.score, 3),
        "layout": TileLayout.parse(request.layout).value, "offset": request.offset,
        "size": [spec.width, spec.height], "unit": spec.unit, "dpi": spec.dpi,
        "repeat": repeat_width(spec, request.repeat, request.fit_width),
        "pixels": list(size), "tile_pixels": list(tile_px), "method": request.method,
        "seamless": request.seamless,
    }


def export_print(
    tile: np.ndarray,
    request: PrintExportRequest,
    ctx: JobContext | None = None,
    labels: np.ndarray | None = None,
    colors: np.ndarray | None = None,
) -> Path:
    """Lay out ``tile`` as a repeat at the requested print size and write it (a job).

    After the optional seamless step the job reports a :class:`SeamCheck` of the tile for
    the layout with ``ctx.partial`` (the CLI prints it and warns on a visible seam).

    Args:
        tile: HxWx3 (or HxW / HxWx4) uint8 motif, at any resolution.
        request: see :class:`PrintExportRequest`.
        ctx: job context (progress 0..100, status, cancel); None runs silently.
        labels, colors: HxW int label map and Kx3 uint8 dye colours of ``tile`` for
            ``method='vector'`` (None: reduce the palette here).

    Returns:
        The written path.

    Raises:
        ExportError: over the pixel limit (before allocating), bad suffix, write failure.
        ImageError: bad tile.
        Cancelled: when ``ctx`` is cancelled (no file is left behind).

    >>> import tempfile, os
    >>> req = PrintExportRequest(Path(tempfile.mkdtemp()) / "p.png", PrintSpec(2, 1, "in", 10))
    >>> export_print(np.zeros((8, 8, 3), np.uint8), req).name
    'p.png'
    """
    ctx = ctx if ctx is not None else InlineContext()
    layout = TileLayout.parse(request.layout)
    if not isinstance(tile, np.ndarray) or tile.dtype != np.uint8 or tile.ndim not in (2, 3):
        raise ImageError(f"expected an HxW(xC) uint8 motif, got {getattr(tile, 'dtype', type(tile))}")
    _raster_format(request)
    out_w, out_h = check_pixel_limit(request.spec, request.max_pixels)
    tile_px = tile_pixel_size(tile.shape, request.spec, request.repeat, request.fit_width)
    if tile_px[0] * tile_px[1] > request.max_pixels:
        raise ExportError(f"one repeat would be {tile_px[0]} x {tile_px[1]} px, over the "
                          f"{request.max_pixels / 1e6:g} MP limit; choose a smaller repeat")
    ctx.status(f"{request.spec.describe()}: {out_w} x {out_h} px, repeat {tile_px[0]} x {tile_px[1]} px")
    ctx.progress(0, 100)
    big, seam = _prepare_tile(tile, request, layout, tile_px, labels, colors, ctx)
    ctx.check()
    ctx.progress(30, 100)
    ctx.status(f"laying out {layout.value} repeat")
    out = _render_layout(big, layout, (out_w, out_h), request, ctx)
    ctx.status(f"writing {Path(request.output).name}")
    provenance = dict(request.provenance)
    provenance["print"] = _print_record(request, (out_w, out_h), tile_px, seam)
    ctx.check()
    path = save_image(request.output, out, provenance, dpi=request.spec.dpi)
    ctx.progress(100, 100)
    ctx.status(f"wrote {path}")
    return Path(path)


def _prepare_tile(
    tile: np.ndarray, request: PrintExportRequest, layout: TileLayout, tile_px: tuple[int, int],
    labels: np.ndarray | None, colors: np.ndarray | None, ctx: JobContext,
) -> tuple[np.ndarray, SeamCheck]:
    if request.seamless:
        if labels is not None:
            raise ValueError("make the motif seamless before reducing its palette "
                             "(dye layers were given together with seamless)")
        ctx.status(f"making the motif seamless for a {layout.value} repeat ({request.seamless})")
        tile = make_seamless(tile, request.seamless, layout=layout, offset=request.offset)
        ctx.check()
    seam = check_seam(tile, layout, request.offset, request.seamless)
    ctx.status(seam.describe())
    ctx.partial(seam)
    if request.method == "vector" and labels is None:
        ctx.status("reducing the palette to dye layers")
        labels, colors = reduce_to_dyes(tile, request.n_colors, request.palette)
        ctx.check()
    ctx.status(f"upscaling {tile.shape[1]} x {tile.shape[0]} -> {tile_px[0]} x {tile_px[1]} "
               f"({request.method})")
    big = upscale(tile, size=tile_px, method=request.method, labels=labels, colors=colors,
                  sharpen=request.sharpen, wrap=layout is not TileLayout.CENTRE)
    return big, seam


def _render_layout(
    big: np.ndarray, layout: TileLayout, size: tuple[int, int], request: PrintExportRequest,
    ctx: JobContext,
) -> np.ndarray:
    out_w, out_h = size
    if big.ndim == 2:
        big = big[:, :, None]
    out = np.empty((out_h, out_w, big.shape[2]), dtype=np.uint8)
    if layout is TileLayout.CENTRE:
        bg = list(request.background)[: big.shape[2]] + [255] * max(0, big.shape[2] - 3)
        out[:] = np.asarray(bg[: big.shape[2]], dtype=np.uint8)
    placements = tile_placements((big.shape[1], big.shape[0]), layout, (out_w, out_h), request.offset)
    for done in iter_paste(big, placements, out):
        ctx.check()
        ctx.progress(30 + 65 * done / len(placements), 100)
    return out[:, :, 0] if out.shape[2] == 1 else out


def reduce_to_dyes(
    img: np.ndarray, n_colors: int | None = None, palette: str | Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Labels (HxW int) and colours (Kx3 uint8, light to dark) of a palette reduction.

    Uses :func:`batikstudio.imaging.dyes.reduce_palette` (imported here, lazily).
    """
    from batikstudio.imaging.dyes import reduce_palette

    if palette is None and n_colors is None:
        n_colors = 6
    sep = reduce_palette(img, n_colors=n_colors, palette=palette)
    return np.asarray(sep.labels), np.asarray(sep.colors, dtype=np.uint8)


def vector_page(
    tile_shape: tuple[int, ...], request: VectorExportRequest, metadata: str | None = None
) -> VectorPage:
    """Page geometry in the tile's source-pixel units for a vector export."""
    spec, layout = request.spec, TileLayout.parse(request.layout)
    th, tw = tile_shape[:2]
    per_unit = tw / repeat_width(spec, request.repeat, request.fit_width)  # source px per unit
    page = (spec.width * per_unit, spec.height * per_unit)
    placements = tuple((p.x, p.y, p.flip_h, p.flip_v)
                       for p in tile_placements((tw, th), layout, page, request.offset))
    return VectorPage(
        tile_size=(float(tw), float(th)), page_size=page, placements=placements,
        physical=(spec.width, spec.height, spec.unit),
        background=tuple(request.background) if layout is TileLayout.CENTRE else None,
        metadata=metadata,
    )


def export_vector(labels: np.ndarray, colors: np.ndarray, request: VectorExportRequest) -> list[Path]:
    """Trace the dye layers and write the layout as SVG and/or PDF at the physical size.

    Args:
        labels: HxW int label map (values 0..K-1) of the motif.
        colors: Kx3 uint8 dye colours.
        request: see :class:`VectorExportRequest`.

    Returns:
        The written paths, in the order of ``request.outputs``.

    Raises:
        ExportError: on a suffix other than .svg / .pdf, or a write failure.
        ImageError: on bad labels / colours.
    """
    outputs = [Path(p) for p in request.outputs]
    for path in outputs:
        if path.suffix.lower() not in VECTOR_SUFFIXES:
            raise ExportError(f"cannot write vectors to {path.name}: use .svg or .pdf")
    layout = TileLayout.parse(request.layout)
    layers = trace_layers(labels, colors, wrap=layout is not TileLayout.CENTRE)
    provenance = dict(request.provenance)
    provenance["print"] = {
        "layout": layout.value, "offset": request.offset, "size": [request.spec.width, request.spec.height],
        "unit": request.spec.unit, "repeat": repeat_width(request.spec, request.repeat, request.fit_width),
        "dyes": [layer.hex for layer in layers],
    }
    page = vector_page(np.shape(labels), request, json.dumps(provenance, sort_keys=True, default=str))
    for path in outputs:
        if path.suffix.lower() == ".svg":
            atomic_write_text(path, layers_to_svg(layers, page))
        else:
            atomic_write_bytes(path, layers_to_pdf(layers, page))
        log.info("wrote %s (%d dye layers)", path, len(layers))
    return outputs
