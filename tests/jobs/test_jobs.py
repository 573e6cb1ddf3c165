import io
import threading
import time

import pytest

from batikstudio.jobs import Cancelled, InlineContext, RecordingContext, TerminalProgress, run_inline
from batikstudio.jobs.latest import LatestWinsRunner


def count_job(n, ctx):
    for i in range(n):
        ctx.check()
        ctx.progress(i + 1, n)
        ctx.partial(i)
    ctx.status("done")
    return n


def test_inline_context_forwards_reports():
    seen = []
    ctx = InlineContext(on_progress=lambda d, t: seen.append((d, t)), on_status=seen.append)
    assert run_inline(count_job, 3, ctx) == 3
    assert seen == [(1, 3), (2, 3), (3, 3), "done"]


def test_recording_context_cancels_after():
    ctx = RecordingContext(cancel_after=2)
    with pytest.raises(Cancelled):
        count_job(10, ctx)
    assert ctx.progress_log == [(1, 10), (2, 10)] and ctx.partials == [0, 1]


def test_terminal_progress_writes_bar():
    out = io.StringIO()
    bar = TerminalProgress("x", stream=out, min_interval=0)
    bar(1, 2)
    bar(2, 2)
    assert "2/2" in out.getvalue() and out.getvalue().endswith("\n")


def test_terminal_progress_eta_uses_the_rate_since_the_first_report(monkeypatch):
    clock = iter([100.0, 100.0, 110.0, 110.0, 130.0])
    monkeypatch.setattr(time, "monotonic", lambda: next(clock))
    out = io.StringIO()
    bar = TerminalProgress("train", stream=out, min_interval=0)  # created at t=100
    bar(50, 100)   # a resumed run: half done at the first report, no rate yet
    bar(60, 100)   # 10 units in 10 s -> 40 left = 40 s
    assert "ETA" not in out.getvalue().splitlines()[0]
    assert out.getvalue().splitlines()[1].endswith("ETA 40s")
    bar(100, 100)  # finished: no ETA
    assert "ETA" not in out.getvalue().splitlines()[2]


def test_format_duration():
    from batikstudio.jobs import format_duration

    assert [format_duration(s) for s in (0, 59.6, 60, 3599, 3600, 86399, 90000)] == [
        "0s", "1m00s", "1m00s", "59m59s", "1h00m", "23h59m", "1d01h"]


def slow_job(req, ctx):
    for _ in range(200):
        ctx.check()
        time.sleep(0.005)
    if req == "boom":
        raise ValueError("bad request")
    return req * 2


def test_latest_wins_drops_stale_and_returns_errors_as_data():
    outcomes = []
    done = threading.Event()

    def on_done(o):
        outcomes.append(o)
        done.set()

    runner = LatestWinsRunner(slow_job, on_done)
    try:
        for k in range(5):
            runner.submit(k)
        assert done.wait(10)
        time.sleep(0.1)
        assert [o.result for o in outcomes] == [8]
        done.clear()
        runner.submit("boom")
        assert done.wait(10)
        assert isinstance(outcomes[-1].error, ValueError)
    finally:
        assert runner.close()


def test_latest_wins_cancel_and_close():
    outcomes = []
    runner = LatestWinsRunner(slow_job, outcomes.append)
    runner.submit(1)
    time.sleep(0.05)
    runner.cancel()
    assert runner.close(5)
    assert outcomes == []
    with pytest.raises(RuntimeError):
        runner.submit(2)
