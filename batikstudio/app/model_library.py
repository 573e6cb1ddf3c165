"""Model library: bundled models, the user's models folder, recent files; shows model cards."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget,
)

from batikstudio.paths import BUNDLED_MODELS

log = logging.getLogger(__name__)

MODEL_SUFFIXES = (".safetensors", ".pkl")
RECENT_KEY = "library/recent"
MAX_RECENT = 10
PATH_ROLE = Qt.ItemDataRole.UserRole + 1


def is_generator_file(path: Path) -> bool:
    """True for NVlabs pickles and for native model files (other safetensors, such as the
    style-transfer weights in ``models/``, are not generators)."""
    if path.suffix == ".pkl":
        return True
    from batikstudio.errors import BatikError
    from batikstudio.io.modelfile import read_model_meta

    try:
        read_model_meta(path)
    except BatikError:
        return False
    return True


def describe_model_file(path: Path) -> str:
    """A short plain-text card for a model file (reads metadata only, never runs code)."""
    if path.suffix == ".pkl":
        return f"{path.name}\nNVlabs pickle: opened safely (no code runs); import it to keep a native copy."
    from batikstudio.errors import BatikError
    from batikstudio.io.modelfile import read_model_meta

    try:
        meta = read_model_meta(path).to_dict()
    except BatikError as exc:
        return f"{path.name}\nunreadable: {exc}"
    g = meta.get("G_config") or {}
    lines = [meta.get("name") or path.stem]
    if g:
        lines.append(f"{g.get('img_resolution')} px, {g.get('img_channels')} channel(s)")
    labels = meta.get("class_labels") or []
    if labels:
        lines.append("classes: " + ", ".join(labels))
    training = meta.get("training") or {}
    if training:
        keys = ("dataset", "kimg", "kimg_total", "loss", "metrics")
        lines.append("training: " + json.dumps({k: training[k] for k in keys if k in training})[:300])
    if meta.get("description"):
        lines.append(str(meta["description"]))
    return "\n".join(lines)


class ModelLibrary(QWidget):
    """Lists models; ``openRequested(path)`` when one is chosen (double click, Open, drop)."""

    openRequested = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.settings = QSettings()
        self.list = QListWidget(self)
        self.list.setObjectName("modelList")
        self.list.itemDoubleClicked.connect(self._on_double)
        self.list.currentItemChanged.connect(self._on_current)
        self.card = QLabel("", self)
        self.card.setWordWrap(True)
        self.card.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        open_button = QPushButton("Open model file…", self)
        open_button.clicked.connect(self.choose_file)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(QLabel("<b>Models</b>", self))
        layout.addWidget(self.list, 1)
        layout.addWidget(self.card)
        layout.addWidget(open_button)
        self.refresh()

    def folders(self) -> list[tuple[str, Path]]:
        from batikstudio.app.settings_dialog import models_folder

        return [("bundled", BUNDLED_MODELS), ("my models", Path(models_folder(self.settings)))]

    def recent(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent(self, path: str) -> None:
        items = [path] + [p for p in self.recent() if p != path]
        self.settings.setValue(RECENT_KEY, items[:MAX_RECENT])
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        entries: dict[str, tuple[Path, str]] = {}  # one entry per file, however it is reached
        for label, folder in self.folders():
            if folder.is_dir():
                for path in sorted(folder.iterdir()):
                    if path.suffix in MODEL_SUFFIXES and path.is_file() and is_generator_file(path):
                        entries.setdefault(str(path.resolve()), (path, label))
        for p in self.recent():
            if Path(p).is_file():
                entries.setdefault(str(Path(p).resolve()), (Path(p), "recent"))
        by_stem: dict[str, list[Path]] = {}
        for path, _ in entries.values():
            by_stem.setdefault(path.stem, []).append(path)
        for path, label in entries.values():
            # two files of one name (a copy elsewhere, another checkout's model): say where each lives
            namesakes = by_stem[path.stem]
            where = "" if len(namesakes) == 1 or label == "bundled" else f": {_telling_folder(path, namesakes)}"
            item = QListWidgetItem(f"{path.stem}  ({label}{where})")
            item.setData(PATH_ROLE, str(path))
            item.setToolTip(str(path))
            self.list.addItem(item)

    def paths(self) -> list[str]:
        return [self.list.item(i).data(PATH_ROLE) for i in range(self.list.count())]

    @Slot()
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open model", str(Path.home()), "Models (*.safetensors *.pkl);;All files (*)")
        if path:
            self.openRequested.emit(path)

    @Slot(QListWidgetItem)
    def _on_double(self, item: QListWidgetItem) -> None:
        self.openRequested.emit(item.data(PATH_ROLE))

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_current(self, item, _previous) -> None:
        if item is not None:
            self.card.setText(describe_model_file(Path(item.data(PATH_ROLE))))


def _telling_folder(path: Path, namesakes: list[Path]) -> str:
    """The shortest end of ``path``'s folder that no namesake's folder shares ("…/rd24/models"),
    or the whole folder where nothing shorter tells them apart."""
    mine = path.parent.resolve().parts
    others = [p.parent.resolve().parts for p in namesakes if p is not path]
    for k in range(1, len(mine)):
        tail = mine[-k:]
        if all(other[-k:] != tail for other in others):
            return "…/" + "/".join(tail)
    return _short_folder(path.parent)


def _short_folder(folder: Path) -> str:
    """``folder`` resolved, with the home directory written as ``~``."""
    folder = folder.resolve()
    try:
        rel = folder.relative_to(Path.home().resolve()).as_posix()
    except ValueError:
        return str(folder)
    return "~" if rel == "." else "~/" + rel


def default_model_path() -> Path | None:
    """The bundled default model: ``models/default.txt`` names it, else the first bundled file."""
    pointer = BUNDLED_MODELS / "default.txt"
    if pointer.is_file():
        candidate = BUNDLED_MODELS / pointer.read_text(encoding="utf-8").strip()
        if candidate.is_file():
            return candidate
    found = sorted(p for p in BUNDLED_MODELS.glob("*.safetensors") if is_generator_file(p))
    return found[0] if found else None
