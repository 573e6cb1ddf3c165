"""Seam score and seamless tiles."""

import doctest

import cv2
import numpy as np
import pytest

from batikstudio.errors import ImageError
from batikstudio.imaging import seamless
from batikstudio.imaging.seamless import make_seamless, seam_score


def _texture(h=48, w=64, seed=0):
    """A non-periodic textured RGB image: blurred noise plus a horizontal colour ramp."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.random((h, w, 3)).astype(np.float32), (0, 0), 2.0)
    noise = (noise - noise.min()) / (noise.max() - noise.min())
    img = (noise * 200).astype(np.uint8)
    img[:, :, 0] = np.linspace(0, 255, w).astype(np.uint8)[None]
    return img


def _periodic(h=48, w=64):
    yy, xx = np.mgrid[0:h, 0:w]
    f = np.sin(2 * np.pi * (2 * xx / w + yy / h)) + 0.5 * np.cos(2 * np.pi * 3 * yy / h)
    return np.repeat(((f + 1.5) / 3 * 255).astype(np.uint8)[:, :, None], 3, axis=2)


def test_docstring_examples():
    assert doctest.testmod(seamless).failed == 0


def test_periodic_image_scores_near_one():
    assert 0.7 < seam_score(_periodic()) < 1.3
    assert seam_score(np.full((8, 8, 3), 7, np.uint8)) == pytest.approx(1.0)


def test_seam_is_detected():
    img = _texture()
    assert seam_score(img) > 5


@pytest.mark.parametrize("method", ["blend", "seam"])
@pytest.mark.parametrize("recentre", [True, False])
def test_make_seamless_removes_the_seam_and_keeps_the_size(method, recentre):
    img = _texture()
    out = make_seamless(img, method, recentre=recentre)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert seam_score(out) < 1.5 < seam_score(img) / 3


@pytest.mark.parametrize("method", ["blend", "seam"])
def test_recentred_result_keeps_the_motif_in_place(method):
    img = _texture()
    out = make_seamless(img, method)
    h, w = img.shape[:2]
    centre = (slice(h // 2 - 4, h // 2 + 4), slice(w // 2 - 4, w // 2 + 4))
    assert np.array_equal(out[centre], img[centre])


def test_seamless_tile_repeats_without_a_visible_jump():
    out = make_seamless(_texture(), "seam")
    big = np.tile(out, (2, 2, 1)).astype(float)
    h, w = out.shape[:2]
    jump = np.abs(big[:, w] - big[:, w - 1]).mean()
    typical = np.abs(np.diff(big, axis=1)).mean()
    assert jump < 2 * typical


def test_grayscale_and_odd_sizes():
    img = _texture(37, 41)[:, :, 0]
    out = make_seamless(img, "seam", overlap=5)
    assert out.shape == img.shape
    assert seam_score(out) < seam_score(img)


def test_bad_inputs():
    with pytest.raises(ImageError):
        seam_score(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(ImageError):
        make_seamless(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="unknown seamless method"):
        make_seamless(np.zeros((8, 8, 3), np.uint8), "smudge")
