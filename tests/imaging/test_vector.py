"""Dye-layer tracing, crisp rendering, SVG and PDF writing."""

import doctest
import re
import xml.etree.ElementTree as ET
import zlib

import cv2
import numpy as np
import pytest

from batikstudio.errors import ImageError
from batikstudio.imaging import vector
from batikstudio.imaging.vector import (
    VectorPage, layers_to_pdf, layers_to_svg, light_to_dark, render_layers, trace_layers,
)

SVG = "{http://www.w3.org/2000/svg}"
COLORS = np.array([[31, 42, 68], [239, 230, 210], [200, 161, 101]], np.uint8)  # dark, cream, soga


def _circle_labels(n=32, r=10.3):
    yy, xx = np.mgrid[0:n, 0:n] + 0.5
    return ((xx - n / 2) ** 2 + (yy - n / 2) ** 2 < r * r).astype(np.int64)


def _three_dyes(n=32):
    """Cream ground (1), soga ring (2) with a cream hole, a dark dot (0) and a dark pixel."""
    yy, xx = np.mgrid[0:n, 0:n] + 0.5
    d2 = (xx - 16) ** 2 + (yy - 16) ** 2
    lab = np.ones((n, n), np.int64)
    lab[d2 < 11 ** 2] = 2
    lab[d2 < 5 ** 2] = 1
    lab[(xx - 4) ** 2 + (yy - 27) ** 2 < 9] = 0
    lab[3, 28] = 0
    return lab


def test_docstring_examples():
    assert doctest.testmod(vector).failed == 0


def test_layers_are_light_to_dark_and_stacked():
    layers = trace_layers(_three_dyes(), COLORS)
    assert [layer.label for layer in layers] == [1, 2, 0]
    assert [layer.name for layer in layers] == ["dye-1-EFE6D2", "dye-2-C8A165", "dye-3-1F2A44"]
    assert layers[0].full and not layers[1].full
    assert light_to_dark(COLORS).tolist() == [1, 2, 0]


def test_holes_are_respected():
    lab = _three_dyes()
    img = render_layers(trace_layers(lab, COLORS), (32, 32), (256, 256))
    assert img[128, 128].tolist() == COLORS[1].tolist()  # cream hole in the soga ring
    assert img[128, 128 + 8 * 8].tolist() == COLORS[2].tolist()  # on the ring
    assert img[8 * 27 + 4, 8 * 4 + 4].tolist() == COLORS[0].tolist()  # dark dot


def test_single_pixel_dot_survives():
    img = render_layers(trace_layers(_three_dyes(), COLORS), (32, 32), (256, 256))
    assert np.abs(img[3 * 8 + 4, 28 * 8 + 4].astype(int) - COLORS[0]).sum() < 60


def test_render_covers_every_pixel_with_dye_colours():
    """Every output pixel is a dye colour or a blend of two neighbours: nothing unpainted."""
    lab = _three_dyes()
    layers = trace_layers(lab, COLORS)
    img = render_layers(layers, (32, 32), (256, 256)).reshape(-1, 3).astype(float)
    # distance to the nearest segment between two dye colours
    best = np.full(len(img), np.inf)
    for a in COLORS.astype(float):
        for b in COLORS.astype(float):
            ab = b - a
            t = np.clip(((img - a) @ ab) / max(ab @ ab, 1e-9), 0, 1)
            best = np.minimum(best, np.linalg.norm(img - (a + t[:, None] * ab), axis=1))
    assert best.max() < 6


def _boundary_radii(img, centre, scale):
    mask = (img[..., 0] < 128).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    pts = max(contours, key=len)[:, 0, :].astype(float) + 0.5
    return np.hypot(pts[:, 0] - centre * scale, pts[:, 1] - centre * scale) / scale


def test_vector_circle_is_far_smoother_than_nearest_neighbour():
    lab = _circle_labels()
    colors = np.array([[255, 255, 255], [0, 0, 0]], np.uint8)
    nearest = colors[lab].repeat(8, 0).repeat(8, 1)
    crisp = render_layers(trace_layers(lab, colors), (32, 32), (256, 256))
    rough, smooth = _boundary_radii(nearest, 16, 8).std(), _boundary_radii(crisp, 16, 8).std()
    assert smooth < rough / 2.5
    area = (crisp[..., 0] < 128).sum() / 64
    assert area == pytest.approx(np.pi * 10.3 ** 2, rel=0.04)


