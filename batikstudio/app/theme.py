"""Light and dark styles, from ``resources/styles/*.qss``."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QApplication

from batikstudio.paths import PROJECT_ROOT

log = logging.getLogger(__name__)

STYLES = PROJECT_ROOT / "resources" / "styles"
THEMES = ("light", "dark")


def apply_theme(app: QApplication, name: str = "light") -> None:
    """Apply a theme by name; an unknown or missing theme falls back to Qt's default look."""
    path = STYLES / f"{name}.qss"
    if name not in THEMES or not path.is_file():
        log.warning("theme %r not found; using the default style", name)
        app.setStyleSheet("")
        return
    app.setStyleSheet(path.read_text(encoding="utf-8"))
