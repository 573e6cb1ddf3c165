"""Enforce the layering in DESIGN.md: only batikstudio/app imports Qt; nothing imports app."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "batikstudio"
QT_ROOTS = {"PySide6", "pyqtgraph", "PyQt5", "PyQt6", "shiboken6"}
# The one entry point that starts the app; it imports app lazily inside its run function.
APP_LAUNCHERS = {"cli/cmd_gui.py"}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _engine_files():
    return [p for p in PACKAGE.rglob("*.py") if "app" not in p.relative_to(PACKAGE).parts[:1]]


def test_package_has_engine_files():
    assert len(_engine_files()) > 5


@pytest.mark.parametrize("path", _engine_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_engine_module_does_not_import_qt_or_app(path):
    for lineno, name in _imports(path):
        root = name.split(".")[0]
        assert root not in QT_ROOTS, f"{path}:{lineno} imports {name}; only batikstudio/app may"
        if str(path.relative_to(PACKAGE)) not in APP_LAUNCHERS:
            assert not name.startswith("batikstudio.app"), f"{path}:{lineno} imports {name}"


def test_checker_catches_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom PySide6.QtCore import QObject\n")
    roots = {name.split(".")[0] for _, name in _imports(bad)}
    assert roots & QT_ROOTS == {"PySide6"}
