"""Motif generator editions: edition 2 keeps every sekar jagad island outlined; edition 1 (the
data of batik-motifs-32 and of batik-motifs-64 up to its stage 14) stays as it was."""

import numpy as np
import pytest
from PIL import Image

from batikstudio.cli.main import main
from batikstudio.motifs import FAMILIES, make_spec, render_motif
from batikstudio.motifs.colours import DARK, GROUND, get_palette
from batikstudio.motifs.dataset import read_labels
from batikstudio.motifs.families.patchwork import island_outlines
from batikstudio.motifs.generate import INVERT_SWAP
from batikstudio.motifs.jobs import MotifDatasetRequest

from .helpers import seam_ratio


def test_outlines_between_two_dark_islands_are_marked_hidden():
    # three vertical stripes on a 12 px torus: islands 0 | 1 | 2, columns 0-3, 4-7, 8-11
    isl = np.repeat(np.arange(3), 4)[None].repeat(12, axis=0)
    dark = isl < 2  # islands 0 and 1 dark, 2 light
    outline, hidden = island_outlines(isl, dark)
    cols = np.flatnonzero(outline.any(axis=0))
    assert list(cols) == [0, 1, 4, 5, 8, 9]  # every boundary, two px wide (the wrap at 0 too)
    assert list(np.flatnonzero(hidden.any(axis=0))) == [4, 5]  # only the 0 | 1 boundary
    assert hidden[:, [4, 5]].all() and not (hidden & ~outline).any()
    outline_light, hidden_light = island_outlines(isl, np.zeros_like(dark))
    assert np.array_equal(outline_light, outline) and not hidden_light.any()


@pytest.mark.parametrize("family", sorted(set(FAMILIES) - {"sekarjagad"}))
def test_the_other_families_are_the_same_in_both_editions(family):
    for seed in (0, 3):
        assert np.array_equal(render_motif(family, seed, 64, None, 1), render_motif(family, seed, 64, None, 2))


def test_edition_2_lightens_sekarjagad_outlines_between_dark_islands():
    # seed 304: in edition 1, 47 % of its outline length runs between two dark islands
    old, new = (render_motif("sekarjagad", 304, 128, None, e).astype(np.int16) for e in (1, 2))
    changed = np.abs(new - old).max(axis=-1) > 0
    assert 0.01 < changed.mean() < 0.2  # only outline pixels, not the islands
    spec = make_spec("sekarjagad", 304)
    lut = get_palette(spec.palette).lut(INVERT_SWAP if spec.invert else ()).astype(np.int16)

    def near(pixels, colour):
        return (np.abs(pixels - colour).max(axis=-1) <= 12).mean()

    # the changed pixels were outlines in the darkest dye and are now lines in the ground colour
    assert near(old[changed], lut[DARK]) > 0.9 and near(new[changed], lut[GROUND]) > 0.9
    assert seam_ratio(new.astype(np.uint8)) < 1.5
    assert np.array_equal(new, render_motif("sekarjagad", 304, 128))  # the latest edition by default


def test_editions_are_checked_and_recorded(tmp_path):
    with pytest.raises(ValueError, match="unknown motif generator edition 3; known: 1, 2"):
        render_motif("kawung", 0, 32, None, 3)
    with pytest.raises(ValueError, match="edition"):
        MotifDatasetRequest(str(tmp_path / "x"), 2, edition=0).validate()
    dst = tmp_path / "m"
    assert main(["motifs", "--count", "2", "--res", "32", "--families", "sekarjagad", "--seed", "304",
                 "--edition", "1", "-o", str(dst)]) == 0
    meta = read_labels(dst)
    assert meta["motif_edition"] == 1
    img = np.asarray(Image.open(dst / meta["labels"][0][0]))
    assert np.array_equal(img, render_motif("sekarjagad", 304, 32, None, 1))
    assert not np.array_equal(img, render_motif("sekarjagad", 304, 32))
