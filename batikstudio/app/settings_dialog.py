"""Preferences: device, CPU threads, folders, theme (stored with QSettings)."""

from __future__ import annotations

import os

import torch
from PySide6.QtCore import QSettings, Slot
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLineEdit,
    QPushButton, QSpinBox, QWidget,
)

from batikstudio.app.theme import THEMES
from batikstudio.paths import user_models_dir

KEYS = {"device": "device", "threads": "threads", "theme": "theme", "models": "folders/models"}


def available_devices() -> list[str]:
    """Devices this machine can render on (CPU always)."""
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def models_folder(settings: QSettings | None = None) -> str:
    settings = settings or QSettings()
    return str(settings.value(KEYS["models"], str(user_models_dir())))


class SettingsDialog(QDialog):
    """Edits the settings; :meth:`accept` writes them. Device and threads apply at once."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.settings = QSettings()
        form = QFormLayout(self)
        self.device = QComboBox(self)
        self.device.addItems(available_devices())
        self.device.setCurrentText(str(self.settings.value(KEYS["device"], "cpu")))
        self.threads = QSpinBox(self)
        self.threads.setRange(1, max(1, os.cpu_count() or 1))
        self.threads.setValue(int(self.settings.value(KEYS["threads"], torch.get_num_threads())))
        self.threads.setToolTip("Torch CPU threads. On a 2-core machine, 1 keeps the app responsive.")
        self.theme = QComboBox(self)
        self.theme.addItems(list(THEMES))
        self.theme.setCurrentText(str(self.settings.value(KEYS["theme"], "light")))
        self.folder = QLineEdit(models_folder(self.settings), self)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        form.addRow("Render device", self.device)
        form.addRow("CPU threads", self.threads)
        form.addRow("Theme", self.theme)
        form.addRow("My models folder", row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    @Slot()
    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Models folder", self.folder.text())
        if path:
            self.folder.setText(path)

    def accept(self) -> None:
        self.settings.setValue(KEYS["device"], self.device.currentText())
        self.settings.setValue(KEYS["threads"], self.threads.value())
        self.settings.setValue(KEYS["theme"], self.theme.currentText())
        self.settings.setValue(KEYS["models"], self.folder.text())
        self.settings.sync()
        super().accept()
