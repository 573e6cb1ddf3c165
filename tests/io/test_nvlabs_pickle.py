"""Restricted NVlabs pickle reader: faithful tensors, records, and refusal of hostile files.

Pickles are built by tests/io/nvlabs_pickles.py in the NVlabs layout; every record's
``module_src`` would create a sentinel file if it were executed.
"""

from __future__ import annotations

import collections
import io
import pickle

import numpy as np
import pytest
import torch

from batikstudio.errors import ModelFileError, UnsafePickleError
from batikstudio.io.nvlabs_pickle import load_pickle_object, read_nvlabs_snapshot
from tests.io.nvlabs_pickles import (
    Call, GlobalRef, IdentityOut, NvlabsPickler, Record, build_snapshot, load_fixture,
    sentinel_src, write_pickle,
)


@pytest.fixture()
def sentinel(tmp_path):
    path = tmp_path / "SENTINEL"
    yield path
    assert not path.exists(), "something in the pickle was executed"


def _dump(obj, path, protocol=3):
    with open(path, "wb") as fh:
        NvlabsPickler(fh, protocol).dump(obj)
    return path


def _assert_equal_sd(got, want, delta=0.0):
    assert set(got) == set(want)
    for name, value in want.items():
        assert got[name].dtype == value.dtype
        assert torch.equal(got[name], value + delta), name


@pytest.mark.parametrize("fmt", ["pickle", "torch_zip", "torch_legacy"])
def test_snapshot_tensors_equal_fixture(tmp_path, sentinel, fmt):
    path = write_pickle(build_snapshot("sg2ada-rgb-64", sentinel, augment_p=0.125),
                        tmp_path / "network-snapshot-000100.pkl", fmt)
    snap = read_nvlabs_snapshot(path)
    config, g_sd, d_sd, _ = load_fixture("sg2ada-rgb-64")
    _assert_equal_sd(snap.G_ema.state_dict, g_sd)
    _assert_equal_sd(snap.G.state_dict, g_sd, delta=1)
    _assert_equal_sd(snap.D.state_dict, d_sd)
    assert snap.G_ema.class_name == "Generator" and snap.D.class_name == "Discriminator"
    assert snap.G_ema.init_kwargs == config["G_init_kwargs"]
    assert snap.D.init_kwargs == config["D_init_kwargs"]
    assert snap.G_ema.attrs["act_gain"] == pytest.approx(np.sqrt(2))
    assert snap.augment["p"] == 0.125 and snap.augment["init_kwargs"]["xflip"] == 1
    assert snap.diffusion is None and snap.progress is None
    assert snap.training_set_kwargs["resolution"] == 64
    assert "scratch" not in snap.G_ema.state_dict  # non-persistent buffers are skipped


@pytest.mark.parametrize("protocol", [2, 4])
def test_other_protocols_and_old_numpy_names(tmp_path, sentinel, protocol):
    snap_obj = build_snapshot("sg2ada-gray-cond-32", sentinel, with_G=False, with_D=False,
                              old_numpy=True)
    snap = read_nvlabs_snapshot(write_pickle(snap_obj, tmp_path / "s.pkl", protocol=protocol))
    _, g_sd, _, _ = load_fixture("sg2ada-gray-cond-32")
    _assert_equal_sd(snap.G_ema.state_dict, g_sd)
    assert snap.G is None and snap.D is None
    assert snap.G_ema.init_kwargs["c_dim"] == 3
    assert isinstance(snap.G_ema.attrs["act_gain"], float)


def test_diffusion_gan_snapshot_carries_p_T_and_progress(tmp_path, sentinel):
    obj = build_snapshot("diffgan-rgb-32", sentinel, diffusion={"p": 0.25, "T": 13})
    snap = read_nvlabs_snapshot(write_pickle(obj, tmp_path / "best_model.pkl"))
    assert snap.diffusion["p"] == 0.25 and snap.diffusion["T"] == 13
    assert snap.diffusion["t_min"] == 10 and snap.diffusion["noise_std"] == 0.05
    assert snap.progress == {"cur_nimg": 123000, "cur_tick": 31, "cur_p": 0.25,
                             "batch_idx": 1922, "best_fid": 41.5}
    assert snap.D.attrs["t_dim"] == 1 and snap.augment is None


def test_control_plain_pickle_would_run_the_payload(tmp_path):
    """The hostile payloads are live: a plain unpickler runs them (so refusal matters)."""
    flag = tmp_path / "ran"
    path = _dump(Call("builtins", "exec", (sentinel_src(flag),)), tmp_path / "live.pkl")
    pickle.loads(path.read_bytes())  # our own payload, written just above
    assert flag.exists()


HOSTILE = [
    ("os", "system", lambda s: (f"touch {s}",)),
    ("posix", "system", lambda s: (f"touch {s}",)),
    ("subprocess", "Popen", lambda s: (["touch", str(s)],)),
    ("builtins", "eval", lambda s: (f"open({str(s)!r}, 'w')",)),
    ("builtins", "exec", lambda s: (sentinel_src(s),)),
    ("builtins", "getattr", lambda s: (0, "real")),
    ("importlib", "import_module", lambda s: ("os",)),
    ("__builtin__", "eval", lambda s: (f"open({str(s)!r}, 'w')",)),
    ("torch", "load", lambda s: (str(s),)),
    ("numpy", "load", lambda s: (str(s),)),
]


