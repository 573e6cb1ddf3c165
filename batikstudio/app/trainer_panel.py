"""The Training tab: runs a training job and shows it live (plots, samples, log, ETA).

One run at a time. In-process runs go through :class:`~batikstudio.app.train_runner.PausableRunner`
(pause, resume, stop with a snapshot); runs on several GPUs go through torchrun in a QProcess,
followed through their run folder. Every run is recorded in the
:class:`~batikstudio.app.recovery.RunRegistry`, so an interrupted one is offered again at the
next start. A finished or stopped run is exported into the user's model folder and
``modelExported(path)`` is emitted (the main window opens it).
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar, QPushButton, QSizePolicy, QSplitter, QVBoxLayout, QWidget,
)

from batikstudio.app.imageutil import to_pixmap
from batikstudio.app.job_bar import show_error
from batikstudio.app.qtjobs import TaskRunner
from batikstudio.app.recovery import CLOSED, FAILED, FINISHED, STOPPED, RunRegistry, run_complete, run_progress
from batikstudio.app.train_jobs import (
    ExportRequest, TrainPlan, export_job, prepare_dataset, resume_plan, torchrun_command, training_job,
)
from batikstudio.app.train_plots import TrainPlots
from batikstudio.app.train_runner import PausableRunner, RunFollower, TorchrunLauncher, tick_from_row
from batikstudio.errors import BatikError
from batikstudio.training.config import TrainResult, TrainTick
from batikstudio.training.estimate import format_seconds

log = logging.getLogger(__name__)

IDLE, RUNNING, PAUSED, STOPPING = "idle", "running", "paused", "stopping"
ENDED = {STOPPED, FINISHED, FAILED}


class _ActiveClock:
    """Seconds spent training (paused time excluded), for the ETA."""

    def __init__(self) -> None:
        self.total, self.since = 0.0, None

    def run(self) -> None:
        if self.since is None:
            self.since = time.monotonic()

    def hold(self) -> None:
        if self.since is not None:
            self.total += time.monotonic() - self.since
            self.since = None

    def seconds(self) -> float:
        return self.total + (time.monotonic() - self.since if self.since is not None else 0.0)


class TrainerPanel(QWidget):
    """Live view and controls of one training run.

    Signals:
        modelExported(str): a run's model was written into the user's models folder.
        stateChanged(str): ``idle``, ``running``, ``paused``, ``stopping``, ``stopped``,
            ``finished`` or ``failed``.
    """

    modelExported = Signal(str)
    stateChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None, registry: RunRegistry | None = None) -> None:
        super().__init__(parent)
        self.registry = registry or RunRegistry()
        self.runner = PausableRunner(self)
        self.exporter = TaskRunner(self)
        self.launcher = TorchrunLauncher(self)
        self.launcher.line.connect(self._on_process_line)
        self.launcher.ended.connect(self._on_process_ended)
        self.follower: RunFollower | None = None
        self.plan: TrainPlan | None = None
        self.state = IDLE
        self.kimg = 0.0
        self.total_kimg = 0.0
        self.ticks: list[TrainTick] = []
        self.last_grid: Any = None
        self.last_result: TrainResult | None = None
        self.exported: str | None = None
        self.stop_seconds: float | None = None
        self._stop_asked = 0.0
        self._closing = False
        self._clock = _ActiveClock()
        self._kimg_at_start = 0.0
        self._build_ui()
        self._update_buttons()

    # -- layout ---------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.title = QLabel("<b>No training run</b> — Train ▸ Fine-tune on my images… starts one.", self)
        self.status = QLabel("", self)
        self.status.setObjectName("trainStatus")
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setFormat("%p%")
        self.eta = QLabel("", self)
        self.pause_button = QPushButton("Pause", self)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Stop after the current iteration and write a snapshot")
        self.stop_button.clicked.connect(self.stop)
        self.resume_button = QPushButton("Resume run", self)
        self.resume_button.setToolTip("Continue the run from its newest snapshot")
        self.resume_button.clicked.connect(self.resume_run)
        self.export_button = QPushButton("Export to library", self)
        self.export_button.clicked.connect(self.export_to_library)
        buttons = QHBoxLayout()
        for w in (self.pause_button, self.stop_button, self.resume_button, self.export_button):
            buttons.addWidget(w)
        buttons.addStretch(1)
        buttons.addWidget(self.eta)
        self.plots = TrainPlots(self)
        self.grid_label = QLabel("Samples appear after the first tick.", self)
        self.grid_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.grid_label.setMinimumSize(256, 256)
        self.grid_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.log_view = QPlainTextEdit(self)
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(2000)
        self.log_view.setObjectName("trainLog")
        top = QSplitter(Qt.Orientation.Horizontal, self)
        top.addWidget(self.plots)
        top.addWidget(self.grid_label)
        top.setSizes([640, 360])
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(top)
        split.addWidget(self.log_view)
        split.setSizes([520, 160])
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        layout.addWidget(split, 1)

    def _set_state(self, state: str) -> None:
        self.state = state
        if state == RUNNING:
            self._clock.run()
        else:
            self._clock.hold()
        self._update_buttons()
        self.stateChanged.emit(state)

    def _update_buttons(self) -> None:
        active = self.state in (RUNNING, PAUSED)
        multi = self.plan is not None and self.plan.gpus > 1
        self.pause_button.setEnabled(active and not multi)
        self.pause_button.setText("Resume" if self.state == PAUSED else "Pause")
        self.pause_button.setToolTip("Pause is not available for multi-GPU runs: Stop writes a snapshot, "
                                     "Resume run continues it" if multi else "Hold training (nothing is lost)")
        self.stop_button.setEnabled(active)
        can_resume = self.state in (STOPPED, FAILED) and self.plan is not None and \
            not run_complete(self.plan.run_dir)
        self.resume_button.setEnabled(can_resume)
        self.export_button.setEnabled(self.state in ENDED and self.plan is not None and not self.exporter.running)

    def log_line(self, text: str) -> None:
        """Append a line to the panel's log."""
        self.log_view.appendPlainText(f"{time.strftime('%H:%M:%S')}  {text}")

    @property
    def running(self) -> bool:
        """True while a run is training, paused or stopping (its thread or process still going)."""
        if self.state == STOPPING:
            return self.runner.running or self.launcher.running
        return self.state in (RUNNING, PAUSED)

    # -- start ----------------------------------------------------------------------------
    def start(self, plan: TrainPlan) -> None:
        """Start (or resume) ``plan``; refuses while another run is active."""
        if self.running:
            raise BatikError("a training run is already going: stop it first")
        self.plan = plan
        self.ticks, self.last_result, self.exported, self.stop_seconds = [], None, None, None
        self.total_kimg = plan.config.total_kimg
        self.kimg = self._kimg_at_start = 0.0
        self._clock = _ActiveClock()
        self.plots.clear()
        self.plots.set_diffusion(plan.config.diffusion.enabled)
        self.title.setText(f"<b>{plan.name}</b> — {plan.run_dir}")
        self.log_line(("Resuming " if plan.resume else "Starting ") + f"{plan.name}" +
                      (f" on {plan.gpus} GPUs" if plan.gpus > 1 else f" on {plan.config.device}"))
        self.bar.setValue(0)
        if plan.gpus > 1:  # the run folder follower reads the whole metrics file, history included
            self._start_prepare_then_torchrun(plan)
        else:
            if plan.resume:
                self.load_history(plan.run_dir)
            self._start_in_process(plan)

    def load_history(self, run_dir: str) -> int:
        """Show the ticks a run already has (its ``metrics.jsonl`` rows) and its newest sample grid,
        so a resumed run's plots continue instead of starting empty. Rows past the newest snapshot
        (a run that crashed) are left out: the resumed run trains them again. Returns the tick count."""
        folder = Path(run_dir)
        limit = run_progress(folder)[0] + 1e-9
        try:
            lines = (folder / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
        except OSError:
            return 0
        for line in lines:
            if not line.strip():
                continue
            try:
                tick = tick_from_row(json.loads(line))
            except (ValueError, TypeError) as exc:
                log.warning("skipping an unreadable metrics row in %s: %s", folder, exc)
                continue
            if tick.kimg > limit:
                continue
            self.ticks.append(tick)
            self.plots.add_tick(tick)
        grids = sorted(folder.glob("samples-*.png"))
        if grids:
            try:
                with Image.open(grids[-1]) as im:
                    self.show_grid(np.asarray(im.convert("RGB")))
            except OSError as exc:
                log.warning("cannot show %s: %s", grids[-1], exc)
        return len(self.ticks)

    def _start_in_process(self, plan: TrainPlan) -> None:
        signals = self.runner.start(training_job, plan)
        signals.progress.connect(self._on_progress)
        signals.status.connect(self._on_status)
        signals.partial.connect(self._on_partial)
        signals.finished.connect(self._on_finished)
        signals.failed.connect(self._on_failed)
        signals.cancelled.connect(self._on_cancelled)
        self.registry.register(plan.run_dir, os.getpid(), plan.name)
        self._set_state(RUNNING)

    @Slot()
    def resume_run(self, run_dir: str | None = None) -> None:
        """Continue ``run_dir`` (default: the last run) from its newest snapshot."""
        target = run_dir or (self.plan.run_dir if self.plan else None)
        if not target:
            return
        try:
            plan = resume_plan(target, self.plan.label if self.plan and not run_dir else "")
            self.start(plan)
        except BatikError as exc:
            show_error(self, str(exc))

    # -- controls -------------------------------------------------------------------------
    @Slot()
    def toggle_pause(self) -> None:
        if self.state == RUNNING:
            self.pause()
        elif self.state == PAUSED:
            self.resume()

    def pause(self) -> None:
        """Hold training after the current iteration (in-process runs)."""
        ctx = self.runner.context
        if self.state != RUNNING or ctx is None:
            return
        ctx.pause()
        self.log_line("Paused.")
        self.status.setText("Paused — nothing is lost; Resume continues.")
        self._set_state(PAUSED)

    def resume(self) -> None:
        ctx = self.runner.context
        if self.state != PAUSED or ctx is None:
            return
        ctx.resume()
        self.log_line("Resumed.")
        self._set_state(RUNNING)

    @Slot()
    def stop(self) -> None:
        """Stop after the current iteration; a snapshot is written, then the run is exported."""
        if self.state not in (RUNNING, PAUSED):
            return
        self._stop_asked = time.monotonic()
        self.log_line("Stopping: writing a snapshot…")
        self.status.setText("Stopping…")
        if self.plan is not None and self.plan.gpus > 1:
            if self.launcher.running:
                self.launcher.stop()
            else:
                self.runner.stop()  # still preparing the data set
        else:
            self.runner.stop()
        self._set_state(STOPPING)

    # -- job reports ----------------------------------------------------------------------
    @Slot(float, float)
    def _on_progress(self, done: float, total: float) -> None:
        if total > 0:
            self.total_kimg = total
            self.bar.setValue(int(round(1000 * min(max(done / total, 0.0), 1.0))))
        if self.kimg == 0.0 and self._kimg_at_start == 0.0:
            self._kimg_at_start = done  # a resumed run starts from its snapshot's count
            self._clock = _ActiveClock()
            self._clock.run()
        self.kimg = done
        self._update_eta()

    def _update_eta(self) -> None:
        gained = self.kimg - self._kimg_at_start
        secs = self._clock.seconds()
        if gained <= 0 or secs <= 0 or self.total_kimg <= 0:
            return
        left = max(self.total_kimg - self.kimg, 0.0) * secs / gained
        self.eta.setText(f"{self.kimg:.3f} / {self.total_kimg:g} kimg — ETA {format_seconds(left)}")

    @Slot(str)
    def _on_status(self, text: str) -> None:
        if self.state == RUNNING:
            self.status.setText(text)
        self.log_line(text)

    @Slot(object)
    def _on_partial(self, tick: Any) -> None:
        if not isinstance(tick, TrainTick):
            return
        self.ticks.append(tick)
        self.plots.add_tick(tick)
        if tick.grid is not None:
            self.show_grid(tick.grid)
        losses = " ".join(f"{k} {v:.3f}" for k, v in tick.losses.items())
        strength = f"T {tick.diffusion_T}" if self.plots.diffusion else f"p {tick.augment_p:.3f}"
        metrics = " ".join(f"{k} {v:.4g}" for k, v in tick.metrics.items())
        self.log_line(f"tick {tick.tick}: {tick.kimg:.3f} kimg, {losses}, {strength}, "
                      f"{tick.kimg_per_s * 1000:.1f} img/s {metrics}".rstrip())
        if self.plan is not None and self.plan.gpus > 1:
            self.kimg = tick.kimg
            self.bar.setValue(int(round(1000 * min(tick.kimg / max(self.total_kimg, 1e-9), 1.0))))
            self._update_eta()
        if self.state == RUNNING:
            self.status.setText(f"Training: tick {tick.tick}, {tick.kimg:.3f} kimg")

    @Slot(object)
    def show_grid(self, grid: Any) -> None:
        """Show a sample grid (HWC uint8), scaled to the label with square pixels."""
        self.last_grid = grid
        pix = to_pixmap(grid)
        side = max(64, min(self.grid_label.width(), self.grid_label.height()) - 8)
        self.grid_label.setPixmap(pix.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.FastTransformation))

    @Slot(object)
    def _on_finished(self, result: Any) -> None:
        self.last_result = result
        self.kimg = float(result.kimg)
        self._end(FINISHED, f"Finished at {result.kimg:.3f} kimg.")

    @Slot()
    def _on_cancelled(self) -> None:
        if self.plan is not None and self.plan.gpus == 1:
            # reports are muted once stopping: the snapshot says where the run ended
            self.kimg = max(self.kimg, run_progress(self.plan.run_dir)[0])
        self._end(STOPPED, "Stopped; snapshot written." if self._has_snapshot() else "Stopped before a snapshot.")

    @Slot(object)
    def _on_failed(self, exc: Any) -> None:
        self._end(FAILED, f"Failed: {exc}")
        if not self._closing:
            show_error(self, f"Training stopped with an error: {exc}")

    def _has_snapshot(self) -> bool:
        return self.plan is not None and any(Path(self.plan.run_dir).glob("snapshot-*.safetensors"))

    def _end(self, state: str, text: str) -> None:
        if self._stop_asked:
            self.stop_seconds = time.monotonic() - self._stop_asked
            text += f" (stopped {self.stop_seconds:.2f} s after Stop)"
            self._stop_asked = 0.0
        if self.follower is not None:
            self.follower.poll()
            self.follower.stop()
        self.status.setText(text)
        self.log_line(text)
        if self.plan is not None:
            self.registry.set_status(self.plan.run_dir, CLOSED if self._closing and state == STOPPED else state)
        self._set_state(state)
        if state in (STOPPED, FINISHED) and not self._closing and self._has_snapshot():
            self.export_to_library()

    # -- hand-off -------------------------------------------------------------------------
    def export_path(self) -> Path:
        """Where the run's model goes: ``<my models folder>/<run name>.safetensors`` (the folder
        the library lists: ``user_models_dir()`` unless changed in the preferences)."""
        from batikstudio.app.settings_dialog import models_folder

        assert self.plan is not None
        return Path(models_folder()) / f"{Path(self.plan.run_dir).name}.safetensors"

    @Slot()
    def export_to_library(self) -> None:
        """Export the newest snapshot into the user's models folder (in the background)."""
        if self.plan is None or not self._has_snapshot():
            return
        request = ExportRequest(self.plan.run_dir, str(self.export_path()), self.plan.name)
        signals = self.exporter.start(export_job, request)
        signals.finished.connect(self._on_exported)
        signals.failed.connect(self._on_export_failed)
        self.export_button.setEnabled(False)

    @Slot(object)
    def _on_exported(self, path: Any) -> None:
        self.exported = str(path)
        self.log_line(f"Model exported to {path}")
        self._update_buttons()
        self.modelExported.emit(str(path))

    @Slot(object)
    def _on_export_failed(self, exc: Any) -> None:
        self.log_line(f"Export failed: {exc}")
        self._update_buttons()
        show_error(self, f"Could not export the model: {exc}")

    # -- several GPUs ---------------------------------------------------------------------
    def _start_prepare_then_torchrun(self, plan: TrainPlan) -> None:
        self.registry.register(plan.run_dir, os.getpid(), plan.name)
        signals = self.runner.start(prepare_dataset, plan)
        signals.status.connect(self._on_status)
        signals.finished.connect(self._launch_torchrun)
        signals.failed.connect(self._on_failed)
        signals.cancelled.connect(self._on_cancelled)
        self._set_state(RUNNING)

    @Slot(object)
    def _launch_torchrun(self, _report: Any = None) -> None:
        plan = self.plan
        if plan is None or self.state != RUNNING:
            return
        command = torchrun_command(plan)
        self.log_line("$ " + " ".join(command))
        self.follower = RunFollower(plan.run_dir, parent=self)
        self.follower.tick.connect(self._on_partial)
        self.follower.grid.connect(self.show_grid)
        self.launcher.start(command)
        self.registry.register(plan.run_dir, self.launcher.pid(), plan.name)
        self.follower.start()

    @Slot(str)
    def _on_process_line(self, text: str) -> None:
        self.log_line(text)

    @Slot(int)
    def _on_process_ended(self, code: int) -> None:
        if self.plan is None:
            return
        if code == 0 and run_complete(self.plan.run_dir):
            self._end(FINISHED, "Finished.")
        elif code == 0 or self.state == STOPPING:
            self._end(STOPPED, "Stopped; snapshot written." if self._has_snapshot() else "Stopped.")
        else:
            self._end(FAILED, f"torchrun exited with code {code}: see the log")

    # -- closing --------------------------------------------------------------------------
    def stop_for_close(self, timeout_ms: int = 30000) -> bool:
        """The app is closing: stop the run cleanly (snapshot), record it as resumable, wait."""
        if not self.running:
            return True
        self._closing = True
        self.stop()
        if self.plan is not None:
            self.registry.set_status(self.plan.run_dir, CLOSED)
        ok = self.launcher.shutdown(timeout_ms) if self.launcher.running else self.runner.wait(timeout_ms)
        if ok and self.state == STOPPING:  # the app closes before the stop report is delivered
            self.runner.cancel()
            self._set_state(STOPPED)
        return ok

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Stop every thread and process of the panel; True when all ended."""
        ok = self.stop_for_close(timeout_ms)
        if self.follower is not None:
            self.follower.stop()
        ok = self.runner.shutdown(timeout_ms) and ok
        ok = self.exporter.shutdown(timeout_ms) and ok
        return self.launcher.shutdown(5000) and ok
