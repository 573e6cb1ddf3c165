"""`batikstudio generate`: files and grids with provenance; pixel-exact regeneration."""

import numpy as np
import pytest
from PIL import Image

from batikstudio.cli.main import main
from batikstudio.core.nets import GeneratorConfig
from batikstudio.io.models import new_random_model
from batikstudio.io.provenance import read_provenance


@pytest.fixture
def model_file(tmp_path):
    cfg = GeneratorConfig(z_dim=32, c_dim=2, w_dim=32, img_resolution=16, img_channels=3,
                          mapping_layers=2, channel_base=256, channel_max=32)
    return new_random_model(cfg, seed=3, path=tmp_path / "m.safetensors")


def test_generate_files_and_regenerate_exactly(tmp_path, model_file, capsys):
    out = tmp_path / "out"
    rc = main(["generate", "--model", str(model_file), "--seeds", "4-6", "--class", "1", "--psi", "0.6",
               "--cutoff", "2", "--noise", "random", "--noise-strength", "2", "--mix", "9:coarse",
               "--direction", "0:1.5", "--direction-layers", "middle", "--out", str(out)])
    assert rc == 0
    files = sorted(out.glob("*.png"))
    assert [f.name for f in files] == ["seed00004.png", "seed00005.png", "seed00006.png"]
    prov = read_provenance(files[1])
    assert prov["seed"] == 5 and prov["render"]["class"] == 1 and prov["render"]["psi"] == 0.6
    assert prov["render"]["mix"] == [{"seed": 9, "layers": "coarse", "class": None}]
    assert len(prov["model_sha256"]) == 64
    capsys.readouterr()
    regen = tmp_path / "again.png"
    assert main(["generate", "--model", str(model_file), "--from-image", str(files[1]), "-o", str(regen)]) == 0
    assert "identical" in capsys.readouterr().out
    assert np.array_equal(np.asarray(Image.open(regen)), np.asarray(Image.open(files[1])))


def test_generate_grid_and_a_different_model_is_refused(tmp_path, model_file, capsys):
    grid = tmp_path / "grid.png"
    assert main(["generate", "--model", str(model_file), "--seeds", "0-3", "--class", "0",
                 "--grid", str(grid)]) == 0
    assert Image.open(grid).size == (32, 32)
    assert read_provenance(grid)["render"]["seeds"] == [0, 1, 2, 3]
    one = tmp_path / "one"
    main(["generate", "--model", str(model_file), "--seeds", "1", "--class", "0", "--out", str(one)])
    cfg = GeneratorConfig(z_dim=32, c_dim=2, w_dim=32, img_resolution=16, img_channels=3,
                          mapping_layers=2, channel_base=256, channel_max=32)
    other = new_random_model(cfg, seed=4, path=tmp_path / "other.safetensors")
    capsys.readouterr()
    rc = main(["generate", "--model", str(other), "--from-image", str(one / "seed00001.png")])
    err = capsys.readouterr().err
    assert rc == 2 and "open the model it was made with" in err and err.count("\n") == 1


@pytest.mark.parametrize("args, message", [
    (["--seeds", "5-1"], "end is before the start"),
    (["--class", "7"], "out of range"),
    (["--class", "sky"], "unknown class"),
    (["--mix", "nonsense"], "SEED:RANGE"),
    (["--direction", "x"], "K:AMOUNT"),
    (["--mix", "3:0-99", "--class", "0"], "out of range"),
])
def test_generate_bad_arguments_are_one_line_errors(tmp_path, model_file, capsys, args, message):
    rc = main(["generate", "--model", str(model_file), "--grid", str(tmp_path / "g.png"), *args])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "Traceback" not in err


