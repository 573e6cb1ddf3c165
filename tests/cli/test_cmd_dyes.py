"""Tests for ``batikstudio dyes`` (batikstudio.cli.cmd_dyes)."""

import json

import numpy as np
import pytest
from PIL import Image

from batikstudio.cli import main as cli_main
from batikstudio.imaging.colour import lightness
from batikstudio.imaging.palettes import resolve_palette
from batikstudio.io.provenance import read_dpi, read_provenance, save_image


@pytest.fixture
def run_cli(monkeypatch):
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("cmd_dyes",))
    return lambda *argv: cli_main.main([str(a) for a in argv])


@pytest.fixture
def motif(tmp_path):
    img = np.zeros((48, 48, 3), np.uint8)
    img[:] = (239, 230, 210)
    img[12:36, :] = (107, 62, 30)
    img[20:28, 20:28] = (31, 42, 68)
    img[2, 2] = (31, 42, 68)  # a 1-px island
    img = np.clip(img + np.random.default_rng(0).normal(0, 4, img.shape), 0, 255).astype(np.uint8)
    path = tmp_path / "motif.png"
    save_image(path, img, {"model_sha256": "cafe", "seed": 3}, dpi=150)
    return path


def test_kmeans_outputs_and_provenance(tmp_path, run_cli, motif, capsys):
    out = tmp_path / "dyes"
    assert run_cli("dyes", motif, "-o", out, "--colors", 3, "--min-region", 4) == 0
    printed = capsys.readouterr().out.split()
    names = ["recoloured.png", "mask_stage_0.png", "mask_stage_1.png", "mask_stage_2.png",
             "sheet.png", "palette.json"]
    assert [p.split("/")[-1] for p in printed] == names
    assert sorted(p.name for p in out.iterdir()) == sorted(names)

    record = json.loads((out / "palette.json").read_text())
    colours = np.array([c["rgb"] for c in record["colors"]], np.uint8)
    assert len(colours) == 3 and np.all(np.diff(lightness(colours)) < 0)
    assert record["settings"]["min_region"] == 4 and record["source_provenance"]["seed"] == 3

    recoloured = np.asarray(Image.open(out / "recoloured.png"))
    assert recoloured.shape == (48, 48, 3)
    assert recoloured[2, 2].tolist() == colours[0].tolist()  # the island was merged away
    masks = [np.asarray(Image.open(out / f"mask_stage_{k}.png")) for k in range(3)]
    assert all(set(np.unique(m).tolist()) <= {0, 255} for m in masks)
    assert np.all(masks[0] == 255)  # no wax before the first bath
    for k in (1, 2):
        assert np.all(masks[k][masks[k - 1] == 0] == 0)  # wax only grows
    assert (masks[2] == 0).sum() > (masks[1] == 0).sum() > 0

    meta = read_provenance(out / "mask_stage_1.png")
    assert meta["seed"] == 3 and meta["wax_stage"] == 1 and meta["filters"][-1]["name"] == "dyes"
    assert read_dpi(out / "recoloured.png") == pytest.approx((150, 150), abs=0.5)
    with Image.open(out / "sheet.png") as sheet:
        assert sheet.size == (827, 1169)


def test_palette_snap(tmp_path, run_cli, motif):
    out = tmp_path / "d"
    assert run_cli("dyes", motif, "-o", out, "--palette", "lasem") == 0
    rec = np.asarray(Image.open(out / "recoloured.png")).reshape(-1, 3)
    allowed = {tuple(c) for c in resolve_palette("lasem").tolist()}
    assert {tuple(c) for c in np.unique(rec, axis=0).tolist()} <= allowed
    assert json.loads((out / "palette.json").read_text())["palette"] == "lasem"


def test_user_errors(tmp_path, run_cli, motif, capsys):
    assert run_cli("dyes", motif, "-o", tmp_path / "x", "--palette", "tartan") == 2
    assert "unknown palette 'tartan'" in capsys.readouterr().err
    assert run_cli("dyes", motif, "-o", tmp_path / "x", "--colors", 12) == 2
    assert "n_colors must be in 2..8" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    with pytest.raises(SystemExit) as exc:
        run_cli("dyes", motif, "-o", tmp_path / "x", "--colors", 3, "--palette", "lasem")
    assert exc.value.code == 2
