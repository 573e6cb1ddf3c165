"""``batikstudio export`` end to end on tiny images."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from batikstudio.cli.main import main
from batikstudio.io.provenance import read_provenance, save_image


@pytest.fixture
def motif(tmp_path):
    yy, xx = np.mgrid[0:24, 0:24]
    img = np.full((24, 24, 3), (239, 230, 210), np.uint8)
    img[(xx - 12) ** 2 + (yy - 12) ** 2 < 64] = (31, 42, 68)
    img[:4, :4] = (200, 161, 101)
    path = tmp_path / "motif.png"
    save_image(path, img, {"seed": 5, "model_sha256": "abc"})
    return path


def test_png_export_with_layout_size_dpi(motif, tmp_path, capsys):
    out = tmp_path / "print.png"
    rc = main(["export", str(motif), "-o", str(out), "--layout", "half-drop",
               "--size", "4x2cm", "--dpi", "127", "--repeat", "2cm", "--offset", "1/3"])
    assert rc == 0
    with Image.open(out) as img:
        assert img.size == (200, 100) and img.info["dpi"] == pytest.approx((127, 127))
    prov = read_provenance(out)
    assert prov["seed"] == 5 and prov["print"]["offset"] == pytest.approx(1 / 3)
    assert "print.png" in capsys.readouterr().out


def test_tiff_with_colors_uses_vectors(motif, tmp_path):
    out = tmp_path / "print.tif"
    assert main(["export", str(motif), "-o", str(out), "--size", "1x1in", "--dpi", "96",
                 "--colors", "3", "--seamless", "seam"]) == 0
    prov = read_provenance(out)
    assert prov["print"]["method"] == "vector" and prov["print"]["seamless"] == "seam"


def test_svg_and_pdf_outputs(motif, tmp_path):
    svg = tmp_path / "m.svg"
    assert main(["export", str(motif), "-o", str(svg), "--preset", "swatch", "--repeat", "4in",
                 "--colors", "3"]) == 0
    root = ET.parse(svg).getroot()
    assert root.get("width") == "8in" and len(root.findall("{http://www.w3.org/2000/svg}g")) == 3
    pdf = tmp_path / "m.pdf"
    assert main(["export", str(motif), "-o", str(pdf), "--preset", "batik-cap", "--colors", "2"]) == 0
    assert pdf.read_bytes().startswith(b"%PDF")


def test_over_limit_is_one_line_exit_2(motif, tmp_path, capsys):
    rc = main(["export", str(motif), "-o", str(tmp_path / "x.png"), "--size", "60x60in",
               "--dpi", "300"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "18000 x 18000 px = 324 MP" in err and err.count("\n") == 1
    rc = main(["export", str(motif), "-o", str(tmp_path / "y.png"), "--size", "10x10in",
               "--dpi", "100", "--max-pixels", "0.5MP"])
    assert rc == 2 and "0.5 MP limit" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--size", "big"], "cannot read size"), (["--layout", "zigzag"], "unknown layout"),
    (["--offset", "2"], "offset"), (["-o", "x.jpg"], "use .png"),
])
def test_bad_arguments(motif, tmp_path, capsys, args, message):
    base = ["export", str(motif), "-o", str(tmp_path / "p.png")]
    assert main(base + args) == 2
    assert message in capsys.readouterr().err


@pytest.fixture
def wave(tmp_path):
    """Seamless for block repeats, not for a half-drop: a diagonal wave."""
    yy, xx = np.mgrid[0:24, 0:24]
    v = (127 + 100 * np.sin(2 * np.pi * (xx + yy) / 24)).astype(np.uint8)
    path = tmp_path / "wave.png"
    save_image(path, np.repeat(v[:, :, None], 3, axis=2), {"seed": 1})
    return path


def _score(out: str) -> float:
    (line,) = [line for line in out.splitlines() if line.startswith("seam score")]
    return float(line.rsplit(":", 1)[1])


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_half_drop_seam_is_scored_and_warned(wave, tmp_path, capsys, suffix):
    common = ["--size", "2x1in", "--dpi", "48", "--repeat", "1in", "--offset", "1/2"]
    if suffix == ".svg":
        common += ["--colors", "3"]
    out = tmp_path / f"block{suffix}"
    assert main(["export", str(wave), "-o", str(out), "--layout", "block", *common]) == 0
    res = capsys.readouterr()
    assert "seam score (block)" in res.out and _score(res.out) < 1.5 and res.err.count("warning") == 0
    out = tmp_path / f"drop{suffix}"
    assert main(["export", str(wave), "-o", str(out), "--layout", "half-drop", *common]) == 0
    res = capsys.readouterr()
    assert "seam score (half-drop 1/2)" in res.out and _score(res.out) > 3
    (warning,) = [line for line in res.err.splitlines() if "warning" in line]
    assert "--seamless blend|seam" in warning
    out = tmp_path / f"fixed{suffix}"
    assert main(["export", str(wave), "-o", str(out), "--layout", "half-drop", *common,
                 "--seamless", "seam"]) == 0
    res = capsys.readouterr()
    assert "after --seamless seam" in res.out and _score(res.out) < 1.5 and "warning" not in res.err
