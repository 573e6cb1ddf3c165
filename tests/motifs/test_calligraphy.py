"""Calligraphy data: GB2312 enumeration, glyph rendering, coverage checks, the data set job."""

import glob

import numpy as np
import pytest
from PIL import ImageFont

from batikstudio.errors import DatasetError
from batikstudio.jobs import Cancelled, RecordingContext
from batikstudio.motifs.calligraphy import (
    GB2312_COUNT, CalligraphyRequest, GlyphRenderer, gb2312_chars, make_calligraphy_dataset,
    parse_font_arg,
)
from batikstudio.motifs.dataset import read_labels

CJK_CANDIDATES = (
    "/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


def _latin_font() -> str:
    """A Latin font that is surely there: DejaVu if installed, else Pillow's bundled one."""
    found = sorted(glob.glob("/usr/share/fonts/**/DejaVuSans.ttf", recursive=True))
    if found:
        return found[0]
    return ImageFont.load_default(size=12).path  # FreeType default shipped with Pillow


def _cjk_font() -> str | None:
    for path in CJK_CANDIDATES:
        if glob.glob(path):
            return path
    return None


def test_gb2312_has_6763_hanzi_in_code_order():
    chars = gb2312_chars()
    assert len(chars) == GB2312_COUNT == len(set(chars))
    assert chars[0] == "啊" and chars[-1] == "齄"
    assert all("\u4e00" <= c <= "\u9fff" for c in chars)


def test_parse_font_arg():
    assert parse_font_arg("a/ukai.ttc#2") == ("a/ukai.ttc", 2)
    assert parse_font_arg("a/b.ttf") == ("a/b.ttf", 0)


def _check_glyph(g, res):
    assert g.shape == (res, res) and g.dtype == np.uint8
    ink = np.argwhere(g < 128)
    assert len(ink) > 10
    lo, hi = ink.min(axis=0), ink.max(axis=0)
    margin = int(res * 0.08)
    assert lo.min() >= margin - 1 and hi.max() <= res - margin  # inside the margin
    centre = (lo + hi) / 2
    assert np.all(np.abs(centre - (res - 1) / 2) <= 1.5)  # centred by the ink box
    assert g[0, 0] == 255  # white paper


def test_latin_glyphs_render_centred_and_missing_ones_are_detected():
    r = GlyphRenderer(_latin_font(), res=48)
    for ch in "AgW&":
        _check_glyph(r.render(ch), 48)
    assert r.render(" ") is None  # no ink
    assert r.render("永") is None  # a Latin font has no hanzi: .notdef or empty


def test_hanzi_glyphs_with_a_cjk_font_if_present():
    path = _cjk_font() or _latin_font()
    r = GlyphRenderer(path, res=64)
    if _cjk_font() is None:
        assert r.render("永") is None  # the Latin fallback lacks hanzi: reported missing
        return
    for ch in "永和九年":
        _check_glyph(r.render(ch), 64)


def test_dataset_job_labels_fonts_and_counts_missing(tmp_path):
    latin = _latin_font()
    fonts = (latin, latin)
    dst = tmp_path / "cal.zip"
    res = make_calligraphy_dataset(
        CalligraphyRequest(fonts=fonts, dst=str(dst), res=32, chars="AB永C"),
        RecordingContext())
    meta = read_labels(dst)
    assert res.count == 6 and res.missing == (1, 1)
    assert [c for _, c in meta["labels"]] == [0, 1, 0, 1, 0, 1]
    assert len(meta["class_names"]) == 2 and meta["class_names"][0] != meta["class_names"][1]


def test_dataset_job_limit_cancel_and_errors(tmp_path):
    font = _cjk_font() or _latin_font()
    with pytest.raises(Cancelled):
        make_calligraphy_dataset(CalligraphyRequest((font,), str(tmp_path / "c"), res=16, limit=50),
                                 RecordingContext(cancel_after=2))
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(DatasetError, match="cannot read font"):
        GlyphRenderer(str(tmp_path / "nope.ttf"))
    with pytest.raises(DatasetError, match="no character"):
        make_calligraphy_dataset(CalligraphyRequest((_latin_font(),), str(tmp_path / "d"),
                                                    chars="永"), RecordingContext())


def test_large_glyph_crops_render(tmp_path):
    """A 128 px render has glyph crops past 255 px at the supersampled size."""
    from batikstudio.motifs.calligraphy import GlyphRenderer

    cjk = _cjk_font()
    renderer = GlyphRenderer(cjk or _latin_font(), res=128)
    img = renderer.render("永" if cjk else "W")
    assert img is not None and img.shape == (128, 128) and img.min() < 128
