"""Dye layers: reduce a motif to a few dye colours and derive one wax mask per dye bath.

Hand batik (batik tulis / cap) dyes one colour per cycle, lightest first. Before each bath the
areas that must keep a lighter colour are covered with wax. With colours sorted light to dark
(index 0 = lightest, by CIELAB L*), this module uses the convention:

* stage 0: the cloth takes colour 0 (the bare cloth, or the first and lightest bath); no wax;
* stage k (k >= 1): wax covers every pixel whose colour index is < k, then bath k dyes the
  rest colour k. So ``wax_masks()[k] == labels < k``; the masks nest
  (stage k wax is a subset of stage k+1 wax) and stage 0's mask is empty;
* after stage k the cloth shows ``colors[min(label, k)]``; after the last stage it is the
  recoloured motif.

Wax removal between baths (lorod) and colour mixing of overdyed baths are not modelled: the
palette colours are the target colours as they should look on the finished cloth.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Sequence

import cv2
import numpy as np

from batikstudio.errors import ImageError
from batikstudio.imaging.colour import SPACES, from_space, lightness, rgb_to_hex, to_space
from batikstudio.imaging.palettes import resolve_palette

log = logging.getLogger(__name__)

MIN_DYES = 2
MAX_DYES = 8
WAX_CONVENTION = "stage k wax covers pixels whose colour index < k; index 0 = lightest"
_CHUNK = 1 << 18  # pixels per distance block: keeps (chunk, K) float64 blocks near 16 MB


@dataclass(frozen=True, eq=False)
class DyeSeparation:
    """A motif split into dye colours.

    Attributes:
        colors: ``(K, 3)`` uint8 sRGB, sorted light to dark by CIELAB L*; K in 1..16.
        labels: ``(H, W)`` int32, colour index in [0, K) of every pixel.
        source: the ``(H, W, 3)`` uint8 RGB image that was separated, if kept.
        palette_name: the named palette it was snapped to, or ``None`` (k-means).
    """

    colors: np.ndarray
    labels: np.ndarray
    source: np.ndarray | None = None
    palette_name: str | None = None

    @property
    def n_colors(self) -> int:
        return int(self.colors.shape[0])

    @property
    def recoloured(self) -> np.ndarray:
        """``(H, W, 3)`` uint8: every pixel painted with its dye colour."""
        return self.colors[self.labels]

    def wax_masks(self) -> list[np.ndarray]:
        """One ``(H, W)`` bool mask per dye stage; True = wax before that stage's bath.

        ``masks[k] = labels < k`` (see the module docstring); ``masks[0]`` is all False.
        """
        return [self.labels < k for k in range(self.n_colors)]

    def cloth_after(self, stage: int) -> np.ndarray:
        """``(H, W, 3)`` uint8: how the cloth looks after bath ``stage`` (0-based)."""
        if not 0 <= stage < self.n_colors:
            raise ValueError(f"stage must be in 0..{self.n_colors - 1}, got {stage}")
        return self.colors[np.minimum(self.labels, stage)]

    def coverage(self) -> np.ndarray:
        """``(K,)`` float64: fraction of the pixels taking each colour."""
        counts = np.bincount(self.labels.ravel(), minlength=self.n_colors)
        return counts / max(self.labels.size, 1)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description: colours (hex, L*, coverage), order, wax convention."""
        light = lightness(self.colors)
        cover = self.coverage()
        return {
            "palette": self.palette_name,
            "order": "light to dark (CIELAB L*)",
            "wax_convention": WAX_CONVENTION,
            "colors": [
                {"index": i, "hex": rgb_to_hex(c), "rgb": [int(v) for v in c],
                 "lightness": round(float(light[i]), 2), "coverage": round(float(cover[i]), 5)}
                for i, c in enumerate(self.colors)
            ],
        }


def _as_rgb(img: np.ndarray) -> np.ndarray:
    img = np.asarray(img)
    if img.dtype != np.uint8:
        raise ImageError(f"expected a uint8 image, got dtype {img.dtype}")
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[2] not in (1, 3, 4):
        raise ImageError(f"expected an HxW, HxWx1, HxWx3 or HxWx4 image, got shape {img.shape}")
    if img.shape[0] == 0 or img.shape[1] == 0:
        raise ImageError(f"image is empty: shape {img.shape}")
    if img.shape[2] == 1:
        return np.repeat(img, 3, axis=2)
    return np.ascontiguousarray(img[:, :, :3])


