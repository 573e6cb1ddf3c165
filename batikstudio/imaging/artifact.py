"""Calligraphy artifact filter: clean paper, drop ink specks, optionally binarise.

Generated characters inherit faint grey haze and small dark specks from scanned training
pages. The filter works in three steps, each on the image's luma (Rec. 601):

1. **lift**: pixels whose luma is at or above ``white_threshold`` become paper white;
2. **specks**: 8-connected groups of remaining (ink) pixels with ``speck_area`` pixels or
   fewer become paper white (``speck_area=0`` turns this off);
3. **binarise** (optional): ink below the threshold becomes black, the rest white; the
   threshold is Otsu's on the cleaned luma, or ``binarize_threshold`` if given.

Colour images are judged by luma but keep their colour wherever nothing was changed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from batikstudio.errors import ImageError
from batikstudio.imaging.colour import luma


@dataclass(frozen=True)
class ArtifactFilterParams:
    """Settings of :func:`clean_artifacts`, storable for undo and provenance.

    Attributes:
        white_threshold: luma in [0, 255] at and above which a pixel is lifted to paper white.
            200 clears the grey haze of generated characters while keeping anti-aliased
            stroke edges; 255 turns lifting off.
        speck_area: ink components (8-connected) of at most this many pixels are erased;
            0 turns it off. 4 suits 64-256 px characters, whose smallest real dots are larger.
        binarize: also threshold to pure black and white.
        binarize_threshold: luma in [1, 255] below which a pixel becomes ink when binarising;
            ``None`` picks it with Otsu's method.
    """

    white_threshold: int = 200
    speck_area: int = 4
    binarize: bool = False
    binarize_threshold: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.white_threshold <= 255:
            raise ValueError(f"white_threshold must be in 0..255, got {self.white_threshold}")
        if self.speck_area < 0:
            raise ValueError(f"speck_area must be >= 0, got {self.speck_area}")
        if self.binarize_threshold is not None and not 1 <= self.binarize_threshold <= 255:
            raise ValueError(
                f"binarize_threshold must be in 1..255, got {self.binarize_threshold}"
            )

    def to_dict(self) -> dict:
        """JSON-ready dict (for provenance)."""
        return dataclasses.asdict(self)


def _split_channels(img: np.ndarray) -> tuple[np.ndarray, float]:
    """Return luma on a 0..255 scale (float32, HxW) and the input's white value."""
    if img.dtype == np.uint8:
        white = 255.0
    elif img.dtype in (np.float32, np.float64):
        white = 1.0
        if img.size and (np.nanmin(img) < 0.0 or np.nanmax(img) > 1.0):
            raise ImageError("float images must have values in [0, 1]")
    else:
        raise ImageError(f"expected a uint8 or float image, got dtype {img.dtype}")
    if img.ndim == 2:
        gray = img.astype(np.float32)
    elif img.ndim == 3 and img.shape[2] == 1:
        gray = img[:, :, 0].astype(np.float32)
    elif img.ndim == 3 and img.shape[2] in (3, 4):
        gray = luma(img[:, :, :3])
    else:
        raise ImageError(f"expected an HxW, HxWx1, HxWx3 or HxWx4 image, got shape {img.shape}")
    if img.shape[0] == 0 or img.shape[1] == 0:
        raise ImageError(f"image is empty: shape {img.shape}")
    return gray * (255.0 / white), white


def _speck_mask(ink: np.ndarray, speck_area: int) -> np.ndarray:
    """Boolean HxW mask of 8-connected ``ink`` components with <= ``speck_area`` pixels."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        ink.astype(np.uint8), connectivity=8
    )
    small = stats[:, cv2.CC_STAT_AREA] <= speck_area
    small[0] = False  # label 0 is the background (paper)
    return small[labels] if count > 1 else np.zeros_like(ink)


def _otsu(gray: np.ndarray) -> int:
    level, _ = cv2.threshold(
        np.clip(np.rint(gray), 0, 255).astype(np.uint8), 0, 255,
        cv2.THRESH_BINARY + cv2.THRESH_OTSU,
    )
    # cv2 puts values > level in the white class; our rule is "ink if luma < threshold"
    return int(level) + 1


def clean_artifacts(
    img: np.ndarray,
    white_threshold: int = 200,
    speck_area: int = 4,
    binarize: bool = False,
    binarize_threshold: int | None = None,
) -> np.ndarray:
    """Lift near-white haze to paper, erase small dark specks, optionally binarise.

    Args:
        img: HxW, HxWx1, HxWx3 or HxWx4 image, uint8 in [0, 255] or float32/64 in [0, 1].
            Colour images are judged by luma; alpha, if any, is left as it is.
        white_threshold, speck_area, binarize, binarize_threshold: see
            :class:`ArtifactFilterParams` (thresholds are on a 0..255 luma scale for every
            dtype).

    Returns:
        A new image of the same shape and dtype; paper white is 255 (uint8) or 1.0 (float).

    Raises:
        ImageError: on an unsupported shape or dtype, or float values outside [0, 1].
        ValueError: on out-of-range parameters.

    >>> page = np.full((8, 8), 230, np.uint8); page[1, 1] = 0; page[3:7, 2:6] = 10
    >>> out = clean_artifacts(page, white_threshold=200, speck_area=2)
    >>> int(out[0, 0]), int(out[1, 1]), int(out[4, 4])
    (255, 255, 10)
    """
    params = ArtifactFilterParams(white_threshold, speck_area, binarize, binarize_threshold)
    gray, white = _split_channels(img)
    paper = gray >= params.white_threshold
    if params.speck_area > 0:
        paper |= _speck_mask(~paper, params.speck_area)
    out = img.copy()
    colour = out[:, :, :3] if out.ndim == 3 else out  # a view: writes land in ``out``
    colour[paper] = white
    if params.binarize:
        cleaned = np.where(paper, 255.0, gray)
        level = params.binarize_threshold or _otsu(cleaned)
        ink = cleaned < level
        colour[ink] = 0
        colour[~ink] = white
    return out


def apply_artifact_filter(img: np.ndarray, params: ArtifactFilterParams) -> np.ndarray:
    """:func:`clean_artifacts` with settings from an :class:`ArtifactFilterParams`.

    >>> apply_artifact_filter(np.full((2, 2), 240, np.uint8), ArtifactFilterParams()).tolist()
    [[255, 255], [255, 255]]
    """
    return clean_artifacts(img, **dataclasses.asdict(params))
