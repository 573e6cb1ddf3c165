"""Screenshot of the Favourites dock with an untrained (random) tiny model.

Usage (offscreen by default; under a real X server pass ``QT_QPA_PLATFORM=xcb``)::

    BATIKSTUDIO_HOME=$(mktemp -d) python docs/screenshots/make_favourites_screenshot.py [OUT_DIR]

Writes favourites.png to OUT_DIR (default: this folder): six kept motifs in two collections,
notes, and one favourite of a model that is not open (placeholder + model name).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("BATIKSTUDIO_THREADS", "1")
os.environ.setdefault("BATIKSTUDIO_HOME", tempfile.mkdtemp(prefix="batik-shots-"))

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_screenshots import make_model, wait  # noqa: E402


def main(out: Path) -> None:
    from PySide6.QtCore import QSettings

    from batikstudio.app.main import create_window, make_application
    from batikstudio.io.favourites import Favourite
    from batikstudio.render.motif import MotifState
    from batikstudio.runtime import configure_threads

    configure_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    # settings of their own: the library shows only this model, not the user's recent files
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(Path(os.environ["BATIKSTUDIO_HOME"]) / "settings"))
    app = make_application([])
    win = create_window(make_model(Path(os.environ["BATIKSTUDIO_HOME"])), "cpu")
    win.resize(1280, 820)
    win.show()
    wait(app, lambda: win.session.model is not None)
    panel = win.favourites_panel
    for seed, cls, psi in ((5, 0, 0.7), (12, 1, 0.7), (31, 2, 0.5), (44, 0, 0.9)):
        win.vm.edit(MotifState(seed=seed, class_index=cls, psi=psi), "shot")
        win.toggle_favourite()
    store = win.session.favourites
    store.toggle(Favourite("9" * 64, "/home/ani/models/kawung-256.pkl", "kawung-256",
                           MotifState(seed=101, psi=0.7).to_dict()))
    for fav in store.items[2:4]:
        store.move(fav, "Parang for scarves")
    store.set_note(store.items[1], "indigo + soga for the sarong")
    store.set_note(store.items[3], "try as half-drop")
    store.add_collection("Wedding order")
    win._refresh_favourites()
    wait(app, lambda: all(panel.thumbnail(f) is not None for f in store.for_model(win.session.model.sha256)))
    panel.select(store.items[1])
    panel.open_favourite(store.items[1])
    wait(app, lambda: win.motif.last_result is not None and win.motif.last_result.request.seeds == (12,))
    win.grab().save(str(out / "favourites.png"))
    win.close()
    print(f"wrote favourites.png to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