def _nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre for each of ``points`` ``(N, 3)``, in chunks."""
    out = np.empty(points.shape[0], dtype=np.int32)
    c2 = (centres**2).sum(axis=1)
    for start in range(0, points.shape[0], _CHUNK):
        block = points[start:start + _CHUNK]
        dist = c2[None, :] - 2.0 * block @ centres.T  # |p|^2 is the same for every centre
        out[start:start + _CHUNK] = np.argmin(dist, axis=1)
    return out


def _kmeans_pp(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding: each new centre drawn with probability ~ squared distance."""
    centres = [x[rng.integers(x.shape[0])]]
    d2 = ((x - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = d2.sum()
        if total <= 0.0:
            break
        pick = x[rng.choice(x.shape[0], p=d2 / total)]
        centres.append(pick)
        d2 = np.minimum(d2, ((x - pick) ** 2).sum(axis=1))
    return np.array(centres)


def kmeans(
    x: np.ndarray, k: int, seed: int = 0, max_iter: int = 50, tol: float = 1e-6
) -> np.ndarray:
    """Lloyd's k-means with k-means++ seeding; deterministic for a given ``seed``.

    Args:
        x: ``(N, D)`` float points, N >= 1.
        k: number of clusters wanted; fewer come back if ``x`` has fewer distinct points.

    Returns:
        ``(K', D)`` float64 centres, K' <= k.

    >>> x = np.array([[0.0], [0.1], [5.0], [5.2]])
    >>> sorted(round(float(c[0]), 2) for c in kmeans(x, 2))
    [0.05, 5.1]
    """
    rng = np.random.default_rng(seed)
    x = np.asarray(x, dtype=np.float64)
    centres = _kmeans_pp(x, k, rng)
    for _ in range(max_iter):
        assign = _nearest(x, centres)
        counts = np.bincount(assign, minlength=len(centres)).astype(np.float64)
        sums = np.stack(
            [np.bincount(assign, weights=x[:, d], minlength=len(centres)) for d in range(x.shape[1])],
            axis=1,
        )
        new = centres.copy()
        filled = counts > 0
        new[filled] = sums[filled] / counts[filled, None]
        for j in np.flatnonzero(~filled):  # re-seed an empty cluster at the worst-fit point
            far = ((x - new[assign]) ** 2).sum(axis=1)
            new[j] = x[int(np.argmax(far))]
            assign[int(np.argmax(far))] = j
        shift = float(np.abs(new - centres).max())
        centres = new
        if shift < tol:
            break
    return centres


def _small_components(
    labels: np.ndarray, k: int, min_region: int, keep: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Number every 8-connected single-colour region smaller than ``min_region`` pixels.

    Returns ``(ids, areas)``: ``ids`` ``(H, W)`` int32 with 0 outside small regions and 1..M
    inside; ``areas`` ``(M + 1,)``. Regions touching ``keep`` are never small.
    """
    ids = np.zeros(labels.shape, dtype=np.int32)
    areas = [0]
    for colour in range(k):
        mask = (labels == colour).astype(np.uint8)
        count, comp, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        if count <= 1:
            continue
        small = stats[:, cv2.CC_STAT_AREA] < min_region
        small[0] = False
        if keep.any():
            small[np.unique(comp[keep])] = False
        chosen = np.flatnonzero(small)
        if chosen.size == 0:
            continue
        remap = np.zeros(count, dtype=np.int32)
        remap[chosen] = np.arange(len(areas), len(areas) + chosen.size)
        inside = small[comp]
        ids[inside] = remap[comp[inside]]
        areas.extend(int(a) for a in stats[chosen, cv2.CC_STAT_AREA])
    return ids, np.array(areas, dtype=np.int64)


def _neighbour_votes(ids: np.ndarray, labels: np.ndarray, m: int, k: int) -> np.ndarray:
    """Count, for each small region, the colours of its 8-neighbour pixels in big regions.

    Returns ``(m + 1, k)`` counts (row 0 unused). Two 8-adjacent pixels of the same colour
    share a region, so a neighbour outside a region always has another colour.
    """
    h, w = labels.shape
    votes = np.zeros((m + 1) * k, dtype=np.int64)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == 0 and dx == 0:
                continue
            here = (slice(max(dy, 0), h + min(dy, 0)), slice(max(dx, 0), w + min(dx, 0)))
            there = (slice(max(-dy, 0), h + min(-dy, 0)), slice(max(-dx, 0), w + min(-dx, 0)))
            a = ids[here]
            big = (a > 0) & (ids[there] == 0)
            key = a[big].astype(np.int64) * k + labels[there][big]
            votes += np.bincount(key, minlength=(m + 1) * k)
    return votes.reshape(m + 1, k)


def merge_small_regions(
    labels: np.ndarray, n_colors: int, min_region: int, max_passes: int = 32
) -> np.ndarray:
    """Merge 8-connected single-colour regions under ``min_region`` pixels into their surround.

    Each small region takes the colour most common among its neighbour pixels in large
    regions. Clusters of small regions with no large neighbour are resolved by keeping the
    biggest one and repeating.

    Args:
        labels: ``(H, W)`` integer colour indices in [0, n_colors).
        n_colors: number of colours K.
        min_region: regions with fewer pixels are merged; 0 or 1 returns a copy.

    Returns:
        ``(H, W)`` int32 labels (a new array).

    >>> lab = np.zeros((5, 5), np.int32); lab[2, 2] = 1
    >>> int(merge_small_regions(lab, 2, 2).max())
    0
    """
    labels = labels.astype(np.int32, copy=True)
    keep = np.zeros(labels.shape, dtype=bool)
    for _ in range(max_passes):
        ids, areas = _small_components(labels, n_colors, min_region, keep)
        m = len(areas) - 1
        if m == 0:
            break
        stable = _neighbour_votes(ids, labels, m, n_colors)
        move = stable.sum(axis=1) > 0
        move[0] = False
        if not move.any():
            # only small regions touch each other: keep the biggest, let the rest join it later
            keep |= ids == 1 + int(np.argmax(areas[1:]))
            continue
        target = np.argmax(stable, axis=1).astype(np.int32)
        inside = move[ids]
        labels[inside] = target[ids[inside]]
    return labels


def _finish(
    colors: np.ndarray, labels: np.ndarray, source: np.ndarray, name: str | None
) -> DyeSeparation:
    """Drop unused colours and sort the rest light to dark, relabelling to match."""
    used = np.flatnonzero(np.bincount(labels.ravel(), minlength=len(colors)) > 0)
    if len(used) < len(colors):
        log.info("dropping %d palette colour(s) no pixel uses", len(colors) - len(used))
    order = used[np.argsort(-lightness(colors[used]), kind="stable")]
    remap = np.zeros(len(colors), dtype=np.int32)
    remap[order] = np.arange(len(order), dtype=np.int32)
    return DyeSeparation(
        colors=np.ascontiguousarray(colors[order]), labels=remap[labels],
        source=source, palette_name=name,
    )


def reduce_palette(
    img: np.ndarray,
    n_colors: int | None = None,
    palette: str | Sequence[str] | None = None,
    min_region: int = 0,
    seed: int = 0,
    space: str = "oklab",
    sample_size: int = 20000,
) -> DyeSeparation:
    """Reduce an image to a few dye colours, by k-means or by snapping to a palette.

    With ``n_colors``, colours are found by k-means (k-means++ seeding, ``seed``-
    deterministic) on a random sample of ``sample_size`` pixels in a perceptual space, then
    every pixel takes its nearest centre. With ``palette`` (a name from
    :data:`~batikstudio.imaging.palettes.PALETTES`, or hex codes), every pixel takes the
    perceptually nearest palette colour; unused palette colours are dropped. Optionally,
    regions smaller than ``min_region`` pixels are merged into their surround. Colours come
    back sorted light to dark (CIELAB L*).

    Args:
        img: HxW, HxWx1, HxWx3 or HxWx4 uint8 image (alpha ignored).
        n_colors: number of dyes, 2..8 (default 4 when ``palette`` is None). An image with
            fewer distinct colours gives fewer dyes.
        palette: palette name, comma-separated hex string, or list of hex codes.
        min_region: merge 8-connected single-colour regions with fewer pixels (0: off).
        seed: k-means seed.
        space: ``"oklab"`` (default) or ``"lab"`` (CIELAB).
        sample_size: pixels used to fit k-means.

    Returns:
        :class:`DyeSeparation` with ``source`` = the RGB image.

    Raises:
        ImageError: on an unsupported image.
        ValueError: on bad arguments (both or wrong ``n_colors``, unknown palette, ...).

    >>> img = np.zeros((4, 4, 3), np.uint8); img[:, 2:] = 250
    >>> sep = reduce_palette(img, n_colors=2)
    >>> sep.colors.tolist(), sep.labels[0].tolist()
    ([[250, 250, 250], [0, 0, 0]], [1, 1, 0, 0])
    """
    if n_colors is not None and palette is not None:
        raise ValueError("give either n_colors or palette, not both")
    if palette is None:
        n_colors = 4 if n_colors is None else n_colors
        if isinstance(n_colors, bool) or not MIN_DYES <= int(n_colors) <= MAX_DYES:
            raise ValueError(f"n_colors must be in {MIN_DYES}..{MAX_DYES}, got {n_colors}")
    if min_region < 0:
        raise ValueError(f"min_region must be >= 0, got {min_region}")
    if space not in SPACES:
        raise ValueError(f"unknown colour space {space!r}: use one of {', '.join(SPACES)}")
    rgb = _as_rgb(img)
    h, w, _ = rgb.shape
    packed = (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2]
    uniq, inverse = np.unique(packed.ravel(), return_inverse=True)
    uniq_rgb = np.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255], axis=1).astype(np.uint8)
    uniq_pts = to_space(uniq_rgb, space)
    name = None
    if palette is not None:
        colors = resolve_palette(palette)
        name = palette.strip().lower() if isinstance(palette, str) and "#" not in palette else None
        centres = to_space(colors, space)
    elif len(uniq) <= n_colors:
        colors, centres = uniq_rgb, uniq_pts
    else:
        rng = np.random.default_rng(seed)
        pick = rng.choice(h * w, size=min(sample_size, h * w), replace=False)
        centres = kmeans(uniq_pts[inverse[pick]], int(n_colors), seed=seed)
        colors = from_space(centres, space)
    labels = _nearest(uniq_pts, centres)[inverse].reshape(h, w)
    if min_region > 1:
        labels = merge_small_regions(labels, len(colors), min_region)
    return _finish(colors, labels, rgb, name)
