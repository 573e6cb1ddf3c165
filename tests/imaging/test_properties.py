"""Property tests (hypothesis) for the imaging operations.

- the artifact filter never darkens a pixel (any settings, gray / RGB / RGBA, uint8 / float)
  unless it binarises, keeps shape and dtype, leaves alpha alone, and is idempotent;
- each dye stage's wax mask contains the previous stage's, for any colour count, palette and
  region merging;
- a seamless motif laid out in every repeat layout shows no seam (criterion below);
- bad parameter ranges raise a ValueError that names the parameter.

Examples are few (``max_examples`` 25-40) and tiny, so the file runs in seconds on one thread.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from batikstudio.imaging.animation import write_gif
from batikstudio.imaging.artifact import ArtifactFilterParams, clean_artifacts
from batikstudio.imaging.colour import lightness
from batikstudio.imaging.dyes import MAX_DYES, MIN_DYES, reduce_palette
from batikstudio.imaging.palettes import palette_names
from batikstudio.imaging.repeat import (
    CREAM, TileLayout, parse_offset, render_repeat, tile_placements,
)
from batikstudio.imaging.seamless import drop_pixels, make_seamless, seam_score
from batikstudio.motifs import FAMILIES, render_motif

FEW = settings(max_examples=30, deadline=None, database=None)

# ---------------------------------------------------------------- artifact filter

# grey levels around the default thresholds, so lifting, specks and ink all occur
_LEVELS = [0, 10, 60, 128, 199, 200, 201, 230, 254, 255]


@st.composite
def filter_images(draw) -> np.ndarray:
    """Gray (HxW, HxWx1), RGB or RGBA images, uint8 or float32/64 in [0, 1], 1..12 px a side."""
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    channels = draw(st.sampled_from([None, 1, 3, 4]))
    shape = (h, w) if channels is None else (h, w, channels)
    levels = hnp.arrays(np.uint8, shape, elements=st.sampled_from(_LEVELS))
    img = draw(st.one_of(levels, hnp.arrays(np.uint8, shape)))
    dtype = draw(st.sampled_from([np.uint8, np.float32, np.float64]))
    return img if dtype is np.uint8 else (img / 255.0).astype(dtype)


filter_params = st.builds(
    ArtifactFilterParams,
    white_threshold=st.integers(0, 255),
    speck_area=st.integers(0, 20),
    binarize=st.booleans(),
    binarize_threshold=st.one_of(st.none(), st.integers(1, 255)),
)


@FEW
@given(img=filter_images(), params=filter_params)
def test_artifact_filter_never_darkens_unless_binarising(img, params):
    before = img.copy()
    out = clean_artifacts(img, **params.to_dict())
    assert out.shape == img.shape and out.dtype == img.dtype
    assert np.array_equal(img, before)  # the input is not modified
    white = 255 if img.dtype == np.uint8 else 1.0
    if img.ndim == 3 and img.shape[2] == 4:
        assert np.array_equal(out[..., 3], img[..., 3])  # alpha kept
    if not params.binarize:
        assert (out >= img).all()  # every channel of every pixel: lifted or kept
        assert np.array_equal(clean_artifacts(out, **params.to_dict()), out)  # idempotent
    else:
        # binarising darkens ink on purpose: a pixel that got darker became pure black
        colour = out[..., :3] if out.ndim == 3 else out
        assert np.isin(colour, [0, white]).all()
        darker = out < img
        assert (out[darker] == 0).all()


@FEW
@given(img=filter_images(), threshold=st.integers(0, 255), speck=st.integers(0, 20))
def test_artifact_filter_lifts_exactly_the_light_pixels(img, threshold, speck):
    """Pixels at or above the threshold become paper; the rest either stay or are specks."""
    out = clean_artifacts(img, white_threshold=threshold, speck_area=speck)
    white = 255 if img.dtype == np.uint8 else 1.0
    gray = img if img.ndim == 2 else img[..., 0] if img.shape[2] == 1 else None
    if gray is not None:
        lum = gray.astype(np.float64) * (255.0 / white)
        paper = (out == white) if out.ndim == 2 else (out[..., 0] == white)
        assert paper[lum >= threshold].all()
        changed = (out != img) if out.ndim == 2 else (out[..., 0] != img[..., 0])
        if speck == 0:
            assert not changed[lum < threshold].any()


# ---------------------------------------------------------------- dye stages


@st.composite
def motif_images(draw) -> np.ndarray:
    """Small RGB images made of a few flat colours plus optional noise, 4..16 px a side."""
    h, w = draw(st.integers(4, 16)), draw(st.integers(4, 16))
    n = draw(st.integers(1, 6))
    colours = draw(hnp.arrays(np.uint8, (n, 3)))
    index = draw(hnp.arrays(np.int64, (h, w), elements=st.integers(0, n - 1)))
    img = colours[index]
    if draw(st.booleans()):
        noise = draw(hnp.arrays(np.int16, (h, w, 3), elements=st.integers(-20, 20)))
        img = np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    return img


@FEW
@given(
    img=motif_images(),
    how=st.one_of(st.integers(MIN_DYES, MAX_DYES), st.sampled_from(palette_names())),
    min_region=st.integers(0, 6),
    seed=st.integers(0, 3),
)
def test_wax_masks_nest_for_any_colours_palette_and_region_size(img, how, min_region, seed):
    if isinstance(how, int):
        sep = reduce_palette(img, n_colors=how, min_region=min_region, seed=seed)
        assert sep.n_colors <= how
    else:
        sep = reduce_palette(img, palette=how, min_region=min_region)
    assert sep.labels.shape == img.shape[:2] and sep.colors.dtype == np.uint8
    assert sep.labels.min() >= 0 and sep.labels.max() < sep.n_colors
    light = lightness(sep.colors)
    assert (np.diff(light) <= 1e-6).all()  # light to dark
    masks = sep.wax_masks()
    assert len(masks) == sep.n_colors and not masks[0].any()
    for earlier, later in zip(masks, masks[1:]):
        assert earlier.shape == img.shape[:2] and earlier.dtype == bool
        assert not (earlier & ~later).any()  # stage k wax lies inside stage k+1 wax
    # a pixel is waxed from the stage after its own colour's bath on
    for k, mask in enumerate(masks):
        assert np.array_equal(mask, sep.labels < k)
    assert np.array_equal(sep.cloth_after(sep.n_colors - 1), sep.recoloured)


# ---------------------------------------------------------------- seamless repeats
#
# Criterion. Lay the tile out and find every pair of neighbouring output pixels that come
# from different copies (or are not neighbours inside the tile): those pairs are the tile
# boundaries. Group them by boundary segment (one tile-length stretch of one line) and
# take each segment's mean absolute jump. A seam is a segment whose jump is larger than the
# jump across the tile's own *layout* edges, the pairs that seam_score(tile, layout, offset)
# compares: last column next to the first (block), next to the first one dropped by
# offset*H (half-drop; rows likewise for half-brick), or next to its own reflection (mirror,
# so 0). This pins seam_score to where the renderer really joins copies. The layout edges
# must then be no rougher than the design: a procedural motif is drawn on a torus, so its
# block wrap is part of the design; for half-drop / half-brick the tile is the motif after
# drop-aware make_seamless, whose shifted edge must be no rougher than the roughest line
# inside the motif or the tile (+1 grey level for rounding). A block-seamless motif laid
# out as a drop fails that in about a quarter of cases at 24 px (see test_seamless.py).


def _source_map(h: int, w: int, layout: TileLayout, cols: int, rows: int, offset: float):
    """Lay out an index tile: (row, col) in the tile of every output pixel (uint8, <= 255)."""
    rr, cc = np.mgrid[0:h, 0:w]
    index = np.stack([rr, cc, np.zeros_like(rr)], axis=2).astype(np.uint8)
    out = render_repeat(index, layout, cols=cols, rows=rows, offset=offset).astype(np.int64)
    return out[..., 0], out[..., 1]


def _segment_jumps(layout_img: np.ndarray, src_r: np.ndarray, src_c: np.ndarray,
                   h: int, w: int, axis: int) -> dict[tuple[int, int], float]:
    """Mean |jump| per boundary segment across lines perpendicular to ``axis`` (1: x, 0: y)."""
    f = layout_img.astype(np.float64)
    if axis == 1:
        a, b = (slice(None), slice(None, -1)), (slice(None), slice(1, None))
    else:
        a, b = (slice(None, -1), slice(None)), (slice(1, None), slice(None))
    along = src_c if axis == 1 else src_r
    across = src_r if axis == 1 else src_c
    inside = (np.abs(along[b] - along[a]) == 1) & (across[b] == across[a])
    jump = np.abs(f[b] - f[a]).mean(axis=2) if f.ndim == 3 else np.abs(f[b] - f[a])
    ys, xs = np.nonzero(~inside)
    groups: dict[tuple[int, int], list[float]] = {}
    for y, x in zip(ys, xs):
        key = (x, y // h) if axis == 1 else (y, x // w)
        groups.setdefault(key, []).append(jump[y, x])
    return {k: float(np.mean(v)) for k, v in groups.items()}


def _wrap_jump(tile: np.ndarray, axis: int, layout: TileLayout = TileLayout.BLOCK,
               offset: float = 0.5) -> float:
    """Mean |jump| across the tile edges that ``layout`` joins, across ``axis`` (1: x, 0: y)."""
    f = tile.astype(np.float64)
    if f.ndim == 2:
        f = f[:, :, None]
    if layout is TileLayout.MIRROR:
        return 0.0
    first = f[:, 0] if axis == 1 else f[0]
    shifted = (axis == 1 and layout is TileLayout.HALF_DROP) or (
        axis == 0 and layout is TileLayout.HALF_BRICK)
    if shifted:  # the neighbouring copy is moved along the edge by the drop
        first = np.roll(first, drop_pixels(first.shape[0], offset), axis=0)
    last = f[:, -1] if axis == 1 else f[-1]
    return float(np.abs(last - first).mean())


def _roughest_line(tile: np.ndarray, axis: int) -> float:
    """The largest mean |jump| between two neighbouring lines inside the tile, across ``axis``."""
    d = np.abs(np.diff(tile.astype(np.float64), axis=axis))
    return float(d.mean(axis=tuple(i for i in range(d.ndim) if i != axis)).max())


def _assert_no_seam(tile: np.ndarray, layout: TileLayout, offset: float) -> None:
    h, w = tile.shape[:2]
    # two columns (rows) for the drops: the renderer rounds the k-th shift on its own, so
    # only the first shifted copy is exactly ``drop_pixels`` away for every tile size
    cols, rows = (2, 3) if layout is TileLayout.HALF_DROP else (3, 2) if layout is TileLayout.HALF_BRICK else (3, 3)
    out = render_repeat(tile, layout, cols=cols, rows=rows, offset=offset)
    src_r, src_c = _source_map(h, w, layout, cols, rows, offset)
    for axis in (0, 1):
        bound = _wrap_jump(tile, axis, layout, offset) + 1e-9
        segments = _segment_jumps(out, src_r, src_c, h, w, axis)
        assert segments, f"{layout.value}: no tile boundaries across axis {axis}"
        worst = max(segments.values())
        assert worst <= bound, f"{layout.value} {offset:.2f}: seam {worst:.2f} > wrap {bound:.2f}"


def _assert_shifted_edge_smooth(tile: np.ndarray, motif: np.ndarray, layout: TileLayout,
                                offset: float) -> None:
    axis = 1 if layout is TileLayout.HALF_DROP else 0
    edge = _wrap_jump(tile, axis, layout, offset)
    design = max(_roughest_line(tile, axis), _roughest_line(motif, axis))
    assert edge <= design + 1.0, f"{layout.value} {offset:.2f}: edge {edge:.2f} > design {design:.2f}"


REPEATING = [TileLayout.BLOCK, TileLayout.HALF_DROP, TileLayout.HALF_BRICK, TileLayout.MIRROR]
DROPS = (TileLayout.HALF_DROP, TileLayout.HALF_BRICK)


@settings(max_examples=30, deadline=None, database=None)
@given(family=st.sampled_from(sorted(FAMILIES)), seed=st.integers(0, 10_000),
       layout=st.sampled_from(REPEATING), offset=st.sampled_from([1 / 2, 1 / 3]),
       method=st.sampled_from(["blend", "seam"]))
def test_procedural_motif_repeats_without_seams(family, seed, layout, offset, method):
    # seamless by construction (drawn on a torus) for block and mirror; no seam_score bound
    # here: tambal's patch grid can fall on the tile edge, where a jump is part of the design
    motif = render_motif(family, seed, 24)
    if layout in DROPS:
        tile = make_seamless(motif, method, layout=layout, offset=offset)
        assert tile.shape == motif.shape
        _assert_shifted_edge_smooth(tile, motif, layout, offset)
    else:
        tile = motif
    _assert_no_seam(tile, layout, offset)


@st.composite
def unseamless_images(draw) -> np.ndarray:
    """Smooth non-periodic RGB images (a ramp plus low-frequency colour blobs), 12..24 px."""
    h, w = draw(st.integers(12, 24)), draw(st.integers(12, 24))
    coarse = draw(hnp.arrays(np.uint8, (3, 3, 3))).astype(np.float32)
    blobs = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    ramp = np.linspace(0, draw(st.integers(0, 120)), w, dtype=np.float32)[None, :, None]
    return np.clip(blobs * 0.5 + ramp, 0, 255).astype(np.uint8)


@settings(max_examples=25, deadline=None, database=None)
@given(img=unseamless_images(), method=st.sampled_from(["blend", "seam"]),
       layout=st.sampled_from(REPEATING), offset=st.sampled_from([1 / 2, 1 / 3]))
def test_make_seamless_output_repeats_without_seams(img, method, layout, offset):
    tile = make_seamless(img, method, layout=layout, offset=offset)
    assert tile.shape == img.shape and tile.dtype == np.uint8
    # near-flat tiles have a tiny interior texture, so a ratio is meaningless there: accept a
    # wrap jump under 2 grey levels instead (mirror: judged as the block repair it gets)
    judged = layout if layout in DROPS else TileLayout.BLOCK
    wrap = max(_wrap_jump(tile, 0, judged, offset), _wrap_jump(tile, 1, judged, offset))
    assert seam_score(tile, judged, offset) < 2.0 or wrap < 2.0, (seam_score(tile, judged, offset), wrap)
    _assert_no_seam(tile, layout, offset)


@settings(max_examples=25, deadline=None, database=None)
@given(h=st.integers(1, 20), w=st.integers(1, 20), cols=st.integers(1, 4), rows=st.integers(1, 4),
       channels=st.sampled_from([None, 1, 3, 4]))
def test_centre_places_the_tile_once_in_the_middle(h, w, cols, rows, channels):
    """CENTRE has no neighbouring copies: the tile sits centred, the rest is the ground."""
    shape = (h, w) if channels is None else (h, w, channels)
    tile = np.random.default_rng(h * 31 + w).integers(0, 256, shape, dtype=np.uint8)
    out = render_repeat(tile, TileLayout.CENTRE, cols=cols, rows=rows)
    assert out.shape == (rows * h, cols * w, *shape[2:]) and out.dtype == np.uint8
    (p,) = tile_placements((w, h), TileLayout.CENTRE, (cols * w, rows * h))
    x0, y0 = int(math.floor(p.x + 0.5)), int(math.floor(p.y + 0.5))
    assert abs(x0 - (cols * w - w) / 2) <= 0.5 and abs(y0 - (rows * h - h) / 2) <= 0.5
    assert np.array_equal(out[y0:y0 + h, x0:x0 + w], tile)
    ground = np.ones(out.shape[:2], dtype=bool)
    ground[y0:y0 + h, x0:x0 + w] = False
    if channels in (3, 4):
        assert (out[ground][:, :3] == CREAM).all()
    elif ground.any():
        assert (out[ground] == round(sum(CREAM) / 3)).all()


@settings(max_examples=30, deadline=None, database=None)
@given(layout=st.sampled_from(list(TileLayout)), h=st.integers(1, 9), w=st.integers(1, 9),
       offset=st.sampled_from([1 / 2, 1 / 3]), channels=st.sampled_from([None, 1, 3, 4]))
def test_repeat_keeps_dtype_and_channels(layout, h, w, offset, channels):
    shape = (h, w) if channels is None else (h, w, channels)
    out = render_repeat(np.zeros(shape, np.uint8), layout, cols=2, rows=3, offset=offset)
    assert out.shape == (3 * h, 2 * w, *shape[2:]) and out.dtype == np.uint8


# ---------------------------------------------------------------- bad parameters

_outside_bytes = st.one_of(st.integers(max_value=-1), st.integers(min_value=256))


@FEW
@given(bad=_outside_bytes)
def test_bad_filter_thresholds_are_named(bad):
    with pytest.raises(ValueError, match="white_threshold must be in 0..255"):
        ArtifactFilterParams(white_threshold=bad)
    with pytest.raises(ValueError, match="binarize_threshold must be in 1..255"):
        clean_artifacts(np.zeros((2, 2), np.uint8), binarize=True,
                        binarize_threshold=0 if bad > 0 else bad)


@FEW
@given(bad=st.integers(max_value=-1))
def test_negative_speck_area_and_min_region_are_named(bad):
    with pytest.raises(ValueError, match="speck_area must be >= 0"):
        clean_artifacts(np.zeros((2, 2), np.uint8), speck_area=bad)
    with pytest.raises(ValueError, match="min_region must be >= 0"):
        reduce_palette(np.zeros((4, 4, 3), np.uint8), n_colors=2, min_region=bad)


@FEW
@given(n=st.one_of(st.integers(max_value=MIN_DYES - 1), st.integers(min_value=MAX_DYES + 1)))
def test_dye_count_out_of_range_is_named(n):
    with pytest.raises(ValueError, match=f"n_colors must be in {MIN_DYES}..{MAX_DYES}"):
        reduce_palette(np.zeros((4, 4, 3), np.uint8), n_colors=n)


@FEW
@given(offset=st.one_of(st.floats(max_value=0.0, allow_nan=False),
                        st.floats(min_value=1.0, allow_nan=False)))
def test_repeat_offset_outside_zero_one_is_named(offset):
    with pytest.raises(ValueError, match="offset must be between 0 and 1"):
        parse_offset(offset)
    with pytest.raises(ValueError, match="offset must be between 0 and 1"):
        render_repeat(np.zeros((4, 4, 3), np.uint8), "half-drop", offset=offset)


@FEW
@given(fps=st.one_of(st.floats(max_value=0.0, allow_nan=False), st.floats(min_value=50.01)),
       colors=st.one_of(st.integers(max_value=1), st.integers(min_value=257)))
def test_gif_fps_and_colours_out_of_range_are_named(tmp_path_factory, fps, colors):
    target = tmp_path_factory.mktemp("gif") / "a.gif"
    frames = [np.zeros((4, 4, 3), np.uint8)]
    with pytest.raises(ValueError, match="fps"):
        write_gif(frames, target, fps=fps)
    with pytest.raises(ValueError, match="colors must be in 2..256"):
        write_gif(frames, target, colors=colors)
    assert not target.exists()


@pytest.mark.parametrize("call, match", [
    (lambda: make_seamless(np.zeros((8, 8, 3), np.uint8), "smudge"), "unknown seamless method"),
    (lambda: TileLayout.parse("diagonal"), "unknown layout"),
    (lambda: reduce_palette(np.zeros((4, 4, 3), np.uint8), n_colors=3, palette="sogan"),
     "either n_colors or palette"),
    (lambda: reduce_palette(np.zeros((4, 4, 3), np.uint8), palette="no-such-palette"), "palette"),
])
def test_bad_names_are_clear(call, match):
    with pytest.raises(ValueError, match=match):
        call()
