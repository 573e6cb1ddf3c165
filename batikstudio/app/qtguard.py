"""A guard against Qt bindings that drop references to ``None``, ``True`` and ``False``.

PySide6 6.12.0 on Python 3.10/3.11 takes one reference from ``None`` on every call of a Qt
method that returns nothing (``update()``, ``setZValue()``...) and one from ``True`` on every
signal emission (measured: -100 on ``sys.getrefcount(None)`` after 100 ``QGraphicsItem.update()``
calls; 6.11.3 and 6.10.3 lose none). The app makes thousands of such calls a minute (a training
run's live plots alone: ~8 per redraw), so after a while the count reaches zero and Python
aborts: "Fatal Python error: none_dealloc: deallocating None". Python 3.12 made these objects
immortal, so there the bug is harmless.

``pyproject.toml`` keeps pip away from 6.12 on Python < 3.12. For an installation that has it
anyway (a distribution's or conda's PySide6), :func:`guard` finds the leak with a short probe
at start-up and gives the three objects a reserve of references that no session can use up,
which is what Python 3.12 does for every interpreter; it logs that it did.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

PROBE_CALLS = 64
RESERVE = 1 << 40  # ~10^12 calls: centuries of a busy GUI
SAFE_VERSIONS = "6.11.3 (or Python 3.12+)"


def drops_none_references(calls: int = PROBE_CALLS) -> bool:
    """Whether calling a Qt method that returns nothing loses references to ``None``."""
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(calls):
        probe.setObjectName("")
    return before - sys.getrefcount(None) >= calls // 2


def add_references(obj: object, count: int) -> bool:
    """Add ``count`` to the reference count of ``obj`` in place (never released).

    Only where the count sits where a release build of CPython keeps it, first field of the
    object (checked against ``sys.getrefcount``); returns whether it was done.
    """
    cell = ctypes.c_ssize_t.from_address(id(obj))
    if cell.value != sys.getrefcount(obj) - 1:  # getrefcount's own argument is one more
        return False
    cell.value += count
    return True


_guarded: bool | None = None


def guard() -> bool:
    """Probe the Qt bindings and, if they drop references, give None/True/False a reserve.

    Returns whether the reserve was added. Probes once per process; nothing is done on Python
    3.12+ (immortal objects).
    """
    global _guarded
    if _guarded is not None:
        return _guarded
    _guarded = False
    if sys.version_info >= (3, 12) or not drops_none_references():
        return False
    import PySide6

    done = _guarded = all(add_references(obj, RESERVE) for obj in (None, True, False))
    log.warning("PySide6 %s on Python %d.%d loses a reference to None on each call that returns "
                "nothing, which would end the app with 'deallocating None' after a while; %s. "
                "PySide6 %s does not have this bug.", PySide6.__version__, *sys.version_info[:2],
                "a reserve of references was added" if done else "NO reserve could be added", SAFE_VERSIONS)
    return done
