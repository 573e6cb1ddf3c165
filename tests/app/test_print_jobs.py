"""Print tab jobs without Qt widgets: layout-aware seam scores and make-seamless."""

import doctest

import numpy as np
import pytest

from batikstudio.app import print_jobs
from batikstudio.app.print_jobs import (
    DyeLayerExportRequest, PrintPreviewRequest, dye_layer_export_job, print_preview_job,
    seam_verdict,
)
from batikstudio.imaging.export import VectorExportRequest
from batikstudio.imaging.printsize import PrintSpec
from batikstudio.imaging.repeat import TileLayout
from batikstudio.imaging.seamless import make_seamless, seam_score
from batikstudio.jobs import RecordingContext


def _wave(n=24):
    """Seamless for block repeats, not for half-drop / half-brick: a diagonal wave."""
    yy, xx = np.mgrid[0:n, 0:n]
    v = (127 + 100 * np.sin(2 * np.pi * (xx + yy) / n)).astype(np.uint8)
    return np.repeat(v[:, :, None], 3, axis=2)


def test_docstring_examples():
    assert doctest.testmod(print_jobs).failed == 0


@pytest.mark.parametrize("layout", [TileLayout.HALF_DROP, TileLayout.HALF_BRICK])
@pytest.mark.parametrize("offset", [1 / 2, 1 / 3])
def test_preview_scores_and_repairs_for_the_layout(layout, offset):
    req = PrintPreviewRequest(_wave(), layout=layout, offset=offset, seamless="seam", max_side=200)
    pv = print_preview_job(req, RecordingContext())
    assert pv.score_before == pytest.approx(seam_score(_wave(), layout, offset)) and pv.score_before > 3
    assert pv.score_after < 1.5
    assert "visible seam" in seam_verdict(pv.score_before, layout)
    assert seam_verdict(pv.score_after, layout).startswith("seamless")


def test_block_preview_of_a_block_seamless_tile():
    pv = print_preview_job(PrintPreviewRequest(_wave(), layout=TileLayout.BLOCK), RecordingContext())
    assert pv.score_before == pytest.approx(seam_score(_wave())) and pv.score_before < 1.5


def test_dye_layer_export_makes_the_tile_seamless_for_the_layout(tmp_path, monkeypatch):
    seen = {}

    def fake_reduce(tile, n):
        seen["tile"] = tile
        return np.zeros(tile.shape[:2], np.int64), np.zeros((1, 3), np.uint8)

    monkeypatch.setattr(print_jobs, "reduce_to_dyes", fake_reduce)
    monkeypatch.setattr(print_jobs, "export_vector", lambda labels, colors, req: list(req.outputs))
    vector = VectorExportRequest((tmp_path / "x.svg",), PrintSpec(2, 2, "in"), TileLayout.HALF_BRICK, 1 / 3)
    dye_layer_export_job(DyeLayerExportRequest(_wave(), "blend", 3, vector), RecordingContext())
    expected = make_seamless(_wave(), "blend", layout=TileLayout.HALF_BRICK, offset=1 / 3)
    np.testing.assert_array_equal(seen["tile"], expected)
