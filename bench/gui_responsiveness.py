"""Explorer responsiveness: slider-drag latency and event-loop stalls, measured offscreen.

Usage::

    BATIKSTUDIO_THREADS=1 python bench/gui_responsiveness.py [MODEL] [--steps 40]

Opens the explorer on MODEL (default: the bundled default model), then drags the truncation
slider through ``--steps`` positions, one every 30 ms like a hand would, and prints:

* latency: time from a slider move to the next image on screen (median / p90 / max);
* stall: the longest gap between ticks of a 5 ms timer on the GUI thread during the drag
  (the goal is < 100 ms: the GUI thread never computes).
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=None)
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()

    from PySide6.QtCore import QElapsedTimer, QTimer
    from batikstudio.app.main import create_window, make_application
    from batikstudio.runtime import configure_threads

    configure_threads()
    app = make_application()
    win = create_window(args.model, "cpu")
    win.show()

    def spin(cond, timeout=60.0):
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                raise TimeoutError("timed out")
            app.processEvents()
            time.sleep(0.001)

    spin(lambda: win.session.model is not None and win.motif.last_result is not None)
    shown: list[float] = []
    win.motif.image.set_image = _wrap(win.motif.image.set_image, shown)
    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick():
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    ticker = QTimer()
    ticker.setInterval(5)
    ticker.timeout.connect(tick)
    ticker.start()
    latencies = []
    win.motif.psi.sliderPressed.emit()
    for k in range(args.steps):
        before = len(shown)
        t0 = time.perf_counter()
        win.motif.psi.setValue(20 + (k * 7) % 160)
        spin(lambda: len(shown) > before, timeout=30)
        latencies.append((shown[-1] - t0) * 1000)
        end = time.perf_counter() + 0.03
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)
    win.motif.psi.sliderReleased.emit()
    ticker.stop()
    res = win.session.model.G_ema.img_resolution
    print(f"model: {win.session.model.path.name} ({res} px), torch threads {__import__('torch').get_num_threads()}")
    print(f"slider -> image latency ms: median {statistics.median(latencies):.1f}  "
          f"p90 {sorted(latencies)[int(0.9 * len(latencies)) - 1]:.1f}  max {max(latencies):.1f}")
    print(f"event-loop max stall ms: {max(gaps):.1f} (goal < 100)")
    win.close()
    return 0


def _wrap(fn, log):
    def wrapped(pixmap):
        log.append(time.perf_counter())
        return fn(pixmap)

    return wrapped


if __name__ == "__main__":
    sys.exit(main())
