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
