"""Opening models: native ``.safetensors`` files and NVlabs ``.pkl`` snapshots, one door.

Everything that opens a model goes through :func:`open_model`, which returns a
:class:`LoadedModel` with a ready ``G_ema`` (eval mode, no gradients) on the requested
device, plus ``G`` / ``D`` for fine-tuning when asked. Native files name their network
family (``architecture``: ``"stylegan2"`` or ``"dcgan"``), looked up in the registry
:data:`batikstudio.core.nets.ARCHITECTURES`. NVlabs pickles are read with the
restricted unpickler of :mod:`batikstudio.io.nvlabs_pickle` (nothing in them runs) and can
be converted once to the native format with :func:`import_pickle`.

Loaded inference models are kept in a small LRU cache keyed by (file sha256, device):
treat a cached ``G_ema`` as read-only. Training nets are never cached.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

import torch

from batikstudio import __version__
from batikstudio.core.nets import ARCHITECTURES, DiscriminatorConfig, GeneratorConfig, architecture_of
from batikstudio.errors import ModelFileError
from batikstudio.io.modelfile import (
    MODEL_SUFFIX, ModelFile, ModelMeta, check_state_dict, file_sha256, read_model_file,
    save_model_file,
)
from batikstudio.io.nvlabs_pickle import NetRecord, NvlabsSnapshot, read_nvlabs_snapshot
from batikstudio.jobs import JobContext
from batikstudio.runtime import resolve_device

log = logging.getLogger(__name__)

CACHE_SIZE = 3
_cache: "collections.OrderedDict[tuple[str, str], LoadedModel]" = collections.OrderedDict()
_sha_memo: dict[tuple[str, int, int], str] = {}
_lock = threading.Lock()


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A model ready to use.

    Attributes:
        G_ema: the generator to render with (eval mode, ``requires_grad`` off).
        meta: the model's metadata (configs, training record, provenance).
        sha256: hash of the file it was opened from (keys caches and provenance).
        path: that file.
        class_labels: one name per class for conditional models, ``()`` otherwise.
        G: the training generator, only with ``with_training_nets=True`` and when stored.
        D: the discriminator, likewise.
    """

    G_ema: torch.nn.Module
    meta: ModelMeta
    sha256: str
    path: Path
    class_labels: tuple[str, ...] = ()
    G: torch.nn.Module | None = None
    D: torch.nn.Module | None = None

    @property
    def G_config(self) -> GeneratorConfig:
        return self.G_ema.cfg

    @property
    def trained_tileable(self) -> bool:
        """Trained with wrap-around padding: it draws best (and seamlessly) rendered that way."""
        return trained_tileable(self)


def trained_tileable(model: Any) -> bool:
    """Whether ``model`` (anything with ``meta.training``) was trained with ``--tileable``."""
    training = getattr(getattr(model, "meta", None), "training", None) or {}
    options = training.get("options") if isinstance(training, Mapping) else None
    return bool(isinstance(options, Mapping) and options.get("tileable", False))


@dataclass(frozen=True)
class ImportReport:
    """What :func:`import_pickle` converted."""

    source: Path
    destination: Path
    nets: tuple[str, ...]
    num_params: Mapping[str, int]
    meta: ModelMeta


@dataclass(frozen=True)
class ImportRequest:
    """Job request: convert ``src`` (NVlabs ``.pkl``) to ``dst`` (``.safetensors``)."""

    src: Path
    dst: Path


def _architecture(name: str, source: str) -> tuple:
    if name not in ARCHITECTURES:
        known = ", ".join(sorted(ARCHITECTURES))
        raise ModelFileError(f"{source}: unknown architecture {name!r} (known: {known})")
    return ARCHITECTURES[name]


def _build_net(cls: type, cfg: Any) -> torch.nn.Module:
    # fresh nets are built on the CPU without disturbing the caller's random stream
    with torch.random.fork_rng(devices=[]):
        return cls(cfg)


def _load_net(cls: type, cfg: Any, state: Mapping[str, torch.Tensor], what: str,
              source: str) -> torch.nn.Module:
    net = _build_net(cls, cfg)
    check_state_dict(net.state_dict(), state, what, source=source)
    net.load_state_dict(state, strict=True)
    return net


