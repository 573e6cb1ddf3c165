"""A user's session on the bundled default model, in the real window (offscreen).

Opens the app with no model argument (as ``batikstudio`` does), renders a grid page, picks a
motif, favourites it, then exports a print tile and a GIF from their tabs: the files are checked.
"""

import numpy as np
import pytest
from PIL import Image

from batikstudio.app.model_library import default_model_path
from batikstudio.io.provenance import read_dpi, read_provenance
from batikstudio.render.motif import MotifState
from tests.app.conftest import open_main_window

TIMEOUT = 30000


@pytest.fixture
def window(qtbot):
    assert default_model_path() is not None, "the bundled default model is missing"
    win = open_main_window(qtbot, None, TIMEOUT)
    yield win
    assert win.shutdown()


def test_bundled_model_grid_motif_tile_and_gif(qtbot, window, tmp_path):
    win = window
    assert win.session.model.path.resolve() == default_model_path().resolve()
    qtbot.waitUntil(lambda: len(win.grid.grid_model.pixmaps) >= 12, timeout=TIMEOUT)
    with qtbot.waitSignal(win.motif.rendered, timeout=TIMEOUT) as shown:
        win.grid.list.clicked.emit(win.grid.grid_model.index(3))
    assert shown.args[0].request.seeds == (3,)
    win.toggle_favourite()
    assert len(win.session.favourites.for_model(win.session.model.sha256)) == 1

    # a tile, exported from the Print tab at a physical size
    panel = win.print_panel
    qtbot.waitUntil(lambda: panel.source() is not None, timeout=TIMEOUT)
    tile = tmp_path / "tile.png"
    with qtbot.waitSignal(panel.exported, timeout=TIMEOUT):
        assert panel.export_print(tile)
    spec = panel.current_spec()
    with Image.open(tile) as img:
        assert img.size == spec.pixel_size
    assert read_dpi(tile)[0] == pytest.approx(spec.dpi, abs=0.5)
    assert read_provenance(tile)["model_sha256"] == win.session.model.sha256

    # a GIF between two motifs, from the Animate tab
    anim = win.animate
    anim.add_current()
    anim.add_key(MotifState(seed=7, class_index=win.vm.state.class_index, psi=0.7))
    gif = tmp_path / "walk.gif"
    with qtbot.waitSignal(anim.exported, timeout=TIMEOUT):
        assert anim.export_gif(gif)
    with Image.open(gif) as img:
        frames = img.n_frames
        first = np.asarray(img.convert("RGB"))
    assert frames >= 4 and first.std() > 1
