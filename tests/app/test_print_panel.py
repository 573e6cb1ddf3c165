"""Print tab, offscreen: live repeat preview, seam score, size readout, exports, refusal."""

import json
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from batikstudio.app.print_jobs import seam_verdict
from batikstudio.app.print_panel import PrintPanel
from batikstudio.imaging.repeat import TileLayout
from batikstudio.imaging.seamless import seam_score
from batikstudio.io.provenance import read_dpi, read_provenance

TIMEOUT = 20000


def gradient_motif(size: int = 48) -> np.ndarray:
    """A left-to-right ramp with stripes: a plainly visible seam when it repeats."""
    x = np.broadcast_to(np.linspace(20, 225, size)[None, :], (size, size))
    y = np.broadcast_to((np.arange(size) % 8 < 3)[:, None] * 30.0, (size, size))
    img = np.stack([x + y, 90.0 + y, 255.0 - x], axis=2)
    return np.clip(img, 0, 255).astype(np.uint8)


class FakeRender:
    """Quacks like a RenderResult: ``images``, ``request.tileable``, ``provenance()``."""

    def __init__(self, img: np.ndarray, seed: int = 7, tileable: bool = False) -> None:
        self.images = img[None]
        self.request = SimpleNamespace(tileable=tileable, seeds=(seed,))
        self.seed = seed

    def provenance(self, index: int = 0, model_name: str = "") -> dict:
        return {"kind": "generated", "seed": self.seed, "model_sha256": "ab" * 32,
                "render": {"psi": 0.7}}


@pytest.fixture
def panel(qtbot):
    p = PrintPanel()
    qtbot.addWidget(p)
    p.resize(1000, 700)
    yield p
    assert p.shutdown()


def _preview_after(qtbot, panel, action):
    with qtbot.waitSignal(panel.previewUpdated, timeout=TIMEOUT) as blocker:
        action()
    return blocker.args[0]


def _set_custom_size(panel, w, h, unit, dpi):
    panel.unit.setCurrentText(unit)
    panel.width_spin.setValue(w)
    panel.height_spin.setValue(h)
    panel.dpi.setCurrentIndex(panel.dpi.count() - 1)  # custom
    panel.dpi_custom.setValue(dpi)


def test_preview_follows_layout_changes(qtbot, panel):
    tile = gradient_motif()
    first = _preview_after(qtbot, panel, lambda: panel.set_source(FakeRender(tile)))
    assert first.image.shape == (3 * 48, 3 * 48, 3)
    assert panel.layout_box.currentData() is TileLayout.HALF_DROP
    mirror = _preview_after(qtbot, panel, lambda: panel.layout_box.setCurrentIndex(3))
    assert not np.array_equal(mirror.image, first.image)
    # mirror: the second column is the first one flipped left-right
    np.testing.assert_array_equal(mirror.image[:48, 48:96], tile[:, ::-1])
    assert not panel.offset.isEnabled()
    brick = _preview_after(qtbot, panel, lambda: panel.layout_box.setCurrentIndex(2))
    third = _preview_after(qtbot, panel, lambda: panel.offset.setCurrentIndex(1))
    assert panel.offset.isEnabled() and not np.array_equal(brick.image, third.image)


def test_seam_score_shown_with_verdict(qtbot, panel):
    tile = gradient_motif()
    pv = _preview_after(qtbot, panel, lambda: panel.set_source(FakeRender(tile)))
    score = seam_score(tile, TileLayout.HALF_DROP, 0.5)  # the tab opens on half-drop 1/2
    assert pv.score_after == pytest.approx(score) and score > 3
    assert f"{score:.2f}" in panel.seam_label.text()
    assert "visible seam in the half-drop" in panel.seam_label.text()
    pv = _preview_after(qtbot, panel, lambda: panel.seamless.setCurrentIndex(1))  # blend
    assert pv.score_after < pv.score_before / 3  # the stripe edge on the tile edge stays
    assert f"{pv.score_before:.2f} → {pv.score_after:.2f}" in panel.seam_label.text()
    assert seam_verdict(pv.score_after, TileLayout.HALF_DROP) in panel.seam_label.text()


