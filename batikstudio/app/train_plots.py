"""Live plots of a training run (pyqtgraph): losses, augmentation strength, speed, metric."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

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
        self._bounds: dict[str, tuple[float, float, float]] = {}  # key -> (largest x, lowest y, highest y)
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
            axis = plot.getAxis(side)
            axis.enableAutoSIPrefix(False)  # "kimg (x0.001)" reads badly
            # Kept as a pixmap, redrawn when the axis changes: a new point on a curve repaints the
            # plot area, which the axis's grid lines cover, and replaying the axis (text) each
            # time was most of a redraw.
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        # Ranges move in round steps (see nice_range), not with every point: an axis whose range
        # is unchanged repaints from its cache, and one whose range moved re-lays out its tick text,
        # the dearest part of a redraw on the GUI thread.
        plot.disableAutoRange()
        return plot

    def set_diffusion(self, enabled: bool) -> None:
        """Plot the diffusion T (instead of the augmentation p)."""
        self.diffusion = enabled
        self.strength_plot.setTitle("Diffusion T" if enabled else "Augmentation p")
        self.strength_plot.setLabel("left", "T" if enabled else "p")
        self.curves["strength"].setPen(pg.mkPen(_COLOURS["T" if enabled else "p"], width=2))

    def clear(self) -> None:
        self.data = {k: ([], []) for k in self.curves}
        self._bounds.clear()
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
        top, low, high = self._bounds.get(key, (xs[-1], ys[-1], ys[-1]))
        self._bounds[key] = (max(top, xs[-1]), min(low, ys[-1]), max(high, ys[-1]))
        self._dirty.add(key)
        if not self._redraw.isActive():
            self._redraw.start()

    @Slot()
    def redraw(self) -> None:
        """Draw the points collected since the last redraw (the timer calls this)."""
        self._redraw.stop()
        for key in sorted(self._dirty):
            self.curves[key].setData(*self.data[key])
        for plot, keys in self._plots_of(self._dirty):
            self._fit(plot, keys)
        self._dirty.clear()

    def _plots_of(self, keys: set[str]) -> list[tuple[pg.PlotItem, tuple[str, ...]]]:
        groups = ((self.loss_plot, ("G", "D")), (self.strength_plot, ("strength",)),
                  (self.speed_plot, ("speed",)), (self.metric_plot, ("metric",)))
        return [(plot, names) for plot, names in groups if keys.intersection(names)]

    def _fit(self, plot: pg.PlotItem, keys: tuple[str, ...]) -> None:
        bounds = [self._bounds[k] for k in keys if k in self._bounds]
        if not bounds:
            return
        top = max(b[0] for b in bounds)
        low, high = min(b[1] for b in bounds), max(b[2] for b in bounds)
        (x0, x1), (y0, y1) = plot.viewRange()
        if not keeps((x0, x1), 0.0, top):
            plot.setXRange(*nice_range(0.0, top), padding=0.0)
        if not keeps((y0, y1), low, high):
            plot.setYRange(*nice_range(low, high), padding=0.0)

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

    def ranges(self, key: str) -> tuple[tuple[float, float], tuple[float, float]]:
        """The (x, y) view ranges of the plot that shows curve ``key``."""
        (plot, _), = self._plots_of({key})
        (x0, x1), (y0, y1) = plot.viewRange()
        return (x0, x1), (y0, y1)

    def points(self, key: str) -> int:
        """How many points curve ``key`` has (``G``, ``D``, ``strength``, ``speed``, ``metric``)."""
        return len(self.data[key][0])

    def drawn(self, key: str) -> int:
        """How many points curve ``key`` shows now (lags :meth:`points` by one redraw at most)."""
        xs, _ = self.curves[key].getData()
        return 0 if xs is None else len(xs)


def _round_up(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^k that is >= value (value > 0)."""
    power = 10.0 ** math.floor(math.log10(value))
    return next(power * m for m in (1.0, 2.0, 5.0, 10.0) if power * m >= value * (1 - 1e-9))


def nice_range(low: float, high: float) -> tuple[float, float]:
    """A round range holding [low, high] with room to spare, so it need not move for a while.

    The span is widened by half, rounded up to 1, 2 or 5 x 10^k, and the ends snapped to a tenth
    of it. Data from 0 (kimg) gets 0 as its lower end: 0..0.05 holds every kimg up to 0.05.
    """
    span = high - low
    if span <= 0:
        span = abs(high) / 2 or 1.0
    step = _round_up(span * 1.5) / 10
    lo = 0.0 if low == 0 else math.floor((low - span / 4) / step) * step
    hi = math.ceil((high + span / 4) / step) * step
    return round(lo, 12), round(hi, 12)


def keeps(current: tuple[float, float], low: float, high: float) -> bool:
    """Whether a view range can stay: it holds [low, high] and they fill a third of it at least."""
    lo, hi = current
    return lo <= low and high <= hi and (high - low) >= (hi - lo) / 3
