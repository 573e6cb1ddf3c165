"""Safe reader for NVlabs network pickles (stylegan2-ada-pytorch, Diffusion-GAN).

A snapshot ``.pkl`` is ``pickle.dump(dict)`` with ``G``, ``D``, ``G_ema``, ``augment_pipe``
or ``diffusion``, ``training_set_kwargs`` and (Diffusion-GAN) ``progress``. Each network is a
"persistent" record ``torch_utils.persistence._reconstruct_persistent_obj(meta)`` whose
``meta`` carries the whole ``networks.py`` source, which the original loader ``exec``s.

This module never runs that source, never imports a module named in the file and refuses
every global outside a short allow-list (``_RestrictedUnpickler._allowed``: OrderedDict,
set, torch's tensor / parameter rebuild functions and storage types, numpy dtype / scalar /
array rebuilds, ``dnnlib.util.EasyDict``, the persistent-record constructor, inert stand-ins
for Diffusion-GAN's ``Identity`` / ``DiffAugment``): a pickle asking for ``os.system`` or
``builtins.eval`` raises :class:`~batikstudio.errors.UnsafePickleError` before anything is
called. Persistent records become :class:`PersistentRecord` objects
(class name + state) that are flattened into plain state dicts.

Tensors may be stored in two ways, both supported: ``torch.storage._load_from_bytes`` (what
``pickle.dump`` of a module writes: each storage is a tiny legacy ``torch.save`` stream,
parsed here with the same restricted unpickler) or persistent-id storages (a ``torch.save``
zip archive or legacy stream). Older TensorFlow pickles are refused with a clear message.
"""

from __future__ import annotations

import collections
import io
import logging
import os
import pickle
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable, Mapping

import numpy as np
import torch

from batikstudio.errors import BatikError, ModelFileError, UnsafePickleError

log = logging.getLogger(__name__)

# the network classes of stylegan2-ada-pytorch / Diffusion-GAN networks.py
NETWORK_CLASSES = frozenset({
    "Generator", "MappingNetwork", "SynthesisNetwork", "SynthesisBlock", "SynthesisLayer",
    "ToRGBLayer", "FullyConnectedLayer", "Conv2dLayer", "Discriminator", "DiscriminatorBlock",
    "DiscriminatorEpilogue", "MinibatchStdLayer",
})
# augmentation / diffusion records: only their probability and schedule state is read
AUX_CLASSES = frozenset({"AugmentPipe", "Diffusion", "AdaAugment", "ADA"})
KNOWN_RECORD_CLASSES = NETWORK_CLASSES | AUX_CLASSES

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_MAX_DEPTH = 64

_STORAGE_DTYPES = {
    "FloatStorage": torch.float32, "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16, "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64, "IntStorage": torch.int32, "ShortStorage": torch.int16,
    "CharStorage": torch.int8, "ByteStorage": torch.uint8, "BoolStorage": torch.bool,
}


class EasyDict(dict):
    """Stands in for ``dnnlib.util.EasyDict``: a plain dict (no attribute magic needed)."""


class InertModule:
    """Stands in for harmless plain modules (``training.diffusion.Identity``, ``DiffAugment``).

    It only stores the state handed to it; it has no behaviour.
    """

    def __setstate__(self, state: Any) -> None:
        self.state = state


@dataclass
class PersistentRecord:
    """A persistent-class object as stored: its class name and its ``__dict__``.

    ``module_src`` from the pickle is dropped on purpose: it is code and is never kept.
    """

    class_name: str
    state: dict[str, Any]
    version: int | None = None