def test_seam_score_follows_layout_and_offset(qtbot, panel):
    yy, xx = np.mgrid[0:48, 0:48]
    wave = (127 + 100 * np.sin(2 * np.pi * (xx + yy) / 48)).astype(np.uint8)
    tile = np.repeat(wave[:, :, None], 3, axis=2)  # seamless for block, not for a drop
    drop = _preview_after(qtbot, panel, lambda: panel.set_source(FakeRender(tile)))
    assert drop.score_after == pytest.approx(seam_score(tile, "half-drop", 0.5)) and drop.score_after > 3
    third = _preview_after(qtbot, panel, lambda: panel.offset.setCurrentIndex(1))
    assert third.score_after == pytest.approx(seam_score(tile, "half-drop", 1 / 3))
    assert third.score_after != pytest.approx(drop.score_after)
    block = _preview_after(qtbot, panel, lambda: panel.layout_box.setCurrentIndex(0))
    assert block.score_after == pytest.approx(seam_score(tile)) and block.score_after < 1.5
    assert "Seam score (block)" in panel.seam_label.text() and "seamless" in panel.seam_label.text()
    mirror = _preview_after(qtbot, panel, lambda: panel.layout_box.setCurrentIndex(3))
    assert "its own reflection" in panel.seam_label.text() and mirror.score_after <= 1.0


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_export_print_size_dpi_provenance(qtbot, panel, tmp_path, suffix):
    _preview_after(qtbot, panel, lambda: panel.set_source(FakeRender(gradient_motif(), seed=11)))
    _set_custom_size(panel, 2.54 * 1.2, 2.54 * 0.5, "cm", 100)  # 1.2 x 0.5 in
    assert "120 × 50 px" in panel.size_label.text()
    out = tmp_path / f"print{suffix}"
    with qtbot.waitSignal(panel.exported, timeout=TIMEOUT) as blocker:
        assert panel.export_print(str(out))
    assert blocker.args[0] == out
    with Image.open(out) as im:
        assert im.size == (120, 50)
    assert read_dpi(out) == pytest.approx((100, 100), abs=0.5)
    prov = read_provenance(out)
    assert prov["seed"] == 11 and prov["print"]["layout"] == "half-drop"
    assert prov["print"]["dpi"] == 100 and prov["print"]["pixels"] == [120, 50]
    assert "Saved" in panel.jobs.status.text()


def test_export_dye_layers_svg(qtbot, panel, tmp_path):
    _preview_after(qtbot, panel, lambda: panel.set_source(FakeRender(gradient_motif(32))))
    panel.preset.setCurrentIndex(3)  # batik cap 20 x 20 cm
    panel.n_colors.setValue(3)
    out = tmp_path / "dyes.svg"
    with qtbot.waitSignal(panel.exported, timeout=TIMEOUT):
        assert panel.export_dye_layers(out)
    root = ET.parse(out).getroot()
    assert root.get("width") == "20cm" and root.get("height") == "20cm"
    layers = [g for g in root.iter("{http://www.w3.org/2000/svg}g")]
    assert 2 <= len(layers) <= 3
    meta = json.loads(root.find("{http://www.w3.org/2000/svg}metadata").text)
    assert meta["seed"] == 7 and meta["print"]["layout"] == "half-drop"


def test_over_limit_is_refused_and_nothing_written(qtbot, panel, tmp_path):
    _preview_after(qtbot, panel, lambda: panel.set_source(FakeRender(gradient_motif())))
    _set_custom_size(panel, 60, 60, "in", 300)
    assert panel.refusal_label.isVisibleTo(panel)
    assert "324 MP" in panel.refusal_label.text() and "limit" in panel.refusal_label.text()
    assert not panel.export_button.isEnabled()
    out = tmp_path / "huge.png"
    assert not panel.export_print(str(out))
    assert not panel.jobs.running and not out.exists()
    panel.dpi.setCurrentIndex(0)  # 150 DPI: 81 MP, allowed again
    assert not panel.refusal_label.isVisibleTo(panel) and panel.export_button.isEnabled()


