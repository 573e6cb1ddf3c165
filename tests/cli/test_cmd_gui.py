"""``batikstudio gui``: the one-line message when the app cannot be imported."""

from __future__ import annotations

import sys

import pytest

from batikstudio.cli.cmd_gui import gui_import_message
from batikstudio.cli.main import main


def test_missing_system_library_is_named_not_pip():
    exc = ImportError("libGL.so.1: cannot open shared object file: No such file or directory",
                      name="PySide6.QtGui")
    msg = gui_import_message(exc)
    assert "libGL.so.1 is missing" in msg and "libgl1" in msg
    assert "pip install" not in msg and "\n" not in msg


def test_missing_python_package_asks_for_the_gui_extra():
    msg = gui_import_message(ModuleNotFoundError("No module named 'PySide6'", name="PySide6"))
    assert msg == "the app needs the GUI packages (PySide6): pip install 'batikstudio[gui]'"


def test_gui_command_exits_2_with_one_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "batikstudio.app.main", None)  # import fails
    with pytest.raises(SystemExit) as info:
        sys.exit(main(["gui"]))
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("batikstudio: error: the app needs the GUI packages") and "\n" not in err
