"""The trainer panel on its own: pause, stop while paused, resume; closing the app during a run;
the torchrun launcher and the run-folder follower on a fake run."""

import json
import sys
import time

import numpy as np
import pytest
from PIL import Image

from batikstudio.app.main import make_application
from batikstudio.app.recovery import CLOSED, RunRegistry
from batikstudio.app.train_jobs import TrainPlan
from batikstudio.app.train_runner import RunFollower, TorchrunLauncher
from batikstudio.app.trainer_panel import TrainerPanel
from batikstudio.io.dataset import DatasetBuildRequest, DatasetCheckRequest
from batikstudio.jobs import RecordingContext
from batikstudio.training.config import TrainConfig
from batikstudio.training.runfolder import RunFolder

TIMEOUT = 60000
TINY_G = dict(z_dim=16, w_dim=16, mapping_layers=2, channel_base=128, channel_max=16)


@pytest.fixture
def motif_folder(tmp_path):
    from batikstudio.motifs.jobs import MotifDatasetRequest, make_motif_dataset

    path = tmp_path / "motifs"
    make_motif_dataset(MotifDatasetRequest(dst=str(path), count=16, res=16), RecordingContext())
    return path


def tiny_plan(tmp_path, source, name="run", total_kimg=0.2):
    run = tmp_path / name
    cfg = TrainConfig(data=str(run / "dataset.zip"), resolution=16, batch=4, total_kimg=total_kimg,
                      kimg_per_tick=0.008, snapshot_ticks=50, g_kwargs=TINY_G, sample_seeds=(0, 1, 2, 3),
                      device="cpu", augment="none")
    build = DatasetBuildRequest(DatasetCheckRequest(str(source), res=16), cfg.data)
    return TrainPlan(cfg, str(run), build, label=name)


def test_pause_holds_training_and_stop_works_while_paused(qtbot, tmp_path, motif_folder):
    make_application()
    panel = TrainerPanel()
    qtbot.addWidget(panel)
    panel.start(tiny_plan(tmp_path, motif_folder))
    qtbot.waitUntil(lambda: len(panel.ticks) >= 1, timeout=TIMEOUT)
    assert panel.plots.points("G") >= 1 and panel.last_grid is not None
    panel.pause_button.click()
    assert panel.state == "paused" and panel.pause_button.text() == "Resume"
    qtbot.wait(300)  # reports already queued arrive
    held = panel.kimg
    qtbot.wait(700)
    assert panel.kimg == held, "training went on while paused"
    panel.pause_button.click()
    qtbot.waitUntil(lambda: panel.kimg > held, timeout=TIMEOUT)
    panel.pause()
    qtbot.wait(100)
    panel.stop_button.click()
    qtbot.waitUntil(lambda: panel.state == "stopped", timeout=3000)
    assert panel.stop_seconds < 3
    snap = RunFolder(tmp_path / "run", create=False).latest_snapshot()
    assert snap is not None and int(snap.stem.split("-")[1]) == round(panel.kimg * 1000)
    assert panel.resume_button.isEnabled() and not panel.stop_button.isEnabled()
    qtbot.waitUntil(lambda: panel.exported is not None, timeout=TIMEOUT)
    assert panel.registry.get(tmp_path / "run").status == "stopped"
    assert panel.shutdown()


def test_closing_the_app_during_training_asks_then_stops_and_offers_the_run_again(qtbot, tmp_path, motif_folder,
                                                                                  monkeypatch):
    from batikstudio.app.main_window import MainWindow

    make_application()
    win = MainWindow("cpu")
    qtbot.addWidget(win)
    win.show()
    win.start_training(tiny_plan(tmp_path, motif_folder))
    qtbot.waitUntil(lambda: len(win.trainer.ticks) >= 1, timeout=TIMEOUT)
    monkeypatch.setattr(win, "confirm_close_during_training", lambda: False)
    win.close()
    assert win.isVisible() and win.trainer.running
    monkeypatch.setattr(win, "confirm_close_during_training", lambda: True)
    win.close()
    assert not win.isVisible() and not win.trainer.runner.running
    assert RunRegistry().get(tmp_path / "run").status == CLOSED
    assert RunFolder(tmp_path / "run", create=False).latest_snapshot() is not None
    assert win.shutdown()

    again = MainWindow("cpu")  # the next start
    qtbot.addWidget(again)
    again.show()
    qtbot.waitUntil(lambda: again.recovery_box is not None and again.recovery_box.isVisible(), timeout=5000)
    assert "run" in again.recovery_box.text()
    stopped_at = RunFolder(tmp_path / "run", create=False).latest_snapshot().stem
    again.recovery_resume.click()
    assert again.tabs.currentWidget() is again.trainer and again.trainer.plan.resume
    qtbot.waitUntil(lambda: again.trainer.kimg > 0, timeout=TIMEOUT)
    assert again.trainer.kimg * 1000 > int(stopped_at.split("-")[1])
    again.trainer.stop()
    qtbot.waitUntil(lambda: not again.trainer.running, timeout=5000)
    assert again.shutdown()


def _fake_row(kimg, tick):
    return {"kimg": kimg, "tick": tick, "losses": {"G": 1.0 + tick, "D": 0.5}, "augment_p": 0.1, "diffusion_p": 0.0,
            "diffusion_T": 0, "kimg_per_s": 0.01, "sec_per_iter": 0.2, "metrics": {}, "snapshot": None}