@pytest.mark.parametrize("module, name, args", HOSTILE, ids=[f"{m}.{n}" for m, n, _ in HOSTILE])
def test_hostile_global_deep_in_state_dict_is_refused(tmp_path, sentinel, module, name, args):
    obj = build_snapshot("sg2ada-gray-cond-32", sentinel, with_G=False, with_D=False)
    # hide the call inside a buffer of a nested layer: synthesis.b8.conv0
    layer = obj["G_ema"].state["_modules"]["synthesis"].state["_modules"]["b8"].state["_modules"]["conv0"]
    layer.state["_buffers"]["noise_const"] = Call(module, name, args(sentinel))
    path = _dump(obj, tmp_path / "evil.pkl")
    with pytest.raises(UnsafePickleError) as exc:
        read_nvlabs_snapshot(path)
    text = str(exc.value)
    shown = "builtins" if module == "__builtin__" else module
    assert text == f"refusing to load evil.pkl: it asks for {shown}.{name}, which could run code"


def test_unknown_record_class_is_refused(tmp_path, sentinel):
    obj = build_snapshot("sg2ada-gray-cond-32", sentinel, with_G=False, with_D=False)
    obj["G_ema"].state["_modules"]["mapping"] = Record("EvilLayer", {}, sentinel_src(sentinel))
    with pytest.raises(UnsafePickleError, match="unknown class 'EvilLayer'"):
        read_nvlabs_snapshot(_dump(obj, tmp_path / "evil.pkl"))


def test_reduce_on_allowed_stub_with_bad_arguments(tmp_path, sentinel):
    # a persistent record whose meta is not a dict, and a tensor past its storage
    with pytest.raises(ModelFileError, match="malformed persistent record"):
        load_pickle_object(_dump(Call("torch_utils.persistence", "_reconstruct_persistent_obj",
                                      ("meta",)), tmp_path / "a.pkl"))
    buf = io.BytesIO()
    torch.save(torch.ones(4)._typed_storage(), buf, _use_new_zipfile_serialization=False)
    storage = Call("torch.storage", "_load_from_bytes", (buf.getvalue(),))
    good = Call("torch._utils", "_rebuild_tensor_v2",
                (storage, 1, (3,), (1,), False, collections.OrderedDict()))
    assert torch.equal(load_pickle_object(_dump({"t": good}, tmp_path / "ok.pkl"))["t"], torch.ones(3))
    bad = Call("torch._utils", "_rebuild_tensor_v2",
               (storage, 0, (100,), (1,), False, collections.OrderedDict()))
    with pytest.raises(ModelFileError, match="^b.pkl: a tensor in the pickle reaches past the end"):
        load_pickle_object(_dump({"t": bad}, tmp_path / "b.pkl"))


def test_numpy_object_arrays_are_refused(tmp_path):
    with pytest.raises(UnsafePickleError, match="^refusing to load o.pkl: it holds a numpy object array"):
        load_pickle_object(_dump({"a": np.array([None, 1], dtype=object)}, tmp_path / "o.pkl"))


def test_inert_identity_module(tmp_path):
    obj = load_pickle_object(_dump({"aug": IdentityOut({"training": False}),
                                    "diff": Call("training.diffaug", "DiffAugment", ())},
                                   tmp_path / "i.pkl"))
    assert type(obj["aug"]).__name__ == "InertModule" and obj["aug"].state == {"training": False}
    assert type(obj["diff"]).__name__ == "InertModule"


def test_tensorflow_pickle_gets_a_clear_refusal(tmp_path):
    tf = (Call("dnnlib.tflib.network", "Network", ()), Call("dnnlib.tflib.network", "Network", ()))
    with pytest.raises(ModelFileError) as exc:
        read_nvlabs_snapshot(_dump(tf, tmp_path / "karras2019.pkl"))
    assert not isinstance(exc.value, UnsafePickleError)
    assert "TensorFlow" in str(exc.value)
    assert "only PyTorch pickles" in str(exc.value)


def test_unexpected_global_ref_in_plain_position(tmp_path):
    with pytest.raises(UnsafePickleError, match="it asks for shutil.rmtree"):
        load_pickle_object(_dump({"f": GlobalRef("shutil", "rmtree")}, tmp_path / "g.pkl"))


BROKEN = {"empty": "empty.pkl is empty", "truncated": "truncated or corrupt",
          "garbage": "truncated or corrupt", "text": "truncated or corrupt",
          "missing": "no such file", "not_dict": "not an NVlabs network snapshot",
          "no_g_ema": "has no G_ema network (keys: D, G)", "folder": "is a folder"}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_pickles_give_one_line_errors(tmp_path, sentinel, case):
    path = tmp_path / f"{case}.pkl"
    if case == "truncated":
        full = write_pickle(build_snapshot("sg2ada-gray-cond-32", sentinel, with_D=False),
                            tmp_path / "full.pkl")
        path.write_bytes(full.read_bytes()[: full.stat().st_size * 2 // 3])
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "garbage":
        path.write_bytes(bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8)))
    elif case == "text":
        path.write_text("this is not a pickle\n")
    elif case == "not_dict":
        _dump([1, 2, 3], path)
    elif case == "no_g_ema":
        _dump({"G": None, "D": None}, path)
    elif case == "folder":
        path.mkdir()
    with pytest.raises(ModelFileError) as exc:
        read_nvlabs_snapshot(path)
    text = str(exc.value)
    assert BROKEN[case] in text and "\n" not in text