@dataclass
class NetRecord:
    """One network taken out of a pickle.

    Attributes:
        class_name: NVlabs class name (``"Generator"``, ``"Discriminator"``).
        init_kwargs: constructor keyword arguments as plain Python values.
        state_dict: name -> CPU tensor (parameters and persistent buffers), NVlabs names.
        attrs: plain attributes of the top module (``z_dim``, ``t_dim``, ...).
    """

    class_name: str
    init_kwargs: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class NvlabsSnapshot:
    """The useful content of an NVlabs snapshot pickle.

    ``diffusion`` holds Diffusion-GAN's schedule state (``p``, ``T``, ``t_min``, ``t_max``,
    ``noise_std`` ...); ``augment`` holds ADA's ``p``; ``progress`` holds ``cur_nimg``,
    ``cur_tick``, ``batch_idx``, ``cur_p``, ``best_fid``, ``pl_mean`` as Python numbers.
    """

    G_ema: NetRecord
    G: NetRecord | None = None
    D: NetRecord | None = None
    diffusion: dict[str, Any] | None = None
    augment: dict[str, Any] | None = None
    progress: dict[str, Any] | None = None
    training_set_kwargs: dict[str, Any] | None = None


@dataclass(frozen=True)
class _StorageType:
    """What ``torch.FloatStorage`` etc. resolve to: only a dtype, never a callable."""

    dtype: torch.dtype


class _Storage:
    """A flat storage: a 1-D tensor that tensors are strided views of."""

    def __init__(self, flat: torch.Tensor) -> None:
        self.flat = flat


def _storage_nbytes(dtype: torch.dtype, numel: int) -> int:
    return numel * torch.empty((), dtype=dtype).element_size()


def _flat_from_bytes(data: bytes | memoryview, dtype: torch.dtype, numel: int) -> torch.Tensor:
    if numel == 0:
        return torch.empty(0, dtype=dtype)
    return torch.frombuffer(bytearray(data), dtype=dtype, count=numel)


def _rebuild_tensor_v2(storage: Any, offset: Any, size: Any, stride: Any,
                       requires_grad: Any = False, hooks: Any = None,
                       metadata: Any = None) -> torch.Tensor:
    if not isinstance(storage, _Storage):
        raise ModelFileError("a tensor in the pickle has no valid storage")
    size, stride = tuple(size), tuple(stride)
    if (
        not isinstance(offset, int) or offset < 0 or len(size) != len(stride)
        or not all(isinstance(v, int) and v >= 0 for v in size + stride)
    ):
        raise ModelFileError("a tensor in the pickle has an invalid shape or layout")
    extent = offset + sum((s - 1) * st for s, st in zip(size, stride)) + 1
    if all(s > 0 for s in size) and extent > storage.flat.numel():
        raise ModelFileError("a tensor in the pickle reaches past the end of its storage")
    return storage.flat.as_strided(size, stride, offset)


def _rebuild_parameter(data: Any, requires_grad: Any = False, hooks: Any = None,
                       state: Any = None) -> torch.Tensor:
    if not isinstance(data, torch.Tensor):
        raise ModelFileError("a parameter in the pickle is not a tensor")
    return data


def _check_dtype(dtype: np.dtype) -> np.dtype:
    if dtype.hasobject:
        raise UnsafePickleError("it holds a numpy object array, which is refused")
    return dtype


def _np_dtype(obj: Any, align: Any = False, copy: Any = False) -> np.dtype:
    if not isinstance(obj, str):
        raise ModelFileError("invalid numpy dtype in the pickle")
    return _check_dtype(np.dtype(obj, bool(align), bool(copy)))


_NP_SCALAR = np.float64(0).__reduce__()[0]
_NP_RECONSTRUCT = np.ndarray((0,)).__reduce__()[0]


def _np_scalar(dtype: Any, data: Any = None) -> Any:
    if not isinstance(dtype, np.dtype):
        raise ModelFileError("invalid numpy scalar in the pickle")
    _check_dtype(dtype)
    return _NP_SCALAR(dtype, data)


def _np_reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    if subtype is not np.ndarray:
        raise ModelFileError("invalid numpy array in the pickle")
    return _NP_RECONSTRUCT(subtype, shape, dtype)


def _codecs_encode(text: Any, encoding: Any = "utf-8") -> bytes:
    # protocol-2 pickles store bytes as _codecs.encode(str, 'latin1')
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError("it asks for _codecs.encode with an unusual codec")
    return text.encode("latin1")