def test_follower_reports_new_metrics_rows_and_grids_of_a_fake_run(qtbot, tmp_path):
    make_application()
    follower = RunFollower(str(tmp_path), interval_ms=20)
    ticks, grids = [], []
    follower.tick.connect(ticks.append)
    follower.grid.connect(grids.append)
    follower.poll()
    assert ticks == [] and grids == []
    folder = RunFolder(tmp_path)
    folder.append_metrics(_fake_row(0.004, 0))
    folder.save_grid(4, np.full((8, 8, 3), 200, np.uint8))
    follower.start()
    qtbot.waitUntil(lambda: len(ticks) == 1 and len(grids) == 1, timeout=5000)
    folder.append_metrics(_fake_row(0.008, 1))
    folder.save_grid(8, np.full((8, 8, 3), 50, np.uint8))
    qtbot.waitUntil(lambda: len(ticks) == 2 and len(grids) == 2, timeout=5000)
    follower.stop()
    assert [t.tick for t in ticks] == [0, 1] and ticks[1].losses["G"] == 2.0
    assert grids[1].shape == (8, 8, 3) and grids[1][0, 0, 0] == 50


FAKE_TORCHRUN = """
import json, signal, sys, time, pathlib
run = pathlib.Path(sys.argv[1])
stop = []
signal.signal(signal.SIGINT, lambda *a: stop.append(1))
row = {row}
(run / "metrics.jsonl").write_text(json.dumps(row) + "\\n")
print("tick 0", flush=True)
while not stop:
    time.sleep(0.02)
(run / "snapshot-000000004.safetensors").write_bytes(b"")
print("stopped", flush=True)
"""


def test_launcher_runs_a_process_that_the_panel_follows_and_stops_with_sigint(qtbot, tmp_path, monkeypatch):
    make_application()
    panel = TrainerPanel()
    qtbot.addWidget(panel)
    run = tmp_path / "multi"
    RunFolder(run).write_config(TrainConfig(total_kimg=1.0))
    script = tmp_path / "fake_torchrun.py"
    script.write_text(FAKE_TORCHRUN.replace("{row}", repr(_fake_row(0.004, 0))))
    monkeypatch.setattr("batikstudio.app.trainer_panel.torchrun_command",
                        lambda plan: [sys.executable, str(script), plan.run_dir])
    plan = TrainPlan(TrainConfig(total_kimg=1.0, device="cuda"), str(run), gpus=2, label="multi")
    panel.start(plan)
    assert not panel.pause_button.isEnabled()
    qtbot.waitUntil(lambda: panel.launcher.running, timeout=10000)
    assert panel.registry.get(run).pid == panel.launcher.pid()
    qtbot.waitUntil(lambda: len(panel.ticks) == 1, timeout=10000)
    assert panel.plots.points("G") == 1
    panel.stop()
    qtbot.waitUntil(lambda: panel.state == "stopped", timeout=5000)
    assert "stopped" in panel.log_view.toPlainText()
    assert panel.registry.get(run).status == "stopped"
    assert panel.shutdown()


def test_launcher_shutdown_kills_a_process_that_ignores_sigint(qtbot, tmp_path):
    make_application()
    launcher = TorchrunLauncher()
    lines = []
    launcher.line.connect(lines.append)
    launcher.start([sys.executable, "-c",
                    "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); print('up', flush=True); "
                    "time.sleep(30)"])
    qtbot.waitUntil(lambda: lines == ["up"], timeout=10000)
    t0 = time.monotonic()
    assert launcher.shutdown(timeout_ms=300) is False
    assert not launcher.running and time.monotonic() - t0 < 5


def test_resuming_a_run_shows_its_earlier_ticks_and_newest_grid(qtbot, tmp_path, monkeypatch):
    make_application()
    panel = TrainerPanel(registry=RunRegistry(tmp_path / "runs.json"))
    qtbot.addWidget(panel)
    folder = RunFolder(tmp_path / "run")
    for kimg, tick in ((0.004, 0), (0.008, 1), (0.012, 2)):
        folder.append_metrics(_fake_row(kimg, tick))
    (tmp_path / "run" / "snapshot-000000008.safetensors").write_bytes(b"")  # the run stopped at 0.008 kimg
    folder.save_grid(8, np.full((8, 8, 3), 90, np.uint8))
    started = []
    monkeypatch.setattr(panel, "_start_in_process", started.append)
    cfg = TrainConfig(data=str(tmp_path / "run" / "dataset.zip"), resolution=16, total_kimg=0.1, device="cpu")
    panel.start(TrainPlan(cfg, str(tmp_path / "run"), resume=True, label="run"))
    assert len(started) == 1
    assert [t.kimg for t in panel.ticks] == [0.004, 0.008], "the row past the snapshot is trained again"
    assert panel.plots.points("G") == 2
    assert panel.last_grid is not None and panel.last_grid[0, 0, 0] == 90
    panel.start(TrainPlan(cfg, str(tmp_path / "run"), label="run"))  # a new run starts empty
    assert panel.ticks == [] and panel.plots.points("G") == 0
