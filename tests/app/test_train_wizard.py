"""Drive the fine-tuning wizard end to end on a tiny generated data set, on the CPU.

Training runs, plots and samples update, Stop answers within 3 s and leaves a snapshot,
Resume continues the kimg count, and the model lands in the library and opens. No tensor
operation runs on the GUI thread while training; the event loop's gaps are logged (a 10 ms
timer), and timed against the 100 ms goal in bench/gui.py --trainer.
"""

import logging
import time

import numpy as np
import pytest
from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QWizard
from torch.utils._python_dispatch import TorchDispatchMode

from batikstudio.app.main import make_application
from batikstudio.app.train_wizard import NET_SIZES, RESOLUTIONS, TrainWizard, preview_mosaic
from batikstudio.jobs import RecordingContext
from batikstudio.runtime import cpu_has_native_bf16
from batikstudio.training.runfolder import RunFolder

log = logging.getLogger(__name__)
TIMEOUT = 60000
TINY = "Tiny (a quick check that everything works)"


class GuiThreadTorchOps(TorchDispatchMode):
    """Records every tensor operation run on the thread that enters it (modes are per thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(str(func))
        return func(*args, **(kwargs or {}))


class StallMeter(QObject):
    """A 10 ms timer that records the longest gap between its ticks (event-loop stalls)."""

    def __init__(self) -> None:
        super().__init__()
        self.timer = QTimer(self)
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.last = None
        self.max_gap = 0.0
        self.ticks = 0
        self.gaps: list[float] = []

    def start(self) -> None:
        self.last = self.began = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self.seconds = time.perf_counter() - self.began

    def report(self) -> str:
        slow = sum(g > 0.05 for g in self.gaps)
        return (f"longest gap {self.max_gap * 1000:.1f} ms, median {np.median(self.gaps) * 1000:.1f} ms, "
                f"{slow} gaps over 50 ms, {self.ticks} ticks in {self.seconds:.2f} s")

    @Slot()
    def _tick(self) -> None:
        now = time.perf_counter()
        self.max_gap = max(self.max_gap, now - self.last)
        self.gaps.append(now - self.last)
        self.last = now
        self.ticks += 1


@pytest.fixture
def motif_folder(tmp_path):
    from batikstudio.motifs.jobs import MotifDatasetRequest, make_motif_dataset

    path = tmp_path / "motifs"
    make_motif_dataset(MotifDatasetRequest(dst=str(path), count=32, res=16), RecordingContext())
    return path


def _through_wizard(qtbot, wiz: TrainWizard, source) -> None:
    page = wiz.source_page
    assert not wiz.button(QWizard.WizardButton.NextButton).isEnabled()
    page.path_edit.setText(str(source))
    page.res_box.setCurrentIndex(RESOLUTIONS.index(16))
    assert wiz.button(QWizard.WizardButton.NextButton).isEnabled()
    wiz.next()
    check = wiz.check_page
    qtbot.waitUntil(check.isComplete, timeout=TIMEOUT)
    assert len(check.report.kept) == 32 and "kept 32" in check.summary.toPlainText()
    assert "small data set" in check.summary.toPlainText().lower()
    assert not check.previews.pixmap().isNull()
    wiz.next()
    assert wiz.start_page.start() == "scratch" and wiz.start_page.isComplete()
    wiz.next()
    opts = wiz.options_page
    assert opts.preset.currentText().startswith("Small data set")  # 32 images
    cfg = opts.config()
    assert cfg.diffusion.enabled and cfg.mirror and cfg.lr < 0.0025 and cfg.freeze_d == 0  # scratch: no FreezeD
    opts.net.setCurrentText(TINY)
    opts.augment.setCurrentText("ADA (adaptive augmentation)")
    assert opts.preset.currentText() == "Custom"
    opts.batch.setValue(4)
    opts.kimg.setValue(0.12)
    opts.tick.setValue(0.008)
    opts.snap.setValue(50)
    opts.device.setCurrentText("cpu")
    # bfloat16 is offered (and on) exactly when this CPU computes it natively
    assert opts.bf16.isEnabled() == opts.bf16.isChecked() == opts.config().cpu_bf16 == cpu_has_native_bf16()
    opts.estimate_button.click()
    qtbot.waitUntil(lambda: opts.estimate is not None, timeout=TIMEOUT)
    assert "per kimg" in opts.estimate_label.text() and opts.estimate.device == "cpu"
    wiz.next()
    assert wiz.finish_page.isComplete() and "estimate:" in wiz.finish_page.summary.toPlainText()


@pytest.fixture
def window(qtbot):
    from batikstudio.app.main_window import MainWindow

    make_application()
    win = MainWindow("cpu")
    qtbot.addWidget(win)
    win.show()
    yield win
    assert win.shutdown()


def test_wizard_to_trained_model_in_the_library(qtbot, window, motif_folder):
    win = window
    wiz = win.open_train_wizard()
    _through_wizard(qtbot, wiz, motif_folder)
    with qtbot.waitSignal(wiz.planReady, timeout=5000) as started:
        wiz.button(QWizard.WizardButton.FinishButton).click()
    plan = started.args[0]
    assert plan.config.g_kwargs == NET_SIZES[TINY] and plan.config.augment == "ada"
    panel = win.trainer
    assert win.tabs.currentWidget() is panel and panel.running

    meter = StallMeter()
    meter.start()
    with GuiThreadTorchOps() as gui_ops:  # the training runs on, in its own thread
        qtbot.waitUntil(lambda: len(panel.ticks) >= 8, timeout=TIMEOUT)  # half the run
    meter.stop()
    log.warning("event loop while training: %s", meter.report())
    # The GUI thread never computes: not one tensor operation ran on it while training, though
    # ticks, plots and sample grids arrived. (How long the event loop stalls is a timing goal,
    # < 100 ms, measured in bench/gui.py --trainer; a test on a shared machine cannot hold it.)
    assert gui_ops.ops == [], f"tensor operations on the GUI thread: {gui_ops.ops[:10]}"
    assert len(panel.ticks) >= 8 and meter.ticks > 8  # the event loop ran all along
    assert panel.plots.points("G") >= 3 and panel.plots.points("strength") >= 3 and panel.plots.points("speed") >= 3
    assert panel.last_grid is not None and not panel.grid_label.pixmap().isNull()
    assert "ETA" in panel.eta.text()
    first_grid = panel.ticks[0].grid

    panel.stop_button.click()
    qtbot.waitUntil(lambda: panel.state == "stopped", timeout=TIMEOUT)
    assert panel.stop_seconds < 30  # after the current iteration, not at the end of the run (generous: busy CI)
    run = RunFolder(plan.run_dir, create=False)
    stopped_nimg = int(run.latest_snapshot().stem.split("-")[1])
    assert stopped_nimg == round(panel.kimg * 1000) and 0 < stopped_nimg < 120
    qtbot.waitUntil(lambda: panel.exported is not None, timeout=TIMEOUT)
    assert panel.exported in win.library.paths()
    qtbot.waitUntil(lambda: win.session.model is not None and str(win.session.model.path) == panel.exported,
                    timeout=TIMEOUT)

    ticks_before = len(panel.ticks)
    panel.resume_button.click()
    assert panel.plan.resume and panel.running
    qtbot.waitUntil(lambda: panel.kimg > 0, timeout=TIMEOUT)
    assert panel.kimg * 1000 > stopped_nimg  # counting on from the snapshot, not from 0
    qtbot.waitUntil(lambda: panel.state == "finished", timeout=TIMEOUT)
    assert panel.last_result.kimg == pytest.approx(0.12) and not panel.last_result.stopped
    kimgs = [t.kimg for t in panel.ticks]  # the run's earlier ticks (history), then the resumed ones
    assert kimgs == sorted(set(kimgs)) and kimgs[-1] > stopped_nimg / 1000 and ticks_before >= 3
    assert not np.array_equal(panel.last_grid, first_grid)
    qtbot.waitUntil(lambda: panel.exported is not None, timeout=TIMEOUT)
    from batikstudio.io.modelfile import read_model_meta

    assert read_model_meta(panel.exported).training["kimg"] == pytest.approx(0.12)
    assert panel.registry.get(plan.run_dir).status == "finished" and panel.registry.interrupted() == []


def test_start_page_refuses_a_smaller_resolution_and_offers_to_grow(qtbot, tmp_path, tiny_model_file, motif_folder):
    make_application()
    wiz = TrainWizard()
    qtbot.addWidget(wiz)
    page = wiz.start_page
    wiz.source_page.path_edit.setText(str(motif_folder))
    wiz.source_page.res_box.setCurrentIndex(RESOLUTIONS.index(16))
    page.file_edit.setText(str(tiny_model_file))  # a 32 px model
    page.file.setChecked(True)
    assert not page.isComplete() and "makes 32 px motifs" in page.info.text() and "grows" in page.info.text()
    wiz.source_page.res_box.setCurrentIndex(RESOLUTIONS.index(32))
    page._changed()
    assert page.isComplete() and page.start() == str(tiny_model_file)
    assert page.info.text().startswith("Fine-tune tiny.safetensors at 32 px")
    wiz.source_page.res_box.setCurrentIndex(RESOLUTIONS.index(64))  # a larger size: training grows it
    page._changed()
    assert page.isComplete() and "Grow tiny.safetensors from 32 to 64 px" in page.info.text()
    pickle_file = tmp_path / "network.pkl"  # not read here: the wizard says when it will be
    pickle_file.write_bytes(b"not opened by the wizard")
    page.file_edit.setText(str(pickle_file))
    assert page.isComplete() and "read (safely) when training starts" in page.info.text()
    assert wiz.shutdown()


def test_preview_mosaic_handles_grey_and_rgb_thumbnails():
    grey = np.full((4, 4, 1), 9, np.uint8)
    rgb = np.full((4, 4, 3), 200, np.uint8)
    out = preview_mosaic((grey, rgb, rgb), cols=2)
    assert out.shape == (10, 10, 3) and out[0, 0, 2] == 9 and out[0, 6, 0] == 200 and out[6, 6, 0] == 255


def test_start_page_refuses_a_conditional_model_for_unlabelled_images(qtbot, tmp_path, tiny_model_file):
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 255, (80, 80, 3), dtype=np.uint8)).save(folder / f"p{i}.png")
    make_application()
    wiz = TrainWizard()
    qtbot.addWidget(wiz)
    wiz.show()
    wiz.source_page.path_edit.setText(str(folder))
    wiz.source_page.res_box.setCurrentIndex(RESOLUTIONS.index(32))
    wiz.next()
    qtbot.waitUntil(wiz.check_page.isComplete, timeout=TIMEOUT)
    wiz.next()
    page = wiz.start_page
    page.file_edit.setText(str(tiny_model_file))  # 32 px, 3 classes
    page.file.setChecked(True)
    assert not page.isComplete() and "3 motif families" in page.info.text()
    page.scratch.setChecked(True)
    assert page.isComplete() and page.start() == "scratch"
    assert wiz.shutdown()


@pytest.mark.parametrize("native", [True, False])
def test_bfloat16_is_offered_on_cpus_that_compute_it_natively(qtbot, monkeypatch, native):
    from batikstudio import runtime

    monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda: native)
    make_application()
    wiz = TrainWizard()
    qtbot.addWidget(wiz)
    opts = wiz.options_page
    opts.device.setCurrentText("cpu")
    opts._device_changed()
    assert opts.bf16.isEnabled() == opts.bf16.isChecked() == opts.config().cpu_bf16 == native
    if native:
        opts.bf16.setChecked(False)  # the user may still turn it off
        assert not opts.config().cpu_bf16
