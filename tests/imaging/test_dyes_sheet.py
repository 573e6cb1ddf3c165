"""Tests for batikstudio.imaging.dyes_sheet."""

import doctest

import numpy as np

from batikstudio.imaging import dyes_sheet
from batikstudio.imaging.dyes import DyeSeparation, reduce_palette
from batikstudio.imaging.dyes_sheet import dye_sheet


def test_doctests():
    assert doctest.testmod(dyes_sheet).failed == 0


def _eight_colour_separation():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (24, 40, 3)).astype(np.uint8)
    return reduce_palette(img, n_colors=8)


def test_sheet_is_an_a4_page_with_every_swatch():
    sep = _eight_colour_separation()
    page = dye_sheet(sep)
    assert page.shape == (1169, 827, 3) and page.dtype == np.uint8
    packed = np.unique(page.reshape(-1, 3).astype(np.int64) @ np.array([65536, 256, 1]))
    for c in sep.colors.astype(np.int64):
        assert c @ np.array([65536, 256, 1]) in packed  # every dye appears (swatch, stage chip)
    assert (page == 255).all(axis=2).mean() > 0.3  # mostly a white page, not a blob
    assert not (page[-40:] != 255).all()  # bottom margin exists


def test_sheet_without_source_and_other_dpi():
    sep = _eight_colour_separation()
    bare = DyeSeparation(colors=sep.colors[:2], labels=(sep.labels > 3).astype(np.int32))
    page = dye_sheet(bare, title="test", dpi=50)
    assert page.shape == (round(11.69 * 50), round(8.27 * 50), 3)