def test_two_colour_union_has_no_gaps_at_high_zoom():
    rng = np.random.default_rng(0)
    lab = (cv2.GaussianBlur(rng.random((24, 24)), (0, 0), 2) > 0.5).astype(np.int64)
    colors = np.array([[250, 250, 250], [0, 0, 0]], np.uint8)
    img = render_layers(trace_layers(lab, colors), (24, 24), (240, 240))
    # pixels far from any boundary must be exactly one of the two colours
    inside = cv2.erode((lab == 1).astype(np.uint8), np.ones((3, 3), np.uint8))
    inside_big = inside.repeat(10, 0).repeat(10, 1).astype(bool)
    assert (img[inside_big] == 0).all()


def test_wrap_keeps_a_seamless_tile_seamless():
    yy, xx = np.mgrid[0:32, 0:32] + 0.5
    lab = (np.sin(2 * np.pi * (xx + yy) / 16) > 0.3).astype(np.int64)  # periodic diagonals
    colors = np.array([[250, 250, 250], [10, 10, 10]], np.uint8)
    img = render_layers(trace_layers(lab, colors, wrap=True), (32, 32), (128, 128)).astype(int)
    edge = np.abs(img[:, 0] - img[:, -1]).mean()
    inner = np.abs(np.diff(img, axis=1)).mean()
    assert edge < 2.5 * inner


def test_bad_label_maps_raise():
    with pytest.raises(ImageError, match="labels must lie"):
        trace_layers(np.full((4, 4), 5), COLORS)
    with pytest.raises(ImageError, match="Kx3 uint8"):
        trace_layers(np.zeros((4, 4), int), COLORS.astype(float))
    with pytest.raises(ImageError, match="integer"):
        trace_layers(np.zeros((4, 4), float), COLORS)


def test_svg_has_one_group_per_dye_with_fills():
    lab = _three_dyes()
    layers = trace_layers(lab, COLORS)
    svg = layers_to_svg(layers, VectorPage((32, 32), physical=(20, 20, "cm"), metadata='{"seed": 3}'))
    root = ET.fromstring(svg)
    assert root.get("width") == "20cm" and root.get("viewBox") == "0 0 32 32"
    groups = root.findall(f"{SVG}g")
    assert [g.get("id") for g in groups] == ["dye-1-EFE6D2", "dye-2-C8A165", "dye-3-1F2A44"]
    assert [g.get("fill") for g in groups] == ["#EFE6D2", "#C8A165", "#1F2A44"]
    assert all(g.get("fill-rule") == "evenodd" for g in groups)
    ring_counts = [len(re.findall("M", g.find(f"{SVG}path").get("d"))) for g in groups]
    assert ring_counts == [len(layer.rings) for layer in layers]
    assert ring_counts[1] >= 3  # outer ring, hole, dark dot, dark pixel
    assert '"seed": 3' in root.find(f"{SVG}metadata").text


def test_svg_repeat_uses_clipped_placements():
    layers = trace_layers(_three_dyes(), COLORS)
    page = VectorPage((32, 32), (64, 64), ((0, 0, False, False), (32, 0, True, False),
                                           (0, 32, False, True), (32, 32, True, True)))
    root = ET.fromstring(layers_to_svg(layers, page))
    uses = root.findall(f"{SVG}g/{SVG}use")
    assert len(uses) == 4 * len(layers)
    assert uses[1].get("transform") == "matrix(-1 0 0 1 64 0)"
    assert root.find(f"{SVG}defs/{SVG}clipPath") is not None


def test_pdf_structure_and_mediabox():
    layers = trace_layers(_three_dyes(), COLORS)
    pdf = layers_to_pdf(layers, VectorPage((32, 32), physical=(20, 20, "cm"), metadata="{}"))
    assert pdf.startswith(b"%PDF-1.5") and pdf.rstrip().endswith(b"%%EOF")
    side = 20 / 2.54 * 72
    assert f"/MediaBox [0 0 {side:.3f} {side:.3f}]".encode() in pdf
    assert pdf.count(b"/Type /OCG") == 3 and b"(dye 2 #C8A165)" in pdf
    # xref offsets point at their objects
    start = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    table = pdf[start:].split(b"trailer")[0].split(b"\n")[2:]
    for num, line in enumerate(table[1:], start=1):
        if line.strip():
            offset = int(line.split()[0])
            assert pdf[offset:].startswith(f"{num} 0 obj".encode())
    # each form XObject draws its dye with the even-odd fill
    streams = re.findall(rb"stream\n(.*?)\nendstream", pdf, re.S)
    decoded = [zlib.decompress(s) for s in streams]
    assert sum(b"f*" in d for d in decoded) == 3
    assert any(b"0.7843 0.6314 0.3961 rg" in d for d in decoded)
