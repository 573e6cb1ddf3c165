"""``batikstudio train``: run, resume, export from the command line on a tiny PNG folder."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from batikstudio.cli.main import main
from batikstudio.io.modelfile import read_model_file
from batikstudio.io.models import open_model
from tests.conftest import labelled_png_folder

NETS = ["--z-dim", "16", "--w-dim", "16", "--map", "2", "--cbase", "128", "--cmax", "16"]


@pytest.fixture
def png_folder(tmp_path):
    return labelled_png_folder(tmp_path / "data", 8)


def test_train_resume_export(tmp_path, png_folder, capsys):
    run = tmp_path / "run"
    args = ["train", "--data", str(png_folder), "--out", str(run), "--batch", "4", "--kimg", "0.008",
            "--tick", "0.004", "--snap", "1", "--cond", "--mirror", "--augment", "diffaugment",
            "--augment-ops", "translation", "--device", "cpu", *NETS]
    assert main(args) == 0
    assert "finished at 0.008 kimg" in capsys.readouterr().out
    assert main(["train", "--resume", str(run), "--kimg", "0.012"]) == 0
    assert "finished at 0.012 kimg" in capsys.readouterr().out
    out = tmp_path / "model.safetensors"
    assert main(["train", "--export", str(run), "-o", str(out)]) == 0
    model = read_model_file(out)
    assert model.meta.class_labels == ("kawung", "parang")
    assert model.meta.training["kimg"] == pytest.approx(0.012)
    assert model.meta.training["options"]["augment_ops"] == ["translation"]
    assert model.meta.name == "run"  # the run folder's name unless --name says otherwise
    named = tmp_path / "named.safetensors"
    assert main(["train", "--export", str(run), "-o", str(named), "--name", "kawung-parang-16"]) == 0
    assert read_model_file(named).meta.name == "kawung-parang-16"
    half = tmp_path / "half.safetensors"
    assert main(["train", "--export", str(run), "-o", str(half), "--half"]) == 0
    assert half.stat().st_size < 0.6 * out.stat().st_size
    small = read_model_file(half)
    assert small.meta.provenance["storage"] == "float16"
    assert set(small.tensors) == set(model.tensors)  # G_ema, G and D, so it can be fine-tuned
    for name, value in model.tensors.items():
        assert small.tensors[name].dtype == value.dtype  # widened back on reading
        assert torch.allclose(small.tensors[name], value, rtol=1e-3, atol=1e-4), name
    images = []
    for path in (out, half):
        G = open_model(path).G_ema
        z = torch.randn(4, G.cfg.z_dim, generator=torch.Generator().manual_seed(3))
        images.append(G(z, torch.eye(2)[[0, 1, 0, 1]], noise_mode="const"))
    assert (images[0] - images[1]).abs().max() < 0.02
    assert (images[0][0] - images[0][1]).abs().max() > 0.1  # the comparison can see a difference
    assert main(["model", "info", str(half)]) == 0
    assert "storage:      float16" in capsys.readouterr().out


def test_user_errors_exit_2(tmp_path, png_folder, capsys):
    assert main(["train", "--data", str(png_folder)]) == 2
    assert "give --data and --out" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "missing")]) == 2
    assert main(["train", "--export", str(tmp_path / "missing"), "-o", str(tmp_path / "m.safetensors")]) == 2
    assert main(["train", "--data", str(png_folder), "--out", str(tmp_path / "r"), "--loss", "wasserstein",
                 "--augment", "ada", "--augment-ops", "colour", *NETS]) == 2


def test_metrics_at_each_snapshot_and_after_resume(tmp_path, capsys):
    folder = tmp_path / "data16"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(folder / f"i{i:02d}.png")
    run = tmp_path / "run"
    common = ["--metrics", "swd", "--metrics-num", "16"]
    assert main(["train", "--data", str(folder), "--out", str(run), "--batch", "4", "--kimg", "0.008",
                 "--tick", "0.004", "--snap", "1", "--augment", "none", "--device", "cpu", *NETS, *common]) == 0
    assert main(["train", "--resume", str(run), "--kimg", "0.012", *common]) == 0
    # a resume without --metrics goes on measuring what the run measured, and says so
    assert main(["train", "--resume", str(run), "--kimg", "0.016"]) == 0
    assert "measuring swd (16 images) at every snapshot, as this run did" in capsys.readouterr().err
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    scored = [r for r in rows if r.get("snapshot")]
    assert len(scored) == 4
    assert all(r["metrics"]["swd"] > 0 for r in scored)
    # --metrics none stops it, and is remembered
    assert main(["train", "--resume", str(run), "--kimg", "0.020", "--metrics", "none"]) == 0
    assert main(["train", "--resume", str(run), "--kimg", "0.024"]) == 0
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [bool(r["metrics"]) for r in rows if r.get("snapshot")] == [True] * 4 + [False] * 2
    (run / "measure.json").write_text("{not json")
    assert main(["train", "--resume", str(run), "--kimg", "0.028"]) == 2
    assert "measure.json is unreadable" in capsys.readouterr().err


def test_metrics_need_known_names(tmp_path, png_folder, capsys):
    assert main(["train", "--data", str(png_folder), "--out", str(tmp_path / "r"), "--metrics", "nonsense",
                 *NETS]) == 2
    assert "nonsense" in capsys.readouterr().err


@pytest.mark.parametrize("clock", ["wall", "cpu"])
def test_minutes_budget_stops_with_a_snapshot(tmp_path, png_folder, capsys, clock):
    run = tmp_path / "run"
    assert main(["train", "--data", str(png_folder), "--out", str(run), "--batch", "4", "--kimg", "100",
                 "--minutes", "0.002", "--clock", clock, "--augment", "none", "--device", "cpu", *NETS]) == 0
    out = capsys.readouterr().out
    assert out.startswith("stopped at ")
    kimg = float(out.split()[2])
    assert 0 < kimg < 100
    assert list(run.glob("snapshot-*.safetensors"))


def test_mismatch_weight_from_the_start_and_changed_on_resume(tmp_path, png_folder):
    run = tmp_path / "run"
    base = ["train", "--data", str(png_folder), "--out", str(run), "--batch", "4", "--kimg", "0.004",
            "--tick", "0.004", "--snap", "1", "--augment", "none", "--device", "cpu", *NETS]
    assert main([*base[:4], str(tmp_path / "plain"), *base[5:], "--mismatch", "0.5"]) == 2  # needs --cond
    assert main([*base, "--cond", "--mismatch", "0.5"]) == 0
    config = lambda: json.loads((run / "config.json").read_text())["config"]  # noqa: E731
    assert config()["mismatch_weight"] == 0.5
    assert main(["train", "--resume", str(run), "--kimg", "0.008", "--mismatch", "1"]) == 0
    assert config()["mismatch_weight"] == 1.0
    assert main(["train", "--resume", str(run), "--kimg", "0.012"]) == 0  # no flag: keeps the stored weight
    assert config()["mismatch_weight"] == 1.0


def test_class_weights_from_the_start_and_changed_on_resume(tmp_path, png_folder, capsys):
    run = tmp_path / "run"
    base = ["train", "--data", str(png_folder), "--out", str(run), "--batch", "4", "--kimg", "0.008",
            "--tick", "0.004", "--snap", "1", "--cond", "--augment", "none", "--device", "cpu", *NETS]
    assert main([*base, "--class-weights", "kawung=2"]) == 0
    config = lambda: json.loads((run / "config.json").read_text())  # noqa: E731
    assert config()["config"]["class_weights"] == {"kawung": 2.0}
    assert main(["train", "--resume", str(run), "--kimg", "0.012", "--class-weights", "parang=3,kawung=1"]) == 0
    saved = config()
    assert saved["config"]["class_weights"] == {"parang": 3.0, "kawung": 1.0}
    assert saved["config"]["total_kimg"] == pytest.approx(0.012)
    assert saved["resolved"]["c_dim"] == 2  # values resolved at the start survive the rewrite
    assert main(["train", "--resume", str(run), "--kimg", "0.016"]) == 0  # no flag: keeps the stored mix
    assert config()["config"]["class_weights"] == {"parang": 3.0, "kawung": 1.0}
    capsys.readouterr()
    assert main([*base[:4], str(tmp_path / "r2"), *base[5:], "--class-weights", "ceplok=2"]) == 2
    assert "for 'ceplok': the data set has no such class (kawung, parang)" in capsys.readouterr().err
    assert not (tmp_path / "r2").exists() or not any((tmp_path / "r2").iterdir())
    with pytest.raises(SystemExit) as exc:  # argparse refuses it before anything starts
        main([*base[:4], str(tmp_path / "r3"), *base[5:], "--class-weights", "kawung"])
    assert exc.value.code == 2
    assert "bad class weight 'kawung'" in capsys.readouterr().err


def _g_ema(path) -> dict:
    """G_ema's weights (not its buffers: w_avg is copied from G, not averaged)."""
    return {k: v for k, v in read_model_file(path).tensors.items()
            if k.startswith("G_ema.") and not k.endswith(("w_avg", "resample_filter"))}


