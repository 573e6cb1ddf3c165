"""Animation tab offscreen: keyframes, playing the preview buffer, GIF/MP4 export with cancel."""

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from batikstudio.app.animate_panel import AnimatePanel, describe
from batikstudio.app.motif_state import MotifViewModel
from batikstudio.app.session import Session
from batikstudio.io.favourites import Favourite
from batikstudio.io.models import open_model
from batikstudio.render.animation import interpolation_frames, provenance_path, read_animation_provenance
from batikstudio.render.motif import MotifState

TIMEOUT = 20000


@pytest.fixture
def model(tiny_model_file):
    return open_model(tiny_model_file)


@pytest.fixture
def panel(qtbot, model):
    p = AnimatePanel(Session("cpu"), MotifViewModel())
    qtbot.addWidget(p)
    p.set_model(model)
    yield p
    assert p.shutdown()


def _add(panel, seed, **kw):
    panel.vm.reset(MotifState(seed=seed, class_index=0, **kw))
    panel.add_current()


def test_keyframes_from_motif_and_favourites_reorder_remove(qtbot, panel, model):
    _add(panel, 1)
    _add(panel, 2, psi=0.4)
    fav = MotifState(seed=30, class_index=2).with_mix("coarse", 4)
    panel.session.favourites.toggle(Favourite(model.sha256, str(model.path), "tiny", fav.to_dict()))
    panel.refresh_favourites()
    assert panel.fav_box.count() == 1 and "coarse←4" in panel.fav_box.itemText(0)
    panel.add_fav_button.click()
    assert [k.seed for k in panel.keys()] == [1, 2, 30] and panel.keys()[2] == fav
    panel.key_list.setCurrentRow(2)
    panel.up_button.click()
    assert [k.seed for k in panel.keys()] == [1, 30, 2]
    panel.key_list.setCurrentRow(0)
    panel.down_button.click()
    assert [k.seed for k in panel.keys()] == [30, 1, 2]
    panel.remove_button.click()  # removes the moved (current) row
    assert [k.seed for k in panel.keys()] == [30, 2]
    assert describe(panel.keys()[1], model.class_labels).startswith("seed 2 · class 0 · ψ 0.40")


def test_play_renders_into_buffer_and_timer_plays_it(qtbot, panel, model):
    panel.play()
    assert "at least two keyframes" in panel.frame_label.text() and not panel.playing
    _add(panel, 3)
    _add(panel, 8)
    panel.frames_spin.setValue(3)
    panel.fps_spin.setValue(50)
    with qtbot.waitSignal(panel.previewReady, timeout=TIMEOUT) as blocker:
        panel.play_button.click()
    assert blocker.args == [6] and len(panel.frames) == 6 and panel.playing
    assert not panel.key_list.item(1).icon().isNull()  # key icons come from the buffer
    qtbot.waitUntil(lambda: panel.frame_label.text().startswith("frame 6/6"), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: panel.frame_label.text().startswith("frame 1/6"), timeout=TIMEOUT)  # wraps
    panel.play_button.click()
    assert not panel.playing and panel.play_button.text() == "▶ Play"
    panel.loop_check.setChecked(False)  # changed path: the buffer is dropped
    assert panel.preview_request is None and panel.frames == []


def test_export_gif_and_mp4_with_provenance(qtbot, panel, model, tmp_path):
    _add(panel, 3, psi=0.6)
    _add(panel, 8, psi=0.6)
    panel.frames_spin.setValue(2)
    panel.space_box.setCurrentIndex(1)  # Z
    out = tmp_path / "walk.gif"
    with qtbot.waitSignal(panel.exported, timeout=TIMEOUT) as blocker:
        assert panel.export_gif(str(out))
    assert blocker.args[0] == out
    keys = panel.keys()
    ref = list(interpolation_frames(model, keys, 2, loop=True, space="z"))
    with Image.open(out) as gif:
        assert gif.n_frames == 4 and gif.size == (32, 32)
        gif.seek(1)
        assert np.abs(np.asarray(gif.convert("RGB")).astype(int) - ref[1].astype(int)).mean() < 20
    prov = read_animation_provenance(out)
    assert prov["space"] == "z" and prov["fps"] == 12 and prov["model_sha256"] == model.sha256
    panel.size_spin.setValue(64)
    with qtbot.waitSignal(panel.exported, timeout=TIMEOUT) as blocker:
        assert panel.export_mp4(str(tmp_path / "walk"))  # the suffix is added
    assert blocker.args[0] == tmp_path / "walk.mp4"
    assert imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "walk.mp4"))[0] == 4
    assert read_animation_provenance(tmp_path / "walk.mp4")["size"] == 64


def test_export_cancel_leaves_no_file_and_needs_two_keys(qtbot, panel, tmp_path):
    out = tmp_path / "never.gif"
    _add(panel, 1)
    assert not panel.export_gif(str(out))
    assert "at least two keyframes" in panel.export_bar.status.text()
    _add(panel, 2)
    panel.frames_spin.setValue(240)
    assert panel.export_gif(str(out))
    assert panel.export_bar.running
    with qtbot.waitSignal(panel.export_bar.cancelled, timeout=TIMEOUT):
        panel.export_bar.cancel_button.click()
    assert panel.export_bar.runner.shutdown()
    assert not out.exists() and not provenance_path(out).exists()


def test_new_model_clears_keyframes(qtbot, panel, model):
    _add(panel, 1)
    _add(panel, 2)
    panel.set_model(model)
    assert panel.keys() == ()
