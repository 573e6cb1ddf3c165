"""Colour handling for style transfer: keep the content's colours (Gatys et al. 2016, "Preserving
Color in Neural Artistic Style Transfer").

Two ways, both on HWC uint8 images:

* ``"luminance"``: transfer only luminance. The style's Y channel is matched to the content's Y
  mean/std, both are run through the network as grey RGB, and the result's Y is joined with the
  content's Cb/Cr (BT.601 full range, as JPEG).
* ``"histogram"``: before the transfer, the style's colours are moved to the content's colour mean
  and covariance (linear colour transfer); the network then runs on full colour.
"""

from __future__ import annotations

import numpy as np

from batikstudio.errors import ImageError

COLOUR_MODES = ("none", "luminance", "histogram", "style")

_RGB_TO_YCBCR = np.array(
    [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]],
    dtype=np.float64,
)
_YCBCR_TO_RGB = np.linalg.inv(_RGB_TO_YCBCR)


def _check_rgb(image: np.ndarray, what: str) -> None:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ImageError(f"{what}: expected an HxWx3 uint8 image, got {image.dtype} {image.shape}")


def rgb_to_ycbcr(image: np.ndarray) -> np.ndarray:
    """HWC uint8 RGB -> HWC float64 YCbCr with Y in [0, 255] and Cb, Cr centred on 128.

    >>> rgb_to_ycbcr(np.full((1, 1, 3), 255, np.uint8)).round(3).tolist()
    [[[255.0, 128.0, 128.0]]]
    """
    _check_rgb(image, "rgb_to_ycbcr")
    ycc = image.astype(np.float64) @ _RGB_TO_YCBCR.T
    ycc[..., 1:] += 128.0
    return ycc


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    """HWC float YCbCr (as from :func:`rgb_to_ycbcr`) -> HWC uint8 RGB, rounded and clipped.

    >>> ycbcr_to_rgb(np.array([[[255.0, 128.0, 128.0]]])).tolist()
    [[[255, 255, 255]]]
    """
    work = np.asarray(ycc, dtype=np.float64).copy()
    work[..., 1:] -= 128.0
    rgb = work @ _YCBCR_TO_RGB.T
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def luminance_as_rgb(image: np.ndarray, match_to: np.ndarray | None = None) -> np.ndarray:
    """The Y channel of an RGB image as a grey HWC uint8 RGB image.

    Args:
        image: HWC uint8 RGB.
        match_to: optional HWC uint8 RGB; the Y channel is shifted and scaled to its Y mean/std.

    >>> luminance_as_rgb(np.array([[[255, 0, 0]]], np.uint8)).tolist()
    [[[76, 76, 76]]]
    """
    y = rgb_to_ycbcr(image)[..., 0]
    if match_to is not None:
        ref = rgb_to_ycbcr(match_to)[..., 0]
        y = (y - y.mean()) / (y.std() + 1e-6) * ref.std() + ref.mean()
    grey = np.clip(np.rint(y), 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def join_luminance(stylised: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Luminance of ``stylised`` with the chroma (Cb, Cr) of ``content``; same HWC shape, uint8.

    >>> c = np.array([[[200, 30, 30]]], np.uint8)
    >>> join_luminance(luminance_as_rgb(c), c).tolist()
    [[[200, 30, 30]]]
    """
    if stylised.shape != content.shape:
        raise ImageError(f"shapes differ: stylised {stylised.shape} vs content {content.shape}")
    out = rgb_to_ycbcr(content)
    out[..., 0] = rgb_to_ycbcr(stylised)[..., 0]
    return ycbcr_to_rgb(out)


def match_colour_statistics(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Move ``source``'s RGB mean and covariance to ``target``'s (linear colour transfer).

    Uses the symmetric matrix square roots of both covariances, so no rotation is introduced.
    Returns HWC uint8 with ``source``'s shape.

    >>> src = np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8)
    >>> out = match_colour_statistics(src, np.full((4, 4, 3), 90, np.uint8))
    >>> out.shape, int(out.mean().round())
    ((8, 8, 3), 90)
    """
    _check_rgb(source, "source")
    _check_rgb(target, "target")
    s = source.reshape(-1, 3).astype(np.float64)
    t = target.reshape(-1, 3).astype(np.float64)
    mu_s, mu_t = s.mean(0), t.mean(0)
    eps = np.eye(3)  # regularises flat or few-colour images (units: pixel values squared)
    cov_s = np.cov(s, rowvar=False) + eps
    cov_t = np.cov(t, rowvar=False) + eps
    transform = _sqrtm(cov_t) @ np.linalg.inv(_sqrtm(cov_s))
    out = (s - mu_s) @ transform.T + mu_t
    return np.clip(np.rint(out), 0, 255).astype(np.uint8).reshape(source.shape)


def _sqrtm(cov: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(cov)
    return vectors @ np.diag(np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
