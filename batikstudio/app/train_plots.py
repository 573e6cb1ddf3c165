"""Live plots of a training run (pyqtgraph): losses, augmentation strength, speed, metric."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QVBoxLayout, QWidget

from batikstudio.training.config import TrainTick

_NO_METRIC = "Metric (none for this run yet)"
REDRAW_MS = 250  # curves are redrawn at most this often: ticks (or a loaded history) can come faster
_COLOURS = {"G": "#1f5fa8", "D": "#c0392b", "p": "#7d3c98", "T": "#b9770e", "speed": "#117a65", "metric": "#2c3e50"}


class TrainPlots(QWidget):
    """Four small plots against kimg, fed one :class:`TrainTick` at a time.

    * losses: G and D;
    * augmentation: ADA's p, or the Diffusion-GAN T when the run uses diffusion noise;
    * speed: images per second;
    * metric: the first metric of the run (empty until one is evaluated).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget(self)
        self.view.setBackground(self.palette().base().color())
        self.view.setMinimumHeight(260)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.loss_plot = self._plot(0, 0, "Losses", "loss")
        self.loss_plot.addLegend(offset=(-4, 4), brush=pg.mkBrush(255, 255, 255, 210), pen=pg.mkPen("#999999"),
                                 labelTextColor="#222222")
        self.strength_plot = self._plot(0, 1, "Augmentation p", "p")
        self.speed_plot = self._plot(1, 0, "Speed", "images/s")
        self.metric_plot = self._plot(1, 1, _NO_METRIC, "")
        self.curves = {
            "G": self.loss_plot.plot([], [], pen=pg.mkPen(_COLOURS["G"], width=2), name="G"),
            "D": self.loss_plot.plot([], [], pen=pg.mkPen(_COLOURS["D"], width=2), name="D"),
            "strength": self.strength_plot.plot([], [], pen=pg.mkPen(_COLOURS["p"], width=2)),
            "speed": self.speed_plot.plot([], [], pen=pg.mkPen(_COLOURS["speed"], width=2)),
            "metric": self.metric_plot.plot([], [], pen=pg.mkPen(_COLOURS["metric"], width=2), symbol="o",
                                            symbolSize=5),
        }
        self.diffusion = False
        self.metric_name = ""
        self.data: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in self.curves}
        # A redraw of the four plots costs tens of milliseconds of the GUI thread (axis text):
        # new points are collected and drawn together, once per REDRAW_MS at the most.
        self._dirty: set[str] = set()
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(REDRAW_MS)
        self._redraw.timeout.connect(self.redraw)

    def _plot(self, row: int, col: int, title: str, unit: str) -> pg.PlotItem:
        plot = self.view.addPlot(row=row, col=col, title=title)
        plot.showGrid(x=True, y=True, alpha=0.25)
        plot.setLabel("bottom", "kimg")
        if unit:
            plot.setLabel("left", unit)
        plot.setMouseEnabled(x=False, y=False)
        for side in ("bottom", "left"):
            plot.getAxis(side).enableAutoSIPrefix(False)  # "kimg (x0.001)" reads badly
        return plot

    def set_diffusion(self, enabled: bool) -> None:
        """Plot the diffusion T (instead of the augmentation p)."""
        self.diffusion = enabled
        self.strength_plot.setTitle("Diffusion T" if enabled else "Augmentation p")
        self.strength_plot.setLabel("left", "T" if enabled else "p")
        self.curves["strength"].setPen(pg.mkPen(_COLOURS["T" if enabled else "p"], width=2))

    def clear(self) -> None:
        self.data = {k: ([], []) for k in self.curves}
        self.metric_name = ""
        self.metric_plot.setTitle(_NO_METRIC)
        self._dirty.clear()
        self._redraw.stop()
        for curve in self.curves.values():
            curve.setData([], [])

    def _append(self, key: str, x: float, y: float | None) -> None:
        if y is None or not math.isfinite(float(y)):
            return
        xs, ys = self.data[key]
        xs.append(float(x))
        ys.append(float(y))
        self._dirty.add(key)
        if not self._redraw.isActive():
            self._redraw.start()

    @Slot()
    def redraw(self) -> None:
        """Draw the points collected since the last redraw (the timer calls this)."""
        self._redraw.stop()
        for key in sorted(self._dirty):
            self.curves[key].setData(*self.data[key])
        self._dirty.clear()

    def add_tick(self, tick: TrainTick) -> None:
        """Append one tick's values."""
        self._append("G", tick.kimg, tick.losses.get("G"))
        self._append("D", tick.kimg, tick.losses.get("D"))
        self._append("strength", tick.kimg, tick.diffusion_T if self.diffusion else tick.augment_p)
        self._append("speed", tick.kimg, tick.kimg_per_s * 1000)
        if tick.metrics:
            name = self.metric_name or next(iter(tick.metrics))
            if not self.metric_name:
                self.metric_name = name
                self.metric_plot.setTitle(f"Metric: {name}")
            self._append("metric", tick.kimg, tick.metrics.get(name))

    def points(self, key: str) -> int:
        """How many points curve ``key`` has (``G``, ``D``, ``strength``, ``speed``, ``metric``)."""
        return len(self.data[key][0])

    def drawn(self, key: str) -> int:
        """How many points curve ``key`` shows now (lags :meth:`points` by one redraw at most)."""
        xs, _ = self.curves[key].getData()
        return 0 if xs is None else len(xs)
