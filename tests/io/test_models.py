"""Model glue: import NVlabs pickles, open models (pkl or native), cache, random models, CLI."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from batikstudio.cli.main import main
from batikstudio.core.nets import GeneratorConfig
from batikstudio.errors import ModelFileError, UnsafePickleError
from batikstudio.io.modelfile import file_sha256, read_model_file
from batikstudio.io.models import (
    ImportRequest, clear_model_cache, import_pickle, new_random_model, open_model, run_import,
)
from batikstudio.jobs import Cancelled, RecordingContext
from tests.io.nvlabs_pickles import Call, NvlabsPickler, build_snapshot, load_fixture, write_pickle

TOL = 1e-4


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_model_cache()
    yield
    clear_model_cache()


@pytest.fixture()
def sentinel(tmp_path):
    path = tmp_path / "SENTINEL"
    yield path
    assert not path.exists(), "something in the pickle was executed"


@pytest.fixture()
def diffgan_pkl(tmp_path, sentinel):
    obj = build_snapshot("diffgan-rgb-32", sentinel, diffusion={"p": 0.25, "T": 13})
    return write_pickle(obj, tmp_path / "network-snapshot-000123.pkl")


@torch.no_grad()
def _assert_reproduces_reference(G, ref):
    z, c = ref["z_seeds0123"], ref["c_seeds0123"]
    c = c if c.shape[1] else None
    ws = G.mapping(z, c, truncation_psi=0.7)
    assert (ws - ref["ws_psi0.7"]).abs().max().item() < TOL
    img = G.synthesis(ref["ws_psi0.7"], noise_mode="const")
    assert img.shape == ref["img_psi0.7_const"].shape
    assert (img - ref["img_psi0.7_const"]).abs().max().item() < TOL


def test_import_pickle_converts_everything(tmp_path, diffgan_pkl):
    ctx = RecordingContext()
    dst = tmp_path / "batik.safetensors"
    report = import_pickle(diffgan_pkl, dst, ctx)
    assert report.nets == ("G_ema", "G", "D") and report.destination == dst
    assert ctx.progress_log[-1] == (3, 3) and ctx.status_log[0].startswith("reading")
    model = read_model_file(dst)
    config, g_sd, d_sd, _ = load_fixture("diffgan-rgb-32")
    for name, value in g_sd.items():
        assert torch.equal(model.tensors[f"G_ema.{name}"], value)
        assert torch.equal(model.tensors[f"G.{name}"], value + 1)
    for name, value in d_sd.items():
        assert torch.equal(model.tensors[f"D.{name}"], value)
    meta = model.meta
    assert meta.D_config["t_dim"] == 1 and meta.G_config["img_resolution"] == 32
    assert meta.training["diffusion"]["p"] == 0.25 and meta.training["diffusion"]["T"] == 13
    assert meta.training["kimg"] == 123.0 and meta.training["progress"]["best_fid"] == 41.5
    assert meta.training["dataset"]["path"] == "batik.zip"
    assert meta.provenance["source_sha256"] == file_sha256(diffgan_pkl)
    assert meta.provenance["source_file"] == diffgan_pkl.name and meta.class_labels == ()


def test_opened_pickle_and_imported_file_reproduce_reference(tmp_path, diffgan_pkl):
    _, _, _, ref = load_fixture("diffgan-rgb-32")
    direct = open_model(diffgan_pkl)
    _assert_reproduces_reference(direct.G_ema, ref)
    assert not direct.G_ema.training and not any(p.requires_grad for p in direct.G_ema.parameters())
    dst = tmp_path / "m.safetensors"
    import_pickle(diffgan_pkl, dst)
    native = open_model(dst, with_training_nets=True)
    _assert_reproduces_reference(native.G_ema, ref)
    with torch.no_grad():
        logits = native.D(ref["img_psi0.7_const"], None, ref["D_t"])
    assert (logits - ref["D_logits"]).abs().max().item() < 1e-3
    assert native.sha256 == file_sha256(dst)


def test_conditional_gray_model_round_trip(tmp_path, sentinel):
    pkl = write_pickle(build_snapshot("sg2ada-gray-cond-32", sentinel, with_G=False),
                       tmp_path / "cond.pkl", fmt="torch_zip")
    dst = tmp_path / "cond.safetensors"
    import_pickle(pkl, dst)
    loaded = open_model(dst)
    assert loaded.class_labels == ("class 0", "class 1", "class 2")
    _assert_reproduces_reference(loaded.G_ema, load_fixture("sg2ada-gray-cond-32")[3])
    assert loaded.G is None and loaded.D is None


def test_cache_by_hash_and_device(tmp_path):
    cfg = GeneratorConfig(z_dim=8, c_dim=0, w_dim=8, img_resolution=8, img_channels=3,
                          channel_base=64, channel_max=16, mapping_layers=2)
    path = new_random_model(cfg, seed=3, path=tmp_path / "r.safetensors")
    first, again = open_model(path), open_model(path, device="cpu")
    assert first is again
    training = open_model(path, with_training_nets=True)
    assert training is not first and training.G is None  # untrained G_ema-only file
    copy = tmp_path / "copy.safetensors"
    copy.write_bytes(path.read_bytes())
    assert open_model(copy) is first  # same content, same hash
    with pytest.raises(ValueError, match="unknown device"):
        open_model(path, device="warp-drive")


def test_new_random_model_is_deterministic(tmp_path):
    cfg = GeneratorConfig(z_dim=8, c_dim=2, w_dim=8, img_resolution=16, img_channels=1,
                          channel_base=128, channel_max=16, mapping_layers=2)
    a = read_model_file(new_random_model(cfg, seed=5, path=tmp_path / "a.safetensors"))
    b = read_model_file(new_random_model(cfg, seed=5, path=tmp_path / "b.safetensors"))
    c = read_model_file(new_random_model(cfg, seed=6, path=tmp_path / "c.safetensors"))
    assert a.tensors.keys() == b.tensors.keys()
    assert all(torch.equal(a.tensors[k], b.tensors[k]) for k in a.tensors)
    assert any(not torch.equal(a.tensors[k], c.tensors[k]) for k in a.tensors)
    assert a.meta.G_config == cfg.to_dict() and a.meta.class_labels == ("class 0", "class 1")
    G = open_model(tmp_path / "a.safetensors").G_ema
    with torch.no_grad():
        img = G(torch.randn(2, 8), torch.eye(2))
    assert img.shape == (2, 1, 16, 16) and torch.isfinite(img).all()


def _rewrite(src, dst, change_tensors=None, change_meta=None):
    with safe_open(str(src), "pt") as fh:
        meta = json.loads(fh.metadata()["batikstudio"])
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    if change_tensors:
        change_tensors(tensors)
    if change_meta:
        change_meta(meta)
    save_file(tensors, str(dst), metadata={"batikstudio": json.dumps(meta)})
    return dst


def test_tensors_that_mismatch_the_config_are_named(tmp_path, diffgan_pkl):
    good = tmp_path / "good.safetensors"
    import_pickle(diffgan_pkl, good)

    def shrink(t):
        t["G_ema.synthesis.b8.conv0.weight"] = t["G_ema.synthesis.b8.conv0.weight"][:64].contiguous()

    bad = _rewrite(good, tmp_path / "shape.safetensors", change_tensors=shrink)
    with pytest.raises(ModelFileError) as exc:
        open_model(bad)
    assert str(exc.value) == ("shape.safetensors: G_ema.synthesis.b8.conv0.weight has shape "
                              "[64, 128, 3, 3], expected [128, 128, 3, 3]")
    missing = _rewrite(good, tmp_path / "missing.safetensors",
                       change_tensors=lambda t: t.pop("G_ema.mapping.w_avg"))
    with pytest.raises(ModelFileError, match="G_ema.mapping.w_avg is missing"):
        open_model(missing)
    wrong_cfg = _rewrite(good, tmp_path / "cfg.safetensors",
                         change_meta=lambda m: m["G_config"].update(channel_max=64))
    with pytest.raises(ModelFileError, match="has shape"):
        open_model(wrong_cfg)
    invalid = _rewrite(good, tmp_path / "invalid.safetensors",
                       change_meta=lambda m: m["G_config"].update(img_resolution=33))
    with pytest.raises(ModelFileError, match="invalid network config"):
        open_model(invalid)
    arch = _rewrite(good, tmp_path / "arch.safetensors",
                    change_meta=lambda m: m.update(architecture="stylegan9"))
    with pytest.raises(ModelFileError, match="unknown architecture 'stylegan9'"):
        open_model(arch)


def test_hostile_pickle_is_refused_by_open_and_import(tmp_path, sentinel):
    obj = build_snapshot("sg2ada-gray-cond-32", sentinel, with_G=False, with_D=False)
    obj["G_ema"].state["_parameters"]["bomb"] = Call("os", "system", (f"touch {sentinel}",))
    path = tmp_path / "evil.pkl"
    with open(path, "wb") as fh:
        NvlabsPickler(fh, 3).dump(obj)
    with pytest.raises(UnsafePickleError, match="os.system"):
        open_model(path)
    with pytest.raises(UnsafePickleError, match="os.system"):
        import_pickle(path, tmp_path / "out.safetensors")
    assert not (tmp_path / "out.safetensors").exists()


def test_import_checks_output_and_cancellation(tmp_path, diffgan_pkl):
    with pytest.raises(ModelFileError, match="must end in .safetensors"):
        import_pickle(diffgan_pkl, tmp_path / "out.pkl")
    ctx = RecordingContext(cancel_after=1)
    with pytest.raises(Cancelled):
        run_import(ImportRequest(diffgan_pkl, tmp_path / "out.safetensors"), ctx)
    assert not (tmp_path / "out.safetensors").exists()


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("batikstudio: error: ")
    return err[0]


def test_cli_import_and_model_info(tmp_path, diffgan_pkl, capsys):
    out = tmp_path / "cli.safetensors"
    assert main(["import", str(diffgan_pkl), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "G_ema" in text and "D (" in text and "p 0.25, T 13" in text and "kimg: 123" in text
    assert main(["model", "info", str(out)]) == 0
    info = capsys.readouterr().out
    assert file_sha256(out) in info and "32x32" in info and "diffusion:    p 0.25, T 13" in info
    assert main(["model", "info", "--json", str(diffgan_pkl)]) == 0
    assert json.loads(capsys.readouterr().out)["training"]["diffusion"]["T"] == 13


def test_cli_model_new(tmp_path, capsys):
    out = tmp_path / "new.safetensors"
    args = ["model", "new", "--res", "16", "--channel-base", "256", "--channel-max", "16",
            "--seed", "4", "-o", str(out)]
    assert main(args) == 0
    assert "16x16" in capsys.readouterr().out
    model = read_model_file(out)
    assert model.meta.G_config["img_resolution"] == 16 and model.nets == ("G_ema",)
    assert main(args[:-2] + ["--with-d", "-o", str(tmp_path / "d.safetensors")]) == 0
    assert read_model_file(tmp_path / "d.safetensors").nets == ("G_ema", "G", "D")


@pytest.mark.parametrize("case", ["hostile", "garbage_pkl", "empty_pkl", "garbage_safetensors",
                                  "missing", "bad_res"])
def test_cli_user_errors_exit_2_with_one_line(tmp_path, sentinel, capsys, case):
    if case == "hostile":
        path = tmp_path / "evil.pkl"
        with open(path, "wb") as fh:
            NvlabsPickler(fh, 3).dump({"G_ema": Call("subprocess", "Popen", (["touch", str(sentinel)],))})
        argv = ["import", str(path), "-o", str(tmp_path / "o.safetensors")]
        want = "refusing to load evil.pkl: it asks for subprocess.Popen"
    elif case == "garbage_pkl":
        (tmp_path / "g.pkl").write_bytes(b"\x80\x04garbage" * 50)
        argv, want = ["import", str(tmp_path / "g.pkl")], "not a readable network pickle"
    elif case == "empty_pkl":
        (tmp_path / "e.pkl").write_bytes(b"")
        argv, want = ["import", str(tmp_path / "e.pkl")], "e.pkl is empty"
    elif case == "garbage_safetensors":
        (tmp_path / "g.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{garbage")
        argv, want = ["model", "info", str(tmp_path / "g.safetensors")], "not a readable model file"
    elif case == "missing":
        argv, want = ["model", "info", str(tmp_path / "none.safetensors")], "no such file"
    else:
        argv = ["model", "new", "--res", "48", "-o", str(tmp_path / "x.safetensors")]
        want = "img_resolution must be a power of two"
    assert main(argv) == 2
    assert want in _one_error_line(capsys)


def test_safetensors_whose_header_length_starts_with_0x80_is_not_a_pickle(tmp_path):
    from batikstudio.io.models import is_pickle_file

    header = b'{"__metadata__":{"x":"' + b"y" * (0x4580 - 24) + b'"}}'
    header = header[:0x4580 - 2] + b"}}"
    path = tmp_path / "m.safetensors"
    path.write_bytes((0x4580).to_bytes(8, "little") + header)
    assert path.read_bytes()[0] == 0x80
    assert not is_pickle_file(path)
    pkl = tmp_path / "x.bin"
    pkl.write_bytes(b"\x80\x04\x95" + b"\x00" * 20)
    assert is_pickle_file(pkl)
