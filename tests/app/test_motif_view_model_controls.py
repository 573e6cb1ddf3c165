"""The motif view's controls follow the model: noise (off, with the reason, for models without noise inputs),
the truncation centre (conditional models), wrap rendering (models trained for seamless tiles)."""

from batikstudio.app.motif_state import MotifViewModel
from batikstudio.app.motif_view import MotifView
from batikstudio.app.seed_grid import SeedGridView
from batikstudio.core.nets import GeneratorConfig
from batikstudio.io.models import new_random_model, open_model


def _model(tmp_path, use_noise):
    cfg = GeneratorConfig(z_dim=16, c_dim=0, w_dim=16, img_resolution=16, img_channels=3, mapping_layers=2,
                          channel_base=256, channel_max=16, use_noise=use_noise)
    path = tmp_path / f"noise-{use_noise}.safetensors"
    new_random_model(cfg, seed=1, path=path)
    return open_model(path)


def test_noise_controls_follow_the_model(qtbot, tmp_path):
    view = MotifView(MotifViewModel())
    qtbot.addWidget(view)
    view.set_model(_model(tmp_path, use_noise=False))
    assert not view.noise_mode.isEnabled() and not view.noise_gain.isEnabled()
    assert "no noise inputs" in view.noise_mode.toolTip()
    view.set_model(_model(tmp_path, use_noise=True))
    assert view.noise_mode.isEnabled() and view.noise_gain.isEnabled() and view.noise_mode.toolTip() == ""
    qtbot.waitUntil(view.shutdown, timeout=20000)


def test_truncation_centre_checkbox_follows_the_model_and_edits_the_state(qtbot, tmp_path):
    vm = MotifViewModel()
    view = MotifView(vm)
    qtbot.addWidget(view)
    view.set_model(_model(tmp_path, use_noise=True))
    assert not view.psi_class.isEnabled()  # unconditional: no class to pull towards
    cfg = GeneratorConfig(z_dim=16, c_dim=3, w_dim=16, img_resolution=16, img_channels=3, mapping_layers=2,
                          channel_base=256, channel_max=16)
    new_random_model(cfg, seed=2, path=tmp_path / "cond.safetensors")
    view.set_model(open_model(tmp_path / "cond.safetensors"))
    assert view.psi_class.isEnabled() and view.psi_class.isChecked() and vm.state.psi_centre == "class"
    view.psi_class.setChecked(False)
    assert vm.state.psi_centre == "model" and vm.state.request().psi_centre == "model"
    vm.undo_stack.undo()  # the checkbox follows the state back
    assert vm.state.psi_centre == "class" and view.psi_class.isChecked()
    qtbot.waitUntil(view.shutdown, timeout=20000)


def test_a_model_trained_for_seamless_tiles_opens_with_wrap_rendering(qtbot, tmp_path):
    from dataclasses import replace

    from batikstudio.io.modelfile import ModelFile, read_model_file, save_model_file

    plain = tmp_path / "noise-True.safetensors"
    _model(tmp_path, use_noise=True)
    stored = read_model_file(plain)
    wrapped = tmp_path / "wrapped.safetensors"
    save_model_file(wrapped, ModelFile(stored.tensors, replace(stored.meta, training={"options": {"tileable": True}})))
    vm = MotifViewModel()
    view = MotifView(vm)
    qtbot.addWidget(view)
    view.set_model(open_model(wrapped))
    assert vm.state.tileable and view.tileable.isChecked() and "seamless" in view.tileable.toolTip()
    view.set_model(open_model(plain))
    assert not vm.state.tileable and not view.tileable.isChecked()
    qtbot.waitUntil(view.shutdown, timeout=20000)
    grid = SeedGridView()  # the seed grid's thumbnails likewise
    qtbot.addWidget(grid)
    grid.set_model(open_model(wrapped))
    assert grid.template.tileable
    grid.set_model(open_model(plain))
    assert not grid.template.tileable
    qtbot.waitUntil(grid.shutdown, timeout=20000)


def test_the_character_field_follows_a_character_model_and_edits_the_state(qtbot, tmp_path):
    import torch

    from batikstudio.io.modelfile import ModelFile, read_model_file, save_model_file

    cfg = GeneratorConfig(z_dim=16, c_dim=2, w_dim=16, img_resolution=16, img_channels=1, mapping_layers=2,
                          channel_base=256, channel_max=16, use_noise=False, layout_res=8, layout_chars=3)
    raw = tmp_path / "raw.safetensors"
    new_random_model(cfg, seed=1, path=raw)
    stored = read_model_file(raw)
    tensors = dict(stored.tensors)
    for key in [k for k in tensors if k.endswith("layout_codepoints")]:
        tensors[key] = torch.tensor([ord(c) for c in "永字八"])
    path = tmp_path / "chars.safetensors"
    save_model_file(path, ModelFile(tensors, stored.meta))
    vm = MotifViewModel()
    view = MotifView(vm)
    qtbot.addWidget(view)
    view.set_model(_model(tmp_path, use_noise=False))
    assert not view.char_edit.isEnabled() and "calligraphy" in view.char_edit.toolTip()
    view.set_model(open_model(path))
    assert view.char_edit.isEnabled()
    assert view.char_edit.placeholderText() == open_model(path).G_ema.seed_characters([vm.state.seed])
    view.char_edit.setText("字")
    view.char_edit.editingFinished.emit()
    assert vm.state.text == "字" and vm.state.request().text == "字"
    view.char_edit.setText("龍")  # not in the table: refused, the field shows the state again
    view.char_edit.editingFinished.emit()
    assert vm.state.text == "字" and view.char_edit.text() == "字" and "does not know 龍" in view.char_edit.toolTip()
    vm.undo_stack.undo()
    assert vm.state.text is None and view.char_edit.text() == ""
    qtbot.waitUntil(view.shutdown, timeout=20000)


def test_the_arrangement_box_follows_a_structure_model_and_edits_the_state(qtbot, tmp_path):
    cfg = GeneratorConfig(z_dim=16, c_dim=2, w_dim=16, img_resolution=16, img_channels=3, mapping_layers=2,
                          channel_base=256, channel_max=16, use_noise=False, layout_res=8, layout_chars=4,
                          layout_by_class=True)
    path = tmp_path / "structure.safetensors"
    new_random_model(cfg, seed=1, path=path)  # every layout of class 0 (the buffers start at zero)
    vm = MotifViewModel()
    view = MotifView(vm)
    qtbot.addWidget(view)
    view.set_model(_model(tmp_path, use_noise=False))
    assert not view.arrangement.isEnabled() and "structure models" in view.arrangement.toolTip()
    view.set_model(open_model(path))
    assert view.arrangement.isEnabled() and not view.char_edit.isEnabled()
    assert view.arrangement.text() == "the seed's own" and vm.state.layout_seed is None
    view.arrangement.setValue(12)
    assert vm.state.layout_seed == 12 and vm.state.request().layout_seed == 12
    vm.undo_stack.undo()
    assert vm.state.layout_seed is None and view.arrangement.value() == -1
    qtbot.waitUntil(view.shutdown, timeout=20000)
