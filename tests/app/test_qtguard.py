"""The guard against Qt bindings that drop references to None (PySide6 6.12.0 on Python < 3.12)."""

import ctypes
import sys

from PySide6.QtCore import QObject

from batikstudio.app import qtguard
from batikstudio.app.main import make_application


class _Thing:
    pass


def test_add_references_raises_the_count_in_place():
    thing = _Thing()
    before = sys.getrefcount(thing)
    assert qtguard.add_references(thing, 1000)
    assert sys.getrefcount(thing) == before + 1000
    assert qtguard.add_references(thing, -1000)  # give them back: the object can be freed
    assert sys.getrefcount(thing) == before


def test_the_probe_sees_a_binding_that_drops_references(monkeypatch):
    victim = _Thing()
    calls = []

    def leaky_set_object_name(self, name):  # what the buggy binding does to None, on a private object
        calls.append(name)
        ctypes.c_ssize_t.from_address(id(victim)).value -= 1

    real = sys.getrefcount
    monkeypatch.setattr(QObject, "setObjectName", leaky_set_object_name)
    qtguard.add_references(victim, 1000)
    monkeypatch.setattr(qtguard.sys, "getrefcount", lambda obj: real(victim) if obj is None else real(obj))
    assert qtguard.drops_none_references(64) and len(calls) == 64
    monkeypatch.undo()
    assert qtguard.add_references(victim, -(1000 - 64))


def test_the_app_survives_many_qt_calls_that_return_nothing():
    """Whatever PySide6 is installed: after make_application, None keeps far more references
    than a long session's calls can take (with 6.12.0 on Python < 3.12 the guard adds them)."""
    make_application()
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(5000):
        probe.setObjectName("")
    lost = before - sys.getrefcount(None)
    if sys.version_info < (3, 12):
        assert sys.getrefcount(None) > 1000 * max(lost, 0), (lost, sys.getrefcount(None))
    assert qtguard.guard() == (sys.version_info < (3, 12) and lost >= 2500)

