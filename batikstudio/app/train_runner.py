"""How the trainer panel runs training: in-process with pause, or torchrun in a QProcess.

* :class:`PausableRunner` runs the training job on a task thread of
  :mod:`batikstudio.app.qtjobs` with a :class:`PausableContext`: while paused the job waits in
  its next progress report (the loop reports after every iteration), and stopping wakes it,
  so Stop works while paused and still writes a snapshot.
* :class:`TorchrunLauncher` starts ``torchrun`` in a QProcess and stops it with SIGINT
  (``batikstudio train`` then writes a snapshot); :class:`RunFollower` polls the run folder
  and reports each new metrics row as a :class:`~batikstudio.training.config.TrainTick` and
  each new sample grid as an image, so the panel shows both kinds of run the same way.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, QProcess, QTimer, Signal, Slot

from batikstudio.app.qtjobs import JobSignals, QtContext, TaskRunner, _Worker
from batikstudio.jobs import Job
from batikstudio.training.config import TrainTick

log = logging.getLogger(__name__)


class PausableContext(QtContext):
    """A :class:`QtContext` whose job waits in ``progress`` / ``check`` while paused."""

    def __init__(self, signals: JobSignals) -> None:
        super().__init__(signals)
        self._go = threading.Event()
        self._go.set()

    @property
    def paused(self) -> bool:
        return not self._go.is_set()

    def pause(self) -> None:
        """The job waits at its next progress report or check (no-op once cancelled)."""
        if not self.cancelled:
            self._go.clear()

    def resume(self) -> None:
        self._go.set()

    def cancel(self) -> None:
        super().cancel()
        self._go.set()  # a paused job wakes up to see the stop

    def progress(self, done: float, total: float | None = None) -> None:
        super().progress(done, total)
        self._go.wait()

    def check(self) -> None:
        self._go.wait()
        super().check()


class PausableRunner(TaskRunner):
    """A :class:`TaskRunner` whose task gets a :class:`PausableContext` (see :attr:`context`).

    It reuses the task thread class of :mod:`batikstudio.app.qtjobs`, so the thread-leak
    checks and :meth:`shutdown` cover it.
    """

    def start(self, job: Job, request: Any) -> JobSignals:
        self.cancel()
        signals = JobSignals(self)
        worker = _Worker(job, request, PausableContext(signals))
        worker.finished.connect(self._reap)
        self._worker = worker
        self._pending.append(worker)
        QTimer.singleShot(0, self._launch)
        return signals

    @property
    def context(self) -> PausableContext | None:
        """The context of the task in flight (None when idle)."""
        worker = self._worker
        return worker.ctx if worker is not None else None  # type: ignore[return-value]

    def stop(self) -> None:
        """Ask the task to stop but keep its signals connected (its result still arrives)."""
        ctx = self.context
        if ctx is not None:
            ctx.cancel()

    def wait(self, timeout_ms: int) -> bool:
        """Wait for the task's thread to end; True when it did."""
        worker = self._worker
        return worker is None or worker.wait(timeout_ms)


def tick_from_row(row: dict[str, Any]) -> TrainTick:
    """A :class:`TrainTick` from one ``metrics.jsonl`` row (the grid is not in the row)."""
    names = TrainTick.__dataclass_fields__
    return TrainTick(**{k: v for k, v in row.items() if k in names and k != "grid"})


class RunFollower(QObject):
    """Polls a run folder written by another process.

    Signals:
        tick(TrainTick): one per new ``metrics.jsonl`` row, in order.
        grid(object): the newest ``samples-*.png`` as HWC uint8, when a newer one appears.
    """

    tick = Signal(object)
    grid = Signal(object)

    def __init__(self, run_dir: str, interval_ms: int = 1000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.run_dir = Path(run_dir)
        self.rows_seen = 0
        self.grid_seen = ""
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.poll)

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    @Slot()
    def poll(self) -> None:
        """Read what is new (also called once more after the process ends)."""
        path = self.run_dir / "metrics.jsonl"
        try:
            lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        except OSError:
            lines = []
        for line in lines[self.rows_seen:]:
            try:
                self.tick.emit(tick_from_row(json.loads(line)))
            except (ValueError, TypeError) as exc:
                log.warning("skipping an unreadable metrics row in %s: %s", path, exc)
        self.rows_seen = max(self.rows_seen, len(lines))
        grids = sorted(self.run_dir.glob("samples-*.png")) if self.run_dir.is_dir() else []
        if grids and grids[-1].name != self.grid_seen:
            try:
                with Image.open(grids[-1]) as im:
                    pixels = np.asarray(im.convert("RGB"))
            except OSError as exc:  # half-written by the other process: next poll
                log.debug("grid %s not readable yet: %s", grids[-1], exc)
                return
            self.grid_seen = grids[-1].name
            self.grid.emit(pixels)


class TorchrunLauncher(QObject):
    """Runs one command (torchrun) in a QProcess; merged output arrives line by line.

    Signals:
        line(str): a line the process printed.
        ended(int): the exit code (after a crash: -1).
    """

    line = Signal(str)
    ended = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.process: QProcess | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    def pid(self) -> int:
        return int(self.process.processId()) if self.process is not None else 0

    def start(self, command: list[str], workdir: str | None = None, env: dict[str, str] | None = None) -> None:
        """Start ``command`` (program + arguments)."""
        if self.running:
            raise RuntimeError("a process is already running")
        proc = QProcess(self)
        proc.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        if workdir:
            proc.setWorkingDirectory(workdir)
        if env:
            from PySide6.QtCore import QProcessEnvironment

            penv = QProcessEnvironment.systemEnvironment()
            for k, v in env.items():
                penv.insert(k, v)
            proc.setProcessEnvironment(penv)
        proc.readyReadStandardOutput.connect(self._read)
        proc.finished.connect(self._finished)
        self.process = proc
        log.info("starting %s", " ".join(command))
        proc.start(command[0], command[1:])

    @Slot()
    def _read(self) -> None:
        data = bytes(self.process.readAllStandardOutput()).decode("utf-8", "replace")
        for text in data.replace("\r", "\n").splitlines():
            if text.strip():
                self.line.emit(text)

    @Slot(int, QProcess.ExitStatus)
    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read()
        self.ended.emit(code if status == QProcess.ExitStatus.NormalExit else -1)

    def stop(self) -> None:
        """Ask for a clean stop: SIGINT (torchrun passes it on; each worker writes a snapshot)."""
        if not self.running:
            return
        if sys.platform == "win32":  # pragma: no cover - no SIGINT for another process there
            self.process.terminate()
        else:
            os.kill(self.pid(), signal.SIGINT)

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Stop, wait, and kill the process if it does not end in time; True when it ended cleanly."""
        if not self.running:
            return True
        self.stop()
        if self.process.waitForFinished(timeout_ms):
            return True
        log.warning("torchrun did not stop in %d ms: killing it", timeout_ms)
        self.process.kill()
        self.process.waitForFinished(2000)
        return False
