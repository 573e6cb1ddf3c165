"""Favourites panel in the real window, offscreen: collections, notes, restart, reopen, thumbnails."""

import shutil
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from batikstudio.app.favourites_panel import (
    ThumbnailsRequest, describe_state, favourite_thumbnails_job,
)
from batikstudio.app.imageutil import from_qimage
from batikstudio.io.favourites import DEFAULT_COLLECTION, Favourite
from batikstudio.jobs import RecordingContext
from batikstudio.render.motif import MixSpec, MotifState

from tests.app.conftest import open_main_window

TIMEOUT = 20000


@pytest.fixture
def window(qtbot, tiny_model_file):
    win = open_main_window(qtbot, tiny_model_file, TIMEOUT)
    yield win
    assert win.shutdown()


def _keep(win, state: MotifState) -> Favourite:
    win.vm.edit(state, "test")
    win.toggle_favourite()
    return win._favourite_for_state()


def _item_texts(panel) -> list[str]:
    return [panel.list.item(i).text() for i in range(panel.list.count())]


def _double_click(qtbot, panel, fav):
    assert panel.select(fav)
    item = panel.list.currentItem()
    panel.list.scrollToItem(item)
    rect = panel.list.visualItemRect(item)
    # a real double click: press/release, then the double-click event on the same item
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_collections_and_notes_persist_across_restart(qtbot, window, tiny_model_file):
    panel = window.favourites_panel
    a = _keep(window, MotifState(seed=3, class_index=0))
    b = _keep(window, MotifState(seed=7, class_index=1, psi=0.5))
    assert panel.list.count() == 2

    assert panel.new_collection("Parang") == "Parang"
    assert panel.current_collection() == "Parang" and panel.list.count() == 0
    panel.select_collection(None)
    panel.select(b)
    panel.move_selected("Parang")
    panel.select(a)
    panel.note.setText("for the sarong")
    panel.note.editingFinished.emit()
    panel.ask_name = lambda *args: "Parang rusak"  # the modal name dialog, answered
    panel.select_collection("Parang")
    panel.rename_button.click()
    panel.new_collection("Empty for now")
    assert window.shutdown()
    window.close()

    again = open_main_window(qtbot, tiny_model_file, TIMEOUT)
    try:
        p2 = again.favourites_panel
        names = [p2.collection_box.itemData(i) for i in range(p2.collection_box.count())]
        assert names == [None, DEFAULT_COLLECTION, "Empty for now", "Parang rusak"]
        p2.select_collection("Parang rusak")
        assert p2.list.count() == 1 and _item_texts(p2)[0].startswith("seed 7\nclass 1 · ψ 0.50")
        p2.select_collection(DEFAULT_COLLECTION)
        assert p2.list.count() == 1 and "for the sarong" in _item_texts(p2)[0]
        p2.list.setCurrentRow(0)
        assert p2.note.text() == "for the sarong" and p2.selected().state == a.state
        p2.select_collection("Empty for now")
        assert p2.list.count() == 0 and p2.delete_button.isEnabled()
    finally:
        assert again.shutdown()


def test_delete_collection_moves_motifs_back_and_remove(qtbot, window):
    panel = window.favourites_panel
    a = _keep(window, MotifState(seed=1, class_index=0))
    b = _keep(window, MotifState(seed=2, class_index=0))
    panel.select(a)
    panel.ask_name = lambda *args: "Kawung"
    panel.move_menu.aboutToShow.emit()  # the button's menu: every collection, then "New collection…"
    actions = {act.text(): act for act in panel.move_menu.actions() if act.text()}
    assert list(actions) == [DEFAULT_COLLECTION, "New collection…"]
    assert not actions[DEFAULT_COLLECTION].isEnabled()  # where it already is
    actions["New collection…"].trigger()
    assert window.session.favourites.get(a.key).collection == "Kawung"
    panel.select_collection("Kawung")
    panel.delete_button.click()
    assert panel.current_collection() == DEFAULT_COLLECTION
    assert {f.collection for f in window.session.favourites.items} == {DEFAULT_COLLECTION}
    assert "Kawung" not in window.session.favourites.collections()
    panel.select(b)
    panel.remove_button.click()
    assert [f.key for f in window.session.favourites.items] == [a.key]
    assert "☆" in window.motif.fav_button.text() or window.vm.state.seed != 2
    assert window.grid.grid_model.favourites == {1}  # the grid's stars follow the panel


def test_refusal_is_an_error_dialog(qtbot, window):
    panel = window.favourites_panel
    panel.new_collection("Twice")
    assert panel.new_collection("Twice") is None
    qtbot.waitUntil(lambda: window.error_dialog is not None and window.error_dialog.isVisible(), timeout=TIMEOUT)
    assert "already" in window.error_dialog.text()


def test_thumbnails_are_the_favourites_own_pixels(qtbot, window):
    from batikstudio.render.engine import render

    panel = window.favourites_panel
    favs = [_keep(window, MotifState(seed=s, class_index=s % 3, psi=0.6)) for s in (4, 9)]
    qtbot.waitUntil(lambda: all(panel.thumbnail(f) is not None for f in favs), timeout=TIMEOUT)
    model = window.session.model
    for fav in favs:
        shown = from_qimage(panel.thumbnail(fav).toImage())
        expected = render(model, MotifState.from_dict(fav.state).request(out_size=96)).images[0]
        assert shown.shape == (96, 96, 3)
        np.testing.assert_array_equal(shown, expected)