class _RestrictedUnpickler(pickle._Unpickler):  # type: ignore[name-defined]
    """Unpickler with an allow-list of globals and stubs for NVlabs records.

    ``storages`` resolves persistent ids (``torch.save`` formats); when it is ``None`` a
    persistent id is an error, as in a plain ``pickle.dump`` snapshot.

    It derives from the pure-Python unpickler on purpose: its memo is a dict, whereas the C
    unpickler grows (and zero-fills) a memo array up to any index a corrupt file names,
    which can exhaust memory. Our files hold few, large opcodes, so speed is not an issue.
    """

    def __init__(self, fh: BinaryIO, source: str,
                 storages: Callable[[tuple], _Storage] | None = None) -> None:
        super().__init__(fh)
        self._source = source
        self._storages = storages
        self._allowed: dict[tuple[str, str], Any] = {
            ("collections", "OrderedDict"): collections.OrderedDict,
            ("builtins", "set"): set,
            ("builtins", "frozenset"): frozenset,
            ("_codecs", "encode"): _codecs_encode,
            ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
            ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
            ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
            ("torch.storage", "_load_from_bytes"): self._load_from_bytes,
            ("numpy", "dtype"): _np_dtype,
            ("numpy", "ndarray"): np.ndarray,
            ("numpy.core.multiarray", "scalar"): _np_scalar,
            ("numpy._core.multiarray", "scalar"): _np_scalar,
            ("numpy.core.multiarray", "_reconstruct"): _np_reconstruct,
            ("numpy._core.multiarray", "_reconstruct"): _np_reconstruct,
            ("dnnlib.util", "EasyDict"): EasyDict,
            ("torch_utils.persistence", "_reconstruct_persistent_obj"): self._reconstruct,
            ("training.diffusion", "Identity"): InertModule,
            # Diffusion-GAN's optional --aug diff module: plain torch module, never called
            ("training.diffaug", "DiffAugment"): InertModule,
        }
        for name, dtype in _STORAGE_DTYPES.items():
            self._allowed[("torch", name)] = _StorageType(dtype)

    def find_class(self, module: str, name: str) -> Any:
        module = {"__builtin__": "builtins", "copy_reg": "copyreg"}.get(module, module)
        found = self._allowed.get((module, name))
        if found is not None:
            return found
        if module.startswith("dnnlib.tflib"):
            raise ModelFileError(
                f"{self._source} is an old TensorFlow StyleGAN pickle ({module}.{name}); "
                "only PyTorch pickles (stylegan2-ada-pytorch, Diffusion-GAN) are supported"
            )
        raise UnsafePickleError(
            f"refusing to load {self._source}: it asks for {module}.{name}, which could run code"
        )

    def persistent_load(self, pid: Any) -> Any:
        if self._storages is None:
            raise ModelFileError(f"{self._source}: unexpected persistent reference in the pickle")
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise ModelFileError(f"{self._source}: unsupported persistent reference in the pickle")
        return self._storages(pid)

    def _reconstruct(self, meta: Any) -> PersistentRecord:
        if not isinstance(meta, dict) or meta.get("type") != "class":
            raise ModelFileError(f"{self._source}: malformed persistent record")
        class_name = meta.get("class_name")
        state = meta.get("state")
        if not isinstance(class_name, str) or not isinstance(state, dict):
            raise ModelFileError(f"{self._source}: malformed persistent record")
        if class_name not in KNOWN_RECORD_CLASSES:
            raise UnsafePickleError(
                f"refusing to load {self._source}: it holds a network of unknown class "
                f"{class_name!r}, not a StyleGAN2 network"
            )
        version = meta.get("version")
        return PersistentRecord(class_name, dict(state), version if isinstance(version, int) else None)

    def _load_from_bytes(self, data: Any) -> _Storage:
        if not isinstance(data, (bytes, bytearray)):
            raise ModelFileError(f"{self._source}: invalid tensor storage")
        return _load_legacy_storage_bytes(bytes(data), self._source)


