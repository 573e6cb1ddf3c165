"""Native model file: round trip, metadata validation, one-line errors, shape checks, hashing."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from batikstudio.errors import ExportError, ModelFileError
from batikstudio.io.modelfile import (
    FORMAT_VERSION, ModelFile, ModelMeta, check_finite, check_state_dict, describe_size,
    file_sha256, read_model_file, read_model_meta, save_model_file, to_jsonable,
)


def _meta(**kw) -> ModelMeta:
    base = dict(G_config={"z_dim": 8, "img_resolution": 16}, D_config={"c_dim": 0},
                class_labels=("parang", "kawung"),
                training={"kimg": 12.5, "diffusion": {"p": 0.25, "T": 13}},
                provenance={"source_sha256": "ab" * 32}, name="tiny", description="a test model")
    base.update(kw)
    return ModelMeta(**base)


def _model() -> ModelFile:
    g = {"mapping.fc0.weight": torch.randn(4, 8), "synthesis.b4.const": torch.randn(2, 4, 4)}
    d = {"b4.out.weight": torch.randn(1, 4)}
    extra = {"directions": torch.randn(3, 8, dtype=torch.float64)}
    return ModelFile.from_state_dicts(_meta(), G_ema=g, G={k: v * 2 for k, v in g.items()}, D=d,
                                      extra=extra)


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert text and "\n" not in text and "Traceback" not in text
    return text


def test_round_trip_keeps_tensors_and_metadata(tmp_path):
    model = _model()
    path = save_model_file(tmp_path / "m.safetensors", model)
    back = read_model_file(path)
    assert back.meta == model.meta
    assert set(back.tensors) == set(model.tensors)
    for name, value in model.tensors.items():
        assert back.tensors[name].dtype == value.dtype and torch.equal(back.tensors[name], value)
    assert back.nets == ("G_ema", "G", "D")
    assert torch.equal(back.state_dict("G")["mapping.fc0.weight"], model.tensors["G.mapping.fc0.weight"])
    assert set(back.state_dict("extra")) == {"directions"}
    assert read_model_meta(path) == model.meta
    assert not list(tmp_path.glob("*.part"))  # the atomic write left no temporary file


def test_half_storage_halves_the_file_and_reads_back_float32(tmp_path):
    model = _model()
    big = torch.full((2, 3), 1e5)  # beyond float16's range: kept in float32
    model = ModelFile(tensors=dict(model.tensors) | {"G.mapping.fc0.bias": big}, meta=model.meta)
    full = save_model_file(tmp_path / "full.safetensors", model)
    half = save_model_file(tmp_path / "half.safetensors", model, half=True)
    from safetensors import safe_open

    with safe_open(str(half), framework="pt") as fh:
        stored = {k: fh.get_slice(k).get_dtype() for k in fh.keys()}
    assert stored["G_ema.mapping.fc0.weight"] == "F16" and stored["D.b4.out.weight"] == "F16"
    assert stored["G.mapping.fc0.bias"] == "F32" and stored["extra.directions"] == "F64"
    back = read_model_file(half)
    assert back.meta.provenance["storage"] == "float16"
    assert back.meta.provenance["kept_float32"] == ["G.mapping.fc0.bias"]
    assert back.meta.provenance["source_sha256"] == model.meta.provenance["source_sha256"]
    for name, value in model.tensors.items():
        got = back.tensors[name]
        assert got.dtype == value.dtype
        assert torch.allclose(got, value, rtol=1e-3, atol=1e-4)
    assert not torch.equal(back.tensors["G_ema.mapping.fc0.weight"], model.tensors["G_ema.mapping.fc0.weight"])
    assert torch.equal(back.tensors["G.mapping.fc0.bias"], big)
    assert read_model_file(full).meta == model.meta  # a full-precision file records no storage


def test_half_tensors_converts_only_finite_float32_within_range():
    from batikstudio.io.modelfile import half_tensors

    given = {"w": torch.linspace(-2, 2, 5), "nan": torch.tensor([1.0, float("nan")]), "big": torch.tensor([7e4]),
             "empty": torch.zeros(0), "flag": torch.tensor([True, False]), "n": torch.arange(3),
             "f64": torch.ones(2, dtype=torch.float64)}
    out, kept = half_tensors(given)
    assert {k: v.dtype for k, v in out.items()} == {
        "w": torch.float16, "nan": torch.float32, "big": torch.float32, "empty": torch.float16,
        "flag": torch.bool, "n": torch.int64, "f64": torch.float64}
    assert kept == ["nan", "big"]
    assert torch.equal(out["flag"], given["flag"]) and torch.equal(out["w"].float(), given["w"])


def test_metadata_json_layout(tmp_path):
    from safetensors import safe_open

    path = save_model_file(tmp_path / "m.safetensors", _model())
    with safe_open(str(path), "pt") as fh:
        header = fh.metadata()
    assert set(header) == {"batikstudio"}
    data = json.loads(header["batikstudio"])
    assert data["format"] == "batikstudio-model" and data["format_version"] == 1
    assert data["architecture"] == "stylegan2" and data["class_labels"] == ["parang", "kawung"]
    assert data["training"]["diffusion"] == {"p": 0.25, "T": 13}


def test_read_selected_nets_only(tmp_path):
    path = save_model_file(tmp_path / "m.safetensors", _model())
    only = read_model_file(path, nets=["G_ema"])
    assert only.nets == ("G_ema",) and all(k.startswith("G_ema.") for k in only.tensors)


def test_save_rejects_bad_models(tmp_path):
    with pytest.raises(ModelFileError, match="G_ema"):
        save_model_file(tmp_path / "a.safetensors", ModelFile({"G.x": torch.ones(1)}, _meta()))
    with pytest.raises(ModelFileError, match="unexpected tensor name 'weights'"):
        save_model_file(tmp_path / "b.safetensors", ModelFile({"G_ema.x": torch.ones(1),
                                                               "weights": torch.ones(1)}, _meta()))
    with pytest.raises(ModelFileError, match="D_config"):
        save_model_file(tmp_path / "c.safetensors",
                        ModelFile({"G_ema.x": torch.ones(1), "D.y": torch.ones(1)}, _meta(D_config=None)))
    with pytest.raises(ExportError):
        save_model_file(tmp_path / "missing" / "d.safetensors", _model())


def test_failed_save_keeps_previous_file(tmp_path):
    path = save_model_file(tmp_path / "m.safetensors", _model())
    before = path.read_bytes()
    bad = ModelFile({"G_ema.x": torch.ones(1)}, _meta(training={"when": object()}))
    with pytest.raises(ModelFileError, match="cannot store"):
        save_model_file(path, bad)
    assert path.read_bytes() == before


def _write_raw(path, tensors, metadata):
    save_file(tensors, str(path), metadata=metadata)
    return path


@pytest.mark.parametrize("case, message", [
    ("missing", "no such file"),
    ("empty", "not a readable model file"),
    ("truncated", "not a readable model file"),
    ("garbage", "not a readable model file"),
    ("folder", "is a folder"),
    ("no_metadata", "not a Batik Studio model"),
    ("wrong_format", "not a Batik Studio model"),
    ("newer_version", "format version 2"),
    ("not_json", "not valid JSON"),
    ("not_object", "not a JSON object"),
    ("missing_field", "lacks 'G_config'"),
    ("bad_name", "unexpected tensor name"),
    ("no_g_ema", "no G_ema tensors"),
])
def test_bad_files_give_one_line_errors(tmp_path, case, message):
    good = save_model_file(tmp_path / "good.safetensors", _model())
    data = json.loads(_meta().to_json())
    path = tmp_path / f"{case}.safetensors"
    t = {"G_ema.x": torch.ones(2)}
    if case == "empty":
        path.write_bytes(b"")
    elif case == "truncated":
        path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif case == "garbage":
        path.write_bytes(bytes(range(256)) * 4)
    elif case == "folder":
        path.mkdir()
    elif case == "no_metadata":
        _write_raw(path, t, None)
    elif case == "wrong_format":
        _write_raw(path, t, {"batikstudio": json.dumps(dict(data, format="other"))})
    elif case == "newer_version":
        _write_raw(path, t, {"batikstudio": json.dumps(dict(data, format_version=FORMAT_VERSION + 1))})
    elif case == "not_json":
        _write_raw(path, t, {"batikstudio": "{not json"})
    elif case == "not_object":
        _write_raw(path, t, {"batikstudio": "[1, 2]"})
    elif case == "missing_field":
        _write_raw(path, t, {"batikstudio": json.dumps({k: v for k, v in data.items() if k != "G_config"})})
    elif case == "bad_name":
        _write_raw(path, dict(t, weights=torch.ones(1)), {"batikstudio": json.dumps(data)})
    elif case == "no_g_ema":
        _write_raw(path, {"G.x": torch.ones(1)}, {"batikstudio": json.dumps(data)})
    with pytest.raises(ModelFileError) as exc:
        read_model_file(path)
    assert message in _one_line(exc)


def test_check_state_dict_names_the_tensor():
    expected = {"synthesis.b8.conv0.weight": torch.Size([128, 128, 3, 3]), "mapping.w_avg": (512,)}
    good = {"synthesis.b8.conv0.weight": torch.zeros(128, 128, 3, 3), "mapping.w_avg": torch.zeros(512)}
    check_state_dict(expected, good, "G_ema")
    bad = dict(good, **{"synthesis.b8.conv0.weight": torch.zeros(64, 128, 3, 3)})
    with pytest.raises(ModelFileError) as exc:
        check_state_dict(expected, bad, "G_ema")
    assert _one_line(exc) == ("G_ema.synthesis.b8.conv0.weight has shape [64, 128, 3, 3], "
                              "expected [128, 128, 3, 3]")
    with pytest.raises(ModelFileError, match=r"^m.pkl: G_ema.mapping.w_avg is missing$"):
        check_state_dict(expected, {"synthesis.b8.conv0.weight": good["synthesis.b8.conv0.weight"]},
                         "G_ema", source="m.pkl")
    with pytest.raises(ModelFileError, match=r"^D.extra is not expected$"):
        check_state_dict(expected, dict(good, extra=torch.zeros(1)), "D")
    with pytest.raises(ModelFileError, match=r"\(and 1 more problems\)"):
        check_state_dict(expected, {"extra": torch.zeros(1), "mapping.w_avg": torch.zeros(512)}, "G")


def test_check_finite():
    check_finite({"a": torch.ones(2), "i": torch.arange(3)}, "G_ema")
    with pytest.raises(ModelFileError, match="G_ema.b contains NaN"):
        check_finite({"a": torch.ones(2), "b": torch.tensor([1.0, float("nan")])}, "G_ema")


def test_file_sha256_streams_in_chunks(tmp_path):
    path = tmp_path / "blob.bin"
    data = np.random.default_rng(0).bytes(10_000)
    path.write_bytes(data)
    want = hashlib.sha256(data).hexdigest()
    assert file_sha256(path) == want
    assert file_sha256(path, chunk_size=7) == want
    with pytest.raises(ModelFileError, match="no such file"):
        file_sha256(tmp_path / "nope.bin")


def test_to_jsonable_and_sizes():
    value = {"a": np.float64(0.5), "b": torch.tensor([3]), "c": (1, np.int64(2)), 4: np.arange(2)}
    assert to_jsonable(value) == {"a": 0.5, "b": 3, "c": [1, 2], "4": [0, 1]}
    assert describe_size(999) == "999" and describe_size(24_943_026) == "24.9 M"