def test_export_can_be_cancelled(qtbot, panel, tmp_path):
    _preview_after(qtbot, panel, lambda: panel.set_source(FakeRender(gradient_motif())))
    panel.preset.setCurrentIndex(0)  # swatch 8 x 8 in at 300 DPI: 2400 x 2400 px
    out = tmp_path / "cancelled.png"
    with qtbot.waitSignal(panel.jobs.cancelled, timeout=TIMEOUT):
        assert panel.export_print(out)
        assert panel.jobs.cancel_button.isVisibleTo(panel)
        panel.jobs.cancel_button.click()
    assert panel.jobs.runner.shutdown()
    assert not out.exists() and panel.jobs.status.text() == "Cancelled."


def test_unit_change_keeps_physical_size(qtbot, panel):
    panel.preset.setCurrentIndex(3)  # batik cap 20 x 20 cm
    before = panel.current_spec().pixel_size
    panel.unit.setCurrentText("in")
    assert panel.width_spin.value() == pytest.approx(20 / 2.54, abs=0.01)
    assert panel.current_spec().pixel_size == pytest.approx(before, abs=2)
    assert panel.preset.currentText().startswith("Batik cap")


def test_post_processed_source_and_wrap_toggle(qtbot, panel):
    _preview_after(qtbot, panel, lambda: panel.set_source(FakeRender(gradient_motif(), tileable=True)))
    assert panel.wrap.isChecked() and not panel.use_processed.isEnabled()
    with qtbot.waitSignal(panel.wrapRenderingToggled, timeout=1000) as blocker:
        panel.wrap.setChecked(False)
    assert blocker.args == [False]
    processed = np.full((40, 40, 3), 120, np.uint8)
    prov = {"seed": 7, "filters": [{"name": "dyes"}]}
    pv = _preview_after(qtbot, panel, lambda: panel.set_processed(processed, prov))
    assert panel.use_processed.isChecked() and "post-processed (dyes)" in panel.source_label.text()
    assert pv.image.shape == (120, 120, 3) and (pv.image == 120).all()
    tile, source_prov = panel.source()
    assert tile.shape == (40, 40, 3) and source_prov["filters"] == [{"name": "dyes"}]
    _preview_after(qtbot, panel, lambda: panel.use_processed.setChecked(False))
    assert panel.source()[0].shape == (48, 48, 3)


def test_window_feeds_print_tab_and_wrap_reaches_motif(qtbot, tiny_model_file):
    from batikstudio.app.main import create_window, make_application

    make_application()
    win = create_window(tiny_model_file, "cpu")
    qtbot.addWidget(win)
    try:
        qtbot.waitUntil(lambda: win.print_panel.last_preview is not None, timeout=TIMEOUT)
        assert win.print_panel.source()[0].shape == (32, 32, 3)
        assert win.tabs.indexOf(win.print_panel) >= 0 and win.tabs.indexOf(win.post_panel) >= 0
        with qtbot.waitSignal(win.motif.rendered, timeout=TIMEOUT) as blocker:
            win.print_panel.wrap.setChecked(True)
        assert blocker.args[0].request.tileable and win.motif.tileable.isChecked()
        qtbot.waitUntil(lambda: win.post_panel.last_result is not None, timeout=TIMEOUT)
        assert win.post_panel.send_to_print()
        assert win.print_panel.use_processed.isChecked()
    finally:
        assert win.shutdown()


def test_new_motif_replaces_post_processed_source(qtbot, panel):
    tile = gradient_motif()
    _preview_after(qtbot, panel, lambda: panel.set_source(FakeRender(tile)))
    _preview_after(qtbot, panel, lambda: panel.set_processed(np.full((40, 40, 3), 9, np.uint8), {}))
    _preview_after(qtbot, panel, lambda: panel.set_source(FakeRender(tile.copy())))  # same pixels
    assert panel.use_processed.isChecked()
    _preview_after(qtbot, panel, lambda: panel.set_source(FakeRender(255 - tile)))
    assert not panel.use_processed.isChecked() and panel.use_processed.isEnabled()
    np.testing.assert_array_equal(panel.source()[0], 255 - tile)
