"""Post-processing tab, offscreen: artifact filter, dye layers, style transfer, send to print."""

from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QMainWindow

from batikstudio.app.post_panel import PostPanel, stage_image
from batikstudio.imaging.dyes import reduce_palette
from batikstudio.io.provenance import read_provenance

TIMEOUT = 30000


def hazy_page(size: int = 40) -> np.ndarray:
    """Grey haze (luma 220) around a dark block, with one-pixel dark specks."""
    img = np.full((size, size, 3), 220, np.uint8)
    img[10:30, 8:20] = (30, 20, 10)
    img[10:30, 20:32] = (160, 60, 40)
    img[3, 3] = img[size - 4, size - 3] = 0
    return img


class FakeRender:
    def __init__(self, img: np.ndarray, seed: int = 5) -> None:
        self.images = img[None]
        self.request = SimpleNamespace(tileable=False, seeds=(seed,))
        self.seed = seed

    def provenance(self, index: int = 0, model_name: str = "") -> dict:
        return {"kind": "generated", "seed": self.seed, "model_sha256": "cd" * 32}


class Host(QMainWindow):
    """Stands in for the main window: records what its error dialog would show."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: list[str] = []
        self.panel = PostPanel(self)
        self.setCentralWidget(self.panel)

    def show_error(self, text: str) -> None:
        self.errors.append(text)


@pytest.fixture
def host(qtbot):
    h = Host()
    qtbot.addWidget(h)
    h.resize(1100, 750)
    yield h
    assert h.panel.shutdown()


def _result_after(qtbot, panel, action):
    with qtbot.waitSignal(panel.previewUpdated, timeout=TIMEOUT) as blocker:
        action()
    return blocker.args[0]


def test_artifact_filter_updates_preview(qtbot, host):
    panel = host.panel
    img = hazy_page()
    plain = _result_after(qtbot, panel, lambda: panel.set_source(FakeRender(img)))
    np.testing.assert_array_equal(plain.image, img)
    cleaned = _result_after(qtbot, panel, lambda: panel.artifact_box.setChecked(True))
    assert cleaned.image[0, 0].tolist() == [255, 255, 255]  # haze lifted
    assert cleaned.image[3, 3].tolist() == [255, 255, 255]  # speck erased
    assert cleaned.image[15, 10].tolist() == [30, 20, 10]  # ink kept
    off = _result_after(qtbot, panel, lambda: panel.white.setValue(255))
    assert off.image[0, 0].tolist() == [220, 220, 220]
    binary = _result_after(qtbot, panel, lambda: panel.binarise.setChecked(True))
    assert set(np.unique(binary.image).tolist()) <= {0, 255}
    assert "artifact" in panel.info.text()


def test_dye_layers_show_swatches_and_stages(qtbot, host):
    panel = host.panel
    _result_after(qtbot, panel, lambda: panel.set_source(FakeRender(hazy_page())))
    panel.n_colors.setValue(3)
    res = _result_after(qtbot, panel, lambda: panel.dye_box.setChecked(True))
    sep = res.separation
    assert sep is not None and sep.n_colors == 3
    np.testing.assert_array_equal(res.image, sep.recoloured)
    assert len(panel.swatches.colors) == 3 and panel.masks.count() == 3
    assert panel.masks.isVisibleTo(panel) and panel.masks.item(2).text() == "2: wax on 0–1"
    res = _result_after(qtbot, panel, lambda: panel.palette.setCurrentIndex(
        panel.palette.findData("truntum")))
    assert res.separation.n_colors == 2 and not panel.n_colors.isEnabled()
    assert sorted(map(tuple, res.separation.colors.tolist())) == [(59, 35, 20), (239, 230, 210)]
    _result_after(qtbot, panel, lambda: panel.dye_box.setChecked(False))
    assert not panel.masks.isVisibleTo(panel) and panel.masks.count() == 0


def test_stage_image_marks_wax():
    img = np.zeros((4, 4, 3), np.uint8)
    img[:2] = 250
    sep = reduce_palette(img, n_colors=2)
    stage1 = stage_image(sep, 1)
    assert stage1[0, 0].tolist() == [60, 52, 40] and stage1[3, 3].tolist() == sep.colors[1].tolist()
    assert (stage_image(sep, 0) == sep.colors[0]).all()


def test_send_to_print_with_provenance(qtbot, host):
    panel = host.panel
    _result_after(qtbot, panel, lambda: panel.set_source(FakeRender(hazy_page(), seed=9)))
    panel.artifact_box.setChecked(True)
    res = _result_after(qtbot, panel, lambda: panel.dye_box.setChecked(True))
    with qtbot.waitSignal(panel.processed, timeout=1000) as blocker:
        assert panel.send_to_print()
    image, prov = blocker.args
    np.testing.assert_array_equal(image, res.image)
    assert prov["seed"] == 9 and [f["name"] for f in prov["filters"]] == ["artifact", "dyes"]
    assert prov["filters"][0]["white_threshold"] == 200 and prov["filters"][1]["n_colors"] == 4
    assert len(prov["filters"][1]["colors"]) == res.separation.n_colors


def test_export_dye_folder(qtbot, host, tmp_path):
    panel = host.panel
    _result_after(qtbot, panel, lambda: panel.set_source(FakeRender(hazy_page())))
    assert not panel.export_dyes(tmp_path / "nothing")  # dyes off: refused with a message
    assert "Dye layers" in host.errors[-1] and not (tmp_path / "nothing").exists()
    panel.n_colors.setValue(3)
    res = _result_after(qtbot, panel, lambda: panel.dye_box.setChecked(True))
    out = tmp_path / "dyes"
    with qtbot.waitSignal(panel.exported, timeout=TIMEOUT) as blocker:
        assert panel.export_dyes(out)
    names = sorted(p.name for p in blocker.args[0])
    assert names == sorted(["recoloured.png", "mask_stage_0.png", "mask_stage_1.png",
                            "mask_stage_2.png", "sheet.png", "palette.json"])
    mask = np.asarray(Image.open(out / "mask_stage_2.png"))
    np.testing.assert_array_equal(mask == 0, res.separation.labels < 2)
    assert read_provenance(out / "mask_stage_1.png")["filters"][-1]["name"] == "dyes"


def _style_file(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "cloth.png"
    Image.fromarray(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)).save(path)
    return path


def test_style_transfer_gatys_starts_and_cancels(qtbot, host, tmp_path):
    from batikstudio.imaging.style_transfer import GatysConfig

    panel = host.panel
    _result_after(qtbot, panel, lambda: panel.set_source(FakeRender(hazy_page(32))))
    box = panel.style
    assert box.set_style_file(_style_file(tmp_path))
    box.method.setCurrentIndex(box.method.findData("gatys"))
    box.size.setValue(32)
    box.gatys_config = GatysConfig(iterations=(500,), preview_every=1)
    with qtbot.waitSignal(box.partial, timeout=TIMEOUT) as blocker:
        assert box.run()
    assert blocker.args[0].shape == (32, 32, 3)  # a partial preview arrived
    with qtbot.waitSignal(box.jobs.cancelled, timeout=1000):
        box.jobs.cancel_button.click()
    assert box.jobs.runner.shutdown()
    assert not panel.use_stylised.isEnabled() and host.errors == []


def test_style_transfer_fast_result_is_used(qtbot, host, tmp_path):
    panel = host.panel
    _result_after(qtbot, panel, lambda: panel.set_source(FakeRender(hazy_page(32))))
    box = panel.style
    if box.method.findData("fast") < 0:
        pytest.fail("onnxruntime is a test dependency: the fast method must be offered")
    box.set_style_file(_style_file(tmp_path))
    box.method.setCurrentIndex(box.method.findData("fast"))
    box.size.setValue(32)
    with qtbot.waitSignal(panel.previewUpdated, timeout=TIMEOUT) as blocker:
        assert box.run()
    assert panel.use_stylised.isChecked() and blocker.args[0].image.shape == (32, 32, 3)
    style = panel.provenance()["filters"][0]
    assert style["name"] == "style" and style["method"] == "fast" and style["style_file"] == "cloth.png"
    _result_after(qtbot, panel, lambda: panel.use_stylised.setChecked(False))
    assert panel.provenance()["filters"] == []


def test_missing_weights_message_reaches_error_dialog(qtbot, host, tmp_path):
    panel = host.panel
    _result_after(qtbot, panel, lambda: panel.set_source(FakeRender(hazy_page(32))))
    box = panel.style
    assert not box.run() and "style image" in host.errors[-1]
    box.set_style_file(_style_file(tmp_path))
    box.method.setCurrentIndex(box.method.findData("gatys"))
    box.set_vgg_weights(str(tmp_path / "vgg19-dcbb9e9d.pth"))
    with qtbot.waitSignal(box.jobs.failed, timeout=TIMEOUT):
        assert box.run()
    assert "not found" in host.errors[-1] and "vgg19-dcbb9e9d.pth" in host.errors[-1]
    assert not box.set_style_file(tmp_path / "missing.png") and "no such file" in host.errors[-1]


def test_new_motif_drops_stale_style_result(qtbot, host, tmp_path):
    panel = host.panel
    first = hazy_page(32)
    _result_after(qtbot, panel, lambda: panel.set_source(FakeRender(first)))
    box = panel.style
    box.set_style_file(_style_file(tmp_path))
    box.method.setCurrentIndex(box.method.findData("fast"))
    box.size.setValue(32)
    with qtbot.waitSignal(panel.previewUpdated, timeout=TIMEOUT):
        box.run()
    assert panel.use_stylised.isChecked()
    _result_after(qtbot, panel, lambda: panel.set_source(FakeRender(first.copy())))  # re-render
    assert panel.use_stylised.isChecked()
    res = _result_after(qtbot, panel, lambda: panel.set_source(FakeRender(255 - first)))
    assert not panel.use_stylised.isChecked() and not panel.use_stylised.isEnabled()
    np.testing.assert_array_equal(res.image, 255 - first)
    assert "run style transfer again" in box.jobs.status.text()
