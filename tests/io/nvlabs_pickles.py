"""Test helper: build pickles in the NVlabs snapshot layout with our own code only.

Real NVlabs snapshots are ``pickle.dump(dict)`` of persistent-class modules; each module
pickles as ``torch_utils.persistence._reconstruct_persistent_obj(meta)`` with ``meta`` =
``{type, version, module_src, class_name, state}``. We reproduce the byte-level layout
without NVlabs' code: a pure-Python pickler whose dispatch table writes ``GLOBAL`` opcodes
for names that do not exist in this process (:class:`GlobalRef`), ``NEWOBJ`` for
``dnnlib.util.EasyDict`` and ``training.diffusion.Identity``, and lets torch pickle the
tensors itself (``_rebuild_tensor_v2`` + ``_load_from_bytes`` storages, or persistent-id
storages when written through ``torch.save``).

Every ``module_src`` is code that writes ``sentinel`` when executed, so a test can prove
that loading executed nothing.
"""

from __future__ import annotations

import collections
import io
import json
import pickle
import types
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file

from tests.conftest import SHARED

FIXTURES = Path(SHARED) / "fixtures" / "nvlabs"


class GlobalRef:
    """Pickles as ``GLOBAL module name`` (the name need not exist here)."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __call__(self, *args: Any) -> Any:  # save_reduce wants a callable
        raise RuntimeError("a GlobalRef is only a name for the pickler")


class Call:
    """Pickles as ``GLOBAL`` + args + ``REDUCE``: a call of ``module.name(*args)`` on load."""

    def __init__(self, module: str, name: str, args: tuple) -> None:
        self.func, self.args = GlobalRef(module, name), args

    def __reduce__(self) -> tuple:
        return (self.func, self.args)


class EasyDictOut(dict):
    """Pickles like ``dnnlib.util.EasyDict`` does (NEWOBJ of the class, then SETITEMS)."""


class IdentityOut:
    """Pickles like a plain ``training.diffusion.Identity`` module (NEWOBJ + BUILD)."""

    def __init__(self, state: dict) -> None:
        self.state = state


class Record:
    """A persistent-class module: pickles as ``_reconstruct_persistent_obj(meta)``."""

    def __init__(self, class_name: str, state: dict, module_src: str) -> None:
        self.class_name, self.state, self.module_src = class_name, state, module_src

    def __reduce__(self) -> tuple:
        meta = dict(type="class", version=6, module_src=self.module_src,
                    class_name=self.class_name, state=self.state)
        return (GlobalRef("torch_utils.persistence", "_reconstruct_persistent_obj"), (meta,))


def _write_global(pickler: Any, module: str, name: str) -> None:
    pickler.write(pickle.GLOBAL + module.encode() + b"\n" + name.encode() + b"\n")


class NvlabsPickler(pickle._Pickler):  # type: ignore[name-defined]
    """Pure-Python pickler with the extra dispatch entries described above."""

    dispatch = pickle._Pickler.dispatch.copy()  # type: ignore[attr-defined]

    def save_globalref(self, obj: GlobalRef) -> None:
        _write_global(self, obj.module, obj.name)
        self.memoize(obj)

    def save_easydict(self, obj: EasyDictOut) -> None:
        _write_global(self, "dnnlib.util", "EasyDict")
        self.write(pickle.EMPTY_TUPLE + pickle.NEWOBJ)
        self.memoize(obj)
        self._batch_setitems(iter(obj.items()))

    def save_identity(self, obj: IdentityOut) -> None:
        _write_global(self, "training.diffusion", "Identity")
        self.write(pickle.EMPTY_TUPLE + pickle.NEWOBJ)
        self.memoize(obj)
        self.save(obj.state)
        self.write(pickle.BUILD)

    dispatch[GlobalRef] = save_globalref
    dispatch[EasyDictOut] = save_easydict
    dispatch[IdentityOut] = save_identity


def _dump(obj: Any, fh: Any, protocol: int = 3) -> None:
    NvlabsPickler(fh, protocol).dump(obj)


# what torch.save needs of a pickle module, so that torch writes persistent-id storages
PICKLE_MODULE = types.SimpleNamespace(Pickler=NvlabsPickler, dump=_dump, __name__="nvlabs_pickles")


def sentinel_src(sentinel: Path) -> str:
    """Module source that creates ``sentinel`` when executed."""
    return f"import pathlib\npathlib.Path({str(sentinel)!r}).write_text('executed')\n"


def load_fixture(name: str) -> tuple[dict, dict[str, torch.Tensor], dict[str, torch.Tensor], dict]:
    """(config, G_ema state dict, D state dict, reference tensors) of a shared fixture."""
    folder = FIXTURES / name
    config = json.loads((folder / "config.json").read_text())
    return (config, load_file(folder / "G_ema.safetensors"), load_file(folder / "D.safetensors"),
            load_file(folder / "reference.safetensors"))


_G_CLASSES = {"mapping": "MappingNetwork", "synthesis": "SynthesisNetwork", "torgb": "ToRGBLayer",
              "affine": "FullyConnectedLayer", "embed": "FullyConnectedLayer"}
_D_CLASSES = {"mapping": "MappingNetwork", "fromrgb": "Conv2dLayer", "skip": "Conv2dLayer",
              "conv": "Conv2dLayer", "fc": "FullyConnectedLayer", "out": "FullyConnectedLayer",
              "embed": "FullyConnectedLayer", "mbstd": "MinibatchStdLayer"}


def _class_for(path: list[str], top: str) -> str:
    if not path:
        return top
    leaf = path[-1]
    if top == "Generator":
        if leaf in _G_CLASSES:
            return _G_CLASSES[leaf]
        if leaf.startswith("b") and leaf[1:].isdigit():
            return "SynthesisBlock"
        return "SynthesisLayer" if leaf.startswith("conv") else "FullyConnectedLayer"
    if leaf in _D_CLASSES:
        return _D_CLASSES[leaf]
    if leaf == "b4":
        return "DiscriminatorEpilogue"
    if leaf.startswith("b") and leaf[1:].isdigit():
        return "DiscriminatorBlock"
    return "Conv2dLayer" if leaf.startswith("conv") else "FullyConnectedLayer"


def _empty_state() -> dict:
    od = collections.OrderedDict
    return {"training": False, "_parameters": od(), "_buffers": od(),
            "_non_persistent_buffers_set": set(), "_backward_hooks": od(), "_forward_hooks": od(),
            "_forward_pre_hooks": od(), "_state_dict_hooks": od(),
            "_load_state_dict_pre_hooks": od(), "_modules": od()}


def build_record(top: str, state_dict: dict[str, torch.Tensor], buffers: set[str],
                 init_kwargs: dict, module_src: str, old_numpy: bool = False) -> Record:
    """A module tree of persistent records holding ``state_dict`` (NVlabs names).

    Parameters pickle as ``torch.nn.Parameter`` (``_rebuild_parameter``), buffers as
    tensors; every layer gets a numpy float64 ``act_gain`` and its own init kwargs; one
    non-persistent buffer per top module checks that those are skipped.
    """
    nodes: dict[tuple, Record] = {}

    def node(path: tuple) -> Record:
        if path not in nodes:
            state = _empty_state()
            gain = np.float64(np.sqrt(2))
            state["act_gain"] = Call("numpy.core.multiarray", "scalar",
                                     (np.dtype("f8"), gain.tobytes())) if old_numpy else gain
            state["_init_args"] = ()
            state["_init_kwargs"] = EasyDictOut(init_kwargs if not path else {"layer": ".".join(path)})
            nodes[path] = Record(_class_for(list(path), top), state, module_src)
            if path:
                node(path[:-1]).state["_modules"][path[-1]] = nodes[path]
        return nodes[path]

    node(())
    for name, tensor in state_dict.items():
        *mods, leaf = name.split(".")
        rec = node(tuple(mods))
        if name in buffers:
            rec.state["_buffers"][leaf] = tensor.clone()
        else:
            rec.state["_parameters"][leaf] = torch.nn.Parameter(tensor.clone(), requires_grad=False)
    root = nodes[()]
    root.state["_buffers"]["scratch"] = torch.full((3,), 7.0)
    root.state["_non_persistent_buffers_set"] = {"scratch"}
    if top == "Discriminator" and "b4" in root.state["_modules"]:
        node(("b4", "mbstd")).state["group_size"] = 4
    return root


def build_snapshot(fixture: str, sentinel: Path, *, with_G: bool = True, with_D: bool = True,
                   diffusion: dict | None = None, augment_p: float | None = None,
                   old_numpy: bool = False) -> dict:
    """The dict an NVlabs / Diffusion-GAN training loop would pickle, from a shared fixture.

    ``G`` holds the ``G_ema`` tensors plus 1 (so tests can tell them apart). ``diffusion``
    (e.g. ``{"p": 0.25, "T": 13}``) adds a Diffusion record and a ``progress`` dict.
    """
    config, g_sd, d_sd, _ = load_fixture(fixture)
    src = sentinel_src(sentinel)
    g_kwargs, d_kwargs = config["G_init_kwargs"], config["D_init_kwargs"]
    g_buf, d_buf = set(config["G_buffers"]), set(config["D_buffers"])
    snap: dict[str, Any] = {"training_set_kwargs": {
        "class_name": "training.dataset.ImageFolderDataset", "path": "batik.zip",
        "use_labels": g_kwargs["c_dim"] > 0, "xflip": True, "resolution": g_kwargs["img_resolution"]}}
    snap["G"] = build_record("Generator", {k: v + 1 for k, v in g_sd.items()}, g_buf, g_kwargs, src,
                             old_numpy) if with_G else None
    snap["D"] = build_record("Discriminator", d_sd, d_buf, d_kwargs, src, old_numpy) if with_D else None
    snap["G_ema"] = build_record("Generator", g_sd, g_buf, g_kwargs, src, old_numpy)
    if diffusion is not None:
        if snap["D"] is not None:
            snap["D"].state["t_dim"] = 1
        snap["diffusion"] = _diffusion_record(diffusion, src)
        snap["progress"] = {"cur_nimg": torch.LongTensor([123000]), "cur_tick": torch.LongTensor([31]),
                            "cur_p": torch.FloatTensor([diffusion["p"]]),
                            "batch_idx": torch.LongTensor([1922]), "best_fid": 41.5}
    else:
        snap["augment_pipe"] = _augment_record(augment_p, src) if augment_p is not None else None
    return snap


def _diffusion_record(info: dict, src: str) -> Record:
    state = _empty_state()
    T = int(info["T"])
    betas = torch.linspace(1e-4, 2e-2, T)
    state.update(p=np.float64(info["p"]), aug_type="no", ada_maxp=None, noise_type="gauss",
                 base_noise_type="gauss", beta_schedule="linear", beta_start=1e-4, beta_end=2e-2,
                 t_min=10, t_max=1000, t_add=990, ts_dist="priority", noise_std=0.05,
                 betas=betas, num_timesteps=T, t_epl=np.arange(64, dtype=np.int64) % (T + 1))
    state["_modules"]["aug"] = IdentityOut(_empty_state())
    state["_init_args"] = ()
    state["_init_kwargs"] = EasyDictOut(beta_schedule="linear", t_min=10, t_max=1000, noise_std=0.05,
                                        aug="no", ts_dist="priority")
    return Record("Diffusion", state, src)


def _augment_record(p: float, src: str) -> Record:
    state = _empty_state()
    state["_buffers"]["p"] = torch.tensor(float(p))
    state["_init_args"] = ()
    state["_init_kwargs"] = EasyDictOut(xflip=1, rotate90=1, xint=1, scale=1, rotate=1, aniso=1)
    return Record("AugmentPipe", state, src)


def write_pickle(obj: Any, path: Path, fmt: str = "pickle", protocol: int = 3) -> Path:
    """Write ``obj`` as an NVlabs-style file.

    ``fmt``: ``"pickle"`` (``pickle.dump``, tensors via ``_load_from_bytes``), ``"torch_zip"``
    or ``"torch_legacy"`` (``torch.save`` zip / legacy: persistent-id storages).
    """
    buf = io.BytesIO()
    if fmt == "pickle":
        NvlabsPickler(buf, protocol).dump(obj)
    elif fmt == "torch_zip":
        torch.save(obj, buf, pickle_module=PICKLE_MODULE, pickle_protocol=protocol)
    elif fmt == "torch_legacy":
        torch.save(obj, buf, pickle_module=PICKLE_MODULE, pickle_protocol=protocol,
                   _use_new_zipfile_serialization=False)
    else:
        raise ValueError(fmt)
    path.write_bytes(buf.getvalue())
    return path
