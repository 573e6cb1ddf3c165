"""Session: the open model, its directions, favourites; shared by every view."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from batikstudio.app.qtjobs import TaskRunner
from batikstudio.io.favourites import FavouritesStore
from batikstudio.paths import data_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpenModelRequest:
    path: str
    device: str


def open_model_job(req: OpenModelRequest, ctx) -> Any:
    """Job: open a model file (.safetensors or NVlabs .pkl) on ``req.device``."""
    from batikstudio.io.models import open_model
    from batikstudio.runtime import resolve_device

    ctx.status(f"opening {Path(req.path).name}")
    return open_model(req.path, device=resolve_device(req.device))


@dataclass(frozen=True)
class DirectionsRequest:
    model: Any
    count: int


def directions_job(req: DirectionsRequest, ctx) -> Any:
    """Job: PCA directions of the model (cached per file hash)."""
    from batikstudio.render.directions_cache import default_cache

    ctx.status("finding latent directions")
    return default_cache().get(req.model, count=req.count, ctx=ctx)


class Session(QObject):
    """Holds the open model; emits ``modelChanged`` / ``directionsReady`` / ``error``."""

    modelChanged = Signal(object)
    directionsReady = Signal(object)
    error = Signal(str)
    busy = Signal(str)

    DIRECTIONS = 8

    def __init__(self, device: str = "cpu", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.device = device
        self.model: Any = None
        self.directions: Any = None
        self.favourites = FavouritesStore(data_dir() / "favourites.json")
        self._opener = TaskRunner(self)
        self._pca = TaskRunner(self)

    def open(self, path: str | Path) -> None:
        """Open a model in the background; ``modelChanged`` or ``error`` follows."""
        self.busy.emit(f"Opening {Path(path).name}…")
        signals = self._opener.start(open_model_job, OpenModelRequest(str(path), self.device))
        signals.finished.connect(self._on_opened)
        signals.failed.connect(self._on_failed)

    @Slot(object)
    def _on_opened(self, model: Any) -> None:
        self.model = model
        self.directions = None
        self.modelChanged.emit(model)
        signals = self._pca.start(directions_job, DirectionsRequest(model, self.DIRECTIONS))
        signals.finished.connect(self._on_directions)
        signals.failed.connect(self._on_failed)

    @Slot(object)
    def _on_directions(self, directions: Any) -> None:
        self.directions = directions
        self.directionsReady.emit(directions)

    @Slot(object)
    def _on_failed(self, exc: object) -> None:
        self.error.emit(str(exc))

    def shutdown(self) -> bool:
        return self._opener.shutdown() and self._pca.shutdown()
