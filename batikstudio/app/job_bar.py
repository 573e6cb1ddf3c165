"""Widgets shared by the Print and Post-processing tabs: a job progress bar and a swatch strip.

:class:`JobBar` runs one :class:`~batikstudio.app.qtjobs.TaskRunner` job at a time and shows
its progress, its status line and a Cancel button. It re-emits the job's outcome as its own
signals, so panels connect once to a widget that lives as long as they do.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from batikstudio.app.qtjobs import JobSignals, TaskRunner
from batikstudio.jobs import Job

log = logging.getLogger(__name__)


def model_name(widget: QWidget) -> str:
    """The open model's file stem, when ``widget`` sits in the main window (else "")."""
    model = getattr(getattr(widget.window(), "session", None), "model", None)
    path = getattr(model, "path", None)
    return Path(str(path)).stem if path else ""


def show_error(widget: QWidget, text: str) -> None:
    """Show ``text`` in the main window's error dialog; outside one, log it."""
    window = widget.window()
    if hasattr(window, "show_error"):
        window.show_error(text)
    else:
        log.warning("%s", text)


class _StatusLabel(QLabel):
    """A label that hides itself while empty, so an idle bar leaves no gap."""

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        super().setText(text)
        self.setVisible(bool(text))


class JobBar(QWidget):
    """Progress bar + status text + Cancel for one background job at a time.

    Signals (all delivered in the GUI thread):
        partial(object): an intermediate result of the running job.
        finished(object): the job's result.
        failed(object): the exception the job raised.
        cancelled(): the user (or :meth:`cancel`) stopped the job.
    """

    partial = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = TaskRunner(self)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(14)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.status = _StatusLabel(self)
        self.status.setWordWrap(True)
        self.status.setObjectName("jobStatus")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self.bar.setVisible(False)
        self.cancel_button.setVisible(False)
        self.set_status("")

    def set_status(self, text: str) -> None:
        """Show a status line (an empty one takes no space)."""
        self.status.setText(text)

    @property
    def running(self) -> bool:
        return self.runner.running

    def start(self, job: Job, request: Any, text: str) -> JobSignals:
        """Start ``job(request, ctx)``, cancelling any job in flight; ``text`` is the status."""
        signals = self.runner.start(job, request)
        signals.progress.connect(self._on_progress)
        signals.status.connect(self._on_status)
        signals.partial.connect(self._on_partial)
        signals.finished.connect(self._on_finished)
        signals.failed.connect(self._on_failed)
        signals.cancelled.connect(self._on_cancelled)
        self.bar.setValue(0)
        self.bar.setRange(0, 0)  # busy until the first progress report
        self.bar.setVisible(True)
        self.cancel_button.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.set_status(text)
        return signals

    @Slot()
    def cancel(self) -> None:
        """Stop the running job (it ends at its next check) and say so."""
        if not self.runner.running:
            return
        self.runner.cancel()
        self._idle("Cancelled.")
        self.cancelled.emit()

    def _idle(self, text: str) -> None:
        self.bar.setRange(0, 1000)
        self.bar.setVisible(False)
        self.cancel_button.setEnabled(False)
        self.cancel_button.setVisible(False)
        self.set_status(text)

    @Slot(float, float)
    def _on_progress(self, done: float, total: float) -> None:
        if total > 0:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(round(1000 * min(max(done / total, 0.0), 1.0))))

    @Slot(str)
    def _on_status(self, text: str) -> None:
        self.set_status(text)

    @Slot(object)
    def _on_partial(self, result: Any) -> None:
        self.partial.emit(result)

    @Slot(object)
    def _on_finished(self, result: Any) -> None:
        self._idle("Done.")
        self.finished.emit(result)

    @Slot(object)
    def _on_failed(self, exc: Any) -> None:
        self._idle(f"Failed: {exc}")
        self.failed.emit(exc)

    @Slot()
    def _on_cancelled(self) -> None:
        self._idle("Cancelled.")
        self.cancelled.emit()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel the job and wait for its thread; True when it ended."""
        return self.runner.shutdown(timeout_ms)


class SwatchStrip(QWidget):
    """A row of colour swatches, each labelled with its hex code (and optional note)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colors: list[tuple[int, int, int]] = []
        self.notes: list[str] = []
        self.setMinimumHeight(52)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_colors(self, colors: np.ndarray | Sequence[Sequence[int]], notes: Sequence[str] = ()) -> None:
        """``colors``: Kx3 uint8 RGB; ``notes``: one short text per colour (e.g. coverage)."""
        self.colors = [tuple(int(v) for v in c[:3]) for c in np.asarray(colors).reshape(-1, 3)]
        self.notes = list(notes)
        self.setToolTip("\n".join(f"{i}: #{r:02X}{g:02X}{b:02X}" for i, (r, g, b) in enumerate(self.colors)))
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(max(1, len(self.colors)) * 72, 52)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        if not self.colors:
            return
        painter = QPainter(self)
        cell = self.width() / len(self.colors)
        box_h = max(12, self.height() - 20)
        for i, (r, g, b) in enumerate(self.colors):
            x = int(i * cell)
            w = int((i + 1) * cell) - x - 4
            painter.fillRect(QRect(x, 0, w, box_h), QColor(r, g, b))
            painter.setPen(QColor(120, 120, 120))
            painter.drawRect(QRect(x, 0, w - 1, box_h - 1))
            note = self.notes[i] if i < len(self.notes) else ""
            text = f"#{r:02X}{g:02X}{b:02X}" + (f" {note}" if note else "")
            painter.setPen(self.palette().windowText().color())
            painter.drawText(QRect(x, box_h + 2, w, 18), Qt.AlignmentFlag.AlignLeft, text)
        painter.end()
