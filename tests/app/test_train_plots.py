"""The trainer's live plots: every tick is kept, redraws are batched (a redraw costs the GUI thread)."""

from batikstudio.app.main import make_application
from batikstudio.app.train_plots import TrainPlots
from batikstudio.training.config import TrainTick


def _tick(i: int, metrics=None) -> TrainTick:
    return TrainTick(kimg=0.004 * (i + 1), tick=i, losses={"G": 1.0 + i, "D": 0.5}, augment_p=0.01 * i,
                     diffusion_p=0.0, diffusion_T=0, kimg_per_s=0.02, sec_per_iter=0.2, metrics=metrics or {})


def test_a_burst_of_ticks_is_drawn_in_one_redraw(qtbot):
    make_application()
    plots = TrainPlots()
    qtbot.addWidget(plots)
    calls = []
    real = plots.curves["G"].setData
    plots.curves["G"].setData = lambda *a, **k: (calls.append(len(a[0]) if a else 0), real(*a, **k))
    for i in range(200):  # like a long run's history loaded at once
        plots.add_tick(_tick(i, {"swd": 50.0 - i * 0.1} if i % 10 == 0 else None))
    assert plots.points("G") == 200 and plots.points("metric") == 20
    assert plots.drawn("G") == 0  # not drawn point by point
    qtbot.waitUntil(lambda: plots.drawn("G") == 200, timeout=5000)
    assert calls == [200], "one redraw with every point, not one per tick"
    assert plots.drawn("metric") == 20 and plots.drawn("speed") == 200
    plots.add_tick(_tick(200))
    qtbot.waitUntil(lambda: plots.drawn("G") == 201, timeout=5000)
    plots.add_tick(_tick(201))
    plots.clear()  # a pending redraw must not bring old points back
    qtbot.wait(400)
    assert plots.points("G") == 0 and plots.drawn("G") == 0


def test_nice_ranges_hold_the_data_and_move_in_jumps():
    from batikstudio.app.train_plots import keeps, nice_range

    assert nice_range(0.0, 0.05) == (0.0, 0.07) and nice_range(80.0, 135.0) == (60.0, 150.0)
    lo, hi = nice_range(-2.3, 5.1)
    assert lo <= -2.3 and hi >= 5.1 and keeps((lo, hi), -2.3, 5.1)
    assert nice_range(1.0, 1.0)[0] < 1.0 < nice_range(1.0, 1.0)[1]  # a flat series still gets a span
    current, moves = (0.0, 1.0), 0
    for i in range(1, 1001):  # kimg growing tick by tick: the x range moves a few times, not 1000
        if not keeps(current, 0.0, 0.004 * i):
            current, moves = nice_range(0.0, 0.004 * i), moves + 1
    assert current[0] == 0.0 and current[1] >= 4.0 and moves < 25


def test_plot_ranges_follow_the_data_but_not_every_tick(qtbot):
    make_application()
    plots = TrainPlots()
    qtbot.addWidget(plots)
    seen = set()
    for i in range(60):
        plots.add_tick(_tick(i))
        plots.redraw()
        (x0, x1), (y0, y1) = plots.ranges("G")
        assert x0 <= 0.0 and x1 >= 0.004 * (i + 1) and y0 <= 0.5 and y1 >= 1.0 + i  # every point in view
        seen.add(((x0, x1), (y0, y1)))
    assert len(seen) < 20, "the view moved with nearly every tick"
