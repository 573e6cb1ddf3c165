"""Seed grid: endless scrolling through seeds, thumbnails rendered in the background.

Only visible (and just-below) seeds are rendered, eight at a time, through a newest-wins
runner: scrolling or changing the class drops work for views nobody looks at any more.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPoint, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QListView, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from batikstudio.app.imageutil import to_pixmap
from batikstudio.app.qtjobs import PreviewRunner
from batikstudio.io.models import trained_tileable
from batikstudio.render.request import RenderRequest

PAGE = 48
BATCH = 8
SEED_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class ThumbRequest:
    model: Any
    request: RenderRequest
    generation: int


def thumbnail_job(req: ThumbRequest, ctx) -> tuple[int, RenderRequest, Any]:
    """Job: render a batch of thumbnails."""
    from batikstudio.render.engine import render

    result = render(req.model, req.request, batch_size=BATCH, ctx=ctx)
    return req.generation, req.request, result.images


class SeedGridModel(QAbstractListModel):
    """Rows are seeds ``base, base+1, ...``; grows on demand (fetchMore)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.base = 0
        self.count = PAGE
        self.pixmaps: dict[int, QPixmap] = {}
        self.favourites: set[int] = set()
        # the placeholder has the thumbnail size: the view sizes every item from it
        self._placeholder = QPixmap(SeedGridView.THUMB, SeedGridView.THUMB)
        self._placeholder.fill(QColor("#d8cfbd"))

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else self.count

    def seed_at(self, row: int) -> int:
        return self.base + row

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        seed = self.seed_at(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            return f"★ {seed}" if seed in self.favourites else str(seed)
        if role == Qt.ItemDataRole.DecorationRole:
            return QIcon(self.pixmaps.get(seed, self._placeholder))
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"seed {seed}"
        if role == SEED_ROLE:
            return seed
        return None

    def canFetchMore(self, parent=QModelIndex()) -> bool:  # noqa: N802
        return not parent.isValid() and self.base + self.count < 2**32 - 1

    def fetchMore(self, parent=QModelIndex()) -> None:  # noqa: N802
        n = min(PAGE, 2**32 - 1 - self.base - self.count)
        self.beginInsertRows(QModelIndex(), self.count, self.count + n - 1)
        self.count += n
        self.endInsertRows()

    def reset(self, base: int | None = None) -> None:
        self.beginResetModel()
        if base is not None:
            self.base = max(0, min(int(base), 2**32 - 1 - PAGE))
        self.count = PAGE
        self.pixmaps.clear()
        self.endResetModel()

    def set_pixmap(self, seed: int, pixmap: QPixmap) -> None:
        self.pixmaps[seed] = pixmap
        row = seed - self.base
        if 0 <= row < self.count:
            idx = self.index(row)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])

    def set_favourites(self, seeds: set[int]) -> None:
        self.favourites = set(seeds)
        if self.count:
            self.dataChanged.emit(self.index(0), self.index(self.count - 1), [Qt.ItemDataRole.DisplayRole])