def _load_legacy_stream(buf: bytes, source: str) -> Any:
    """Parse a legacy (pre-zip) ``torch.save`` stream held in ``buf`` with the allow-list."""
    fh = io.BytesIO(buf)
    if _RestrictedUnpickler(fh, source).load() != _LEGACY_MAGIC:
        raise ModelFileError(f"{source}: invalid tensor storage (bad magic number)")
    if _RestrictedUnpickler(fh, source).load() != _LEGACY_PROTOCOL:
        raise ModelFileError(f"{source}: unsupported legacy torch serialisation version")
    sys_info = _RestrictedUnpickler(fh, source).load()
    if isinstance(sys_info, dict) and sys_info.get("little_endian") is False:
        raise ModelFileError(f"{source}: big-endian tensor data is not supported")
    pending: dict[str, _Storage] = {}

    def storage_for(pid: tuple) -> _Storage:
        if len(pid) < 5 or not isinstance(pid[1], _StorageType) or (len(pid) > 5 and pid[5]):
            raise ModelFileError(f"{source}: unsupported tensor storage reference")
        key, numel = str(pid[2]), pid[4]
        if key not in pending:
            if not isinstance(numel, int) or _storage_nbytes(pid[1].dtype, numel) > len(buf):
                raise ModelFileError(f"{source}: tensor storage larger than the file")
            pending[key] = _Storage(torch.empty(numel, dtype=pid[1].dtype))
        return pending[key]

    obj = _RestrictedUnpickler(fh, source, storages=storage_for).load()
    keys = _RestrictedUnpickler(fh, source).load()
    if not isinstance(keys, list):
        raise ModelFileError(f"{source}: invalid tensor storage index")
    view = memoryview(buf)
    pos = fh.tell()
    for key in keys:
        if key not in pending or pos + 8 > len(buf):
            raise ModelFileError(f"{source}: tensor data is truncated or inconsistent")
        storage = pending[key]
        (numel,) = struct.unpack_from("<q", buf, pos)
        nbytes = _storage_nbytes(storage.flat.dtype, numel)
        if numel != storage.flat.numel() or pos + 8 + nbytes > len(buf):
            raise ModelFileError(f"{source}: tensor data is truncated or inconsistent")
        storage.flat.copy_(_flat_from_bytes(view[pos + 8:pos + 8 + nbytes], storage.flat.dtype, numel))
        pos += 8 + nbytes
    return obj


def _load_legacy_storage_bytes(buf: bytes, source: str) -> _Storage:
    obj = _load_legacy_stream(buf, source)
    if not isinstance(obj, _Storage):
        raise ModelFileError(f"{source}: invalid tensor storage")
    return obj


def _load_zip(path: Path, source: str) -> Any:
    """Load a ``torch.save`` zip archive whose tensors are persistent-id storages."""
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.endswith("data.pkl")]
        if not names:
            raise ModelFileError(f"{source} is a zip archive but not a saved network")
        root = names[0][: -len("data.pkl")]
        if root + "byteorder" in archive.namelist():
            if archive.read(root + "byteorder").strip() != b"little":
                raise ModelFileError(f"{source}: big-endian tensor data is not supported")
        loaded: dict[str, _Storage] = {}

        def storage_for(pid: tuple) -> _Storage:
            if len(pid) < 5 or not isinstance(pid[1], _StorageType):
                raise ModelFileError(f"{source}: unsupported tensor storage reference")
            key, numel, dtype = str(pid[2]), pid[4], pid[1].dtype
            if key not in loaded:
                try:
                    info = archive.getinfo(f"{root}data/{key}")
                except KeyError as exc:
                    raise ModelFileError(f"{source}: tensor data {key!r} is missing") from exc
                if not isinstance(numel, int) or info.file_size != _storage_nbytes(dtype, numel):
                    raise ModelFileError(f"{source}: tensor data {key!r} has the wrong size")
                loaded[key] = _Storage(_flat_from_bytes(archive.read(info), dtype, numel))
            return loaded[key]

        with archive.open(names[0]) as fh:
            return _RestrictedUnpickler(fh, source, storages=storage_for).load()


# what truncated or garbage input makes the unpickler and its helpers raise
_CORRUPT_ERRORS = (
    pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, KeyError,
    IndexError, OverflowError, RuntimeError, MemoryError, RecursionError, struct.error,
    zipfile.BadZipFile, UnicodeDecodeError,
)


