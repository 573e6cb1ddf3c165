"""Gatys optimisation and the style-transfer job, at tiny sizes with the bundled VGG16 trunk."""

import numpy as np
import pytest
import torch

from batikstudio.errors import ImageError
from batikstudio.imaging.style_transfer import GatysConfig, StyleTransferRequest, gatys_transfer, stylize
from batikstudio.imaging.style_transfer.colour import rgb_to_ycbcr
from batikstudio.imaging.style_transfer.features import load_bundled_vgg16
from batikstudio.imaging.style_transfer.gatys import (
    _Targets,
    fit_size,
    image_to_tensor,
    style_losses,
    tensor_to_image,
    total_variation,
)
from batikstudio.jobs import Cancelled, RecordingContext

TINY = GatysConfig(iterations=(3,), preview_every=1)


def _content(h: int = 32, w: int = 32) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = (xx * 255 // max(w - 1, 1)).astype(np.uint8)
    img[..., 1] = (yy * 255 // max(h - 1, 1)).astype(np.uint8)
    img[..., 2] = np.where((xx // 8 + yy // 8) % 2 == 0, 200, 40)
    return img


def _style(h: int = 32, w: int = 32) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    stripes = ((xx + yy) // 3) % 2 == 0
    img = np.empty((h, w, 3), np.uint8)
    img[stripes] = (31, 42, 68)
    img[~stripes] = (200, 161, 101)
    return img


@pytest.fixture(scope="module")
def net():
    return load_bundled_vgg16()


def test_uint8_tensor_round_trip():
    img = _content(5, 7)
    x = image_to_tensor(img)
    assert x.shape == (1, 3, 5, 7) and x.dtype == torch.float32 and -1 <= x.min() and x.max() <= 1
    np.testing.assert_array_equal(tensor_to_image(x), img)
    assert fit_size((100, 50), 64) == (64, 32)
    with pytest.raises(ImageError):
        image_to_tensor(np.zeros((4, 4), np.uint8))


def test_total_variation_is_zero_for_flat_images():
    assert total_variation(torch.zeros(1, 3, 5, 5)).item() == 0.0
    assert total_variation(torch.randn(1, 3, 5, 5)).item() > 0.0


def test_loss_decreases(net):
    content = image_to_tensor(_content())
    style = image_to_tensor(_style())
    config = GatysConfig(iterations=(6,), preview_every=0)
    targets = _Targets(net, content, style, config)
    before = style_losses(net, content, targets, config)
    assert before["content"].item() == pytest.approx(0.0, abs=1e-6)  # starts at the content
    result = gatys_transfer(net, content, style, config, RecordingContext())
    after = style_losses(net, result, targets, config)
    assert after["total"].item() < 0.7 * before["total"].item()
    assert after["style"].item() < before["style"].item()
    assert result.shape == content.shape and result.min() >= -1 and result.max() <= 1


def test_adam_also_decreases(net):
    content = image_to_tensor(_content())
    style = image_to_tensor(_style())
    config = GatysConfig(iterations=(4,), optimizer="adam", learning_rate=0.05, preview_every=0)
    targets = _Targets(net, content, style, config)
    before = style_losses(net, content, targets, config)["total"].item()
    result = gatys_transfer(net, content, style, config, RecordingContext())
    assert style_losses(net, result, targets, config)["total"].item() < before


def test_cancel_stops_between_steps(net):
    ctx = RecordingContext(cancel_after=2)
    request = StyleTransferRequest(_content(), _style(), size=32, gatys=GatysConfig(iterations=(50,)))
    with pytest.raises(Cancelled):
        stylize(request, ctx)
    assert [done for done, _ in ctx.progress_log] == [1, 2]


def test_progress_partials_and_multiscale_shape(net):
    ctx = RecordingContext()
    request = StyleTransferRequest(_content(40, 64), _style(), size=48,
                                   gatys=GatysConfig(iterations=(2, 2), preview_every=1))
    result = stylize(request, ctx)
    assert result.shape == (30, 48, 3) and result.dtype == np.uint8
    assert ctx.progress_log == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert len(ctx.partials) == 4
    assert ctx.partials[0].shape == (16, 24, 3) and ctx.partials[-1].shape == (30, 48, 3)
    assert any("step" in s for s in ctx.status_log)


def test_style_weight_controls_the_change(net):
    content, style = _content(), _style()
    keep = GatysConfig(iterations=(3,), style_weight=0.0, tv_weight=0.0, preview_every=0)
    unchanged = stylize(StyleTransferRequest(content, style, size=32, gatys=keep), RecordingContext())
    assert np.abs(unchanged.astype(int) - content).max() <= 1  # content loss is 0 at the start
    styled = stylize(StyleTransferRequest(content, style, size=32,
                                          gatys=GatysConfig(iterations=(3,), preview_every=0)),
                     RecordingContext())
    assert np.abs(styled.astype(int) - content).mean() > 3.0


def test_preserve_colour_keeps_content_chroma(net):
    content = _content()
    request = StyleTransferRequest(content, _style(), size=32, colour="luminance",
                                   gatys=GatysConfig(iterations=(4,), style_weight=5.0, preview_every=0))
    result = stylize(request, RecordingContext())
    ycc_out, ycc_in = rgb_to_ycbcr(result), rgb_to_ycbcr(content)
    # chroma is copied from the content; only uint8 rounding (and clipping at the gamut edge) differs
    chroma_err = np.abs(ycc_out[..., 1:] - ycc_in[..., 1:])
    inside = ((result > 0) & (result < 255)).all(-1)  # clipped pixels cannot keep their chroma
    assert inside.mean() > 0.5 and chroma_err[inside].max() < 1.0
    assert np.abs(ycc_out[..., 0] - ycc_in[..., 0]).mean() > 2.0  # luminance did change
    plain = stylize(StyleTransferRequest(content, _style(), size=32, gatys=request.gatys), RecordingContext())
    assert np.abs(rgb_to_ycbcr(plain)[..., 1:] - ycc_in[..., 1:]).mean() > chroma_err.mean()


def test_request_validation():
    with pytest.raises(ImageError, match="content"):
        StyleTransferRequest(np.zeros((32, 32), np.uint8), _style())
    with pytest.raises(ImageError, match="too small"):
        StyleTransferRequest(_content(8, 8), _style())
    with pytest.raises(ValueError, match="method"):
        StyleTransferRequest(_content(), _style(), method="magic")
    with pytest.raises(ValueError, match="colour"):
        StyleTransferRequest(_content(), _style(), colour="sepia")
    with pytest.raises(ValueError, match="optimizer"):
        GatysConfig(optimizer="sgd")
    with pytest.raises(ValueError, match="iterations"):
        GatysConfig(iterations=())


def test_user_vgg19_file_is_used(tmp_path):
    from batikstudio.imaging.style_transfer.features import expected_shapes, torchvision_keys

    keys = torchvision_keys("vgg19")
    gen = torch.Generator().manual_seed(3)
    state = {}
    for name, shape in expected_shapes("vgg19", "conv2_1").items():
        conv, kind = name.split(".")
        state[f"{keys[conv]}.{kind}"] = torch.randn(shape, generator=gen) * 0.2
    path = tmp_path / "vgg19-dcbb9e9d.pth"
    torch.save(state, path)
    config = GatysConfig(iterations=(3,), content_layers=("conv2_1",), style_layers=("conv1_1", "conv2_1"),
                         preview_every=0)
    request = StyleTransferRequest(_content(), _style(), size=32, weights=str(path), gatys=config)
    result = stylize(request, RecordingContext())
    assert result.shape == (32, 32, 3)
    from batikstudio.imaging.style_transfer import load_features

    net = load_features(str(path), None, config)
    assert net.spec.arch == "vgg19" and net.spec.input_norm == "torchvision" and net.names[-1] == "conv2_1"


def test_style_colour_mode_gives_the_result_the_style_palette():
    import numpy as np

    from batikstudio.imaging.style_transfer import colour as colour_ops
    from batikstudio.jobs import InlineContext
    from batikstudio.imaging.style_transfer.job import StyleTransferRequest, stylize
    from batikstudio.imaging.style_transfer.gatys import GatysConfig

    rng = np.random.default_rng(0)
    content = rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)
    style = np.zeros((24, 24, 3), np.uint8)
    style[..., 0], style[..., 1], style[..., 2] = 107, 62, 30  # soga brown
    style[::3] = (200, 160, 101)
    assert "style" in colour_ops.COLOUR_MODES
    out = stylize(StyleTransferRequest(content, style, size=16, colour="style",
                                       gatys=GatysConfig(iterations=(1,))), InlineContext())
    assert np.abs(out.reshape(-1, 3).mean(0) - style.reshape(-1, 3).mean(0)).max() < 6
