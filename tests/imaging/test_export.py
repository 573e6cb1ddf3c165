"""Print export job and vector export: sizes, DPI, provenance, cancel, refusal."""

import doctest
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from batikstudio.errors import ExportError
from batikstudio.imaging import export as export_module
from batikstudio.imaging.export import (
    PrintExportRequest, SeamCheck, VectorExportRequest, check_seam, export_print, export_vector,
    tile_pixel_size,
)
from batikstudio.imaging.printsize import PrintSpec
from batikstudio.imaging.repeat import TileLayout
from batikstudio.imaging.seamless import seam_score
from batikstudio.io.provenance import read_provenance
from batikstudio.jobs import Cancelled, RecordingContext

SVG = "{http://www.w3.org/2000/svg}"
COLORS = np.array([[239, 230, 210], [200, 161, 101], [31, 42, 68]], np.uint8)


def _motif(n=16):
    yy, xx = np.mgrid[0:n, 0:n] + 0.5
    lab = np.zeros((n, n), np.int64)
    lab[(xx - n / 2) ** 2 + (yy - n / 2) ** 2 < (n / 3) ** 2] = 1
    lab[(xx - n / 2) ** 2 + (yy - n / 2) ** 2 < (n / 8) ** 2] = 2
    lab[: n // 4, : n // 4] = 2  # a corner block marks the tile's origin
    return COLORS[lab], lab


def test_docstring_examples():
    assert doctest.testmod(export_module).failed == 0


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_export_writes_dpi_provenance_and_size(tmp_path, suffix):
    tile, _ = _motif()
    req = PrintExportRequest(tmp_path / f"print{suffix}", PrintSpec(3, 2, "in", 50),
                             layout=TileLayout.HALF_DROP, repeat=1.0, provenance={"seed": 42})
    ctx = RecordingContext()
    path = export_print(tile, req, ctx)
    with Image.open(path) as img:
        assert img.size == (150, 100)
        assert img.info["dpi"] == pytest.approx((50, 50), rel=1e-3)  # PNG stores px per metre
    prov = read_provenance(path)
    assert prov["seed"] == 42
    assert prov["print"]["layout"] == "half-drop" and prov["print"]["dpi"] == 50
    assert prov["print"]["tile_pixels"] == [50, 50]
    assert ctx.progress_log[-1] == (100, 100) and ctx.status_log


def test_export_lays_out_the_requested_repeat(tmp_path):
    tile, _ = _motif()
    req = PrintExportRequest(tmp_path / "p.png", PrintSpec(2, 2, "in", 32), layout="half-drop",
                             repeat=1.0, method="nearest")
    with Image.open(export_print(tile, req)) as img:
        out = np.asarray(img)
    big = tile.repeat(2, 0).repeat(2, 1)  # 32 px repeat
    assert np.array_equal(out[:32, :32], big)
    assert np.array_equal(out[:, 32:], np.roll(np.tile(big, (2, 1, 1)), 16, axis=0)[:, :32])


def test_vector_method_reduces_the_palette_and_stays_flat(tmp_path):
    tile, _ = _motif()
    req = PrintExportRequest(tmp_path / "v.png", PrintSpec(1, 1, "in", 128), method="vector",
                             n_colors=3, seamless="blend")
    with Image.open(export_print(tile, req)) as img:
        out = np.asarray(img).reshape(-1, 3)
    colours, counts = np.unique(out, axis=0, return_counts=True)
    assert counts[np.argsort(counts)[-3:]].sum() > 0.85 * len(out)  # mostly three flat dyes


def test_vector_method_with_given_layers(tmp_path):
    tile, lab = _motif()
    req = PrintExportRequest(tmp_path / "v.png", PrintSpec(1, 1, "in", 64), method="vector")
    with Image.open(export_print(tile, req, labels=lab, colors=COLORS)) as img:
        out = np.asarray(img)
    assert out[32, 32].tolist() == COLORS[2].tolist() and out[20, 44].tolist() == COLORS[1].tolist()


def test_over_limit_is_refused_before_allocating(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("upscaled before checking the limit")

    monkeypatch.setattr(export_module, "upscale", boom)
    tile, _ = _motif()
    req = PrintExportRequest(tmp_path / "big.png", PrintSpec(60, 60, "in", 300))
    with pytest.raises(ExportError, match="18000 x 18000 px = 324 MP, over the 200 MP limit"):
        export_print(tile, req)
    assert not list(tmp_path.iterdir())


def test_cancel_leaves_no_file(tmp_path):
    tile, _ = _motif()
    req = PrintExportRequest(tmp_path / "c.png", PrintSpec(4, 4, "in", 20), repeat=0.5)
    with pytest.raises(Cancelled):
        export_print(tile, req, RecordingContext(cancel_after=3))
    assert not list(tmp_path.iterdir())


def test_bad_suffix_and_format(tmp_path):
    tile, _ = _motif()
    with pytest.raises(ExportError, match="use .png"):
        export_print(tile, PrintExportRequest(tmp_path / "p.jpg", PrintSpec(1, 1, "in", 10)))
    with pytest.raises(ExportError, match="does not match"):
        export_print(tile, PrintExportRequest(tmp_path / "p.png", PrintSpec(1, 1, "in", 10),
                                              format="tiff"))


def test_tile_pixel_size_fits_the_width():
    spec = PrintSpec(24, 36, "in", 300)
    w, h = tile_pixel_size((100, 200, 3), spec, 7.0, fit_width=True)
    assert 7200 % w == 0 and w == 2400 and h == 1200
    assert tile_pixel_size((64, 64, 3), PrintSpec(8, 8, "in", 150), None, False) == (1181, 1181)


def test_export_vector_writes_svg_and_pdf(tmp_path):
    _, lab = _motif()
    req = VectorExportRequest((tmp_path / "m.svg", tmp_path / "m.pdf"), PrintSpec(6, 4, "in"),
                              layout=TileLayout.MIRROR, repeat=2.0, provenance={"seed": 7})
    svg_path, pdf_path = export_vector(lab, COLORS, req)
    root = ET.parse(svg_path).getroot()
    assert root.get("width") == "6in" and root.get("viewBox") == "0 0 48 32"
    groups = root.findall(f"{SVG}g")
    assert [g.get("fill") for g in groups] == ["#EFE6D2", "#C8A165", "#1F2A44"]
    assert len(groups[0].findall(f"{SVG}use")) == 6  # 3 x 2 repeats
    assert '"seed": 7' in root.find(f"{SVG}metadata").text
    pdf = pdf_path.read_bytes()
    assert pdf.startswith(b"%PDF") and b"/MediaBox [0 0 432 288]" in pdf


def test_export_vector_centre_has_background(tmp_path):
    _, lab = _motif()
    req = VectorExportRequest((tmp_path / "c.svg",), PrintSpec(20, 20, "cm"), layout="centre",
                              repeat=10.0, background=(1, 2, 3))
    root = ET.parse(export_vector(lab, COLORS, req)[0]).getroot()
    assert root.find(f"{SVG}rect").get("fill") == "#010203"
    with pytest.raises(ExportError, match="svg or .pdf"):
        export_vector(lab, COLORS, VectorExportRequest((Path(tmp_path / "x.png"),), PrintSpec(1, 1)))


def _diagonal_wave(n=24):
    """Block-seamless (periodic on the plain torus) but not for a half-drop: a diagonal wave."""
    yy, xx = np.mgrid[0:n, 0:n]
    v = 127 + 100 * np.sin(2 * np.pi * (xx + yy) / n)
    return np.repeat(v.astype(np.uint8)[:, :, None], 3, axis=2)


@pytest.mark.parametrize("seamless", [None, "blend", "seam"])
def test_export_reports_the_layout_seam_score(tmp_path, seamless):
    tile = _diagonal_wave()
    req = PrintExportRequest(tmp_path / "p.png", PrintSpec(2, 1, "in", 24),
                             layout=TileLayout.HALF_DROP, offset=1 / 3, repeat=1, seamless=seamless)
    ctx = RecordingContext()
    export_print(tile, req, ctx)
    (check,) = [p for p in ctx.partials if isinstance(p, SeamCheck)]
    assert check.layout is TileLayout.HALF_DROP and check.seamless == seamless
    if seamless is None:
        assert check.score == pytest.approx(seam_score(tile, "half-drop", 1 / 3))
        assert check.visible and "--seamless blend|seam" in check.warning()
    else:  # the seamless step was made for the drop, not for a block repeat
        assert check.score < 1.5 and not check.visible and check.warning() is None
    assert any(check.describe() in s for s in ctx.status_log)
    assert read_provenance(req.output)["print"]["seam_score"] == pytest.approx(check.score, abs=1e-3)


def test_seam_check_of_a_block_seamless_tile_in_block_and_mirror():
    tile = _diagonal_wave()
    for layout in (TileLayout.BLOCK, TileLayout.MIRROR):
        check = check_seam(tile, layout, 0.5)
        assert not check.visible and check.warning() is None
    assert check_seam(tile[:3, :3], TileLayout.HALF_DROP, 0.5).score is None
    assert "half-brick 1/3" in check_seam(tile, "half-brick", 1 / 3).describe()