def load_pickle_object(path: str | os.PathLike[str]) -> Any:
    """Unpickle ``path`` with the allow-list and return the raw object (records as stubs).

    Accepts plain ``pickle.dump`` files and ``torch.save`` files (zip or legacy format).

    Raises:
        UnsafePickleError: if the file asks for a global outside the allow-list or holds a
            record of an unknown class; nothing in the file has been executed.
        ModelFileError: if the file is missing, empty, truncated, garbage, or a TensorFlow
            pickle.
    """
    path = Path(path)
    source = path.name
    try:
        if path.stat().st_size == 0:
            raise ModelFileError(f"{source} is empty")
        if zipfile.is_zipfile(path):
            return _load_zip(path, source)
        with open(path, "rb") as fh:
            head = fh.read(16)
            if head[2:14] == b"\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19":
                return _load_legacy_stream(head + fh.read(), source)
            fh.seek(0)
            return _RestrictedUnpickler(fh, source).load()
    except BatikError as exc:
        if source in str(exc):
            raise
        lead = f"refusing to load {source}" if isinstance(exc, UnsafePickleError) else source
        raise type(exc)(f"{lead}: {exc}") from exc
    except FileNotFoundError as exc:
        raise ModelFileError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise ModelFileError(f"{path} is a folder, not a network pickle") from exc
    except PermissionError as exc:
        raise ModelFileError(f"{path}: permission denied") from exc
    except _CORRUPT_ERRORS as exc:
        log.debug("%s: unpickling failed: %r", source, exc)
        raise ModelFileError(f"{source} is not a readable network pickle (truncated or corrupt)") from exc


def _plain(value: Any, source: str, depth: int = 0) -> Any:
    """Convert EasyDicts, numpy values and small tensors to plain JSON-able Python values."""
    if depth > _MAX_DEPTH:
        raise ModelFileError(f"{source}: network arguments are nested too deeply")
    if isinstance(value, Mapping):
        return {str(k): _plain(v, source, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, source, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v, source, depth + 1) for v in value)
    if isinstance(value, torch.Tensor):
        value = value.detach().numpy()
    if isinstance(value, np.ndarray):
        return value.item() if value.size == 1 and value.ndim <= 1 else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise ModelFileError(f"{source}: unexpected {type(value).__name__} among network arguments")


def _plain_attrs(state: Mapping[str, Any], source: str) -> dict[str, Any]:
    attrs = {}
    for key, value in state.items():
        if key.startswith("_") or key == "training":
            continue
        if value is None or isinstance(value, (str, bool, int, float, np.generic)):
            attrs[key] = _plain(value, source)
    return attrs


def _flatten(record: PersistentRecord | InertModule, prefix: str, out: dict[str, torch.Tensor],
             source: str, seen: set[int], depth: int = 0) -> None:
    if depth > _MAX_DEPTH or id(record) in seen:
        raise ModelFileError(f"{source}: network modules are nested too deeply or in a loop")
    seen.add(id(record))
    state = record.state if isinstance(record.state, dict) else {}
    skip = state.get("_non_persistent_buffers_set") or ()
    entries = list((state.get("_parameters") or {}).items())
    entries += [(k, v) for k, v in (state.get("_buffers") or {}).items() if k not in skip]
    for name, tensor in entries:
        if tensor is None:
            continue
        if not isinstance(tensor, torch.Tensor):
            raise ModelFileError(f"{source}: {prefix}{name} is not a tensor")
        # a fresh contiguous copy: no views into shared storages, no attributes, no hooks
        out[prefix + name] = tensor.detach().clone(memory_format=torch.contiguous_format)
    for name, child in (state.get("_modules") or {}).items():
        if child is None:
            continue
        if not isinstance(child, (PersistentRecord, InertModule)):
            raise ModelFileError(f"{source}: {prefix}{name} is not a network module")
        _flatten(child, f"{prefix}{name}.", out, source, seen, depth + 1)


