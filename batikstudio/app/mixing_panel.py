"""Style-mixing matrix (NVlabs ``style_mixing.py`` as a view): row seeds x column seeds.

Row ``i``, column ``j`` shows the motif of row seed ``i`` whose W range (coarse, middle or
fine) is taken from column seed ``j``; the header row and column show the seeds unmixed. All
other settings (class, psi, noise, directions...) are the current motif's. The matrix is
rendered by a job that hands over every image as it is made; clicking a cell applies that
mix to the current motif through the view-model (undoable), clicking a header picks its seed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QComboBox, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSizePolicy, QVBoxLayout,
    QWidget,
)

from batikstudio.app.imageutil import to_pixmap
from batikstudio.app.job_bar import JobBar
from batikstudio.app.motif_state import MotifViewModel
from batikstudio.core.latents import MIX_RANGE_NAMES, parse_seeds
from batikstudio.render.engine import NO_W_LAYERS
from batikstudio.render.motif import MotifState

log = logging.getLogger(__name__)

MAX_SEEDS = 8  # per axis: 64 cells is already a long render on a CPU
CELL_PIXELS = 128  # cells are rendered at most this large (smaller models: native size)


# -- the job (Qt-free) -------------------------------------------------------------------------


@dataclass(frozen=True)
class MixingMatrixRequest:
    """One matrix: ``base`` settings, seeds of the rows and columns, the range columns give."""

    model: Any
    base: MotifState
    row_seeds: tuple[int, ...]
    col_seeds: tuple[int, ...]
    layers: str = "coarse"
    size: int | None = None
    directions: Any = None


@dataclass(frozen=True)
class MixingMatrixResult:
    """Images [N, H, W, C] uint8 of the row headers, column headers; cells [R, C, H, W, C]."""

    request: MixingMatrixRequest
    rows: np.ndarray
    cols: np.ndarray
    cells: np.ndarray


def cell_state(base: MotifState, row_seed: int, col_seed: int, layers: str) -> MotifState:
    """The motif of a cell: ``base`` at ``row_seed`` with ``layers`` taken from ``col_seed``."""
    return replace(base, seed=int(row_seed)).with_mix(layers, int(col_seed))


def header_state(base: MotifState, seed: int, layers: str) -> MotifState:
    """The motif of a header: ``base`` at ``seed``, the mixed range left unmixed."""
    return replace(base, seed=int(seed)).with_mix(layers, None)


def mixing_matrix_job(req: MixingMatrixRequest, ctx) -> MixingMatrixResult:
    """Job: render headers then cells, column by column.

    Every image is handed over as ``ctx.partial((kind, i, j, image))`` with kind ``row``
    (j = -1), ``col`` (i = -1) or ``cell``; progress counts images.
    """
    from batikstudio.render.engine import render

    count = req.directions.count if req.directions is not None else 16
    rows_n, cols_n = len(req.row_seeds), len(req.col_seeds)
    total = rows_n + cols_n + rows_n * cols_n
    done = 0

    def one(state: MotifState) -> np.ndarray:
        nonlocal done
        ctx.check()
        img = render(req.model, state.request(out_size=req.size, directions_count=count),
                     directions=req.directions).images[0]
        done += 1
        ctx.progress(done, total)
        return img

    ctx.status(f"rendering {rows_n} x {cols_n} mixes ({req.layers})")
    rows = []
    for i, seed in enumerate(req.row_seeds):
        rows.append(one(header_state(req.base, seed, req.layers)))
        ctx.partial(("row", i, -1, rows[-1]))
    cols = []
    for j, seed in enumerate(req.col_seeds):
        cols.append(one(header_state(req.base, seed, req.layers)))
        ctx.partial(("col", -1, j, cols[-1]))
    cells = np.zeros((rows_n, cols_n, *rows[0].shape), np.uint8)
    for j, col in enumerate(req.col_seeds):
        for i, row in enumerate(req.row_seeds):
            cells[i, j] = one(cell_state(req.base, row, col, req.layers))
            ctx.partial(("cell", i, j, cells[i, j]))
    return MixingMatrixResult(req, np.stack(rows), np.stack(cols), cells)


# -- the matrix widget ------------------------------------------------------------------------


class MixingMatrixWidget(QWidget):
    """Paints the matrix: headers on top and left, cells scaled to fit; emits ``cellClicked``.

    ``cellClicked(i, j)``: ``i`` the row (-1 = the column header row), ``j`` the column
    (-1 = the row header column).
    """

    cellClicked = Signal(int, int)

    GAP = 4
    HEADER_GAP = 10

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mixingMatrix")
        self.setMinimumSize(240, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.row_seeds: tuple[int, ...] = ()
        self.col_seeds: tuple[int, ...] = ()
        self.pixmaps: dict[tuple[int, int], QPixmap] = {}
        self.selected: tuple[int, int] | None = None
        self.layers = ""

    def reset(self, row_seeds: tuple[int, ...], col_seeds: tuple[int, ...], layers: str = "") -> None:
        self.row_seeds, self.col_seeds, self.layers = tuple(row_seeds), tuple(col_seeds), layers
        self.pixmaps.clear()
        self.selected = None
        self.update()

    def set_image(self, i: int, j: int, img: np.ndarray) -> None:
        self.pixmaps[(i, j)] = to_pixmap(img)
        self.update()

    def cell_size(self) -> int:
        n_cols, n_rows = len(self.col_seeds) + 1, len(self.row_seeds) + 1
        if n_cols < 2 or n_rows < 2:
            return 0
        extra = self.HEADER_GAP - self.GAP
        w = (self.width() - extra - self.GAP * (n_cols - 1)) // n_cols
        h = (self.height() - extra - self.GAP * (n_rows - 1)) // n_rows
        return max(8, min(w, h))

    def cell_rect(self, i: int, j: int) -> QRect:
        """Where cell (i, j) is drawn (headers at -1), centred in the widget."""
        s = self.cell_size()
        n_cols, n_rows = len(self.col_seeds) + 1, len(self.row_seeds) + 1
        extra = self.HEADER_GAP - self.GAP
        total_w = n_cols * s + (n_cols - 1) * self.GAP + extra
        total_h = n_rows * s + (n_rows - 1) * self.GAP + extra
        x0 = max(0, (self.width() - total_w) // 2)
        y0 = max(0, (self.height() - total_h) // 2)
        x = x0 + (j + 1) * (s + self.GAP) + (extra if j >= 0 else 0)
        y = y0 + (i + 1) * (s + self.GAP) + (extra if i >= 0 else 0)
        return QRect(x, y, s, s)

    def cell_at(self, pos: QPoint) -> tuple[int, int] | None:
        for i in range(-1, len(self.row_seeds)):
            for j in range(-1, len(self.col_seeds)):
                if (i, j) != (-1, -1) and self.cell_rect(i, j).contains(pos):
                    return i, j
        return None

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(640, 640)

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt API
        hit = self.cell_at(event.position().toPoint())
        if hit is not None and event.button() == Qt.MouseButton.LeftButton:
            self.selected = hit
            self.update()
            self.cellClicked.emit(*hit)
        super().mousePressEvent(event)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        if not self.row_seeds or not self.col_seeds:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        empty = QColor("#d8cfbd")
        for i in range(-1, len(self.row_seeds)):
            for j in range(-1, len(self.col_seeds)):
                if (i, j) == (-1, -1):
                    continue
                rect = self.cell_rect(i, j)
                pix = self.pixmaps.get((i, j))
                if pix is None:
                    p.fillRect(rect, empty)
                else:
                    p.drawPixmap(rect, pix)
                if i < 0 or j < 0:
                    self._label(p, rect, str(self.col_seeds[j] if i < 0 else self.row_seeds[i]))
        if self.selected is not None:
            p.setPen(QPen(QColor("#b5651d"), 3))
            p.drawRect(self.cell_rect(*self.selected).adjusted(-2, -2, 1, 1))
        corner = self.cell_rect(-1, -1)
        p.setPen(self.palette().windowText().color())
        p.drawText(corner, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                   f"columns give\nthe {self.layers} range\nto each row" if self.layers else "")
        p.end()

    @staticmethod
    def _label(p: QPainter, rect: QRect, text: str) -> None:
        """Seed number on a dark band at the bottom of a header image."""
        band = QRect(rect.left(), rect.bottom() - 17, rect.width(), 18)
        p.fillRect(band, QColor(0, 0, 0, 150))
        p.setPen(QColor("white"))
        p.drawText(band, Qt.AlignmentFlag.AlignCenter, text)


# -- the panel --------------------------------------------------------------------------------


class MixingPanel(QWidget):
    """Controls + matrix. ``applied(MotifState)`` after a click changed the current motif."""

    applied = Signal(object)
    matrixReady = Signal(object)

    def __init__(self, session: Any, vm: MotifViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.vm = session, vm
        self.model_obj: Any = None
        self.directions: Any = None
        self.result: MixingMatrixResult | None = None
        self._pending: MixingMatrixRequest | None = None
        self.row_edit = QLineEdit("0-4", self)
        self.col_edit = QLineEdit("10-14", self)
        for edit in (self.row_edit, self.col_edit):
            edit.setPlaceholderText("seeds, e.g. 1,5,9 or 0-4")
            edit.returnPressed.connect(self.render_matrix)
        self.rows_fav = QPushButton("★ Favourites", self)
        self.cols_fav = QPushButton("★ Favourites", self)
        self.rows_fav.clicked.connect(self.rows_from_favourites)
        self.cols_fav.clicked.connect(self.cols_from_favourites)
        self.range_box = QComboBox(self)
        self.range_box.addItems(list(MIX_RANGE_NAMES))
        self.render_button = QPushButton("Render matrix", self)
        self.render_button.setDefault(True)
        self.render_button.clicked.connect(self.render_matrix)
        self.job_bar = JobBar(self)
        self.job_bar.partial.connect(self._on_partial)
        self.job_bar.finished.connect(self._on_finished)
        self.job_bar.failed.connect(self._on_failed)
        self.matrix = MixingMatrixWidget(self)
        self.matrix.cellClicked.connect(self._on_cell)
        self.info = QLabel("Rows keep their own motif; columns give the chosen W range. "
                           "Click a cell to use that mix (Ctrl+Z undoes).", self)
        self.info.setWordWrap(True)
        self._layout()

    def _layout(self) -> None:
        grid = QGridLayout()
        grid.addWidget(QLabel("Row seeds", self), 0, 0)
        grid.addWidget(self.row_edit, 0, 1)
        grid.addWidget(self.rows_fav, 0, 2)
        grid.addWidget(QLabel("Column seeds", self), 1, 0)
        grid.addWidget(self.col_edit, 1, 1)
        grid.addWidget(self.cols_fav, 1, 2)
        grid.addWidget(QLabel("Columns give", self), 0, 3)
        grid.addWidget(self.range_box, 0, 4)
        grid.addWidget(self.render_button, 1, 3, 1, 2)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(grid)
        layout.addWidget(self.job_bar)
        layout.addWidget(self.matrix, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.info, 1)
        layout.addLayout(bottom)

    # -- model, favourites -----------------------------------------------------------------

    @Slot(object)
    def set_model(self, model: Any) -> None:
        """A new model: drop the old matrix (its pixels belong to the old model)."""
        self.job_bar.cancel()
        self.model_obj = model
        self.directions = None
        self.result = None
        self.matrix.reset((), ())

    @Slot(object)
    def set_directions(self, directions: Any) -> None:
        self.directions = directions

    def favourite_seeds(self) -> list[int]:
        """Seeds of the current model's favourites, in the order they were kept, no repeats."""
        if self.model_obj is None:
            return []
        seeds: list[int] = []
        for fav in self.session.favourites.for_model(self.model_obj.sha256):
            seed = int(fav.state.get("seed", 0))
            if seed not in seeds:
                seeds.append(seed)
        return seeds[:MAX_SEEDS]

    @Slot()
    def rows_from_favourites(self) -> None:
        self._fill_from_favourites(self.row_edit)

    @Slot()
    def cols_from_favourites(self) -> None:
        self._fill_from_favourites(self.col_edit)

    def _fill_from_favourites(self, edit: QLineEdit) -> None:
        seeds = self.favourite_seeds()
        if not seeds:
            self.info.setText("No favourites for this model yet: press F in the Motif tab to keep one.")
            return
        edit.setText(",".join(str(s) for s in seeds))

    # -- rendering -------------------------------------------------------------------------

    def _seeds(self, edit: QLineEdit, what: str) -> tuple[int, ...]:
        seeds = parse_seeds(edit.text(), limit=10_000)
        if len(seeds) > MAX_SEEDS:
            raise ValueError(f"at most {MAX_SEEDS} {what} seeds (got {len(seeds)})")
        return tuple(seeds)

    def make_request(self) -> MixingMatrixRequest:
        """The request for the current controls and motif. Raises ValueError on bad seeds."""
        rows = self._seeds(self.row_edit, "row")
        cols = self._seeds(self.col_edit, "column")
        base = self.vm.state
        if base.directions and self.directions is None:
            base = replace(base, directions=())
        if getattr(self.model_obj.G_ema, "num_ws", 2) == 1:
            raise ValueError(NO_W_LAYERS)
        res = self.model_obj.G_ema.img_resolution
        size = CELL_PIXELS if res > CELL_PIXELS else None
        return MixingMatrixRequest(self.model_obj, base, rows, cols, self.range_box.currentText(),
                                   size, self.directions)

    @Slot()
    def render_matrix(self) -> None:
        """Render the matrix for the current controls (cancels a matrix in progress)."""
        if self.model_obj is None:
            self.info.setText("Open a model first.")
            return
        try:
            req = self.make_request()
        except ValueError as exc:
            self.info.setText(f"Cannot render: {exc}")
            return
        self.result = None
        self._pending = req
        self.matrix.reset(req.row_seeds, req.col_seeds, req.layers)
        self.job_bar.start(mixing_matrix_job, req, "Rendering the mixing matrix…")

    @Slot(object)
    def _on_partial(self, item: Any) -> None:
        kind, i, j, img = item
        self.matrix.set_image(i, j, img)

    @Slot(object)
    def _on_finished(self, result: MixingMatrixResult) -> None:
        self.result = result
        self._pending = None
        req = result.request
        self.job_bar.status.setText(f"{len(req.row_seeds)} x {len(req.col_seeds)} mixes of the "
                                    f"{req.layers} range.")
        self.matrixReady.emit(result)

    @Slot(object)
    def _on_failed(self, exc: Any) -> None:
        self._pending = None
        self.info.setText(f"Matrix failed: {exc}")

    # -- clicks ----------------------------------------------------------------------------

    def state_for_cell(self, i: int, j: int) -> MotifState | None:
        """The current motif changed to what cell (i, j) of the matrix shows (None: no cell)."""
        req = self.result.request if self.result is not None else self._pending
        if req is None or i >= len(req.row_seeds) or j >= len(req.col_seeds):
            return None
        if i >= 0 and j >= 0:
            return cell_state(self.vm.state, req.row_seeds[i], req.col_seeds[j], req.layers)
        seed = req.row_seeds[i] if i >= 0 else req.col_seeds[j]
        return header_state(self.vm.state, seed, req.layers)

    @Slot(int, int)
    def _on_cell(self, i: int, j: int) -> None:
        self.apply_cell(i, j)

    def apply_cell(self, i: int, j: int) -> None:
        """Apply cell (i, j) to the current motif as one undoable edit."""
        new = self.state_for_cell(i, j)
        if new is None:
            return
        req = self.result.request if self.result is not None else self._pending
        if i >= 0 and j >= 0:
            text = f"mix {req.layers} of seed {req.col_seeds[j]} into seed {req.row_seeds[i]}"
        else:
            text = f"seed {new.seed} from the mixing matrix"
        self.vm.edit(new, text)
        self.info.setText(f"Applied: {text}. See the Motif tab; Ctrl+Z undoes.")
        self.applied.emit(new)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self.model_obj is not None and self.result is None and not self.job_bar.running:
            self.render_matrix()

    def shutdown(self) -> bool:
        return self.job_bar.shutdown()
