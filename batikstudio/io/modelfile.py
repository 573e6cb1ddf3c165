"""Native model files: one ``.safetensors`` file per model, loaded without running code.

Layout of a model file:

* tensors: the state dicts of the networks, each name prefixed by its net: ``G_ema.*``
  (always), ``G.*`` and ``D.*`` (optional, for fine-tuning), and ``extra.*`` for anything
  else a model carries (latent directions, statistics). Tensors are stored as saved
  (normally float32); shapes follow the NVlabs parameter names.
* metadata: safetensors' string metadata holds one key, ``batikstudio``, whose value is a
  JSON object with ``format`` ("batikstudio-model"), ``format_version`` (1),
  ``architecture`` ("stylegan2" or "dcgan"), ``G_config`` and ``D_config`` (dicts of the network
  configs), ``class_labels`` (list of names, ``[]`` when unconditional), ``training``
  (dataset, kimg, losses, options, metrics, Diffusion-GAN p/T ...), ``provenance`` (source
  file + sha256, importer, created time, software version), ``name`` and ``description``.

Reading never executes code: safetensors is a JSON header plus raw little-endian buffers.
Every problem with a file (missing, truncated, garbage, foreign, newer format, tensors that
do not match the config) is raised as a one-line :class:`~batikstudio.errors.ModelFileError`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from batikstudio.errors import ModelFileError
from batikstudio.io.atomic import atomic_path

FORMAT = "batikstudio-model"
FORMAT_VERSION = 1
META_KEY = "batikstudio"
NET_NAMES = ("G_ema", "G", "D")
EXTRA = "extra"
MODEL_SUFFIX = ".safetensors"


@dataclass(frozen=True)
class ModelMeta:
    """Everything about a model except its tensors (the JSON in the file's metadata).

    Attributes:
        G_config: generator config as a dict (``GeneratorConfig.to_dict()``).
        D_config: discriminator config dict, or ``None`` when the file has no ``D.*``.
        architecture: registry name of the network family (``"stylegan2"``, ``"dcgan"``).
        class_labels: one name per class for conditional models, ``()`` otherwise.
        training: training record (dataset, kimg, losses, options, metrics, diffusion ...).
        provenance: where the model came from (source, sha256, importer, created, software).
        name: short display name.
        description: free text for the model card.
        format_version: model file format version the metadata follows.
    """

    G_config: dict[str, Any]
    D_config: dict[str, Any] | None = None
    architecture: str = "stylegan2"
    class_labels: tuple[str, ...] = ()
    training: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    description: str = ""
    format_version: int = FORMAT_VERSION

    def replace(self, **changes: Any) -> "ModelMeta":
        """Return a copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dict stored under the ``batikstudio`` metadata key."""
        return {
            "format": FORMAT,
            "format_version": self.format_version,
            "architecture": self.architecture,
            "G_config": to_jsonable(self.G_config),
            "D_config": to_jsonable(self.D_config),
            "class_labels": [str(x) for x in self.class_labels],
            "training": to_jsonable(self.training),
            "provenance": to_jsonable(self.provenance),
            "name": self.name,
            "description": self.description,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, source: str = "model file") -> "ModelMeta":
        """Parse and validate the metadata JSON.

        Raises:
            ModelFileError: on invalid JSON, a foreign format, a newer format version or
                missing / mistyped fields.
        """
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, TypeError) as exc:
            raise ModelFileError(f"{source}: model metadata is not valid JSON") from exc
        if not isinstance(data, dict):
            raise ModelFileError(f"{source}: model metadata is not a JSON object")
        return cls._from_dict(data, source)

    @classmethod
    def _from_dict(cls, data: dict[str, Any], source: str) -> "ModelMeta":
        if data.get("format") != FORMAT:
            raise ModelFileError(
                f"{source} is not a Batik Studio model (metadata format is {data.get('format')!r})"
            )
        version = data.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ModelFileError(f"{source}: invalid model format_version {version!r}")
        if version > FORMAT_VERSION:
            raise ModelFileError(
                f"{source} uses model format version {version}, but this Batik Studio reads "
                f"up to version {FORMAT_VERSION}; please update Batik Studio"
            )
        expect = {
            "architecture": str, "G_config": dict, "D_config": (dict, type(None)),
            "class_labels": list, "training": dict, "provenance": dict,
            "name": str, "description": str,
        }
        for key, kind in expect.items():
            if key not in data:
                raise ModelFileError(f"{source}: model metadata lacks {key!r}")
            if not isinstance(data[key], kind):
                raise ModelFileError(f"{source}: model metadata field {key!r} has the wrong type")
        return cls(
            G_config=data["G_config"], D_config=data["D_config"],
            architecture=data["architecture"],
            class_labels=tuple(str(x) for x in data["class_labels"]),
            training=data["training"], provenance=data["provenance"],
            name=data["name"], description=data["description"], format_version=version,
        )


@dataclass(frozen=True)
class ModelFile:
    """A model in memory: prefixed tensors plus metadata.

    Attributes:
        tensors: ``{"G_ema.mapping.fc0.weight": tensor, ...}``; CPU tensors as stored.
        meta: the model's :class:`ModelMeta`.
    """

    tensors: Mapping[str, torch.Tensor]
    meta: ModelMeta

    @classmethod
    def from_state_dicts(
        cls,
        meta: ModelMeta,
        G_ema: Mapping[str, torch.Tensor],
        G: Mapping[str, torch.Tensor] | None = None,
        D: Mapping[str, torch.Tensor] | None = None,
        extra: Mapping[str, torch.Tensor] | None = None,
    ) -> "ModelFile":
        """Prefix plain state dicts (``{"mapping.fc0.weight": ...}``) into one ModelFile."""
        tensors: dict[str, torch.Tensor] = {}
        for prefix, sd in (("G_ema", G_ema), ("G", G), ("D", D), (EXTRA, extra)):
            for key, value in (sd or {}).items():
                tensors[f"{prefix}.{key}"] = value
        return cls(tensors=tensors, meta=meta)

    @property
    def nets(self) -> tuple[str, ...]:
        """Names of the networks present (``"G_ema"`` first, then ``"G"``, ``"D"``)."""
        found = {name.split(".", 1)[0] for name in self.tensors}
        return tuple(n for n in NET_NAMES if n in found)

    def state_dict(self, net: str) -> dict[str, torch.Tensor]:
        """The tensors of one net (``"G_ema"``, ``"G"``, ``"D"`` or ``"extra"``), unprefixed."""
        head = net + "."
        return {k[len(head):]: v for k, v in self.tensors.items() if k.startswith(head)}


def to_jsonable(value: Any) -> Any:
    """Turn numpy scalars/arrays, small tensors, tuples and paths into plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value.item() if value.size == 1 and value.ndim <= 1 else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise ModelFileError(f"cannot store a value of type {type(value).__name__} in model metadata")


def _validate_names(names: Iterable[str], source: str) -> None:
    for name in names:
        head, sep, rest = name.partition(".")
        if not sep or not rest or head not in (*NET_NAMES, EXTRA):
            raise ModelFileError(
                f"{source}: unexpected tensor name {name!r} "
                "(model tensors are named G_ema.*, G.*, D.* or extra.*)"
            )


HALF_MAX = 65504.0  # the largest finite float16


def half_tensors(tensors: Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], list[str]]:
    """float32 tensors as float16 where every value fits in float16's range.

    Returns:
        ``(tensors, kept)``: the converted mapping (other dtypes untouched) and the names of
        the float32 tensors kept as they were because a value exceeds :data:`HALF_MAX`.

    >>> out, kept = half_tensors({"a": torch.ones(2), "b": torch.full((1,), 1e6), "c": torch.ones(1, dtype=torch.bool)})
    >>> out["a"].dtype, out["b"].dtype, out["c"].dtype, kept
    (torch.float16, torch.float32, torch.bool, ['b'])
    """
    out: dict[str, torch.Tensor] = {}
    kept: list[str] = []
    for name, value in tensors.items():
        if value.dtype != torch.float32:
            out[name] = value
            continue
        fits = value.numel() == 0 or float(value.abs().max()) <= HALF_MAX  # NaN does not fit
        if not fits:
            kept.append(name)
        out[name] = value.to(torch.float16) if fits else value
    return out, kept