def _configs(meta: ModelMeta, source: str) -> tuple[Any, Any]:
    g_cfg_cls, _, d_cfg_cls, _ = _architecture(meta.architecture, source)
    try:
        g_cfg = g_cfg_cls.from_dict(meta.G_config)
        d_cfg = d_cfg_cls.from_dict(meta.D_config) if meta.D_config is not None else None
    except ValueError as exc:
        raise ModelFileError(f"{source}: invalid network config ({exc})") from exc
    return g_cfg, d_cfg


def _class_labels(meta: ModelMeta, c_dim: int, source: str) -> tuple[str, ...]:
    labels = tuple(meta.class_labels)
    if labels and len(labels) != c_dim:
        raise ModelFileError(f"{source}: {len(labels)} class labels for a model with c_dim {c_dim}")
    return labels or tuple(f"class {i}" for i in range(c_dim))


def build_loaded_model(model: ModelFile, path: Path, sha256: str, device: torch.device,
                       with_training_nets: bool = False) -> LoadedModel:
    """Turn an in-memory :class:`ModelFile` into nets on ``device``.

    Raises:
        ModelFileError: if a config is invalid or tensors do not match it (naming the tensor).
    """
    source = path.name
    meta = model.meta
    g_cfg, d_cfg = _configs(meta, source)
    _, g_cls, _, d_cls = _architecture(meta.architecture, source)
    G_ema = _load_net(g_cls, g_cfg, model.state_dict("G_ema"), "G_ema", source)
    G_ema.to(device).eval().requires_grad_(False)
    G = D = None
    if with_training_nets:
        if "G" in model.nets:
            G = _load_net(g_cls, g_cfg, model.state_dict("G"), "G", source).to(device)
        if "D" in model.nets and d_cfg is not None:
            D = _load_net(d_cls, d_cfg, model.state_dict("D"), "D", source).to(device)
    return LoadedModel(G_ema=G_ema, meta=meta, sha256=sha256, path=path,
                       class_labels=_class_labels(meta, g_cfg.c_dim, source), G=G, D=D)


