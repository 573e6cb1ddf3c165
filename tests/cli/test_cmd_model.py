"""``batikstudio model info`` on the training records our own trainer writes."""

from __future__ import annotations

import json

from safetensors import safe_open
from safetensors.torch import save_file

from batikstudio.cli.main import main
from batikstudio.core.nets import GeneratorConfig
from batikstudio.io.models import new_random_model


def _with_training(src, dst, training: dict):
    with safe_open(str(src), "pt") as fh:
        meta = json.loads(fh.metadata()["batikstudio"])
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    meta["training"] = training
    save_file(tensors, str(dst), metadata={"batikstudio": json.dumps(meta)})
    return dst


def test_model_info_on_an_export_trained_without_diffusion(tmp_path, capsys):
    # what `train --export` writes for a run without --diffusion: "diffusion": null
    cfg = GeneratorConfig(z_dim=8, c_dim=0, w_dim=8, img_resolution=8, img_channels=3, mapping_layers=1,
                          channel_base=64, channel_max=8)
    src = new_random_model(cfg, seed=1, path=tmp_path / "raw.safetensors")
    path = _with_training(src, tmp_path / "run.safetensors",
                          {"kimg": 0.032, "diffusion": None, "augment": "ada", "augment_p": 0.0})
    assert main(["model", "info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "kimg:         0.032" in out and "augment:      ada p 0.0" in out
    assert "diffusion:" not in out


def test_model_info_shows_diffusion_noise_when_present(tmp_path, capsys):
    cfg = GeneratorConfig(z_dim=8, c_dim=0, w_dim=8, img_resolution=8, img_channels=3, mapping_layers=1,
                          channel_base=64, channel_max=8)
    src = new_random_model(cfg, seed=1, path=tmp_path / "raw.safetensors")
    path = _with_training(src, tmp_path / "run.safetensors", {"kimg": 1, "diffusion": {"p": 0.5, "T": 7}})
    assert main(["model", "info", str(path)]) == 0
    assert "diffusion:    p 0.5, T 7" in capsys.readouterr().out


def test_model_info_gives_the_total_kimg_of_a_fine_tune(tmp_path, capsys):
    cfg = GeneratorConfig(z_dim=8, c_dim=0, w_dim=8, img_resolution=8, img_channels=3, mapping_layers=1,
                          channel_base=64, channel_max=8)
    src = new_random_model(cfg, seed=1, path=tmp_path / "raw.safetensors")
    path = _with_training(src, tmp_path / "ft.safetensors", {"kimg": 40.5, "kimg_before": 255.7, "kimg_total": 296.2})
    assert main(["model", "info", str(path)]) == 0
    assert "kimg:         40.5 in its last stage, 296.2 in all" in capsys.readouterr().out


def test_model_info_names_the_layout_table(tmp_path, capsys):
    base = dict(z_dim=8, c_dim=2, w_dim=8, img_resolution=16, img_channels=3, mapping_layers=1, channel_base=64,
                channel_max=8, layout_res=8, layout_chars=5)
    structure = new_random_model(GeneratorConfig(**base, layout_by_class=True), seed=1, path=tmp_path / "s.safetensors")
    assert main(["model", "info", str(structure)]) == 0
    out = capsys.readouterr().out
    assert "layouts:      5 motif layouts by class (a structure model" in out and "characters:" not in out
    chars = new_random_model(GeneratorConfig(**base), seed=1, path=tmp_path / "c.safetensors")
    assert main(["model", "info", str(chars)]) == 0
    assert "characters:   5 (a character model" in capsys.readouterr().out
