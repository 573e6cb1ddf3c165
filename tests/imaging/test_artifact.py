"""Tests for batikstudio.imaging.artifact."""

import dataclasses
import doctest

import numpy as np
import pytest

from batikstudio.errors import ImageError
from batikstudio.imaging import artifact
from batikstudio.imaging.artifact import ArtifactFilterParams, apply_artifact_filter, clean_artifacts


def _character(h=48, w=48):
    """A grey-hazed page with one thick stroke, a 1-px hairline and two planted specks."""
    page = np.full((h, w), 225, np.uint8)  # grey haze over the paper
    page[10:38, 20:26] = 20  # a vertical stroke (168 px)
    page[30, 5:15] = 60  # a thin horizontal stroke, 10 px long
    page[4, 40] = 30  # a 1-px speck
    page[42:44, 42:44] = 90  # a 2x2 speck
    page[20, 34] = 150  # a faint 1-px speck
    return page


def test_doctests():
    assert doctest.testmod(artifact).failed == 0


def test_removes_specks_and_haze_but_keeps_strokes():
    page = _character()
    out = clean_artifacts(page, white_threshold=200, speck_area=4)
    assert out[0, 0] == 255  # haze lifted
    assert out[4, 40] == 255 and out[20, 34] == 255  # specks gone
    assert np.all(out[42:44, 42:44] == 255)
    np.testing.assert_array_equal(out[10:38, 20:26], page[10:38, 20:26])  # stroke untouched
    np.testing.assert_array_equal(out[30, 5:15], page[30, 5:15])  # thin stroke survives
    assert page[0, 0] == 225  # input not modified


def test_speck_area_zero_keeps_specks_and_is_inclusive():
    page = _character()
    assert clean_artifacts(page, speck_area=0)[4, 40] == 30
    # the 2x2 speck has exactly 4 pixels: removed at 4, kept at 3
    assert np.all(clean_artifacts(page, speck_area=4)[42:44, 42:44] == 255)
    assert np.all(clean_artifacts(page, speck_area=3)[42:44, 42:44] == 90)


def test_diagonal_pixels_count_as_one_component():
    page = np.full((10, 10), 255, np.uint8)
    page[2, 2] = page[3, 3] = page[4, 4] = 0  # 3 px, 8-connected
    assert np.all(clean_artifacts(page, speck_area=2)[[2, 3, 4], [2, 3, 4]] == 0)
    assert np.all(clean_artifacts(page, speck_area=3)[[2, 3, 4], [2, 3, 4]] == 255)


@pytest.mark.parametrize("shape", [(48, 48), (48, 48, 1), (48, 48, 3), (48, 48, 4)])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_shape_and_dtype_kept(shape, dtype):
    gray = _character()
    img = np.broadcast_to(gray.reshape(48, 48, *([1] if len(shape) == 3 else [])), shape).copy()
    if len(shape) == 3 and shape[2] == 4:
        img[..., 3] = 77
    if dtype != np.uint8:
        img = (img / 255.0).astype(dtype)
    out = clean_artifacts(img)
    assert out.shape == img.shape and out.dtype == img.dtype
    white = 255 if dtype == np.uint8 else 1.0
    speck = out[4, 40] if len(shape) == 2 else out[4, 40, 0]
    assert speck == white
    if len(shape) == 3 and shape[2] == 4:
        np.testing.assert_array_equal(out[..., 3], img[..., 3])  # alpha left alone


def test_colour_is_kept_where_not_cleaned():
    img = np.full((20, 20, 3), 240, np.uint8)
    img[5:15, 5:15] = (158, 27, 27)  # a red stroke: luma ~67
    img[1, 1] = (250, 10, 10)  # a luma-dark red speck (luma ~81)
    out = clean_artifacts(img, speck_area=2)
    np.testing.assert_array_equal(out[5:15, 5:15], img[5:15, 5:15])
    assert out[1, 1].tolist() == [255, 255, 255]
    assert out[0, 0].tolist() == [255, 255, 255]


def test_binarize_otsu_and_fixed():
    page = _character()
    out = clean_artifacts(page, binarize=True)
    assert set(np.unique(out).tolist()) <= {0, 255}
    assert np.all(out[10:38, 20:26] == 0) and np.all(out[30, 5:15] == 0)
    assert out[0, 0] == 255
    # fixed threshold 50: the stroke at 20 is ink, the hairline at 60 is not
    fixed = clean_artifacts(page, binarize=True, binarize_threshold=50)
    assert np.all(fixed[10:38, 20:26] == 0) and np.all(fixed[30, 5:15] == 255)
    rgb = clean_artifacts(np.repeat(page[..., None], 3, axis=2), binarize=True)
    np.testing.assert_array_equal(rgb[..., 0], out)


def test_params_dataclass_matches_function_and_is_frozen():
    params = ArtifactFilterParams(white_threshold=180, speck_area=1)
    page = _character()
    np.testing.assert_array_equal(
        apply_artifact_filter(page, params), clean_artifacts(page, white_threshold=180, speck_area=1)
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.speck_area = 3  # type: ignore[misc]
    assert params.to_dict()["white_threshold"] == 180


def test_bad_input_raises_clear_errors():
    with pytest.raises(ImageError, match="dtype int32"):
        clean_artifacts(np.zeros((4, 4), np.int32))
    with pytest.raises(ImageError, match="shape"):
        clean_artifacts(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ImageError, match=r"\[0, 1\]"):
        clean_artifacts(np.full((4, 4), 2.0, np.float32))
    with pytest.raises(ImageError, match="empty"):
        clean_artifacts(np.zeros((0, 4), np.uint8))
    with pytest.raises(ValueError, match="white_threshold"):
        ArtifactFilterParams(white_threshold=300)
    with pytest.raises(ValueError, match="speck_area"):
        clean_artifacts(np.zeros((4, 4), np.uint8), speck_area=-1)