def test_double_click_reopens_the_exact_state_undoably(qtbot, window):
    panel = window.favourites_panel
    qtbot.waitUntil(lambda: window.session.directions is not None, timeout=TIMEOUT)
    kept = MotifState(seed=11, class_index=2, psi=0.35, cutoff=2, noise_mode="random", noise_gain=1.5,
                      mix=(MixSpec(5, "coarse", None),), directions=((0, 1.25), (2, -0.5)), tileable=True)
    fav = _keep(window, kept)
    qtbot.waitUntil(lambda: panel.thumbnail(fav) is not None, timeout=TIMEOUT)  # needs directions
    window.vm.edit(MotifState(seed=0, class_index=0), "elsewhere")
    before = window.vm.state
    window.tabs.setCurrentWidget(window.grid)
    with qtbot.waitSignal(window.motif.rendered, timeout=TIMEOUT) as blocker:
        _double_click(qtbot, panel, fav)
    assert window.vm.state == kept
    assert window.tabs.currentWidget() is window.motif
    req = blocker.args[0].request
    assert req.seeds == (11,) and req.psi == pytest.approx(0.35) and req.cutoff == 2 and req.tileable
    assert dict(req.directions) == {0: 1.25, 2: -0.5} and req.mix[0].seed == 5
    window.undo_action.trigger()
    assert window.vm.state == before


def test_favourite_of_a_moved_model_is_found_by_hash_and_opened(qtbot, window, tmp_path):
    from batikstudio.core.nets import GeneratorConfig
    from batikstudio.io.models import model_sha256, new_random_model
    from batikstudio.paths import user_models_dir

    cfg = GeneratorConfig(z_dim=16, c_dim=0, w_dim=16, img_resolution=16, img_channels=3,
                          mapping_layers=1, channel_base=256, channel_max=16)
    other = new_random_model(cfg, seed=5, path=tmp_path / "other.safetensors")
    user_models_dir().mkdir(parents=True, exist_ok=True)
    moved = user_models_dir() / "renamed.safetensors"
    shutil.copy(other, moved)
    window.library.refresh()
    sha = model_sha256(moved)
    state = MotifState(seed=21, psi=0.9, noise_gain=0.5)
    fav = Favourite(sha, str(tmp_path / "gone" / "other.safetensors"), "other", state.to_dict())
    window.session.favourites.toggle(fav)
    window._refresh_favourites()
    panel = window.favourites_panel
    assert panel.select(fav) and "model: other" in panel.list.currentItem().text()
    assert panel.thumbnail(fav) is None  # only the open model's favourites are rendered

    _double_click(qtbot, panel, fav)
    qtbot.waitUntil(lambda: window.session.model.sha256 == sha and window.vm.state == state, timeout=TIMEOUT)
    assert window.tabs.currentWidget() is window.motif
    assert window.error_dialog is None


def test_favourite_of_a_missing_model_says_so(qtbot, window, tmp_path):
    fav = Favourite("f" * 64, str(tmp_path / "nowhere.safetensors"), "lost-model", {"seed": 1, "psi": 0.7})
    window.session.favourites.toggle(fav)
    window._refresh_favourites()
    opened = window.session.model.sha256
    _double_click(qtbot, window.favourites_panel, fav)
    qtbot.waitUntil(lambda: window.error_dialog is not None and window.error_dialog.isVisible(), timeout=TIMEOUT)
    assert "lost-model" in window.error_dialog.text() and "not found" in window.error_dialog.text()
    assert window.session.model.sha256 == opened


def test_view_menu_toggles_the_dock(qtbot, window):
    action = window.favourites_dock.toggleViewAction()
    assert action in window.menuBar().actions()[2].menu().actions()
    action.trigger()
    assert not window.favourites_dock.isVisible()
    action.trigger()
    assert window.favourites_dock.isVisible()


def test_thumbnail_job_without_qt(tiny_model_file):
    from batikstudio.io.models import open_model

    model = open_model(tiny_model_file)
    good = MotifState(seed=3, class_index=1).to_dict()
    bad = replace(MotifState(seed=3), class_index=7).to_dict()  # the model has 3 classes
    ctx = RecordingContext()
    count = favourite_thumbnails_job(ThumbnailsRequest(model, ((("s", "a"), good), (("s", "b"), bad)), size=24), ctx)
    assert count == 1
    assert ctx.partials[0][0] == ("s", "a") and ctx.partials[0][1].shape == (24, 24, 3)
    assert ctx.partials[0][1].dtype == np.uint8
    assert ctx.partials[1] == (("s", "b"), None)
    assert ctx.progress_log[-1] == (2, 2)


def test_describe_state():
    assert describe_state({"seed": 4, "psi": 0.5, "class": 2, "mix": [1]}) == "seed 4 · class 2 · ψ 0.50 · mixed"
