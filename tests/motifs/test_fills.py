"""Isen-isen fills and wax crackle."""

import numpy as np
import pytest

from batikstudio.motifs.canvas import Canvas
from batikstudio.motifs.colours import DARK, GROUND, MAIN, PALETTES
from batikstudio.motifs.crackle import apply_crackle
from batikstudio.motifs.fills import FILLS, apply_fill

from .helpers import seam_ratio


@pytest.mark.parametrize("kind", sorted(FILLS))
def test_fill_draws_a_seamless_pattern_only_in_its_region(kind):
    cv = Canvas(64)
    cv.labels[:, : cv.W // 2] = MAIN  # left half is not ground
    apply_fill(cv, kind, GROUND, DARK, 12, 0.01)
    right = cv.labels[:, cv.W // 2 :]
    assert 0.02 < (right == DARK).mean() < 0.6
    assert not (cv.labels[:, : cv.W // 2] == DARK).any()
    full = Canvas(64)
    apply_fill(full, kind, GROUND, 255, 12, 0.01)
    assert seam_ratio(full.labels[:, :, None]) < 1.5


def test_unknown_fill_is_refused():
    with pytest.raises(ValueError, match="unknown fill"):
        apply_fill(Canvas(16), "paisley", GROUND, DARK, 4, 0.01)


def test_crackle_only_over_light_areas_in_the_darkest_dye():
    lut = PALETTES["sogan"].lut()
    labels = np.full((256, 256), GROUND, np.uint8)
    labels[:, 128:] = MAIN
    before = labels.copy()
    apply_crackle(labels, lut, 64, 1.0, np.random.default_rng(0))
    changed = labels != before
    assert changed[:, :128].mean() > 0.005  # veins over the light ground
    assert not changed[:, 128:].any()  # none over the dyed half
    assert set(np.unique(labels[changed])) == {DARK}
