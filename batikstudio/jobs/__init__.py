"""The one job abstraction for every long task.

A job is a plain function ``job(request, ctx) -> result``. ``request`` is a frozen dataclass
made by the caller; ``ctx`` is a :class:`JobContext` that reports progress, status text and
partial results, and answers whether the job was cancelled. The CLI runs jobs inline with
:class:`InlineContext`; the app runs the same functions on Qt threads with a context whose
callbacks become signals (only ``batikstudio/app/`` does that).

Jobs call :meth:`JobContext.check` between steps; it raises :class:`Cancelled` once the job
has been cancelled, so cleanup happens in ``finally`` blocks and nothing half-written is left.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Protocol, TypeVar, runtime_checkable

Req = TypeVar("Req")
Res = TypeVar("Res")


class Cancelled(Exception):
    """Raised inside a job when its context has been cancelled."""


@runtime_checkable
class JobContext(Protocol):
    """What a running job may tell its runner, and ask of it."""

    def progress(self, done: float, total: float | None = None) -> None:
        """Report ``done`` units out of ``total`` (``None``: unknown total)."""

    def status(self, text: str) -> None:
        """Report a short human-readable status line."""

    def partial(self, result: Any) -> None:
        """Hand over an intermediate result (a sample grid, a metrics row, a preview)."""

    @property
    def cancelled(self) -> bool:
        """True once the runner asked the job to stop."""

    def check(self) -> None:
        """Raise :class:`Cancelled` if the job was cancelled."""


Job = Callable[[Any, JobContext], Any]


class BaseContext:
    """A thread-safe context with a cancel flag and no-op reporting; subclass to report."""

    def __init__(self) -> None:
        self._cancel = threading.Event()

    def progress(self, done: float, total: float | None = None) -> None:
        pass

    def status(self, text: str) -> None:
        pass

    def partial(self, result: Any) -> None:
        pass

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        """Ask the job to stop at its next :meth:`check`."""
        self._cancel.set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()


class InlineContext(BaseContext):
    """Runs in the caller's thread; forwards reports to optional callbacks.

    Args:
        on_progress: called with ``(done, total)``.
        on_status: called with the status text.
        on_partial: called with each partial result.
    """

    def __init__(
        self,
        on_progress: Callable[[float, float | None], None] | None = None,
        on_status: Callable[[str], None] | None = None,
        on_partial: Callable[[Any], None] | None = None,
    ) -> None:
        super().__init__()
        self._on_progress = on_progress
        self._on_status = on_status
        self._on_partial = on_partial

    def progress(self, done: float, total: float | None = None) -> None:
        if self._on_progress is not None:
            self._on_progress(done, total)

    def status(self, text: str) -> None:
        if self._on_status is not None:
            self._on_status(text)

    def partial(self, result: Any) -> None:
        if self._on_partial is not None:
            self._on_partial(result)


class RecordingContext(BaseContext):
    """Keeps every report in lists; for tests and for callers that poll.

    ``cancel_after`` cancels the job once that many progress reports have arrived.
    """

    def __init__(self, cancel_after: int | None = None) -> None:
        super().__init__()
        self.progress_log: list[tuple[float, float | None]] = []
        self.status_log: list[str] = []
        self.partials: list[Any] = []
        self._cancel_after = cancel_after
        self._lock = threading.Lock()

    def progress(self, done: float, total: float | None = None) -> None:
        with self._lock:
            self.progress_log.append((done, total))
            if self._cancel_after is not None and len(self.progress_log) >= self._cancel_after:
                self.cancel()

    def status(self, text: str) -> None:
        with self._lock:
            self.status_log.append(text)

    def partial(self, result: Any) -> None:
        with self._lock:
            self.partials.append(result)


def run_inline(job: Job, request: Any, ctx: JobContext | None = None) -> Any:
    """Run ``job(request, ctx)`` in this thread with a silent context when none is given."""
    return job(request, ctx if ctx is not None else InlineContext())


def format_duration(seconds: float) -> str:
    """``42s``, ``7m05s``, ``3h12m``, ``2d04h``.

    >>> format_duration(425), format_duration(11520), format_duration(190000)
    ('7m05s', '3h12m', '2d04h')
    """
    s = int(round(max(seconds, 0.0)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


class TerminalProgress:
    """A minimal progress bar on a text stream, for the CLI (``on_progress`` callback)."""

    def __init__(self, label: str, stream: Any = None, min_interval: float | None = None) -> None:
        import sys

        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.interactive = bool(isatty and isatty())
        # a log file gets a line every 10 s, a terminal a redraw every 0.1 s
        self.min_interval = min_interval if min_interval is not None else (0.1 if self.interactive else 10.0)
        self._last = 0.0
        self._start = time.monotonic()
        self._first: tuple[float, float] | None = None  # (time, done) of the first report

    def eta(self, done: float, total: float, now: float) -> float | None:
        """Seconds left at the rate since the first report (a resumed job starts part-done)."""
        if self._first is None:
            return None
        t0, d0 = self._first
        if done <= d0 or now <= t0:
            return None
        return (total - done) * (now - t0) / (done - d0)

    def __call__(self, done: float, total: float | None = None) -> None:
        now = time.monotonic()
        if self._first is None:
            self._first = (now, done)
        final = total is not None and done >= total
        if not final and now - self._last < self.min_interval:
            return
        self._last = now
        elapsed = now - self._start
        if total:
            frac = min(max(done / total, 0.0), 1.0)
            bar = "#" * int(frac * 30)
            text = f"\r{self.label} [{bar:<30}] {done:g}/{total:g} {elapsed:5.1f}s"
            left = None if final else self.eta(done, total, now)
            if left is not None:
                text += f" ETA {format_duration(left)}"
        else:
            text = f"\r{self.label} {done:g} {elapsed:5.1f}s"
        if not self.interactive:
            text = text.lstrip("\r") + "\n"
        self.stream.write(text)
        if final and self.interactive:
            self.stream.write("\n")
        self.stream.flush()
