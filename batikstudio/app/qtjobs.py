"""The one place where Job callbacks become Qt signals.

Jobs (``fn(request, ctx)``) run on worker threads. Their context emits signals of a
:class:`JobSignals` object that lives in the GUI thread, so Qt delivers them there through
queued connections. Receivers must be QObject methods: with PySide6 6.12 a lambda connected to
a worker's signal runs in the worker thread.

Two runners:

* :class:`TaskRunner` (Orange3's pattern): ``start(job, request)`` cancels the task in flight
  and disconnects it, so stale results never reach the widgets.
* :class:`PreviewRunner`: newest-request-wins previews on one persistent thread
  (:class:`~batikstudio.jobs.latest.LatestWinsRunner`).
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from batikstudio.errors import BatikError
from batikstudio.jobs import BaseContext, Cancelled, Job
from batikstudio.jobs.latest import LatestWinsRunner, Outcome

log = logging.getLogger(__name__)


class JobSignals(QObject):
    """Signals of one running task; created in the GUI thread."""

    progress = Signal(float, float)  # done, total (-1 = unknown)
    status = Signal(str)
    partial = Signal(object)
    finished = Signal(object)  # result
    failed = Signal(object)  # exception
    cancelled = Signal()


class QtContext(BaseContext):
    """A job context whose reports are emitted as :class:`JobSignals` signals."""

    def __init__(self, signals: JobSignals) -> None:
        super().__init__()
        self.signals = signals

    def progress(self, done: float, total: float | None = None) -> None:
        if not self.cancelled:
            self.signals.progress.emit(float(done), -1.0 if total is None else float(total))

    def status(self, text: str) -> None:
        if not self.cancelled:
            self.signals.status.emit(str(text))

    def partial(self, result: Any) -> None:
        if not self.cancelled:
            self.signals.partial.emit(result)


_WORKERS: "weakref.WeakSet[_Worker]" = weakref.WeakSet()


def running_workers() -> list[QThread]:
    """Task threads still running (tests use this to fail on leaked threads)."""
    return [w for w in list(_WORKERS) if w.isRunning()]


class _Worker(QThread):
    def __init__(self, job: Job, request: Any, ctx: QtContext) -> None:
        super().__init__()
        self.job, self.request, self.ctx = job, request, ctx
        _WORKERS.add(self)

    def run(self) -> None:
        signals = self.ctx.signals
        try:
            result = self.job(self.request, self.ctx)
        except Cancelled:
            signals.cancelled.emit()
            return
        except BatikError as exc:  # the user's file or input: no traceback, just the message
            log.warning("task refused: %s", exc)
            signals.failed.emit(exc)
            return
        except Exception as exc:  # noqa: BLE001 - errors are shown in a dialog, never a crash
            log.exception("background task failed")
            signals.failed.emit(exc)
            return
        if self.ctx.cancelled:
            signals.cancelled.emit()
        else:
            signals.finished.emit(result)


class TaskRunner(QObject):
    """Runs one task at a time on a QThread; starting a new one cancels the old one.

    Connect to :attr:`signals` of the returned object (QObject methods only). The thread
    starts on the next turn of the event loop, so connections made right after ``start``
    always see every signal, even from a job that fails at once. ``finished`` of a superseded
    task is never delivered: its signals object is disconnected.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker: _Worker | None = None
        self._old: list[_Worker] = []
        self._pending: list[_Worker] = []

    def start(self, job: Job, request: Any) -> JobSignals:
        self.cancel()
        signals = JobSignals(self)
        worker = _Worker(job, request, QtContext(signals))
        worker.finished.connect(self._reap)
        self._worker = worker
        self._pending.append(worker)
        QTimer.singleShot(0, self._launch)
        return signals

    @Slot()
    def _launch(self) -> None:
        pending, self._pending = self._pending, []
        for worker in pending:
            if worker.ctx.cancelled:
                continue  # superseded or shut down before it began: never start it
            worker.start()

    @property
    def running(self) -> bool:
        w = self._worker
        return w is not None and (w.isRunning() or w in self._pending)

    def cancel(self) -> None:
        """Cancel the task in flight and silence its signals."""
        if self._worker is None:
            return
        old = self._worker
        self._worker = None
        old.ctx.cancel()
        try:
            old.ctx.signals.disconnect()
        except (RuntimeError, TypeError):
            pass  # nothing was connected
        self._old.append(old)

    @Slot()
    def _reap(self) -> None:
        self._old = [w for w in self._old if w.isRunning()]

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel and wait for every thread; True if all ended in time."""
        self.cancel()
        ok = True
        for w in self._old:
            ok = w.wait(timeout_ms) and ok
        self._old = []
        return ok


class _OutcomeSignals(QObject):
    outcome = Signal(object)


class PreviewRunner(QObject):
    """Newest-request-wins previews; emits ``ready(Outcome)`` in the GUI thread.

    Outcomes carry either ``result`` or ``error`` (errors are data, not exceptions).
    """

    ready = Signal(object)

    def __init__(self, job: Job, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bridge = _OutcomeSignals()
        self._bridge.outcome.connect(self._deliver)
        self._runner = LatestWinsRunner(job, self._emit)
        self._closed = False

    def _emit(self, outcome: Outcome) -> None:  # worker thread
        self._bridge.outcome.emit(outcome)

    @Slot(object)
    def _deliver(self, outcome: Outcome) -> None:  # GUI thread
        if outcome.ticket == self._runner.latest_ticket:
            self.ready.emit(outcome)

    def submit(self, request: Any) -> int:
        """Queue ``request`` (cancelling older ones); ignored after :meth:`shutdown`."""
        if self._closed:
            return -1
        return self._runner.submit(request)

    def cancel(self) -> None:
        self._runner.cancel()

    def shutdown(self, timeout: float = 5.0) -> bool:
        self._closed = True
        return self._runner.close(timeout)
