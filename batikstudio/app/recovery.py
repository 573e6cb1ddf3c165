"""Which training runs were interrupted (crash, power cut, app closed) and can be resumed.

No Qt here: the main window asks :class:`RunRegistry` at start and shows the offer.

The registry is ``data_dir()/runs.json`` (written atomically): one entry per run folder with
the process that trains it (pid + this boot's id), and a status:

* ``running``: a process is training it; if that process is gone the run was interrupted
  (crash, power cut, killed).
* ``closed``: the app was closed during training (it stopped cleanly and wrote a snapshot);
  offered for resumption at the next start.
* ``stopped`` / ``finished`` / ``failed``: ended by the user, done, or refused; not offered.

The run folder itself has no completion marker (:mod:`batikstudio.training.runfolder` writes
config.json, snapshots, metrics, grids and a log), so a run counts as complete when its newest
snapshot holds ``total_kimg`` (``snapshot-<nimg>.safetensors`` with ``nimg >= 1000 *
total_kimg``). Only runs with a snapshot can be resumed.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from batikstudio.errors import BatikError
from batikstudio.io.atomic import atomic_write_text
from batikstudio.paths import data_dir

log = logging.getLogger(__name__)

RUNNING, CLOSED, STOPPED, FINISHED, FAILED = "running", "closed", "stopped", "finished", "failed"
STATUSES = (RUNNING, CLOSED, STOPPED, FINISHED, FAILED)


def boot_id() -> str:
    """An id of this boot of the machine ("" where unknown): after a reboot every pid is stale."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return ""


def pid_alive(pid: int, boot: str = "") -> bool:
    """True when process ``pid`` exists (and ``boot`` is this boot's id, when both are known)."""
    if pid <= 0:
        return False
    here = boot_id()
    if boot and here and boot != here:
        return False
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        ctypes.windll.kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    return True


def run_progress(run_dir: str | os.PathLike[str]) -> tuple[float, float | None]:
    """``(kimg of the newest snapshot, total_kimg of the run or None)`` from the folder's files."""
    from batikstudio.training.runfolder import RunFolder

    folder = Path(run_dir)
    if not folder.is_dir():
        return 0.0, None
    run = RunFolder(folder, create=False)
    snap = run.latest_snapshot()
    kimg = int(snap.stem.split("-")[1]) / 1000 if snap is not None else 0.0
    try:
        total: float | None = run.read_config().total_kimg
    except BatikError:
        total = None
    return kimg, total


def run_complete(run_dir: str | os.PathLike[str]) -> bool:
    """True when the newest snapshot holds the run's ``total_kimg``."""
    kimg, total = run_progress(run_dir)
    return total is not None and kimg * 1000 >= round(total * 1000)


@dataclass(frozen=True)
class RunEntry:
    """One run in the registry.

    Attributes:
        run_dir: the run folder (absolute).
        status: one of :data:`STATUSES`.
        pid: the process training it (the app, or torchrun for multi-GPU runs).
        boot: :func:`boot_id` when it was registered.
        label: a name for people.
        updated: time of the last change (seconds since the epoch).
    """

    run_dir: str
    status: str
    pid: int = 0
    boot: str = ""
    label: str = ""
    updated: float = 0.0

    @property
    def name(self) -> str:
        return self.label or Path(self.run_dir).name


class RunRegistry:
    """The runs this user started, in ``data_dir()/runs.json`` (or ``path``)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else data_dir() / "runs.json"

    def entries(self) -> list[RunEntry]:
        """Every registered run; an unreadable registry counts as empty (and is logged)."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return [RunEntry(**item) for item in raw.get("runs", [])]
        except FileNotFoundError:
            return []
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("ignoring unreadable run registry %s: %s", self.path, exc)
            return []

    def _write(self, entries: list[RunEntry]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, json.dumps({"runs": [asdict(e) for e in entries]}, indent=1))

    def get(self, run_dir: str | os.PathLike[str]) -> RunEntry | None:
        key = str(Path(run_dir).resolve())
        return next((e for e in self.entries() if e.run_dir == key), None)

    def register(self, run_dir: str | os.PathLike[str], pid: int | None = None, label: str = "") -> RunEntry:
        """Record that ``pid`` (default: this process) now trains ``run_dir``."""
        key = str(Path(run_dir).resolve())
        old = self.get(key)
        entry = RunEntry(run_dir=key, status=RUNNING, pid=os.getpid() if pid is None else int(pid),
                         boot=boot_id(), label=label or (old.label if old else ""), updated=time.time())
        self._write([e for e in self.entries() if e.run_dir != key] + [entry])
        return entry

    def set_status(self, run_dir: str | os.PathLike[str], status: str) -> None:
        """Change a run's status (a run not registered is ignored)."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        key = str(Path(run_dir).resolve())
        entries = self.entries()
        changed = [RunEntry(**{**asdict(e), "status": status, "updated": time.time()}) if e.run_dir == key else e
                   for e in entries]
        if changed != entries:
            self._write(changed)

    def forget(self, run_dir: str | os.PathLike[str]) -> None:
        """Drop a run from the registry (its folder stays)."""
        key = str(Path(run_dir).resolve())
        self._write([e for e in self.entries() if e.run_dir != key])

    def interrupted(self) -> list[RunEntry]:
        """Runs to offer for resumption: closed with the app, or whose process is gone, that
        have a snapshot and have not reached their length. Newest first."""
        out = []
        for e in self.entries():
            if e.status == RUNNING and pid_alive(e.pid, e.boot):
                continue
            if e.status not in (RUNNING, CLOSED):
                continue
            kimg, total = run_progress(e.run_dir)
            if kimg <= 0 or total is None or kimg * 1000 >= round(total * 1000):
                continue
            out.append(e)
        return sorted(out, key=lambda e: e.updated, reverse=True)