def save_model_file(path: str | os.PathLike[str], model: ModelFile, half: bool = False) -> Path:
    """Write ``model`` to ``path`` (a ``.safetensors`` file) atomically.

    Tensors are saved contiguous on the CPU in their own dtype; with ``half``, float32
    tensors are stored as float16 (see :func:`half_tensors`) and the provenance records
    ``storage: float16``. Reading widens them back to float32.

    Raises:
        ModelFileError: if there are no ``G_ema.*`` tensors, a name is malformed, ``D.*``
            tensors come without a ``D_config``, or the metadata is not JSON-serialisable.
        ExportError: if the file cannot be written (folder missing, disk full).
    """
    path = Path(path)
    _validate_names(model.tensors, path.name)
    nets = model.nets
    if "G_ema" not in nets:
        raise ModelFileError(f"{path.name}: a model file needs G_ema tensors")
    if "D" in nets and model.meta.D_config is None:
        raise ModelFileError(f"{path.name}: D tensors given without a D_config")
    meta = model.meta
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.tensors.items()}
    if half:
        tensors, kept = half_tensors(tensors)
        storage = {"storage": "float16"} | ({"kept_float32": kept} if kept else {})
        meta = meta.replace(provenance=dict(meta.provenance) | storage)
    metadata = {META_KEY: meta.to_json()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
    return path


def _open_error(path: Path, exc: BaseException) -> ModelFileError:
    if isinstance(exc, FileNotFoundError):
        return ModelFileError(f"{path}: no such file")
    if isinstance(exc, IsADirectoryError):
        return ModelFileError(f"{path} is a folder, not a model file")
    if isinstance(exc, PermissionError):
        return ModelFileError(f"{path}: permission denied")
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ModelFileError(f"{path.name} is not a readable model file (truncated or corrupt: {detail})")


def _check_is_file(path: Path) -> None:
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder, not a model file")
    if not path.exists():
        raise ModelFileError(f"{path}: no such file")


def _meta_from_header(path: Path, header: Mapping[str, str] | None) -> ModelMeta:
    if not header or META_KEY not in header:
        raise ModelFileError(
            f"{path.name} is a safetensors file but not a Batik Studio model "
            f"(no {META_KEY!r} metadata); import NVlabs .pkl files with 'batikstudio import'"
        )
    return ModelMeta.from_json(header[META_KEY], source=path.name)


def read_model_meta(path: str | os.PathLike[str]) -> ModelMeta:
    """Read only the metadata of a model file (fast: the header, no tensor data).

    Raises:
        ModelFileError: see :func:`read_model_file`.
    """
    path = Path(path)
    _check_is_file(path)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            header = fh.metadata()
    except (SafetensorError, OSError, ValueError) as exc:
        raise _open_error(path, exc) from exc
    return _meta_from_header(path, header)


def read_model_file(
    path: str | os.PathLike[str], nets: Iterable[str] | None = None
) -> ModelFile:
    """Read a model file written by :func:`save_model_file`.

    Args:
        path: the ``.safetensors`` file.
        nets: which nets to load (e.g. ``["G_ema"]``); ``None`` loads every tensor.

    Returns:
        A :class:`ModelFile` with CPU tensors (half-precision ones widened to float32).

    Raises:
        ModelFileError: if the file is missing, truncated or garbage, is not a Batik Studio
            model, has a newer format version, invalid metadata, malformed tensor names, no
            ``G_ema`` tensors, or ``D`` tensors without a ``D_config``.
    """
    path = Path(path)
    wanted = None if nets is None else set(nets)
    _check_is_file(path)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            meta = _meta_from_header(path, fh.metadata())
            names = list(fh.keys())
            _validate_names(names, path.name)
            keep = [n for n in names if wanted is None or n.split(".", 1)[0] in wanted]
            tensors = {name: _widen(fh.get_tensor(name)) for name in keep}
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise _open_error(path, exc) from exc
    present = {n.split(".", 1)[0] for n in names}
    if "G_ema" not in present:
        raise ModelFileError(f"{path.name}: the model file has no G_ema tensors")
    if "D" in present and meta.D_config is None:
        raise ModelFileError(f"{path.name}: the model file has D tensors but no D_config")
    return ModelFile(tensors=tensors, meta=meta)


def _widen(value: torch.Tensor) -> torch.Tensor:
    """Half-precision storage back to float32 (the networks compute in float32)."""
    return value.float() if value.dtype in (torch.float16, torch.bfloat16) else value


def _fmt_shape(shape: Iterable[int]) -> str:
    return "[" + ", ".join(str(int(s)) for s in shape) + "]"


def check_state_dict(
    expected: Mapping[str, torch.Size | tuple[int, ...] | torch.Tensor],
    actual: Mapping[str, torch.Tensor],
    what: str,
    source: str = "",
) -> None:
    """Check that ``actual`` has exactly the tensor names and shapes in ``expected``.

    Args:
        expected: name -> shape (or a tensor whose shape is taken), e.g. from
            ``{k: v.shape for k, v in net.state_dict().items()}``.
        actual: name -> tensor, names without prefix.
        what: the prefix shown in messages, e.g. ``"G_ema"`` gives
            ``"G_ema.synthesis.b8.conv0.weight has shape [64, 128, 3, 3], expected [128, 128, 3, 3]"``.
        source: optional file name put in front of the message.

    Raises:
        ModelFileError: one line naming the first missing, extra or mis-shaped tensor and
            how many other problems there are.
    """
    def full(name: str) -> str:
        return f"{what}.{name}" if what else name

    problems: list[str] = []
    for name, want in expected.items():
        want_shape = tuple(want.shape) if isinstance(want, torch.Tensor) else tuple(want)
        if name not in actual:
            problems.append(f"{full(name)} is missing")
        elif tuple(actual[name].shape) != want_shape:
            problems.append(
                f"{full(name)} has shape {_fmt_shape(actual[name].shape)}, "
                f"expected {_fmt_shape(want_shape)}"
            )
    problems += [f"{full(name)} is not expected" for name in actual if name not in expected]
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        lead = f"{source}: " if source else ""
        raise ModelFileError(f"{lead}{problems[0]}{more}")


def check_finite(tensors: Mapping[str, torch.Tensor], what: str, source: str = "") -> None:
    """Raise :class:`ModelFileError` naming the first floating tensor holding NaN or inf."""
    for name, value in tensors.items():
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            lead = f"{source}: " if source else ""
            raise ModelFileError(f"{lead}{what}.{name} contains NaN or infinite values")


def file_sha256(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """SHA-256 of a file as 64 hex digits, read in chunks (never the whole file at once).

    Raises:
        ModelFileError: if the file cannot be read.
    """
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while block := fh.read(chunk_size):
                digest.update(block)
    except OSError as exc:
        raise _open_error(Path(path), exc) from exc
    return digest.hexdigest()


def describe_size(num_params: int) -> str:
    """Human-readable parameter count, e.g. ``"24.8 M"``."""
    if num_params < 1000:
        return str(num_params)
    exp = min(int(math.log10(num_params) // 3), 3)
    return f"{num_params / 10 ** (3 * exp):.1f} {' kMG'[exp]}"
