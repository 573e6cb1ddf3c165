"""Fixtures for GUI tests: isolated settings and data, tiny models, and a thread-leak check."""

import threading
import time

import pytest

pytest.importorskip("PySide6", reason="GUI tests need the gui extra")  # the test extra installs it

from PySide6.QtCore import QSettings  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("BATIKSTUDIO_HOME", str(tmp_path / "home"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    yield


@pytest.fixture(autouse=True)
def no_thread_left_running():
    """Fail a test that leaves a Python thread or a task QThread running after it ends."""
    from batikstudio.app.qtjobs import running_workers

    def leftovers():
        # QThreads that ran Python code show up as _DummyThread entries that never end: skip
        # those and ask Qt about its own threads instead
        py = [t.name for t in threading.enumerate()
              if t.ident not in before and t.is_alive() and not isinstance(t, threading._DummyThread)]
        return py + [f"QThread {w!r}" for w in running_workers()]

    before = {t.ident for t in threading.enumerate()}
    yield
    deadline = time.monotonic() + 5
    while (extra := leftovers()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not extra, f"threads left running: {extra}"


@pytest.fixture(autouse=True)
def closing_during_training_does_not_ask():
    """pytest-qt closes a test's windows in teardown, also after a failed assertion while a run
    still trains: the real question box is modal, nobody answers it offscreen, and the whole test
    session would hang (pytest-timeout cannot interrupt Qt's modal loop). Answer "stop and quit";
    tests of the question itself replace the method on their window."""
    from batikstudio.app.main_window import MainWindow

    real = MainWindow.confirm_close_during_training
    MainWindow.confirm_close_during_training = lambda self: True
    yield
    MainWindow.confirm_close_during_training = real


@pytest.fixture
def tiny_model_file(tmp_path):
    from batikstudio.core.nets import GeneratorConfig
    from batikstudio.io.models import new_random_model

    cfg = GeneratorConfig(z_dim=32, c_dim=3, w_dim=32, img_resolution=32, img_channels=3,
                          mapping_layers=2, channel_base=512, channel_max=32)
    path = tmp_path / "tiny.safetensors"
    new_random_model(cfg, seed=1, path=path)
    return path


def open_main_window(qtbot, model, timeout=30000):
    """The app's main window on ``model`` (None: the bundled default), shown, with the model open."""
    from batikstudio.app.main import create_window, make_application

    make_application()
    win = create_window(model, "cpu")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.session.model is not None, timeout=timeout)
    return win
