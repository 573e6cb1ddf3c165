"""CLI: batikstudio motifs / calligraphy-data."""

import glob

from batikstudio.cli.main import main
from batikstudio.motifs.dataset import read_labels


def test_motifs_command_writes_a_zip_and_refuses_bad_families(tmp_path, capsys):
    dst = tmp_path / "m.zip"
    assert main(["motifs", "--count", "4", "--res", "16", "-o", str(dst),
                 "--families", "kawung,truntum"]) == 0
    assert read_labels(dst)["class_names"] == ["kawung", "truntum"]
    assert main(["motifs", "--count", "2", "-o", str(tmp_path / "x"), "--families", "foo"]) == 2
    assert "unknown motif family" in capsys.readouterr().err


def test_motifs_sheet(tmp_path):
    out = tmp_path / "sheet.png"
    assert main(["motifs", "--sheet", "--tiled", "--count", "2", "--res", "16",
                 "--families", "nitik", "-o", str(out)]) == 0
    assert out.stat().st_size > 0


def test_calligraphy_command(tmp_path, capsys):
    font = sorted(glob.glob("/usr/share/fonts/**/DejaVuSans.ttf", recursive=True))
    if not font:
        from PIL import ImageFont
        font = [ImageFont.load_default(size=12).path]
    dst = tmp_path / "c"
    assert main(["calligraphy-data", "--font", font[0], "-o", str(dst), "--res", "24",
                 "--chars", "AB永"]) == 0
    assert "1 characters missing" in capsys.readouterr().out
    assert len(read_labels(dst)["labels"]) == 2
    assert main(["calligraphy-data", "--font", str(tmp_path / "no.ttf"), "-o",
                 str(tmp_path / "d")]) == 2