def model_sha256(path: str | os.PathLike[str]) -> str:
    """:func:`file_sha256`, remembered per (path, size, mtime) so reopening is cheap."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError as exc:
        raise ModelFileError(f"{path}: no such file") from exc
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _lock:
        if key in _sha_memo:
            return _sha_memo[key]
    digest = file_sha256(path)
    with _lock:
        _sha_memo[key] = digest
    return digest


def is_pickle_file(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` looks like a pickle / torch.save file rather than safetensors."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(9)
            size = os.fstat(fh.fileno()).st_size
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read ({exc.strerror})") from exc
    # safetensors first: its 8-byte header length may well start with 0x80 (a pickle's mark)
    if len(head) == 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") <= size - 8:
        return False
    if head[:1] == b"\x80" or head[:4] == b"PK\x03\x04":
        return True
    return Path(path).suffix.lower() in (".pkl", ".pickle", ".pt", ".pth")


def open_model(path: str | os.PathLike[str], device: str | torch.device = "cpu",
               with_training_nets: bool = False) -> LoadedModel:
    """Open a native model file or an NVlabs pickle.

    Args:
        path: ``.safetensors`` model file or NVlabs ``.pkl`` snapshot (detected by content).
        device: ``"cpu"``, ``"cuda"``, ``"auto"`` ... (see :func:`resolve_device`).
        with_training_nets: also build ``G`` and ``D`` when the file has them (not cached).

    Returns:
        A :class:`LoadedModel`; inference models come from an LRU cache keyed by
        (sha256, device) when already open.

    Raises:
        ModelFileError / UnsafePickleError: on any problem with the file (one line).
        ValueError: for an unknown or unavailable device.
    """
    path = Path(path)
    dev = resolve_device(device)
    sha = model_sha256(path)
    key = (sha, str(dev))
    if not with_training_nets:
        with _lock:
            if key in _cache:
                _cache.move_to_end(key)
                return _cache[key]
    if is_pickle_file(path):
        model = snapshot_to_model_file(read_nvlabs_snapshot(path), path, sha)
    else:
        model = read_model_file(path, nets=None if with_training_nets else ["G_ema"])
    loaded = build_loaded_model(model, path, sha, dev, with_training_nets)
    if not with_training_nets:
        with _lock:
            _cache[key] = loaded
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return loaded


def clear_model_cache() -> None:
    """Forget every cached model (and remembered file hashes)."""
    with _lock:
        _cache.clear()
        _sha_memo.clear()


def _g_config(rec: NetRecord, source: str, what: str) -> GeneratorConfig:
    try:
        return GeneratorConfig.from_nvlabs_kwargs(rec.init_kwargs)
    except ValueError as exc:
        raise ModelFileError(f"{source}: {what} cannot be converted ({exc})") from exc


def _d_config(snap: NvlabsSnapshot, source: str) -> DiscriminatorConfig | None:
    if snap.D is None:
        return None
    kwargs = dict(snap.D.init_kwargs)
    t_dim = snap.D.attrs.get("t_dim")
    diffusion = snap.diffusion is not None or t_dim is not None
    if isinstance(t_dim, int) and "t_dim" not in kwargs:
        kwargs["t_dim"] = t_dim
    try:
        return DiscriminatorConfig.from_nvlabs_kwargs(kwargs, diffusion=diffusion)
    except ValueError as exc:
        raise ModelFileError(f"{source}: D cannot be converted ({exc})") from exc


def _training_record(snap: NvlabsSnapshot) -> dict[str, Any]:
    record: dict[str, Any] = {"source": "nvlabs-pickle"}
    if snap.training_set_kwargs is not None:
        record["dataset"] = snap.training_set_kwargs
    progress = snap.progress or {}
    if progress:
        record["progress"] = progress
        if isinstance(progress.get("cur_nimg"), (int, float)):
            record["kimg"] = progress["cur_nimg"] / 1000
    if snap.diffusion is not None:
        diff = {k: snap.diffusion[k] for k in (
            "p", "T", "t_min", "t_max", "noise_std", "beta_schedule", "beta_start", "beta_end",
            "ts_dist", "aug_type", "ada_maxp") if k in snap.diffusion}
        if "p" not in diff and isinstance(progress.get("cur_p"), (int, float)):
            diff["p"] = float(progress["cur_p"])
        record["diffusion"] = diff
    if snap.augment is not None:
        record["augment"] = {"kind": "ada", "p": snap.augment.get("p"),
                             "options": snap.augment.get("init_kwargs", {})}
    return record


def snapshot_to_model_file(snap: NvlabsSnapshot, source_path: Path, sha256: str) -> ModelFile:
    """Convert a read NVlabs snapshot into an in-memory :class:`ModelFile`.

    Checks every tensor name and shape against our nets built from the stored kwargs.

    Raises:
        ModelFileError: if the kwargs are unsupported or a tensor does not match, naming it.
    """
    source = source_path.name
    g_cfg = _g_config(snap.G_ema, source, "G_ema")
    if snap.G is not None and _g_config(snap.G, source, "G") != g_cfg:
        raise ModelFileError(f"{source}: G and G_ema have different configurations")
    d_cfg = _d_config(snap, source)
    _, g_cls, _, d_cls = ARCHITECTURES["stylegan2"]
    expected_g = _build_net(g_cls, g_cfg).state_dict()
    check_state_dict(expected_g, snap.G_ema.state_dict, "G_ema", source=source)
    if snap.G is not None:
        check_state_dict(expected_g, snap.G.state_dict, "G", source=source)
    if d_cfg is not None and snap.D is not None:
        check_state_dict(_build_net(d_cls, d_cfg).state_dict(), snap.D.state_dict, "D", source=source)
    meta = ModelMeta(
        G_config=g_cfg.to_dict(),
        D_config=d_cfg.to_dict() if d_cfg is not None else None,
        architecture="stylegan2",
        class_labels=tuple(f"class {i}" for i in range(g_cfg.c_dim)),
        training=_training_record(snap),
        provenance={
            "source_file": source, "source_sha256": sha256, "source_format": "nvlabs-pickle",
            "importer": "batikstudio.io.models.import_pickle",
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "software": f"batikstudio {__version__}",
        },
        name=source_path.stem,
        description=f"Imported from {source}",
    )
    return ModelFile.from_state_dicts(
        meta, G_ema=snap.G_ema.state_dict,
        G=snap.G.state_dict if snap.G is not None else None,
        D=snap.D.state_dict if snap.D is not None else None,
    )


def import_pickle(src_pkl: str | os.PathLike[str], dst_safetensors: str | os.PathLike[str],
                  ctx: JobContext | None = None) -> ImportReport:
    """Convert an NVlabs snapshot pickle into a native model file, once.

    ``G_ema`` is always converted; ``G``, ``D``, Diffusion-GAN ``p`` / ``T`` / progress and
    ADA ``p`` go into the file when present. Nothing in the pickle is executed.

    Args:
        src_pkl: the ``.pkl`` snapshot.
        dst_safetensors: the output; must end in ``.safetensors`` and differ from the source.
        ctx: optional job context (status, progress, cancellation between steps).

    Raises:
        ModelFileError / UnsafePickleError: for a bad, hostile or unsupported pickle.
        ExportError: if the output cannot be written.
        Cancelled: if ``ctx`` was cancelled (no output is written).
    """
    src, dst = Path(src_pkl), Path(dst_safetensors)
    if dst.suffix.lower() != MODEL_SUFFIX:
        raise ModelFileError(f"the output {dst.name} must end in {MODEL_SUFFIX}")
    if dst.exists() and src.exists() and dst.resolve() == src.resolve():
        raise ModelFileError("the output file must differ from the input file")
    steps = 3

    def step(done: int, text: str) -> None:
        if ctx is not None:
            ctx.check()
            ctx.status(text)
            ctx.progress(done, steps)

    step(0, f"reading {src.name}")
    sha = model_sha256(src)
    snap = read_nvlabs_snapshot(src)
    step(1, "checking networks")
    model = snapshot_to_model_file(snap, src, sha)
    step(2, f"writing {dst.name}")
    save_model_file(dst, model)
    if ctx is not None:
        ctx.progress(steps, steps)
    nets = model.nets
    counts = {n: sum(t.numel() for t in model.state_dict(n).values()) for n in nets}
    log.info("imported %s -> %s (%s)", src, dst, ", ".join(nets))
    return ImportReport(source=src, destination=dst, nets=nets, num_params=counts, meta=model.meta)


def run_import(request: ImportRequest, ctx: JobContext) -> ImportReport:
    """Job form of :func:`import_pickle` (``fn(request, ctx)``)."""
    return import_pickle(request.src, request.dst, ctx)


def new_random_model(cfg: Any, seed: int, path: str | os.PathLike[str],
                     d_cfg: Any = None, name: str = "", description: str = "") -> Path:
    """Write an untrained model (the family's random init) to ``path``.

    The same ``cfg`` and ``seed`` always give the same tensors. With ``d_cfg`` a matching
    untrained ``G`` (copy of ``G_ema``) and ``D`` are stored too, for training from scratch.
    The architecture follows the config's type (:class:`GeneratorConfig` -> ``"stylegan2"``,
    ``DCGANGeneratorConfig`` -> ``"dcgan"``).

    Raises:
        ExportError: if the file cannot be written.
    """
    architecture = architecture_of(cfg)
    _, g_cls, _, d_cls = ARCHITECTURES[architecture]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        g_sd = g_cls(cfg).state_dict()
        d_sd = d_cls(d_cfg).state_dict() if d_cfg is not None else None
    meta = ModelMeta(
        G_config=cfg.to_dict(), D_config=d_cfg.to_dict() if d_cfg is not None else None,
        architecture=architecture, class_labels=tuple(f"class {i}" for i in range(cfg.c_dim)),
        training={"kimg": 0, "untrained": True, "seed": seed},
        provenance={"created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "software": f"batikstudio {__version__}",
                    "importer": "batikstudio.io.models.new_random_model"},
        name=name or Path(path).stem, description=description or "Untrained random model",
    )
    model = ModelFile.from_state_dicts(meta, G_ema=g_sd, G=g_sd if d_sd is not None else None, D=d_sd)
    return save_model_file(path, model)
