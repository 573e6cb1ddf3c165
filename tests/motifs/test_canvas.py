"""The torus canvas: wrapped primitives, batches, finishing."""

import numpy as np
import pytest

from batikstudio.motifs.canvas import Canvas, ellipse, finish, rhombus


def test_disc_at_the_corner_appears_in_all_four_corners():
    cv = Canvas(32)
    cv.disc(0.0, 0.0, 0.1, 5)
    L = cv.labels
    assert L[0, 0] == L[0, -1] == L[-1, 0] == L[-1, -1] == 5
    assert L[L.shape[0] // 2, L.shape[1] // 2] == 0


def test_polygon_crossing_the_edge_wraps_and_touching_copies_do_not_paint_the_border():
    cv = Canvas(64)
    cv.poly(rhombus(0.0, 0.5, 0.1, 0.1), 3)
    col0, col_last = (cv.labels[:, 0] == 3).sum(), (cv.labels[:, -1] == 3).sum()
    assert col0 > 0 and abs(int(col0) - int(col_last)) <= 2
    cv2_ = Canvas(64)
    cv2_.poly(rhombus(0.9, 0.5, 0.1, 0.1), 3)  # right tip exactly on the edge
    assert (cv2_.labels[:, 0] == 3).sum() <= 2


def test_batches_equal_single_primitives():
    pts = np.array([[0.02, 0.5], [0.5, 0.99], [0.7, 0.3]])
    a, b = Canvas(48), Canvas(48)
    a.dots(pts, 0.05, 2)
    for x, y in pts:
        b.disc(x, y, 0.05, 2)
    assert np.array_equal(a.labels, b.labels)
    shapes = np.stack([ellipse(x, y, 0.06, 0.03, 0.3, 16) for x, y in pts])
    c, d = Canvas(48), Canvas(48)
    c.polys(shapes, 4)
    for s in shapes:
        d.poly(s, 4)
    assert np.array_equal(c.labels, d.labels)


def test_sub_tile_repeats_divide_the_canvas():
    cv = Canvas(64)
    sub = cv.sub_tile(2)
    sub.disc(0.5, 0.5, 0.2, 1)
    tiled = cv.tiled(sub)
    assert tiled.shape == cv.labels.shape and (tiled == 1).sum() == 4 * (sub.labels == 1).sum()
    with pytest.raises(ValueError, match="divide"):
        Canvas(63, size=189).sub_tile(2)


def test_finish_maps_labels_and_area_downsamples():
    labels = np.zeros((8, 8), np.uint8)
    labels[:, :4] = 1
    lut = np.zeros((256, 3), np.uint8)
    lut[1] = (200, 100, 50)
    out = finish(labels, lut, 2)
    assert out.shape == (2, 2, 3) and out.dtype == np.uint8
    assert out[0, 0].tolist() == [200, 100, 50] and out[0, 1].tolist() == [0, 0, 0]
