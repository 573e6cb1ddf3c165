"""Explorer responsiveness, measured offscreen: launch, thumbnails, slider drags, stalls.

Usage::

    BATIKSTUDIO_THREADS=1 python bench/gui.py [MODEL] [--steps 40] [--thumbs 48]
    BATIKSTUDIO_THREADS=1 python bench/gui.py --trainer [--ticks 200]

Opens the explorer on MODEL (default: the bundled default model) and prints:

* launch to first thumbnail: from creating the window to the first grid thumbnail shown;
* thumbnails per second while the first ``--thumbs`` thumbnails render;
* slider-drag latency: the truncation slider is held and moved through ``--steps`` positions,
  one every 30 ms like a hand would; time from a move to the next image shown (median, p95);
* the longest gap between ticks of a 5 ms timer on the GUI thread during all of the above
  (the goal is < 100 ms: the GUI thread never computes).

``--trainer`` measures the Training tab's live plots instead, side by side in one run: the
GUI-thread time of a redraw after each of ``--ticks`` ticks (set the new points, then paint the
four plots), drawn as before (pyqtgraph's auto range follows every point; each paint replays
the axes' text) and as now (round ranges that move in jumps; axes kept as pixmaps).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("BATIKSTUDIO_HOME", tempfile.mkdtemp(prefix="batik-bench-"))


class StallMeter:
    """Longest gap between ticks of a 5 ms timer (event-loop stalls)."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self.last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self.tick)

    def tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self.last)
        self.last = now

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()


def bench_trainer_plots(ticks: int) -> None:
    """Redraw cost of the trainer's plots, auto ranges vs round ranges, one redraw per tick."""
    import math

    from PySide6.QtWidgets import QGraphicsItem

    from batikstudio.app.main import make_application
    from batikstudio.app.train_plots import TrainPlots
    from batikstudio.training.config import TrainTick

    app = make_application()
    results = {}
    before, now = "auto range, axes replayed", "round ranges, cached axes"
    for mode in (before, now):
        plots = TrainPlots()
        plots.resize(900, 420)
        if mode == before:  # how the plots were drawn until 2026-12-04
            plots._fit = lambda plot, keys: None
            for plot, _ in plots._plots_of({"G", "strength", "speed", "metric"}):
                plot.enableAutoRange()
                for side in ("bottom", "left"):
                    plot.getAxis(side).setCacheMode(QGraphicsItem.CacheMode.NoCache)
        plots.show()
        app.processEvents()  # the first paint lays everything out: not part of the per-tick cost
        costs = []
        for i in range(ticks):
            tick = TrainTick(kimg=0.004 * (i + 1), tick=i, losses={"G": 1.2 + 0.3 * math.sin(i / 7),
                                                                   "D": 0.6 + 0.2 * math.cos(i / 5)},
                             augment_p=min(0.002 * i, 0.3), diffusion_p=0.0, diffusion_T=0,
                             kimg_per_s=0.006 + 0.001 * math.sin(i / 3), sec_per_iter=2.0,
                             metrics={"swd": 40.0 - 0.1 * i} if i % 10 == 9 else {})
            start = time.perf_counter()
            plots.add_tick(tick)
            plots.redraw()
            app.processEvents()  # the scene's dirty items, then the paint they ask for
            costs.append((time.perf_counter() - start) * 1000)
        plots.close()
        costs.sort()
        results[mode] = (statistics.median(costs), costs[int(0.95 * len(costs)) - 1], costs[-1])
    print(f"trainer plots, one redraw per tick, {ticks} ticks (ms of the GUI thread):")
    print("| ranges | median | p95 | max |\n|---|---|---|---|")
    for mode, (med, p95, top) in results.items():
        print(f"| {mode} | {med:.1f} | {p95:.1f} | {top:.1f} |")
    old, new = results[before], results[now]
    print(f"before / now: median x{old[0] / new[0]:.2f}, p95 x{old[1] / new[1]:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=None)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--thumbs", type=int, default=48)
    parser.add_argument("--trainer", action="store_true", help="time the trainer's live plots instead")
    parser.add_argument("--ticks", type=int, default=200)
    args = parser.parse_args()
    if args.trainer:
        bench_trainer_plots(args.ticks)
        return 0

    import torch

    from batikstudio.app.main import create_window, make_application
    from batikstudio.runtime import configure_threads

    configure_threads()
    app = make_application()

    def spin(cond, timeout=120.0):
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                raise TimeoutError("timed out")
            app.processEvents()
            time.sleep(0.001)

    meter = StallMeter()
    t0 = time.perf_counter()
    win = create_window(args.model, "cpu")
    win.show()
    meter.start()  # from here on the event loop runs: building the window is launch time
    pixmaps = win.grid.grid_model.pixmaps
    spin(lambda: len(pixmaps) >= 1)
    first = time.perf_counter() - t0
    t1 = time.perf_counter()
    target = min(args.thumbs, len(win.grid.visible_seeds()))
    spin(lambda: len(pixmaps) >= target)
    thumbs_per_s = (len(pixmaps) - 1) / max(time.perf_counter() - t1, 1e-9)

    win.grid.list.clicked.emit(win.grid.grid_model.index(0))
    spin(lambda: win.motif.last_result is not None)
    shown: list[float] = []
    original = win.motif.image.set_image

    def record(pixmap):
        shown.append(time.perf_counter())
        original(pixmap)

    win.motif.image.set_image = record
    latencies = []
    win.motif.psi.sliderPressed.emit()
    for k in range(args.steps):
        before = len(shown)
        start = time.perf_counter()
        win.motif.psi.setValue(20 + (k * 7) % 160)
        spin(lambda: len(shown) > before, timeout=30)
        latencies.append((shown[-1] - start) * 1000)
        end = time.perf_counter() + 0.03
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)
    win.motif.psi.sliderReleased.emit()
    spin(lambda: win.motif.last_result is not None and win.motif.last_result.request.max_resolution is None)
    meter.timer.stop()
    model = win.session.model
    lat = sorted(latencies)
    print(f"model: {model.path.name} ({model.G_ema.img_resolution} px), torch threads {torch.get_num_threads()}")
    print(f"launch to first thumbnail: {first * 1000:.0f} ms")
    print(f"thumbnails per second: {thumbs_per_s:.1f} ({target} thumbnails)")
    print(f"slider-drag latency ms: median {statistics.median(lat):.1f}  p95 {lat[max(0, int(0.95 * len(lat)) - 1)]:.1f}"
          f"  max {lat[-1]:.1f} ({len(lat)} moves)")
    print(f"longest event-loop stall: {max(meter.gaps) * 1000:.1f} ms (goal < 100)")
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