def test_ema_rampup_off_keeps_the_start_models_average(tmp_path, png_folder):
    base = ["--data", str(png_folder), "--batch", "4", "--kimg", "0.008", "--tick", "0.004", "--snap", "1",
            "--augment", "none", "--device", "cpu"]
    start = tmp_path / "start.safetensors"
    assert main(["train", "--out", str(tmp_path / "a"), *base, *NETS]) == 0
    assert main(["train", "--export", str(tmp_path / "a"), "-o", str(start)]) == 0
    before = _g_ema(start)

    def stage(name: str, *extra: str) -> float:
        """Largest change of a G_ema weight over a short new stage from ``start``."""
        out = tmp_path / f"{name}.safetensors"
        assert main(["train", "--out", str(tmp_path / name), "--start-from", str(start), "--lr", "0.01",
                     *base, "--ema-kimg", "100", *extra]) == 0
        saved = json.loads((tmp_path / name / "config.json").read_text())["config"]
        assert saved["ema_rampup"] == (None if extra else 0.05)
        assert main(["train", "--export", str(tmp_path / name), "-o", str(out)]) == 0
        after = _g_ema(out)
        return max(float((after[k] - before[k]).abs().max()) for k in before)

    followed = stage("rampup")  # the default ramp-up: a half-life of 0.2 images, G_ema follows G
    kept = stage("no-rampup", "--ema-rampup", "0")  # half-life 100 kimg: 8 images move it ~0.006 %
    assert followed > 1e-3
    assert kept < followed * 1e-3


def test_ema_options_are_checked(tmp_path, png_folder, capsys):
    for bad in (["--ema-rampup", "-1"], ["--ema-kimg", "-2"], ["--ema-rampup", "nan"]):
        assert main(["train", "--data", str(png_folder), "--out", str(tmp_path / "r"), *bad, *NETS]) == 2
        assert "EMA" in capsys.readouterr().err
