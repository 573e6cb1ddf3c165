"""Start the Qt application."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from batikstudio import __version__
from batikstudio.app.qtguard import guard
from batikstudio.paths import HOME_ENV, PROJECT_ROOT

log = logging.getLogger(__name__)

ORG = "BatikStudio"
APP = "Batik Studio"


def make_application(argv: list[str] | None = None) -> QApplication:
    guard()  # before the first of many Qt calls: see qtguard
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORG)
    app.setApplicationName(APP)
    app.setApplicationVersion(__version__)
    app.setWindowIcon(QIcon(str(PROJECT_ROOT / "resources" / "icons" / "batikstudio-256.png")))
    app.setDesktopFileName("batikstudio")  # Wayland: match resources/linux/batikstudio.desktop
    redirect_settings()
    return app


def redirect_settings() -> Path | None:
    """With ``BATIKSTUDIO_HOME`` set, keep the app's settings there too (an INI file under
    ``$BATIKSTUDIO_HOME/settings``), so a portable or test home shares nothing with the
    user's normal settings. Returns the folder, or None when the variable is unset."""
    home = os.environ.get(HOME_ENV)
    if not home:
        return None
    folder = Path(home) / "settings"
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    return folder


def create_window(model: Path | str | None = None, device: str | None = None):
    """Build the main window and start opening ``model`` (or the bundled default)."""
    from batikstudio.app.main_window import MainWindow
    from batikstudio.app.model_library import default_model_path
    from batikstudio.app.theme import apply_theme
    from batikstudio.runtime import configure_threads

    settings = QSettings()
    device = device or str(settings.value("device", "cpu"))
    threads = settings.value("threads", None)
    if threads:
        configure_threads(int(threads))
    apply_theme(QApplication.instance(), str(settings.value("theme", "light")))
    window = MainWindow(device)
    target = model if model is not None else default_model_path()
    if target is not None:
        window.open_model(str(target))
    else:
        window.statusBar().showMessage("No bundled model found: open a model file (Ctrl+O).")
    return window


def _let_python_run() -> None:
    """Timer target: a moment of Python bytecode, so pending signal handlers run."""


def quit_on_signals(window) -> QTimer:
    """SIGTERM / SIGINT close ``window`` (its closeEvent stops every thread), ending the app.

    Python runs signal handlers only between bytecodes, never while Qt's event loop waits in
    C++, so a 200 ms timer calls into Python. Call from the main thread.
    """

    def handler(signum, _frame) -> None:
        log.info("signal %d received: closing the window", signum)
        window.close()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    timer = QTimer(window)
    timer.timeout.connect(_let_python_run)
    timer.start(200)
    return timer


def run_app(model: Path | str | None = None, device: str | None = None) -> int:
    app = make_application()
    window = create_window(model, device)
    quit_on_signals(window)
    window.show()
    return app.exec()
