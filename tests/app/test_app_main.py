from PySide6.QtCore import QSettings

from batikstudio.app.main import redirect_settings


def test_batikstudio_home_keeps_the_settings_too(tmp_path, monkeypatch, qapp):
    monkeypatch.delenv("BATIKSTUDIO_HOME", raising=False)
    assert redirect_settings() is None
    monkeypatch.setenv("BATIKSTUDIO_HOME", str(tmp_path / "home"))
    folder = redirect_settings()
    assert folder == tmp_path / "home" / "settings"
    settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "BatikStudio", "Batik Studio")
    settings.setValue("theme", "dark")
    settings.sync()
    written = list(folder.rglob("*.ini"))
    assert written and "theme=dark" in written[0].read_text()