def net_record(record: Any, source: str, what: str) -> NetRecord:
    """Turn a persistent network record into a :class:`NetRecord` (flat state dict)."""
    if not isinstance(record, PersistentRecord) or record.class_name not in NETWORK_CLASSES:
        found = getattr(record, "class_name", type(record).__name__)
        raise ModelFileError(f"{source}: {what} is not an NVlabs network (found {found})")
    state_dict: dict[str, torch.Tensor] = {}
    _flatten(record, "", state_dict, source, set())
    kwargs = record.state.get("_init_kwargs") or {}
    args = record.state.get("_init_args") or ()
    if not isinstance(kwargs, Mapping) or not isinstance(args, (tuple, list)):
        raise ModelFileError(f"{source}: {what} has malformed constructor arguments")
    if args:
        log.warning("%s: %s has positional constructor arguments %r; ignored", source, what, args)
    return NetRecord(
        class_name=record.class_name,
        init_kwargs=_plain(kwargs, source),
        state_dict=state_dict,
        attrs=_plain_attrs(record.state, source),
    )


def _diffusion_state(record: Any, source: str) -> dict[str, Any] | None:
    if record is None:
        return None
    if not isinstance(record, PersistentRecord) or record.class_name != "Diffusion":
        raise ModelFileError(f"{source}: 'diffusion' is not a Diffusion-GAN Diffusion record")
    info = _plain_attrs(record.state, source)
    if "num_timesteps" in info:
        info["T"] = int(info["num_timesteps"])
    if "p" in info:
        info["p"] = float(info["p"])
    info["init_kwargs"] = _plain(record.state.get("_init_kwargs") or {}, source)
    return info


def _augment_state(record: Any, source: str) -> dict[str, Any] | None:
    if record is None:
        return None
    if not isinstance(record, PersistentRecord) or record.class_name not in AUX_CLASSES:
        raise ModelFileError(f"{source}: 'augment_pipe' is not an AugmentPipe record")
    p = (record.state.get("_buffers") or {}).get("p", record.state.get("p"))
    return {
        "kind": "ada",
        "class_name": record.class_name,
        "p": float(_plain(p, source)) if p is not None else None,
        "init_kwargs": _plain(record.state.get("_init_kwargs") or {}, source),
    }


def _progress(progress: Any, source: str) -> dict[str, Any] | None:
    if progress is None:
        return None
    if not isinstance(progress, Mapping):
        raise ModelFileError(f"{source}: 'progress' is not a dict")
    return {str(k): _plain(v, source) for k, v in progress.items()}


def read_nvlabs_snapshot(path: str | os.PathLike[str]) -> NvlabsSnapshot:
    """Read an NVlabs snapshot pickle without executing anything in it.

    Args:
        path: a ``network-snapshot-*.pkl`` / ``best_model.pkl`` style file.

    Returns:
        An :class:`NvlabsSnapshot`; tensors are float CPU tensors with NVlabs names.

    Raises:
        UnsafePickleError: for a global outside the allow-list or an unknown record class.
        ModelFileError: for a missing, empty, truncated, garbage or TensorFlow pickle, or
            one without a ``G_ema`` network.
    """
    path = Path(path)
    source = path.name
    data = load_pickle_object(path)
    if not isinstance(data, dict):
        raise ModelFileError(f"{source} is not an NVlabs network snapshot (no dict of networks)")
    if data.get("G_ema") is None:
        keys = ", ".join(sorted(str(k) for k in data)) or "none"
        raise ModelFileError(f"{source} has no G_ema network (keys: {keys})")
    optional = {k: net_record(data[k], source, k) if data.get(k) is not None else None
                for k in ("G", "D")}
    tsk = data.get("training_set_kwargs")
    return NvlabsSnapshot(
        G_ema=net_record(data["G_ema"], source, "G_ema"),
        G=optional["G"],
        D=optional["D"],
        diffusion=_diffusion_state(data.get("diffusion"), source),
        augment=_augment_state(data.get("augment_pipe"), source),
        progress=_progress(data.get("progress"), source),
        training_set_kwargs=_plain(tsk, source) if isinstance(tsk, Mapping) else None,
    )