class SeedGridView(QWidget):
    """The grid with its toolbar: jump to seed, random page, class filter."""

    seedActivated = Signal(int)
    pageRendered = Signal()

    THUMB = 128

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.model_obj: Any = None
        self.template = RenderRequest(psi=0.7, out_size=self.THUMB)
        self._generation = 0
        self.grid_model = SeedGridModel(self)
        self.list = QListView(self)
        self.list.setObjectName("seedGrid")
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setUniformItemSizes(True)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setIconSize(QSize(self.THUMB, self.THUMB))
        self.list.setGridSize(QSize(self.THUMB + 16, self.THUMB + 28))
        self.list.setModel(self.grid_model)
        self.list.clicked.connect(self._on_clicked)
        self.list.activated.connect(self._on_clicked)
        self.list.verticalScrollBar().valueChanged.connect(self._schedule)
        self._build_toolbar()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self._toolbar)
        layout.addWidget(self.list)
        self.runner = PreviewRunner(thumbnail_job, self)
        self.runner.ready.connect(self._on_ready)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(30)
        self._timer.timeout.connect(self._pump)

    def _build_toolbar(self) -> None:
        self._toolbar = QHBoxLayout()
        self.jump = QSpinBox(self)
        self.jump.setRange(0, 2**31 - 1)
        self.jump.setPrefix("seed ")
        go = QPushButton("Go", self)
        go.clicked.connect(self._on_jump)
        rnd = QPushButton("Random page", self)
        rnd.clicked.connect(self._on_random)
        self.class_box = QComboBox(self)
        self.class_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # long font names
        self.class_box.currentIndexChanged.connect(self._on_class)
        self.status = QLabel("", self)
        for w in (QLabel("Jump to", self), self.jump, go, rnd, QLabel("Class", self), self.class_box):
            self._toolbar.addWidget(w)
        self._toolbar.addStretch(1)
        self._toolbar.addWidget(self.status)

    def set_model(self, model: Any) -> None:
        self.model_obj = model
        labels = list(model.class_labels) if model.G_ema.c_dim else []
        self.class_box.blockSignals(True)
        self.class_box.clear()
        self.class_box.addItems(labels or ["(unconditional)"])
        self.class_box.setEnabled(bool(labels))
        self.class_box.blockSignals(False)
        cls = 0 if model.G_ema.c_dim else None
        self.template = replace(self.template, class_index=cls, tileable=trained_tileable(model))
        self._restart()

    def _restart(self, base: int | None = None) -> None:
        self._generation += 1
        self.runner.cancel()
        self.grid_model.reset(base)
        self._schedule()

    @Slot()
    def _schedule(self, *_: Any) -> None:
        self._timer.start()

    def visible_seeds(self) -> list[int]:
        vp = self.list.viewport().rect()
        first = self.list.indexAt(vp.topLeft() + QPoint(8, 8))
        last = self.list.indexAt(vp.bottomRight() - QPoint(8, 8))
        lo = first.row() if first.isValid() else 0
        hi = last.row() if last.isValid() else min(self.grid_model.count - 1, lo + PAGE)
        hi = min(self.grid_model.count - 1, hi + BATCH)  # prefetch one batch below the view
        return [self.grid_model.seed_at(r) for r in range(lo, hi + 1)]

    @Slot()
    def _pump(self) -> None:
        if self.model_obj is None:
            return
        missing = [s for s in self.visible_seeds() if s not in self.grid_model.pixmaps][:BATCH]
        if not missing:
            self.status.setText("")
            self.pageRendered.emit()
            return
        self.status.setText("rendering…")
        req = self.template.with_seeds(missing)
        self.runner.submit(ThumbRequest(self.model_obj, req, self._generation))

    @Slot(object)
    def _on_ready(self, outcome) -> None:
        if outcome.error is not None:
            self.status.setText(f"render failed: {outcome.error}")
            return
        generation, req, images = outcome.result
        if generation != self._generation:
            return
        for seed, img in zip(req.seeds, images):
            self.grid_model.set_pixmap(seed, to_pixmap(img))
        self._schedule()

    @Slot(QModelIndex)
    def _on_clicked(self, index: QModelIndex) -> None:
        self.seedActivated.emit(int(index.data(SEED_ROLE)))

    @Slot()
    def _on_jump(self) -> None:
        self._restart(self.jump.value())

    @Slot()
    def _on_random(self) -> None:
        self._restart(random.randrange(0, 2**31 - PAGE))

    @Slot(int)
    def _on_class(self, index: int) -> None:
        if self.model_obj is not None and self.model_obj.G_ema.c_dim and index >= 0:
            self.template = replace(self.template, class_index=index)
            self._restart(self.grid_model.base)

    def set_psi(self, psi: float) -> None:
        if psi != self.template.psi:
            self.template = replace(self.template, psi=psi)
            self._restart(self.grid_model.base)

    def shutdown(self) -> bool:
        self._timer.stop()
        return self.runner.shutdown()
