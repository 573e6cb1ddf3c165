"""Newest-request-wins execution for previews (napari's slicer / stylegan3 visualizer pattern).

One worker thread. Submitting a request cancels the job in flight (its context answers
``cancelled``) and replaces any queued request, so a slider drag computes only the latest
position and stale results are dropped before they reach the caller.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

from batikstudio.jobs import BaseContext, Cancelled, Job

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What a finished request produced: a result or an error (errors are data, not raised)."""

    ticket: int
    request: Any
    result: Any = None
    error: BaseException | None = None


class LatestWinsRunner:
    """Runs ``job(request, ctx)`` on one background thread, newest request first.

    Args:
        job: the job function.
        on_done: called on the worker thread with an :class:`Outcome` for every request that
            was not superseded (the app turns this into a signal).
        make_context: factory for the per-request context (default :class:`BaseContext`).
    """

    def __init__(
        self,
        job: Job,
        on_done: Callable[[Outcome], None],
        make_context: Callable[[], BaseContext] = BaseContext,
    ) -> None:
        self._job = job
        self._on_done = on_done
        self._make_context = make_context
        self._cond = threading.Condition()
        self._pending: tuple[int, Any] | None = None
        self._current: BaseContext | None = None
        self._ticket = 0
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="latest-wins", daemon=True)
        self._thread.start()

    def submit(self, request: Any) -> int:
        """Queue ``request``, cancelling older work; returns its ticket number."""
        with self._cond:
            if self._closed:
                raise RuntimeError("runner is closed")
            self._ticket += 1
            self._pending = (self._ticket, request)
            if self._current is not None:
                self._current.cancel()
            self._cond.notify()
            return self._ticket

    @property
    def latest_ticket(self) -> int:
        with self._cond:
            return self._ticket

    def cancel(self) -> None:
        """Drop the queued request and cancel the one in flight."""
        with self._cond:
            self._pending = None
            self._ticket += 1
            if self._current is not None:
                self._current.cancel()

    def close(self, timeout: float = 5.0) -> bool:
        """Cancel everything and stop the thread; True if it ended within ``timeout``."""
        with self._cond:
            self._closed = True
            self._pending = None
            if self._current is not None:
                self._current.cancel()
            self._cond.notify()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                ticket, request = self._pending
                self._pending = None
                ctx = self._current = self._make_context()
            outcome = self._run(ticket, request, ctx)
            with self._cond:
                self._current = None
                stale = ticket != self._ticket or self._closed
            if outcome is not None and not stale:
                self._on_done(outcome)

    def _run(self, ticket: int, request: Any, ctx: BaseContext) -> Outcome | None:
        try:
            return Outcome(ticket, request, result=self._job(request, ctx))
        except Cancelled:
            return None
        except Exception as exc:  # noqa: BLE001 - errors come back as data to the caller
            log.debug("job for ticket %d failed: %s", ticket, exc)
            return Outcome(ticket, request, error=exc)
