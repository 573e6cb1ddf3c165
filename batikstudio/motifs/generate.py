"""Render procedural motifs: seed -> :class:`MotifSpec` -> HWC uint8 RGB tile.

Two independent random streams per (family, seed): stream 0 draws the spec (palette, scale,
variant, mirror, inversion, line weight, isen, crackle), stream 1 the fine geometry. Changing
one spec field by hand (another palette) therefore keeps the same geometry.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from batikstudio.motifs.canvas import Canvas, finish
from batikstudio.motifs.colours import DARK, GROUND, LIGHT, MAIN, MID, PALETTES, get_palette
from batikstudio.motifs.crackle import apply_crackle
from batikstudio.motifs.families import FAMILIES
from batikstudio.motifs.fills import apply_fill
from batikstudio.motifs.spec import EDITIONS, LATEST_EDITION, Family, MotifSpec, check_edition, family_rng

log = logging.getLogger(__name__)

INVERT_SWAP = ((GROUND, DARK), (LIGHT, MAIN))
MIN_RES, MAX_RES = 16, 2048


def get_family(name: str) -> Family:
    """Look a family up by name.

    Raises:
        ValueError: for an unknown name (lists the known ones).
    """
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"unknown motif family {name!r}; known: {', '.join(FAMILIES)}") from None


def make_spec(family: str, seed: int, palette: str | None = None,
              edition: int = LATEST_EDITION) -> MotifSpec:
    """Draw the random choices of motif ``seed`` of ``family``.

    Args:
        family: a key of :data:`FAMILIES`.
        seed: any integer >= 0.
        palette: force this palette (else one typical for the family is drawn).
        edition: the generator edition to draw it with (:data:`~batikstudio.motifs.spec.EDITIONS`).

    Raises:
        ValueError: unknown family, palette or edition, negative seed.
    """
    edition = check_edition(edition)
    fam = get_family(family)
    rng = family_rng(family, seed, 0)
    pal = fam.palettes[int(rng.integers(len(fam.palettes)))]
    if palette is not None:
        pal = get_palette(palette).name
    return MotifSpec(
        family=family,
        seed=int(seed),
        palette=pal,
        scale=int(fam.scales[int(rng.integers(len(fam.scales)))]),
        variant=int(rng.integers(fam.variants)),
        mirror=bool(fam.mirror and rng.random() < 0.5),
        invert=bool(rng.random() < fam.invert_p),
        line=float(rng.uniform(0.0045, 0.008)),
        fill=str(fam.fills[int(rng.integers(len(fam.fills)))]),
        crackle=float(rng.uniform(0.2, 1.0)) if rng.random() < fam.crackle_p else 0.0,
        edition=edition,
    )


def draw_labels(spec: MotifSpec, res: int) -> Canvas:
    """Draw the family's ornaments and isen of ``spec`` as role labels (no colour yet)."""
    fam = get_family(spec.family)
    cv = Canvas(res, ground=GROUND)
    fam.draw(cv, spec, family_rng(spec.family, spec.seed, 1))
    if spec.fill != "none":
        k = int(round(1.0 / 0.032))
        apply_fill(cv, spec.fill, GROUND, MID if spec.fill in ("galaran", "sisik") else LIGHT,
                   k, spec.line * 0.8)
    return cv


def render_spec(spec: MotifSpec, res: int = 256) -> np.ndarray:
    """Render a motif from its spec.

    Args:
        spec: the random choices (see :func:`make_spec`).
        res: output size in pixels, 16..2048.

    Returns:
        ``(res, res, 3)`` uint8 RGB, seamlessly tileable.

    Raises:
        ValueError: bad resolution, unknown family or palette.

    >>> render_spec(make_spec("parang", 1), 32).shape
    (32, 32, 3)
    """
    if not MIN_RES <= int(res) <= MAX_RES:
        raise ValueError(f"motif resolution must be {MIN_RES}..{MAX_RES} px, got {res}")
    cv = draw_labels(spec, int(res))
    lut = get_palette(spec.palette).lut(INVERT_SWAP if spec.invert else ())
    labels = cv.labels
    if spec.crackle > 0:
        apply_crackle(labels, lut, int(res), spec.crackle, family_rng(spec.family, spec.seed, 2))
    if spec.mirror:
        labels = labels[:, ::-1]
    return finish(np.ascontiguousarray(labels), lut, int(res))


def render_motif(family: str, seed: int, res: int = 256, palette: str | None = None,
                 edition: int = LATEST_EDITION) -> np.ndarray:
    """Render motif ``seed`` of ``family`` as a seamless ``(res, res, 3)`` uint8 RGB tile.

    Same (family, seed, res, palette, edition) -> identical pixels.

    >>> a = render_motif("parang", 3, 64); b = render_motif("parang", 3, 64)
    >>> a.shape, a.dtype.name, bool((a == b).all())
    ((64, 64, 3), 'uint8', True)
    """
    return render_spec(make_spec(family, seed, palette, edition), res)


def with_palette(spec: MotifSpec, palette: str) -> MotifSpec:
    """The same motif in another palette."""
    return dataclasses.replace(spec, palette=get_palette(palette).name)


def contact_sheet(images: list[np.ndarray], cols: int, gap: int = 4,
                  background: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """Lay equal-size HWC uint8 images out in a grid with ``gap`` pixels between them."""
    if not images:
        raise ValueError("contact_sheet needs at least one image")
    h, w = images[0].shape[:2]
    rows = (len(images) + cols - 1) // cols
    sheet = np.empty((rows * h + (rows + 1) * gap, cols * w + (cols + 1) * gap, 3), np.uint8)
    sheet[:] = background
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        y, x = gap + r * (h + gap), gap + c * (w + gap)
        sheet[y : y + h, x : x + w] = img
    return sheet


__all__ = ["EDITIONS", "FAMILIES", "LATEST_EDITION", "PALETTES", "MotifSpec", "make_spec", "render_spec",
           "render_motif", "draw_labels", "with_palette", "contact_sheet", "get_family"]
