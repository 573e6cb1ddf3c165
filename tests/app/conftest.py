"""Fixtures for GUI tests: isolated settings and data, tiny models, and a thread-leak check."""

import threading
import time

import pytest

pytest.importorskip("PySide6", reason="GUI tests need the gui extra")  # the test extra installs it

from PySide6.QtCore import QSettings, QThread  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("BATIKSTUDIO_HOME", str(tmp_path / "home"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    yield


@pytest.fixture(autouse=True)
def no_thread_left_running():
    """Fail a test that leaves a Python thread or QThread running after it ends."""
    before = {t.ident for t in threading.enumerate()}
    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        extra = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
        if not extra:
            break
        time.sleep(0.05)
    assert not extra, f"threads left running: {[t.name for t in extra]}"


@pytest.fixture
def tiny_model_file(tmp_path):
    from batikstudio.core.nets import GeneratorConfig
    from batikstudio.io.models import new_random_model

    cfg = GeneratorConfig(z_dim=32, c_dim=3, w_dim=32, img_resolution=32, img_channels=3,
                          mapping_layers=2, channel_base=512, channel_max=32)
    path = tmp_path / "tiny.safetensors"
    new_random_model(cfg, seed=1, path=path, class_labels=("kawung", "parang", "ceplok"))
    return path
