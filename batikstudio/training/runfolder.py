"""The run folder of a training run: config, snapshots, metrics, sample grids, log.

Layout::

    RUN/config.json                    TrainConfig + resolved values
    RUN/snapshot-000012000.safetensors full training state after 12,000 images (atomic, keep last N + best)
    RUN/best.json                      which snapshot has the best metric
    RUN/metrics.jsonl                  one JSON row per tick
    RUN/samples-000012000.png          sample grid from the fixed seeds
    RUN/log.txt                        the run's log (logging FileHandler)

A snapshot is one ``.safetensors`` file: tensors ``G.*``, ``D.*``, ``G_ema.*``, optimiser
states ``opt_G.*`` / ``opt_D.*``, RNG states ``rng.*``; its metadata key
``batikstudio.snapshot`` holds JSON for the rest (kimg, tick, augment p, diffusion p/T/table,
optimiser param groups, numpy / Python RNG, network configs, class names, config). Nothing
is pickled; loading never runs code.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from batikstudio.errors import BatikError, ModelFileError
from batikstudio.io.atomic import atomic_path, atomic_write_text
from batikstudio.io.provenance import save_image
from batikstudio.training.config import TrainConfig

log = logging.getLogger(__name__)

SNAPSHOT_KEY = "batikstudio.snapshot"
SNAPSHOT_FORMAT = 1
_SNAP_RE = re.compile(r"^snapshot-(\d{9,})\.safetensors$")


class RunFolder:
    """Paths and files of one run folder.

    Args:
        path: the folder; created (with parents) when ``create``.
        create: make the folder when missing.

    Raises:
        BatikError: when the folder is missing and ``create`` is False.
    """

    def __init__(self, path: str | os.PathLike[str], create: bool = True) -> None:
        self.path = Path(path)
        if create:
            self.path.mkdir(parents=True, exist_ok=True)
        elif not self.path.is_dir():
            raise BatikError(f"run folder {self.path} does not exist")

    def remove_partial_writes(self) -> None:
        """Delete temporary files left by a write that was killed (never valid snapshots).

        Only the process that is about to train in this folder may call this: a reader could
        otherwise delete a snapshot another process is writing right now.
        """
        for part in self.path.glob(".*.part"):
            try:
                part.unlink()
                log.info("removed %s, left by an interrupted write", part.name)
            except OSError:
                pass

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def log_path(self) -> Path:
        return self.path / "log.txt"

    # -- config ---------------------------------------------------------------------------
    def write_config(self, cfg: TrainConfig, resolved: Mapping[str, Any] | None = None) -> None:
        """Write ``config.json`` (the options plus resolved values such as r1_gamma)."""
        data = {"config": cfg.to_dict(), "resolved": dict(resolved or {})}
        atomic_write_text(self.config_path, json.dumps(data, indent=1, sort_keys=True))

    def replace_config(self, cfg: TrainConfig) -> None:
        """Rewrite ``config.json``'s options, keeping the values resolved at the start."""
        data = json.loads(self.config_path.read_text(encoding="utf-8"))
        self.write_config(cfg, data.get("resolved"))

    def read_config(self) -> TrainConfig:
        """The run's :class:`TrainConfig`.

        Raises:
            BatikError: if config.json is missing or unreadable.
        """
        try:
            data = json.loads(self.config_path.read_text(encoding="utf-8"))
            return TrainConfig.from_dict(data["config"])
        except FileNotFoundError as exc:
            raise BatikError(f"{self.path} is not a run folder (no config.json)") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise BatikError(f"{self.config_path} is unreadable: {exc}") from exc

    # -- snapshots ------------------------------------------------------------------------
    def snapshot_path(self, nimg: int) -> Path:
        return self.path / f"snapshot-{nimg:09d}.safetensors"

    def snapshots(self) -> list[Path]:
        """Snapshot files, oldest first."""
        found = [p for p in self.path.iterdir() if _SNAP_RE.match(p.name)]
        return sorted(found, key=lambda p: int(_SNAP_RE.match(p.name).group(1)))

    def latest_snapshot(self) -> Path | None:
        snaps = self.snapshots()
        return snaps[-1] if snaps else None

    def save_snapshot(self, nimg: int, tensors: Mapping[str, torch.Tensor], meta: Mapping[str, Any],
                      keep_last: int | None = None) -> Path:
        """Write a snapshot atomically, then delete old ones beyond ``keep_last`` (not the best)."""
        path = self.snapshot_path(nimg)
        clean = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
        text = json.dumps({"format": SNAPSHOT_FORMAT, **meta}, default=_json_default)
        with atomic_path(path) as tmp:
            save_file(clean, str(tmp), metadata={SNAPSHOT_KEY: text})
        log.info("snapshot %s written", path.name)
        if keep_last is not None:
            self.prune(keep_last)
        return path

    def best(self) -> dict[str, Any] | None:
        """Contents of ``best.json`` (snapshot name, metric, value) or None."""
        try:
            return json.loads((self.path / "best.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def offer_best(self, snapshot: Path, metric: str, value: float) -> bool:
        """Record ``snapshot`` as the best when its ``metric`` is lower; returns True if it is."""
        best = self.best()
        if best is not None and best.get("metric") == metric and best["value"] <= value:
            return False
        atomic_write_text(self.path / "best.json",
                          json.dumps({"snapshot": snapshot.name, "metric": metric, "value": value}))
        return True

    def prune(self, keep_last: int) -> None:
        """Delete all but the ``keep_last`` newest snapshots, sparing the best one."""
        best = (self.best() or {}).get("snapshot")
        snaps = self.snapshots()
        for p in snaps[: max(len(snaps) - keep_last, 0)]:
            if p.name != best:
                p.unlink(missing_ok=True)
                log.debug("deleted old snapshot %s", p.name)

    # -- metrics, grids, log --------------------------------------------------------------
    def append_metrics(self, row: Mapping[str, Any]) -> None:
        """Append one JSON line to ``metrics.jsonl`` (rewritten atomically)."""
        old = self.metrics_path.read_text(encoding="utf-8") if self.metrics_path.exists() else ""
        line = json.dumps(dict(row), sort_keys=True, default=_json_default)
        atomic_write_text(self.metrics_path, old + line + "\n")

    @property
    def measure_path(self) -> Path:
        return self.path / "measure.json"

    def write_measure(self, names: tuple[str, ...], num: int) -> None:
        """Record what every snapshot is scored with (``()``: nothing), so a resume goes on alike."""
        atomic_write_text(self.measure_path, json.dumps({"metrics": list(names), "num": int(num)}))

    def read_measure(self) -> tuple[tuple[str, ...], int] | None:
        """``(metric names, images per evaluation)`` recorded by :meth:`write_measure`, or None.

        Raises:
            BatikError: if measure.json is unreadable.
        """
        try:
            data = json.loads(self.measure_path.read_text(encoding="utf-8"))
            return tuple(str(n) for n in data["metrics"]), int(data["num"])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as exc:
            raise BatikError(f"{self.measure_path} is unreadable ({exc}); give --metrics to replace it") from exc

    def read_metrics(self) -> list[dict[str, Any]]:
        if not self.metrics_path.exists():
            return []
        lines = self.metrics_path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def save_grid(self, nimg: int, grid: np.ndarray, provenance: Mapping[str, Any] | None = None) -> Path:
        """Write the sample grid (HWC uint8) as ``samples-<nimg>.png``."""
        path = self.path / f"samples-{nimg:09d}.png"
        save_image(path, grid, dict(provenance or {}))
        return path

    @contextlib.contextmanager
    def logging_to_file(self, level: int = logging.INFO,
                        earlier: Sequence[logging.LogRecord] = ()) -> Iterator[logging.Handler]:
        """Send the ``batikstudio`` loggers to ``log.txt`` for the duration of the block.

        Records below the root logger's level still reach only the file, so ``log.txt``
        gets INFO lines without flooding a terminal configured for warnings. ``earlier``:
        records kept by :func:`held_log_records` before the file could be written (a run's start),
        written first.
        """
        handler = logging.FileHandler(self.log_path, encoding="utf-8")
        handler.setLevel(level)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        for record in earlier:
            handler.handle(record)
        try:
            with _package_logging(handler, level):
                yield handler
        finally:
            handler.close()


@contextlib.contextmanager
def held_log_records(level: int = logging.INFO) -> Iterator[list[logging.LogRecord]]:
    """Keep the ``batikstudio`` loggers' records (``level`` and up) in a list for the block, e.g.
    while a run starts and nothing may be written to its folder yet (a start that fails leaves
    the folder as it was); they still reach the terminal as usual."""
    held: list[logging.LogRecord] = []
    handler = _ListHandler(held)
    handler.setLevel(level)
    with _package_logging(handler, level):
        yield held


@contextlib.contextmanager
def _package_logging(handler: logging.Handler, level: int) -> Iterator[None]:
    pkg = logging.getLogger("batikstudio")
    relay = _RelayToRoot()
    old = (pkg.level, pkg.propagate)
    pkg.addHandler(handler)
    pkg.addHandler(relay)
    pkg.propagate = False
    if pkg.getEffectiveLevel() > level:
        pkg.setLevel(level)
    try:
        yield
    finally:
        pkg.removeHandler(handler)
        pkg.removeHandler(relay)
        pkg.setLevel(old[0])
        pkg.propagate = old[1]


class _ListHandler(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class _RelayToRoot(logging.Handler):
    """Pass on to the root logger's handlers what the root logger's level lets through."""

    def emit(self, record: logging.LogRecord) -> None:
        root = logging.getLogger()
        if record.levelno >= root.getEffectiveLevel():
            root.handle(record)


def load_snapshot(path: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a snapshot: ``(tensors on CPU, metadata dict)``.

    Raises:
        ModelFileError: if the file is missing, corrupt or not a training snapshot.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"snapshot {path} does not exist")
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as fh:
            meta_text = (fh.metadata() or {}).get(SNAPSHOT_KEY)
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise ModelFileError(f"snapshot {path} is unreadable: {exc}") from exc
    if meta_text is None:
        raise ModelFileError(f"{path} is not a training snapshot (no {SNAPSHOT_KEY} metadata)")
    meta = json.loads(meta_text)
    if meta.get("format", 0) > SNAPSHOT_FORMAT:
        raise ModelFileError(f"snapshot {path} was written by a newer Batik Studio")
    return tensors, meta


def sub_state(tensors: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """Tensors under ``prefix.`` with the prefix removed (a module state dict)."""
    head = prefix + "."
    return {k[len(head):]: v for k, v in tensors.items() if k.startswith(head)}


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in a snapshot")
