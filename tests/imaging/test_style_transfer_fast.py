"""Fast (Magenta ONNX) style transfer and the colour helpers."""

import shutil

import numpy as np
import pytest

from batikstudio.errors import WeightsMissingError
from batikstudio.imaging.style_transfer import StyleTransferRequest, stylize
from batikstudio.imaging.style_transfer.colour import (
    join_luminance,
    luminance_as_rgb,
    match_colour_statistics,
    rgb_to_ycbcr,
    ycbcr_to_rgb,
)
from batikstudio.imaging.style_transfer.fast import PREDICT_FILE, TRANSFORM_FILE, FastStylizer
from batikstudio.imaging.style_transfer.features import default_models_dir
from batikstudio.jobs import RecordingContext


def _photo(h=48, w=64, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([xx * 255 // w, yy * 255 // h, 255 - xx * 255 // w], -1).astype(np.int32)
    img[(xx - w // 2) ** 2 + (yy - h // 2) ** 2 < (h // 4) ** 2] = (240, 230, 210)
    return np.clip(img + rng.integers(-10, 10, img.shape), 0, 255).astype(np.uint8)


def _shapes(h=48, w=64):
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.full((h, w, 3), 40, np.uint8)
    img[:, : w // 2] = 200
    img[(xx - w // 3) ** 2 + (yy - h // 2) ** 2 < (h // 4) ** 2] = (30, 60, 160)
    img[h // 6 : h // 3, w * 2 // 3 : w * 5 // 6] = (250, 240, 100)
    return img


def _edges(img):
    """Blurred gradient magnitude of the grey image, flattened."""
    gy, gx = np.gradient(img.astype(float).mean(2))
    e = np.hypot(gx, gy)
    for _ in range(2):
        p = np.pad(e, 1, mode="edge")
        e = sum(p[i : i + e.shape[0], j : j + e.shape[1]] for i in range(3) for j in range(3)) / 9
    return e.ravel()


def _cloth(n=64):
    yy, xx = np.mgrid[0:n, 0:n]
    img = np.full((n, n, 3), (31, 42, 68), np.uint8)
    img[((xx + yy) // 6) % 3 == 0] = (200, 161, 101)
    img[((xx - yy) // 5) % 4 == 0] = (158, 27, 27)
    return img


@pytest.fixture(scope="module")
def stylizer():
    return FastStylizer(default_models_dir(), threads=1)


def test_fast_result_shape_and_effect(stylizer):
    content, style = _shapes(), _cloth()
    out = stylizer.stylize(content, style, (48, 64))
    assert out.shape == (48, 64, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - content).mean() > 10  # it did restyle
    # the layout is kept: the result's edges follow its own content, not a flipped copy
    own = np.corrcoef(_edges(out), _edges(content))[0, 1]
    flipped = np.corrcoef(_edges(out), _edges(content[::-1, ::-1]))[0, 1]
    assert own > flipped + 0.2


def test_fast_strength_interpolates(stylizer):
    content, style = _photo(), _cloth()
    full = stylizer.stylize(content, style, (48, 64), strength=1.0)
    none = stylizer.stylize(content, style, (48, 64), strength=0.0)
    assert np.abs(none.astype(int) - content).mean() < np.abs(full.astype(int) - content).mean()
    with pytest.raises(ValueError, match="strength"):
        stylizer.stylize(content, style, (48, 64), strength=1.5)


def test_fast_job_with_preserved_colour():
    content = _photo(40, 40)
    ctx = RecordingContext()
    out = stylize(StyleTransferRequest(content, _cloth(), method="fast", size=40, colour="luminance"), ctx)
    err = np.abs(rgb_to_ycbcr(out)[..., 1:] - rgb_to_ycbcr(content)[..., 1:])
    inside = ((out > 0) & (out < 255)).all(-1)  # clipped pixels cannot keep their chroma
    assert inside.mean() > 0.5 and err[inside].max() < 1.0
    assert ctx.progress_log[-1] == (1.0, 1.0)


def test_fast_missing_model_file(tmp_path):
    shutil.copy(default_models_dir() / PREDICT_FILE, tmp_path / PREDICT_FILE)
    with pytest.raises(WeightsMissingError, match=TRANSFORM_FILE):
        FastStylizer(tmp_path)
    (tmp_path / TRANSFORM_FILE).write_bytes(b"not onnx")
    with pytest.raises(WeightsMissingError, match="not a usable ONNX model"):
        FastStylizer(tmp_path)


def test_ycbcr_round_trip_and_luminance_join():
    img = _photo()
    np.testing.assert_array_equal(ycbcr_to_rgb(rgb_to_ycbcr(img)), img)
    grey = luminance_as_rgb(img)
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()
    joined = join_luminance(grey, img)
    assert np.abs(joined.astype(int) - img).max() <= 2


def test_luminance_matching_moves_mean_and_std():
    src, ref = _cloth(), _photo()
    matched = luminance_as_rgb(src, match_to=ref)[..., 0].astype(float)
    y_ref = rgb_to_ycbcr(ref)[..., 0]
    assert matched.mean() == pytest.approx(y_ref.mean(), abs=1.0)
    assert matched.std() == pytest.approx(y_ref.std(), abs=1.5)


def test_match_colour_statistics_matches_mean_and_covariance():
    rng = np.random.default_rng(1)
    src = np.clip(_cloth().astype(int) + rng.integers(-20, 20, (64, 64, 3)), 0, 255).astype(np.uint8)
    target = (_photo() // 2 + 64).astype(np.uint8)  # a narrow gamut, so nothing clips
    out = match_colour_statistics(src, target).reshape(-1, 3).astype(float)
    t = target.reshape(-1, 3).astype(float)
    np.testing.assert_allclose(out.mean(0), t.mean(0), atol=2.0)
    np.testing.assert_allclose(np.cov(out, rowvar=False), np.cov(t, rowvar=False), rtol=0.15, atol=30)
