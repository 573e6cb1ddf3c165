"""Screenshots of the explorer's main views, on the bundled default model.

Usage (offscreen by default; under a real X server pass ``QT_QPA_PLATFORM=xcb``)::

    BATIKSTUDIO_HOME=$(mktemp -d) python docs/screenshots/make_screenshots.py [OUT_DIR]

Writes seed-grid.png, motif.png, mixing.png and animate.png to OUT_DIR (default: this folder).
Without a bundled model it falls back to an untrained random model (colour blobs).
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


def wait(app, condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        app.processEvents()
        time.sleep(0.02)
    for _ in range(20):  # let repaints land
        app.processEvents()
        time.sleep(0.01)


def make_model(folder: Path) -> Path:
    from batikstudio.core.nets import GeneratorConfig
    from batikstudio.io.models import new_random_model

    cfg = GeneratorConfig(z_dim=64, c_dim=3, w_dim=64, img_resolution=64, img_channels=3,
                          mapping_layers=2, channel_base=2048, channel_max=64)
    return new_random_model(cfg, seed=7, path=folder / "random-64px.safetensors")


def main(out: Path) -> None:
    from batikstudio.app.main import create_window, make_application
    from batikstudio.runtime import configure_threads

    from PySide6.QtCore import QSettings

    configure_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    # own settings: the library must not list the recent files of whoever runs this
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(Path(os.environ["BATIKSTUDIO_HOME"]) / "settings"))
    app = make_application([])
    from batikstudio.app.model_library import default_model_path

    model = default_model_path() or make_model(Path(os.environ["BATIKSTUDIO_HOME"]))
    win = create_window(model, "cpu")
    win.resize(1280, 820)
    win.show()
    wait(app, lambda: win.session.model is not None)
    wait(app, lambda: len(win.grid.grid_model.pixmaps) >= 30)
    win.grab().save(str(out / "seed-grid.png"))

    win.grid.list.clicked.emit(win.grid.grid_model.index(5))
    wait(app, lambda: win.motif.last_result is not None and win.motif.last_result.request.seeds == (5,))
    win.grab().save(str(out / "motif.png"))
    win.toggle_favourite()

    win.mixing.row_edit.setText("3-6")
    win.mixing.col_edit.setText("11-15")
    win.tabs.setCurrentWidget(win.mixing)  # showing the tab renders the matrix
    wait(app, lambda: win.mixing.result is not None)
    win.mixing.apply_cell(1, 2)
    win.mixing.matrix.selected = (1, 2)
    win.mixing.matrix.update()
    win.grab().save(str(out / "mixing.png"))

    win.tabs.setCurrentWidget(win.animate)
    win.animate.add_favourite()
    win.animate.add_current()
    win.vm.edit(win.vm.state.with_mix("coarse", None), "shot")
    win.vm.edit(type(win.vm.state)(seed=12, class_index=1, psi=0.7), "shot")
    win.animate.add_current()
    win.animate.frames_spin.setValue(8)
    win.animate.play()
    wait(app, lambda: win.animate.preview_done and win.animate.position >= 5)
    win.animate.stop()
    win.grab().save(str(out / "animate.png"))
    win.close()
    print(f"wrote 4 screenshots to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
