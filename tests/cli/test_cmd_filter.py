"""Tests for ``batikstudio filter`` (batikstudio.cli.cmd_filter)."""

import numpy as np
import pytest
from PIL import Image

from batikstudio.cli import main as cli_main
from batikstudio.io.provenance import read_dpi, read_provenance, save_image


@pytest.fixture
def run_cli(monkeypatch):
    # only this command: the test must not depend on other commands importing cleanly
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("cmd_filter",))
    return lambda *argv: cli_main.main([str(a) for a in argv])


def _page():
    page = np.full((40, 40), 220, np.uint8)
    page[8:32, 16:22] = 15  # stroke
    page[3, 3] = 40  # speck
    return page


def test_round_trip_keeps_provenance_and_dpi(tmp_path, run_cli, capsys):
    src, out = tmp_path / "char.png", tmp_path / "clean.png"
    prov = {"model_sha256": "ab12", "seed": 7, "filters": [{"name": "earlier"}]}
    save_image(src, _page(), prov, dpi=300)
    assert run_cli("filter", src, "-o", out, "--speck-area", 2, "--binarize") == 0
    assert capsys.readouterr().out.strip() == str(out)
    img = np.asarray(Image.open(out))
    assert img.shape == (40, 40) and img.dtype == np.uint8
    assert img[3, 3] == 255 and img[0, 0] == 255 and np.all(img[8:32, 16:22] == 0)
    meta = read_provenance(out)
    assert meta["seed"] == 7 and meta["model_sha256"] == "ab12"
    assert [f["name"] for f in meta["filters"]] == ["earlier", "artifact"]
    assert meta["filters"][-1] == {
        "name": "artifact", "white_threshold": 200, "speck_area": 2,
        "binarize": True, "binarize_threshold": None,
    }
    assert read_dpi(out) == pytest.approx((300, 300), abs=0.5)


def test_rgb_input_without_provenance_to_tiff(tmp_path, run_cli):
    src, out = tmp_path / "c.png", tmp_path / "c.tif"
    rgb = np.repeat(_page()[..., None], 3, axis=2)
    rgb[8:32, 16:22] = (150, 20, 20)
    Image.fromarray(rgb).save(src)
    assert run_cli("filter", src, "-o", out, "--threshold", 210) == 0
    with Image.open(out) as im:
        assert im.mode == "RGB"
        back = np.asarray(im)
    assert back[10, 18].tolist() == [150, 20, 20] and back[0, 0].tolist() == [255, 255, 255]
    meta = read_provenance(out)
    assert meta["source_file"] == "c.png" and meta["filters"][0]["white_threshold"] == 210


def test_user_errors_print_one_line_and_exit_2(tmp_path, run_cli, capsys):
    assert run_cli("filter", tmp_path / "missing.png", "-o", tmp_path / "o.png") == 2
    err = capsys.readouterr().err
    assert "no such file" in err and err.count("\n") == 1
    src = tmp_path / "p.png"
    Image.fromarray(_page()).save(src)
    assert run_cli("filter", src, "-o", tmp_path / "o.png", "--threshold", 999) == 2
    assert "white_threshold must be in 0..255" in capsys.readouterr().err
    assert run_cli("filter", src, "-o", tmp_path / "o.jpg") == 2
    assert "use .png or .tif" in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists() and not (tmp_path / "o.jpg").exists()
