"""Drive the real explorer window offscreen: open, browse, edit, undo, favourite, export."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from batikstudio.io.provenance import read_provenance
from tests.app.conftest import open_main_window

TIMEOUT = 20000


@pytest.fixture
def window(qtbot, tiny_model_file):
    win = open_main_window(qtbot, tiny_model_file, TIMEOUT)
    yield win
    assert win.shutdown()


def _wait_render(qtbot, win, action):
    with qtbot.waitSignal(win.motif.rendered, timeout=TIMEOUT) as blocker:
        action()
    return blocker.args[0]


def test_open_grid_select_and_sliders(qtbot, window):
    win = window
    qtbot.waitUntil(lambda: len(win.grid.grid_model.pixmaps) >= 8, timeout=TIMEOUT)
    assert win.library.list.count() >= 1
    index = win.grid.grid_model.index(5)
    with qtbot.waitSignal(win.motif.rendered, timeout=TIMEOUT) as blocker:
        win.grid.list.clicked.emit(index)
    assert blocker.args[0].request.seeds == (5,)
    assert win.tabs.currentWidget() is win.motif
    first = blocker.args[0].images[0].copy()

    result = _wait_render(qtbot, win, lambda: win.motif.psi.setValue(20))
    assert result.request.psi == pytest.approx(0.2)
    assert not np.array_equal(result.images[0], first)
    result = _wait_render(qtbot, win, lambda: win.motif.noise_gain.setValue(250))
    assert result.request.noise_gain == pytest.approx(2.5)
    result = _wait_render(qtbot, win, lambda: win.motif.cutoff.setValue(2))
    assert result.request.cutoff == 2
    result = _wait_render(qtbot, win, lambda: win.motif.class_box.setCurrentIndex(2))
    assert result.request.class_index == 2
    result = _wait_render(qtbot, win, lambda: win.motif.noise_mode.setCurrentText("none"))
    assert result.request.noise_mode == "none"
    qtbot.waitUntil(lambda: win.motif.directions is not None, timeout=TIMEOUT)
    for k, slider in enumerate(win.motif.direction_sliders):
        result = _wait_render(qtbot, win, lambda s=slider: s.setValue(150))
        assert dict(result.request.directions).get(k) == pytest.approx(1.5)
    result = _wait_render(qtbot, win, lambda: win.motif.tileable.setChecked(True))
    assert result.request.tileable


def test_mix_favourite_undo_redo_export(qtbot, window, tmp_path):
    win = window
    check, spin = win.motif.mix_boxes["coarse"]
    spin.setValue(11)  # the box is unchecked: choosing its seed is not yet an edit, so nothing renders
    assert win.vm.state.mix == () and not win.vm.undo_stack.canUndo()
    result = _wait_render(qtbot, win, lambda: check.setChecked(True))
    assert [m.to_dict()["seed"] for m in result.request.mix] == [11]

    win.toggle_favourite()
    assert len(win.session.favourites.items) == 1
    assert "★" in win.motif.fav_button.text()

    before = win.vm.state
    _wait_render(qtbot, win, lambda: win.motif.psi.setValue(150))
    assert win.vm.state.psi == pytest.approx(1.5)
    _wait_render(qtbot, win, win.undo_action.trigger)
    assert win.vm.state == before and win.motif.psi.value() == round(before.psi * 100)
    _wait_render(qtbot, win, win.redo_action.trigger)
    assert win.vm.state.psi == pytest.approx(1.5)

    out = tmp_path / "motif.png"
    win.export_motif(str(out))
    prov = read_provenance(out)
    assert prov["model_sha256"] == win.session.model.sha256 and prov["render"]["psi"] == pytest.approx(1.5)


def test_favourites_persist_across_restart(qtbot, window, tiny_model_file):
    window.toggle_favourite()
    from batikstudio.io.favourites import FavouritesStore

    store = FavouritesStore(window.session.favourites.path)
    assert len(store.items) == 1 and store.items[0].model_sha256 == window.session.model.sha256


def test_corrupt_model_shows_error_and_app_keeps_working(qtbot, window, tmp_path):
    win = window
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"\x00\x01garbage" * 10)
    win.open_model(str(bad))
    qtbot.waitUntil(lambda: win.error_dialog is not None and win.error_dialog.isVisible(), timeout=TIMEOUT)
    assert "broken.safetensors" in win.error_dialog.text()
    win.error_dialog.close()
    result = _wait_render(qtbot, win, lambda: win.motif.seed.setValue(42))
    assert result.request.seeds == (42,)


def test_open_nvlabs_style_pickle_that_is_hostile(qtbot, window, tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            import os

            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    bad = tmp_path / "evil.pkl"
    bad.write_bytes(pickle.dumps({"G_ema": Evil()}))
    window.open_model(str(bad))
    qtbot.waitUntil(lambda: window.error_dialog is not None and window.error_dialog.isVisible(), timeout=TIMEOUT)
    assert "os.system" in window.error_dialog.text() or "system" in window.error_dialog.text()
    assert not (tmp_path / "pwned").exists()


def test_preferences_apply_theme_threads_and_folder(qtbot, window, tmp_path):
    import torch
    from PySide6.QtWidgets import QApplication

    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "other.safetensors").write_bytes(window.session.model.path.read_bytes())
    window.open_settings()
    dialog = window.settings_dialog
    dialog.theme.setCurrentText("dark")
    dialog.threads.setValue(1)
    dialog.folder.setText(str(folder))
    dialog.accept()
    assert "#1f2a44" in QApplication.instance().styleSheet()
    assert torch.get_num_threads() == 1
    assert any("other" in window.library.list.item(i).text() for i in range(window.library.list.count()))
