"""Colour-space helpers: sRGB <-> linear, CIELAB (D65) and OKLab; hex codes; luma.

All functions take and return numpy arrays whose last axis holds the three channels, so a
single colour ``(3,)``, a palette ``(K, 3)`` and an image ``(H, W, 3)`` all work.

Ranges:
    * sRGB ``uint8`` in [0, 255] at the edges (images, palettes);
    * CIELAB ``float64``: L* in [0, 100], a*/b* roughly [-128, 127];
    * OKLab ``float64``: L in [0, 1], a/b roughly [-0.4, 0.4].
"""

from __future__ import annotations

import re

import numpy as np

from batikstudio.errors import ImageError

# D65 reference white for CIELAB, in XYZ with Y = 1
_D65 = np.array([0.95047, 1.0, 1.08883])
_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
# Björn Ottosson's OKLab matrices (linear sRGB -> LMS, cube-rooted LMS -> Lab)
_OK_M1 = np.array(
    [
        [0.4122214708, 0.5363325363, 0.0514459929],
        [0.2119034982, 0.6806995451, 0.1073969566],
        [0.0883024619, 0.2817188376, 0.6299787005],
    ]
)
_OK_M2 = np.array(
    [
        [0.2104542553, 0.7936177850, -0.0040720468],
        [1.9779984951, -2.4285922050, 0.4505937099],
        [0.0259040371, 0.7827717662, -0.8086757660],
    ]
)
_OK_M1_INV = np.linalg.inv(_OK_M1)
_OK_M2_INV = np.linalg.inv(_OK_M2)

# sRGB uint8 -> linear float, as a 256-entry table (exact, and much faster than pow per pixel)
_SRGB_LUT = np.where(
    np.arange(256) / 255.0 <= 0.04045,
    np.arange(256) / 255.0 / 12.92,
    ((np.arange(256) / 255.0 + 0.055) / 1.055) ** 2.4,
)
_HEX_RE = re.compile(r"^#?([0-9a-fA-F]{6})$")
SPACES = ("oklab", "lab")


def _check_rgb(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8:
        raise ImageError(f"expected uint8 sRGB values, got dtype {rgb.dtype}")
    if rgb.ndim < 1 or rgb.shape[-1] != 3:
        raise ImageError(f"expected a last axis of 3 colour channels, got shape {rgb.shape}")
    return rgb


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    """uint8 sRGB ``(..., 3)`` -> linear-light float64 ``(..., 3)`` in [0, 1]."""
    return _SRGB_LUT[_check_rgb(rgb)]


def linear_to_srgb(lin: np.ndarray) -> np.ndarray:
    """Linear-light float ``(..., 3)`` (clipped to [0, 1]) -> uint8 sRGB ``(..., 3)``."""
    lin = np.clip(np.asarray(lin, dtype=np.float64), 0.0, 1.0)
    srgb = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)
    return np.clip(np.rint(srgb * 255.0), 0, 255).astype(np.uint8)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """uint8 sRGB ``(..., 3)`` -> CIELAB (D65) float64 ``(..., 3)``.

    >>> [round(float(v), 1) + 0.0 for v in rgb_to_lab(np.array([255, 255, 255], np.uint8))]
    [100.0, 0.0, 0.0]
    """
    xyz = srgb_to_linear(rgb) @ _RGB_TO_XYZ.T / _D65
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    lab = np.empty_like(f)
    lab[..., 0] = 116 * f[..., 1] - 16
    lab[..., 1] = 500 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200 * (f[..., 1] - f[..., 2])
    return lab


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB (D65) float ``(..., 3)`` -> uint8 sRGB ``(..., 3)`` (out-of-gamut clipped)."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    eps, kappa = 216 / 24389, 24389 / 27
    xyz = np.where(f**3 > eps, f**3, (116 * f - 16) / kappa) * _D65
    return linear_to_srgb(xyz @ _XYZ_TO_RGB.T)


def rgb_to_oklab(rgb: np.ndarray) -> np.ndarray:
    """uint8 sRGB ``(..., 3)`` -> OKLab float64 ``(..., 3)``.

    >>> rgb_to_oklab(np.array([255, 255, 255], np.uint8)).round(3).tolist()
    [1.0, 0.0, 0.0]
    """
    lms = np.cbrt(srgb_to_linear(rgb) @ _OK_M1.T)
    return lms @ _OK_M2.T


def oklab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """OKLab float ``(..., 3)`` -> uint8 sRGB ``(..., 3)`` (out-of-gamut clipped)."""
    lms = np.asarray(lab, dtype=np.float64) @ _OK_M2_INV.T
    return linear_to_srgb((lms**3) @ _OK_M1_INV.T)


def to_space(rgb: np.ndarray, space: str) -> np.ndarray:
    """uint8 sRGB ``(..., 3)`` -> float64 in ``space`` (``"oklab"`` or ``"lab"``).

    Raises:
        ValueError: on an unknown space name.
    """
    if space == "oklab":
        return rgb_to_oklab(rgb)
    if space == "lab":
        return rgb_to_lab(rgb)
    raise ValueError(f"unknown colour space {space!r}: use one of {', '.join(SPACES)}")


def from_space(values: np.ndarray, space: str) -> np.ndarray:
    """Inverse of :func:`to_space`: float64 ``(..., 3)`` in ``space`` -> uint8 sRGB."""
    if space == "oklab":
        return oklab_to_rgb(values)
    if space == "lab":
        return lab_to_rgb(values)
    raise ValueError(f"unknown colour space {space!r}: use one of {', '.join(SPACES)}")


def lightness(rgb: np.ndarray) -> np.ndarray:
    """CIELAB L* in [0, 100] of uint8 sRGB colours ``(..., 3)`` -> float64 ``(...)``."""
    return rgb_to_lab(rgb)[..., 0]


def luma(image: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of an RGB image ``(H, W, 3)``, same scale as the input, float32 ``(H, W)``.

    Works for uint8 (result in [0, 255]) and float (result in the input's range).

    >>> luma(np.full((1, 1, 3), 255, np.uint8)).tolist()
    [[255.0]]
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ImageError(f"expected an HxWx3 image, got shape {image.shape}")
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return image.astype(np.float32) @ weights


def hex_to_rgb(code: str) -> tuple[int, int, int]:
    """``"#9E1B1B"`` (or ``"9e1b1b"``) -> ``(158, 27, 27)``.

    Raises:
        ValueError: if ``code`` is not a six-digit hex colour.
    """
    match = _HEX_RE.match(code.strip())
    if match is None:
        raise ValueError(f"not a hex colour: {code!r} (expected #RRGGBB)")
    value = match.group(1)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def rgb_to_hex(rgb: np.ndarray | tuple[int, int, int]) -> str:
    """``(158, 27, 27)`` -> ``"#9E1B1B"``."""
    r, g, b = (int(v) for v in rgb)
    return f"#{r:02X}{g:02X}{b:02X}"
