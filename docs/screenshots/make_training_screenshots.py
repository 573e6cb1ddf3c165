"""Screenshots of the fine-tuning wizard (each page) and of the Training tab during a run.

Usage (offscreen by default; under a real X server pass ``QT_QPA_PLATFORM=xcb``)::

    BATIKSTUDIO_HOME=$(mktemp -d) python docs/screenshots/make_training_screenshots.py [OUT_DIR]

Writes wizard-1-images.png ... wizard-5-start.png and trainer-panel.png to OUT_DIR (default:
this folder). The data set is 48 procedural motifs plus two files that get skipped; the run is
a tiny network at 32 px on the CPU, so the samples are early blobs: the pictures show the
layout, not art.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("BATIKSTUDIO_THREADS", "1")
os.environ.setdefault("BATIKSTUDIO_HOME", tempfile.mkdtemp(prefix="batik-shots-"))


def wait(app, condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        app.processEvents()
        time.sleep(0.02)
    for _ in range(20):  # let repaints land
        app.processEvents()
        time.sleep(0.01)


def make_images(folder: Path) -> Path:
    import numpy as np
    from PIL import Image

    from batikstudio.jobs import InlineContext
    from batikstudio.motifs.jobs import MotifDatasetRequest, make_motif_dataset

    make_motif_dataset(MotifDatasetRequest(dst=str(folder), count=48, res=64), InlineContext())
    (folder / "notes.txt").write_text("not an image")
    Image.fromarray(np.zeros((6, 6, 3), np.uint8)).save(folder / "thumb.png")
    return folder


def main(out: Path) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QWizard

    from batikstudio.app.main import create_window, make_application
    from batikstudio.app.train_wizard import RESOLUTIONS
    from batikstudio.runtime import configure_threads

    configure_threads(1)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)  # not the user's recent files
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(Path(os.environ["BATIKSTUDIO_HOME"]) / "settings"))
    out.mkdir(parents=True, exist_ok=True)
    app = make_application([])
    images = make_images(Path(os.environ["BATIKSTUDIO_HOME"]) / "my-batik-photos")
    win = create_window(None, "cpu")
    win.resize(1280, 820)
    win.show()
    wiz = win.open_train_wizard()
    wiz.source_page.path_edit.setText(str(images))
    wiz.source_page.res_box.setCurrentIndex(RESOLUTIONS.index(32))
    wiz.source_page.labels_check.setChecked(False)
    wait(app, lambda: True)
    wiz.grab().save(str(out / "wizard-1-images.png"))
    wiz.next()
    wait(app, wiz.check_page.isComplete)
    wiz.grab().save(str(out / "wizard-2-check.png"))
    wiz.next()
    wait(app, lambda: True)
    wiz.grab().save(str(out / "wizard-3-start.png"))
    wiz.next()
    opts = wiz.options_page
    opts.net.setCurrentText("Tiny (a quick check that everything works)")
    opts.batch.setValue(8)
    opts.kimg.setValue(0.4)
    opts.tick.setValue(0.016)
    opts.device.setCurrentText("cpu")
    opts.estimate_button.click()
    wait(app, lambda: opts.estimate is not None)
    wiz.grab().save(str(out / "wizard-4-options.png"))
    wiz.next()
    wiz.finish_page.name_edit.setText("my-batik-photos-tiny")
    wait(app, lambda: True)
    wiz.grab().save(str(out / "wizard-5-start.png"))
    wiz.button(QWizard.WizardButton.FinishButton).click()
    panel = win.trainer
    wait(app, lambda: len(panel.ticks) >= 10)
    panel.pause()
    wait(app, lambda: True)
    win.grab().save(str(out / "trainer-panel.png"))
    panel.stop()
    wait(app, lambda: not panel.running)
    win.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
