"""Trace dye layers into smooth vector outlines; render them crisp at print size; SVG / PDF.

Generated motifs are 64-256 px, a 20 cm tile at 300 DPI is 2362 px. For flat-colour motifs
(a label map from the palette reduction), each dye layer is traced into outlines:

1. the layer's mask is padded (edge-replicated, or wrapped for seamless tiles), upsampled
   ``upsample`` times (nearest), lightly blurred (``smooth`` source pixels) and thresholded
   at about 1/2: stair steps start to round off, straight edges stay in place;
2. ``cv2.findContours`` (RETR_TREE: outer boundaries, holes, islands in holes) traces it;
3. each ring is resampled evenly and smoothed along its arc length with a Gaussian
   (``arc_sigma``), then simplified (Douglas-Peucker) and rounded by Chaikin corner cutting.

Layers are ordered light to dark (one wax-and-dye stage each, lightest first) and are
*stacked*: layer k is the region of dye k **and every darker dye**, so each layer is painted
over the previous and the union always covers the tile (no hairline gaps); the first layer
is the whole tile. Rings are filled with the even-odd rule, so holes are respected.

Coordinates are in source pixels, x right and y down, (0, 0) at the tile's top-left
corner; pixel (i, j) covers ``[j, j+1] x [i, i+1]``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Sequence

from xml.sax.saxutils import escape

import cv2
import numpy as np

from batikstudio.errors import ImageError

log = logging.getLogger(__name__)

_PAD = 3  # source pixels of padding around a mask before blurring


@dataclass(frozen=True)
class DyeLayer:
    """One traced dye layer.

    Attributes:
        index: 1-based painting order (1 = lightest, painted first).
        label: the value of this dye in the label map.
        color: (r, g, b) ints in 0..255.
        rings: closed outlines, each an (N, 2) float64 array of (x, y) in source pixels;
            fill them with the even-odd rule.
        full: True when the layer covers the whole tile (rings then hold its rectangle).
        stacked: True when the region includes every darker dye (see module docstring).
    """

    index: int
    label: int
    color: tuple[int, int, int]
    rings: tuple[np.ndarray, ...] = field(repr=False)
    full: bool = False
    stacked: bool = True

    @property
    def hex(self) -> str:
        return "#{:02X}{:02X}{:02X}".format(*self.color)

    @property
    def name(self) -> str:
        """Identifier used in SVG ids and PDF layer names, e.g. ``dye-1-C8A165``."""
        return f"dye-{self.index}-{self.hex[1:]}"


def _check_labels(labels: np.ndarray, colors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels)
    colors = np.asarray(colors)
    if labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
        raise ImageError(f"labels must be an HxW integer array, got {labels.dtype} {labels.shape}")
    if colors.ndim != 2 or colors.shape[1] != 3 or colors.dtype != np.uint8:
        raise ImageError(f"colors must be a Kx3 uint8 array, got {colors.dtype} {colors.shape}")
    if labels.size == 0 or labels.min() < 0 or labels.max() >= len(colors):
        raise ImageError(f"labels must lie in 0..{len(colors) - 1} (one per colour)")
    return labels, colors


def light_to_dark(colors: np.ndarray) -> np.ndarray:
    """Indices of ``colors`` (Kx3 uint8) sorted by luma, lightest first (stable).

    >>> light_to_dark(np.array([[31, 42, 68], [239, 230, 210]], np.uint8)).tolist()
    [1, 0]
    """
    luma = colors.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    return np.argsort(-luma, kind="stable")


def trace_layers(
    labels: np.ndarray,
    colors: np.ndarray,
    upsample: int = 4,
    smooth: float = 0.45,
    arc_sigma: float = 1.2,
    simplify: float = 0.05,
    chaikin: int = 1,
    stacked: bool = True,
    wrap: bool = False,
) -> list[DyeLayer]:
    """Trace each dye of a label map into smooth even-odd outlines, light to dark.

    Args:
        labels: HxW integer label map, values in ``0..K-1``.
        colors: Kx3 uint8 dye colours (any order; layers are sorted light to dark).
        upsample: tracing resolution per source pixel (>= 1; 4 gives 1/4 px steps).
        smooth: Gaussian sigma in source pixels applied before thresholding; ~0.45 rounds
            stair steps yet keeps single-pixel dots.
        arc_sigma: Gaussian sigma in source pixels of arc length for smoothing each traced
            ring (removes the remaining stair steps; corners round off by about this much).
        simplify: Douglas-Peucker tolerance in source pixels before corner cutting.
        chaikin: rounds of Chaikin corner cutting (0 = polygonal).
        stacked: layer k covers dye k and all darker dyes (no gaps); ``False`` traces each
            dye's own region only.
        wrap: pad periodically so outlines of a seamless tile continue across its edges.

    Returns:
        Layers for the dyes present in ``labels``, in painting order (lightest first).

    Raises:
        ImageError: on bad shapes, dtypes or labels out of range.

    >>> lab = np.zeros((8, 8), int); lab[2:6, 2:6] = 1
    >>> layers = trace_layers(lab, np.array([[255, 255, 255], [0, 0, 0]], np.uint8))
    >>> [(l.name, l.full, len(l.rings)) for l in layers]
    [('dye-1-FFFFFF', True, 1), ('dye-2-000000', False, 1)]
    """
    labels, colors = _check_labels(labels, colors)
    if upsample < 1:
        raise ValueError(f"upsample must be >= 1, got {upsample}")
    order = [int(k) for k in light_to_dark(colors) if np.any(labels == k)]
    rank = np.full(len(colors), -1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    rank_map = rank[labels]
    h, w = labels.shape
    layers = []
    for i, k in enumerate(order):
        mask = rank_map >= i if stacked else rank_map == i
        color = tuple(int(c) for c in colors[k])
        if mask.all():
            rect = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
            layers.append(DyeLayer(i + 1, k, color, (rect,), full=True, stacked=stacked))
            continue
        rings = trace_mask(mask, upsample, smooth, simplify, chaikin, wrap, arc_sigma)
        layers.append(DyeLayer(i + 1, k, color, tuple(rings), stacked=stacked))
    return layers


def trace_mask(
    mask: np.ndarray, upsample: int = 4, smooth: float = 0.45, simplify: float = 0.05,
    chaikin: int = 1, wrap: bool = False, arc_sigma: float = 1.2,
) -> list[np.ndarray]:
    """Smooth even-odd outlines of a boolean HxW mask, in source pixel coordinates."""
    src = np.pad(mask.astype(np.uint8), _PAD, mode="wrap" if wrap else "edge")
    big = np.repeat(np.repeat(src, upsample, axis=0), upsample, axis=1).astype(np.float32)
    if smooth > 0:
        big = cv2.GaussianBlur(big, (0, 0), sigmaX=smooth * upsample, borderType=cv2.BORDER_REPLICATE)
    # contours run through the centres of boundary pixels, half a pixel inside the true edge;
    # a threshold a little under 1/2 moves them out by about that half pixel
    thresh = 0.5 - 0.2 / max(1.0, smooth * upsample) if smooth > 0 else 0.5
    binary = (big > thresh).astype(np.uint8)
    contours, _ = cv2.findContours(binary, cv2.RETR_TREE, cv2.CHAIN_APPROX_NONE)
    rings = []
    for contour in contours:
        if len(contour) < 3:
            continue
        ring = (contour[:, 0, :].astype(np.float64) + 0.5) / upsample - _PAD
        ring = smooth_ring(ring, arc_sigma, step=1.0 / upsample)
        pts = cv2.approxPolyDP(ring.astype(np.float32), simplify, closed=True)[:, 0, :]
        if len(pts) < 3:
            continue
        ring = pts.astype(np.float64)
        for _ in range(chaikin):
            ring = chaikin_closed(ring)
        rings.append(ring)
    return rings


def smooth_ring(ring: np.ndarray, sigma: float, step: float = 0.25) -> np.ndarray:
    """Resample a closed (N, 2) ring every ``step`` along its length and smooth it with a
    circular Gaussian of ``sigma`` (same units) along the arc; small rings get a smaller
    sigma (at most 1/8 of the perimeter) so dots stay dots.

    >>> sq = np.array([[0., 0.], [4., 0.], [4., 4.], [0., 4.]])
    >>> smooth_ring(sq, 1.0).shape[1]
    2
    """
    closed = np.vstack([ring, ring[:1]])
    seg = np.hypot(*np.diff(closed, axis=0).T)
    perimeter = float(seg.sum())
    if sigma <= 0 or perimeter <= 0:
        return ring
    n = max(8, int(np.ceil(perimeter / step)))
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    t = np.linspace(0.0, perimeter, n, endpoint=False)
    pts = np.stack([np.interp(t, arc, closed[:, 0]), np.interp(t, arc, closed[:, 1])], axis=1)
    sig = min(sigma, perimeter / 8.0) / (perimeter / n)  # in samples
    radius = int(min(n // 2, np.ceil(3 * sig)))
    if radius < 1:
        return pts
    x = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (x / sig) ** 2)
    kernel /= kernel.sum()
    padded = np.concatenate([pts[-radius:], pts, pts[:radius]])
    out = np.stack([np.convolve(padded[:, i], kernel, mode="valid") for i in (0, 1)], axis=1)
    return out


def chaikin_closed(ring: np.ndarray) -> np.ndarray:
    """One round of Chaikin corner cutting on a closed (N, 2) polyline; returns (2N, 2).

    >>> chaikin_closed(np.array([[0., 0.], [4., 0.], [4., 4.]])).shape
    (6, 2)
    """
    nxt = np.roll(ring, -1, axis=0)
    out = np.empty((2 * len(ring), 2), dtype=np.float64)
    out[0::2] = 0.75 * ring + 0.25 * nxt
    out[1::2] = 0.25 * ring + 0.75 * nxt
    return out


def render_layers(
    layers: Sequence[DyeLayer],
    src_size: tuple[int, int],
    out_size: tuple[int, int],
    supersample: int = 4,
    strip: int = 256,
) -> np.ndarray:
    """Paint traced layers, anti-aliased, at any resolution.

    Each layer is filled (even-odd) on a ``supersample``-times finer grid with sub-pixel
    precise ``cv2.fillPoly`` and box-filtered down to coverage. Stacked layers are mixed by
    exclusive coverage (no halos where nested layers share an edge), others painted over
    each other; the canvas starts in the first layer's colour, so no pixel is left
    unpainted. Works in horizontal strips to bound memory.

    Args:
        layers: from :func:`trace_layers`, in painting order.
        src_size: (width, height) of the traced label map in pixels.
        out_size: (width, height) of the output in pixels.
        supersample: anti-aliasing grid per output pixel (1 = aliased).

    Returns:
        ``out_h x out_w x 3`` uint8 RGB.

    >>> lab = np.zeros((8, 8), int); lab[2:6, 2:6] = 1
    >>> cols = np.array([[255, 255, 255], [0, 0, 0]], np.uint8)
    >>> render_layers(trace_layers(lab, cols), (8, 8), (64, 64))[32, 32].tolist()
    [0, 0, 0]
    """
    if not layers:
        raise ImageError("nothing to render: no dye layers")
    out_w, out_h = int(out_size[0]), int(out_size[1])
    sx, sy = out_w / src_size[0], out_h / src_size[1]
    out = np.empty((out_h, out_w, 3), dtype=np.uint8)
    fixed = [[_fixed_point(r, sx, sy, supersample) for r in layer.rings] for layer in layers]
    nested = all(layer.stacked for layer in layers)
    for y0 in range(0, out_h, strip):
        y1 = min(out_h, y0 + strip)
        alphas = [_coverage(rings, y0, y1, out_w, supersample) for rings in fixed[1:]]
        canvas = np.empty((y1 - y0, out_w, 3), dtype=np.float32)
        canvas[:] = np.asarray(layers[0].color, dtype=np.float32)
        if nested:
            _composite_nested(canvas, layers, alphas)
        else:
            for layer, alpha in zip(layers[1:], alphas):
                if alpha is not None:
                    canvas += alpha[:, :, None] * (np.asarray(layer.color, np.float32) - canvas)
        out[y0:y1] = np.clip(np.rint(canvas), 0, 255).astype(np.uint8)
    return out


def _composite_nested(
    canvas: np.ndarray, layers: Sequence[DyeLayer], alphas: list[np.ndarray | None]
) -> None:
    """Mix stacked layers by exclusive coverage, darkest first.

    Painting nested layers one over another double-counts anti-aliased edges they share
    (a faint halo of the middle dye around a dark dot on the ground). Instead, coverages
    are made monotone (each layer contains the darker ones) and dye k gets weight
    ``c_k - c_{k+1}``; the weights sum to one.
    """
    inner = np.zeros(canvas.shape[:2], dtype=np.float32)
    for layer, alpha in zip(reversed(layers[1:]), reversed(alphas)):
        if alpha is None:
            continue
        cover = np.maximum(alpha, inner)
        canvas += (cover - inner)[:, :, None] * (np.asarray(layer.color, np.float32) - layers[0].color)
        inner = cover


_SHIFT = 4  # fillPoly fractional bits: 1/16 pixel precision


def _fixed_point(ring: np.ndarray, sx: float, sy: float, ss: int) -> np.ndarray:
    # fillPoly puts integer coordinates at pixel centres: shift by half a (fine) pixel
    pts = np.empty_like(ring)
    pts[:, 0] = ring[:, 0] * sx * ss - 0.5
    pts[:, 1] = ring[:, 1] * sy * ss - 0.5
    return np.rint(pts * (1 << _SHIFT)).astype(np.int64)


def _coverage(rings: list[np.ndarray], y0: int, y1: int, width: int, ss: int) -> np.ndarray | None:
    """Fraction of each output pixel in rows y0..y1 covered by the rings (even-odd)."""
    if not rings:
        return None
    offset = np.array([0, y0 * ss * (1 << _SHIFT)], dtype=np.int64)
    top, bottom = (y0 * ss - 1) << _SHIFT, (y1 * ss + 1) << _SHIFT
    polys = [(r - offset).astype(np.int32) for r in rings
             if r[:, 1].max() >= top and r[:, 1].min() <= bottom]
    if not polys:
        return None
    fine = np.zeros(((y1 - y0) * ss, width * ss), dtype=np.uint8)
    cv2.fillPoly(fine, polys, 255, lineType=cv2.LINE_8, shift=_SHIFT)
    if ss == 1:
        return fine.astype(np.float32) / 255.0
    small = cv2.resize(fine, (width, y1 - y0), interpolation=cv2.INTER_AREA)
    return small.astype(np.float32) / 255.0


# ----------------------------------------------------------------------------- SVG / PDF


@dataclass(frozen=True)
class VectorPage:
    """Where tiles go on a vector page, in source-pixel units of the tile.

    Attributes:
        tile_size: (w, h) of the traced tile in source pixels.
        page_size: (W, H) of the page in the same units (default: one tile).
        placements: ``(x, y, flip_h, flip_v)`` top-left corners (default: one at 0, 0).
        physical: (width, height, unit) of the page for SVG width/height and PDF points,
            unit ``'cm'``, ``'mm'`` or ``'in'`` (default: 1 source pixel = 1 pt).
        background: RGB painted under everything (the CENTRE layout's ground), or None.
        metadata: text (provenance JSON) for the SVG ``<metadata>`` / PDF ``/Subject``.
    """

    tile_size: tuple[float, float]
    page_size: tuple[float, float] | None = None
    placements: tuple[tuple[float, float, bool, bool], ...] = ((0.0, 0.0, False, False),)
    physical: tuple[float, float, str] | None = None
    background: tuple[int, int, int] | None = None
    metadata: str | None = None

    @property
    def size(self) -> tuple[float, float]:
        return self.page_size if self.page_size is not None else self.tile_size

    @property
    def single(self) -> bool:
        return self.placements == ((0.0, 0.0, False, False),) and self.size == self.tile_size

    def points(self) -> tuple[float, float]:
        """Page size in PDF points."""
        if self.physical is None:
            return (float(self.size[0]), float(self.size[1]))
        per_inch = {"in": 72.0, "cm": 72.0 / 2.54, "mm": 72.0 / 25.4}[self.physical[2]]
        return (self.physical[0] * per_inch, self.physical[1] * per_inch)


def _n(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _svg_path(rings: Sequence[np.ndarray]) -> str:
    parts = []
    for ring in rings:
        coords = " ".join(f"{_n(x)} {_n(y)}" for x, y in ring)
        parts.append(f"M{coords}Z")
    return "".join(parts)


def _flip_transform(x: float, y: float, fh: bool, fv: bool, w: float, h: float) -> str:
    sx, sy = (-1 if fh else 1), (-1 if fv else 1)
    tx, ty = x + (w if fh else 0), y + (h if fv else 0)
    return f"matrix({sx} 0 0 {sy} {_n(tx)} {_n(ty)})"


def layers_to_svg(layers: Sequence[DyeLayer], page: VectorPage) -> str:
    """An SVG document: one ``<g>`` per dye layer (``id="dye-1-C8A165"``, Inkscape layer,
    ``fill`` colour, ``fill-rule="evenodd"``), painted light to dark.

    A single tile is written as plain paths; a repeat defines each layer's tile path once
    and places it with ``<use>``, clipped to the tile box.

    >>> lab = np.zeros((4, 4), int); lab[1:3, 1:3] = 1
    >>> svg = layers_to_svg(trace_layers(lab, np.array([[255] * 3, [0] * 3], np.uint8)),
    ...                     VectorPage((4, 4), physical=(2, 2, "cm")))
    >>> 'width="2cm"' in svg and 'id="dye-2-000000"' in svg
    True
    """
    pw, ph = page.size
    tw, th = page.tile_size
    width, height = ((_n(page.physical[0]) + page.physical[2], _n(page.physical[1]) + page.physical[2])
                     if page.physical else (_n(pw), _n(ph)))
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" version="1.1" '
        f'width="{width}" height="{height}" viewBox="0 0 {_n(pw)} {_n(ph)}">',
        "<title>Batik Studio dye layers</title>",
    ]
    if page.metadata:
        out.append(f"<metadata>{escape(page.metadata)}</metadata>")
    if not page.single:
        out.append(f'<defs><clipPath id="tile-clip"><rect x="0" y="0" width="{_n(tw)}" '
                   f'height="{_n(th)}"/></clipPath>')
        for layer in layers:
            out.append(f'<path id="tile-{layer.name}" d="{_svg_path(layer.rings)}"/>')
        out.append("</defs>")
    if page.background is not None:
        bg = "#{:02X}{:02X}{:02X}".format(*page.background)
        out.append(f'<rect id="background" x="0" y="0" width="{_n(pw)}" height="{_n(ph)}" fill="{bg}"/>')
    for layer in layers:
        out.append(f'<g id="{layer.name}" inkscape:groupmode="layer" '
                   f'inkscape:label="dye {layer.index} {layer.hex}" fill="{layer.hex}" '
                   'fill-rule="evenodd">')
        if page.single:
            out.append(f'<path d="{_svg_path(layer.rings)}"/>')
        else:
            for x, y, fh, fv in page.placements:
                out.append(f'<use href="#tile-{layer.name}" xlink:href="#tile-{layer.name}" '
                           f'transform="{_flip_transform(x, y, fh, fv, tw, th)}" '
                           'clip-path="url(#tile-clip)"/>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _pdf_path(rings: Sequence[np.ndarray]) -> str:
    parts = []
    for ring in rings:
        parts.append(f"{_n(ring[0, 0])} {_n(ring[0, 1])} m")
        parts.extend(f"{_n(x)} {_n(y)} l" for x, y in ring[1:])
        parts.append("h")
    return "\n".join(parts)


def _pdf_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def layers_to_pdf(layers: Sequence[DyeLayer], page: VectorPage) -> bytes:
    """A one-page PDF at the page's physical size, one optional-content layer per dye.

    Each layer's tile outline is a Form XObject (clipped by its BBox to the tile), filled
    with the even-odd rule (``f*``) and drawn at every placement inside a ``/OC`` marked
    content section, so PDF viewers and RIPs list the dyes as layers.

    >>> lab = np.zeros((4, 4), int); lab[1:3, 1:3] = 1
    >>> pdf = layers_to_pdf(trace_layers(lab, np.array([[255] * 3, [0] * 3], np.uint8)),
    ...                     VectorPage((4, 4), physical=(1, 1, "in")))
    >>> pdf[:8], b"/MediaBox [0 0 72 72]" in pdf
    (b'%PDF-1.5', True)
    """
    import zlib

    objects: dict[int, bytes] = {}
    n_layers = len(layers)
    ocg_ids = [5 + 2 * i for i in range(n_layers)]
    form_ids = [6 + 2 * i for i in range(n_layers)]
    tw, th = page.tile_size
    for i, layer in enumerate(layers):
        objects[ocg_ids[i]] = f"<< /Type /OCG /Name {_pdf_string(f'dye {layer.index} {layer.hex}')} >>".encode()
        r, g, b = (c / 255.0 for c in layer.color)
        body = zlib.compress(f"{r:.4f} {g:.4f} {b:.4f} rg\n{_pdf_path(layer.rings)}\nf*\n".encode())
        objects[form_ids[i]] = (
            f"<< /Type /XObject /Subtype /Form /BBox [0 0 {_n(tw)} {_n(th)}] "
            f"/Filter /FlateDecode /Length {len(body)} >>\nstream\n".encode() + body + b"\nendstream"
        )
    wpt, hpt = page.points()
    pw, ph = page.size
    sx, sy = wpt / pw, hpt / ph
    content = [f"q {_n(sx)} 0 0 {_n(-sy)} 0 {_n(hpt)} cm"]  # page in tile units, y down
    if page.background is not None:
        r, g, b = (c / 255.0 for c in page.background)
        content.append(f"{r:.4f} {g:.4f} {b:.4f} rg 0 0 {_n(pw)} {_n(ph)} re f")
    for i in range(n_layers):
        content.append(f"/OC /L{i + 1} BDC")
        for x, y, fh, fv in page.placements:
            a, d = (-1 if fh else 1), (-1 if fv else 1)
            e, f = x + (tw if fh else 0), y + (th if fv else 0)
            content.append(f"q {a} 0 0 {d} {_n(e)} {_n(f)} cm /T{i + 1} Do Q")
        content.append("EMC")
    content.append("Q")
    stream = zlib.compress("\n".join(content).encode())
    objects[4] = (f"<< /Filter /FlateDecode /Length {len(stream)} >>\nstream\n".encode()
                  + stream + b"\nendstream")
    refs = " ".join(f"{k} 0 R" for k in ocg_ids)
    objects[1] = (f"<< /Type /Catalog /Pages 2 0 R /OCProperties << /OCGs [{refs}] "
                  f"/D << /Order [{refs}] /ON [{refs}] >> >> >>").encode()
    objects[2] = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    xobjs = " ".join(f"/T{i + 1} {k} 0 R" for i, k in enumerate(form_ids))
    props = " ".join(f"/L{i + 1} {k} 0 R" for i, k in enumerate(ocg_ids))
    objects[3] = (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_n(wpt)} {_n(hpt)}] "
                  f"/Resources << /XObject << {xobjs} >> /Properties << {props} >> >> "
                  "/Contents 4 0 R >>").encode()
    return _pdf_assemble(objects, page.metadata)


def _pdf_assemble(objects: dict[int, bytes], metadata: str | None = None) -> bytes:
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += f"{num} 0 obj\n".encode() + objects[num] + b"\nendobj\n"
    size = max(objects) + 1
    info = ""
    if metadata:
        info = f" /Info {size} 0 R"
        offsets[size] = len(out)
        out += (f"{size} 0 obj\n<< /Producer (Batik Studio) /Subject "
                f"{_pdf_string(metadata)} >>\nendobj\n").encode("latin-1", "replace")
        size += 1
    xref = len(out)
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    for num in range(1, size):
        out += f"{offsets[num]:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {size} /Root 1 0 R{info} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