def test_generate_garbage_model_file(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\xff" * 100)
    assert main(["generate", "--model", str(bad), "--grid", str(tmp_path / "g.png")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_generate_class_rows_grid(tmp_path, model_file):
    grid = tmp_path / "classes.png"
    assert main(["generate", "--model", str(model_file), "--seeds", "0-2", "--class", "all", "--grid", str(grid)]) == 0
    assert Image.open(grid).size == (3 * 16 + 2 * 2, 2 * 16 + 2)
    assert read_provenance(grid)["kind"] == "class-grid"


def test_conditional_model_without_class_uses_class_0_and_says_so(tmp_path, model_file, capsys):
    grid = tmp_path / "g.png"
    assert main(["generate", "--model", str(model_file), "--seeds", "0-1", "--grid", str(grid)]) == 0
    assert "using class 0" in capsys.readouterr().err
    assert read_provenance(grid)["render"]["class"] == 0


def test_generate_in_bfloat16_on_a_cpu_without_native_bf16_warns(tmp_path, model_file, capsys, monkeypatch):
    from batikstudio import runtime

    monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda: False)
    grid = tmp_path / "grid.png"
    assert main(["generate", "--model", str(model_file), "--seeds", "0-1", "--precision", "bfloat16",
                 "--grid", str(grid)]) == 0
    assert "no native bfloat16" in capsys.readouterr().err and grid.is_file()
    monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda: True)
    assert main(["generate", "--model", str(model_file), "--seeds", "0-1", "--precision", "bfloat16",
                 "--grid", str(grid)]) == 0
    assert "bfloat16" not in capsys.readouterr().err


def test_psi_centre_is_recorded_and_regenerated_and_model_centre_differs(tmp_path, model_file, capsys):
    files = {}
    for centre in ("class", "model"):
        out = tmp_path / centre
        assert main(["generate", "--model", str(model_file), "--seeds", "2", "--class", "1", "--psi", "0.3",
                     "--psi-centre", centre, "--out", str(out)]) == 0
        files[centre] = out / "seed00002.png"
        assert read_provenance(files[centre])["render"]["psi_centre"] == centre
    pixels = {k: np.asarray(Image.open(f)) for k, f in files.items()}
    assert not np.array_equal(pixels["class"], pixels["model"])
    regen = tmp_path / "again.png"
    assert main(["generate", "--model", str(model_file), "--from-image", str(files["model"]), "-o", str(regen)]) == 0
    assert np.array_equal(np.asarray(Image.open(regen)), pixels["model"])


def test_a_model_trained_for_seamless_tiles_renders_wrapped_unless_told_otherwise(tmp_path, model_file):
    from dataclasses import replace

    from batikstudio.io.modelfile import ModelFile, read_model_file, save_model_file
    from batikstudio.io.models import open_model

    stored = read_model_file(model_file)
    wrapped = tmp_path / "wrapped.safetensors"
    meta = replace(stored.meta, training={**stored.meta.training, "options": {"tileable": True}})
    save_model_file(wrapped, ModelFile(stored.tensors, meta))
    assert open_model(wrapped).trained_tileable and not open_model(model_file).trained_tileable
    seen = {}
    for name, model, flag in [("default", wrapped, []), ("off", wrapped, ["--no-tileable"]),
                              ("plain", model_file, []), ("on", model_file, ["--tileable"])]:
        out = tmp_path / name
        assert main(["generate", "--model", str(model), "--seeds", "1", "--class", "0", "--out", str(out), *flag]) == 0
        seen[name] = read_provenance(out / "seed00001.png")["render"]["tileable"]
    assert seen == {"default": True, "off": False, "plain": False, "on": True}


def test_generate_text_with_a_character_model(tmp_path, model_file, capsys):
    from batikstudio.jobs import RecordingContext
    from batikstudio.training.config import TrainRequest
    from batikstudio.training.export import export_snapshot
    from batikstudio.training.loop import train
    from tests.training.test_layouts import TinyGlyphs, _layout_cfg

    train(TrainRequest(_layout_cfg(total_kimg=0.008), str(tmp_path / "run"), dataset=TinyGlyphs()), RecordingContext())
    model = export_snapshot(tmp_path / "run", tmp_path / "chars.safetensors")
    out = tmp_path / "out"
    assert main(["generate", "--model", str(model), "--class", "1", "--text", "三 一", "--out", str(out)]) == 0
    files = sorted(out.glob("*.png"))
    assert [f.name for f in files] == ["seed00000.png", "seed00001.png"]  # one seed per character
    assert [read_provenance(f)["render"]["text"] for f in files] == ["三", "一"]
    capsys.readouterr()
    again = tmp_path / "again.png"
    assert main(["generate", "--model", str(model), "--from-image", str(files[0]), "-o", str(again)]) == 0
    assert np.array_equal(np.asarray(Image.open(again)), np.asarray(Image.open(files[0])))
    grid = str(tmp_path / "g.png")
    assert main(["generate", "--model", str(model), "--class", "0", "--text", "七", "--grid", grid]) == 2
    assert "not 七" in capsys.readouterr().err
    assert main(["generate", "--model", str(model_file), "--text", "三", "--grid", str(tmp_path / "h.png")]) == 2
    assert "writes no characters" in capsys.readouterr().err


def test_generate_with_an_arrangement_seed_on_a_structure_model(tmp_path, model_file, capsys):
    from batikstudio.jobs import RecordingContext
    from batikstudio.training.config import TrainRequest
    from batikstudio.training.export import export_snapshot
    from batikstudio.training.loop import train
    from tests.training.conftest import TinyDataset
    from tests.training.test_layouts import STRUCT_G, _layout_cfg

    train(TrainRequest(_layout_cfg(g_kwargs=STRUCT_G, total_kimg=0.008), str(tmp_path / "run"),
                       dataset=TinyDataset(n=12, k=2)), RecordingContext())
    model = export_snapshot(tmp_path / "run", tmp_path / "s.safetensors")
    out = tmp_path / "out"
    assert main(["generate", "--model", str(model), "--class", "1", "--seeds", "0-2", "--arrangement", "9",
                 "--out", str(out)]) == 0
    files = sorted(out.glob("*.png"))
    assert [read_provenance(f)["render"]["layout_seed"] for f in files] == [9, 9, 9]
    again = tmp_path / "again.png"
    assert main(["generate", "--model", str(model), "--from-image", str(files[1]), "-o", str(again)]) == 0
    assert np.array_equal(np.asarray(Image.open(again)), np.asarray(Image.open(files[1])))
    capsys.readouterr()
    assert main(["generate", "--model", str(model_file), "--arrangement", "3", "--grid", str(tmp_path / "h.png")]) == 2
    assert "arrangement seed" in capsys.readouterr().err
