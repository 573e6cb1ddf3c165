"""Jobs behind the Print tab (no Qt): the live repeat preview and the dye-layer vector export.

Requests are frozen dataclasses made on the GUI thread; the functions run on worker threads
and never touch a widget.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from batikstudio.imaging.export import VectorExportRequest, export_vector, reduce_to_dyes
from batikstudio.imaging.repeat import TileLayout, repeat_preview
from batikstudio.imaging.seamless import make_seamless, seam_score
from batikstudio.jobs import JobContext

#: seam score below which the repeat looks seamless, and above which the seam is plainly visible
SEAMLESS_BELOW = 1.5
VISIBLE_ABOVE = 3.0


def seam_verdict(score: float, layout: TileLayout = TileLayout.BLOCK) -> str:
    """Plain words for a :func:`~batikstudio.imaging.seamless.seam_score` in ``layout``.

    >>> seam_verdict(1.1)
    'seamless: the tile edges match its own texture'
    >>> seam_verdict(0.2, TileLayout.MIRROR)
    'seamless: in a mirror repeat every edge meets its own reflection'
    """
    if layout is TileLayout.MIRROR:
        return "seamless: in a mirror repeat every edge meets its own reflection"
    if layout is TileLayout.CENTRE:
        return "no seams: a centre placement has no neighbouring copies"
    if score < SEAMLESS_BELOW:
        return "seamless: the tile edges match its own texture"
    if score < VISIBLE_ABOVE:
        return "a faint seam may show where copies meet"
    if layout in (TileLayout.HALF_DROP, TileLayout.HALF_BRICK):
        return f"visible seam in the {layout.value}: choose make-seamless (made for the drop)"
    return "visible seam: choose make-seamless or wrap rendering"


def as_rgb(img: np.ndarray) -> np.ndarray:
    """HxW, HxWx1, HxWx3 or HxWx4 uint8 -> HxWx3 uint8 (grey repeated, alpha dropped).

    >>> as_rgb(np.zeros((2, 2, 1), np.uint8)).shape
    (2, 2, 3)
    """
    img = np.asarray(img)
    if img.ndim == 2:
        img = img[:, :, None]
    if img.shape[2] == 1:
        return np.repeat(img, 3, axis=2)
    return np.ascontiguousarray(img[:, :, :3])


@dataclass(frozen=True, eq=False)
class PrintPreviewRequest:
    """A 3 x 3 repeat preview of ``tile``.

    Attributes:
        tile: HxWx3 uint8 motif.
        layout: repeat layout.
        offset: drop / brick offset (1/2 or 1/3).
        seamless: ``'blend'`` / ``'seam'`` to make the tile seamless first, or None.
        method: ``'lanczos'``, or ``'vector'`` to preview the flat dye colours.
        n_colors: dyes for ``'vector'`` (2..8).
        max_side: longest side of the preview image in pixels.
    """

    tile: np.ndarray
    layout: TileLayout = TileLayout.BLOCK
    offset: float = 0.5
    seamless: str | None = None
    method: str = "lanczos"
    n_colors: int = 6
    max_side: int = 900


@dataclass(frozen=True, eq=False)
class PrintPreview:
    """The preview (HxWx3 uint8) and the seam score of the tile, for the request's layout and
    offset, before and after make-seamless."""

    image: np.ndarray
    score_before: float
    score_after: float


def print_preview_job(req: PrintPreviewRequest, ctx: JobContext) -> PrintPreview:
    """Job: make-seamless for the layout (optional), dye colours (optional), then a 3 x 3 repeat.

    Seam scores are for ``req.layout`` and ``req.offset`` (a half-drop judges the shifted edge).
    """
    tile = req.tile
    before = seam_score(tile, req.layout, req.offset)
    after = before
    if req.seamless:
        tile = make_seamless(tile, req.seamless, layout=req.layout, offset=req.offset)
        after = seam_score(tile, req.layout, req.offset)
        ctx.check()
    if req.method == "vector":
        labels, colors = reduce_to_dyes(tile, req.n_colors)
        tile = colors[labels]
        ctx.check()
    image = repeat_preview(tile, req.layout, (3, 3), req.offset, max_side=req.max_side)
    return PrintPreview(image, before, after)


@dataclass(frozen=True, eq=False)
class DyeLayerExportRequest:
    """Reduce ``tile`` to ``n_colors`` dyes and write the layout as SVG / PDF.

    Attributes:
        tile: HxWx3 uint8 motif.
        seamless: make-seamless method applied before the reduction (for the layout and
            offset in ``vector``), or None.
        n_colors: number of dyes (2..8).
        vector: where and how to write (outputs, physical size, layout, provenance).
    """

    tile: np.ndarray
    seamless: str | None
    n_colors: int
    vector: VectorExportRequest


def dye_layer_export_job(req: DyeLayerExportRequest, ctx: JobContext) -> list[Path]:
    """Job: seamless (optional) -> palette reduction -> traced dye layers as SVG/PDF."""
    ctx.progress(0, 100)
    tile = req.tile
    if req.seamless:
        ctx.status(f"making the motif seamless ({req.seamless})")
        tile = make_seamless(tile, req.seamless, layout=req.vector.layout, offset=req.vector.offset)
        ctx.check()
    ctx.status(f"reducing to {req.n_colors} dye colours")
    labels, colors = reduce_to_dyes(tile, req.n_colors)
    ctx.check()
    ctx.progress(30, 100)
    ctx.status("tracing dye layers")
    paths = export_vector(labels, colors, req.vector)
    ctx.progress(100, 100)
    return paths
