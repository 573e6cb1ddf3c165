"""Dataset check/build: a messy source folder or zip in, an NVlabs-layout data set out."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from batikstudio.errors import DatasetError
from batikstudio.io.dataset import (
    DatasetBuildRequest, DatasetCheckRequest, DatasetPreview, SkipReason, archive_name,
    build_dataset, check_dataset, open_dataset,
)
from batikstudio.jobs import Cancelled, RecordingContext

RES = 32


# --------------------------------------------------------------------------- fixtures


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(side: int) -> bytes:
    """A real, valid 1-bit PNG of side x side pixels that is only a few kB on disk."""
    row = b"\0" * (1 + (side + 7) // 8)
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row * 500) for _ in range(side // 500))
    idat += comp.compress(row * (side % 500)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def exif_rotated_jpeg() -> bytes:
    """60 wide x 40 high, left half red, right half blue, EXIF orientation 6 (turn 90 CW)."""
    arr = np.zeros((40, 60, 3), np.uint8)
    arr[:, :30] = (255, 0, 0)
    arr[:, 30:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(Image.fromarray(arr), "JPEG", quality=95, exif=exif.tobytes())


def messy_files() -> dict[str, bytes]:
    rng = np.random.default_rng(1)
    good = Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    pal = Image.new("P", (40, 40), 0)
    pal.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    pal.paste(1, (0, 0, 20, 40))
    rgba = np.zeros((36, 36, 4), np.uint8)
    rgba[:, :18] = (10, 200, 10, 255)
    g16 = (np.linspace(0, 65535, 40 * 40).reshape(40, 40)).astype(np.uint16)
    jpeg = encode(Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)), "JPEG")
    return {
        "kawung/good.png": encode(good, "PNG"),
        "kawung/cmyk.jpg": encode(Image.new("CMYK", (40, 40), (255, 0, 0, 0)), "JPEG"),
        "kawung/palette.png": encode(pal, "PNG", transparency=0),
        "parang/gray16.png": encode(Image.fromarray(g16), "PNG"),
        "parang/rgba.png": encode(Image.fromarray(rgba), "PNG"),
        "parang/rotated.jpg": exif_rotated_jpeg(),
        "parang/truncated.jpg": jpeg[: len(jpeg) // 2],
        "parang/garbage.png": bytes(rng.integers(0, 256, 300, dtype=np.uint8)),
        "parang/empty.png": b"",
        "parang/notes.txt": b"batik notes",
        "parang/tiny.png": encode(Image.new("RGB", (4, 4), "white"), "PNG"),
        "parang/bomb.png": bomb_png(20000),
        "parang/zz_copy.bmp": encode(good, "BMP"),
        "loose.png": encode(Image.new("RGB", (40, 40), (1, 2, 3)), "PNG"),
    }


EXPECTED_SKIPS = {
    "parang/truncated.jpg": SkipReason.TRUNCATED,
    "parang/garbage.png": SkipReason.CORRUPT,
    "parang/empty.png": SkipReason.CORRUPT,
    "parang/notes.txt": SkipReason.NOT_IMAGE,
    "parang/tiny.png": SkipReason.TOO_SMALL,
    "parang/bomb.png": SkipReason.TOO_LARGE,
    "parang/zz_copy.bmp": SkipReason.DUPLICATE,
}


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def tree_hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def messy(tmp_path_factory) -> Path:
    return write_tree(tmp_path_factory.mktemp("src") / "photos", messy_files())


def reasons(report) -> dict[str, SkipReason]:
    return {s.source: s.reason for s in report.skipped}


# --------------------------------------------------------------------------- check


def test_check_reports_every_file_with_its_reason(messy):
    ctx = RecordingContext()
    report = check_dataset(DatasetCheckRequest(messy, res=RES, labels_from_folders=True), ctx)
    assert reasons(report) == {**EXPECTED_SKIPS, "loose.png": SkipReason.UNLABELLED}
    assert [k.source for k in report.kept] == [
        "kawung/cmyk.jpg", "kawung/good.png", "kawung/palette.png",
        "parang/gray16.png", "parang/rgba.png", "parang/rotated.jpg"]
    assert report.duplicates == (("kawung/good.png", "parang/zz_copy.bmp"),)
    assert report.class_names == ("kawung", "parang")
    assert report.class_counts == {"kawung": 3, "parang": 3}
    notes = {k.source: " ".join(k.notes) for k in report.kept}
    assert "CMYK" in notes["kawung/cmyk.jpg"]
    assert "white" in notes["kawung/palette.png"] and "white" in notes["parang/rgba.png"]
    assert "16-bit" in notes["parang/gray16.png"]
    assert "EXIF orientation 6" in notes["parang/rotated.jpg"]
    assert all(k.file is None for k in report.kept)
    assert ctx.progress_log[-1] == (len(messy_files()), len(messy_files()))
    assert len(report.previews) == 6 and report.previews[0].shape == (RES, RES, 3)
    assert [p.source for p in ctx.partials if isinstance(p, DatasetPreview)][0] == "kawung/cmyk.jpg"
    text = report.to_text()
    assert "kept 6 of 14" in text and "parang/bomb.png: too large" in text


def test_check_writes_nothing_and_keeps_pil_globals(messy):
    before = tree_hashes(messy.parent)
    max_pixels = Image.MAX_IMAGE_PIXELS
    check_dataset(DatasetCheckRequest(messy, res=RES, max_pixels=1000))
    assert tree_hashes(messy.parent) == before
    assert Image.MAX_IMAGE_PIXELS == max_pixels
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_per_call_pixel_limit(tmp_path):
    src = write_tree(tmp_path / "s", {"big.png": encode(Image.new("RGB", (300, 200)), "PNG"),
                                      "ok.png": encode(Image.new("RGB", (100, 100)), "PNG")})
    report = check_dataset(DatasetCheckRequest(src, res=RES, max_pixels=50_000))
    assert reasons(report) == {"big.png": SkipReason.TOO_LARGE}
    assert "50,000 pixel limit" in report.skipped[0].detail
    report = check_dataset(DatasetCheckRequest(src, res=RES, min_size=150))
    assert reasons(report) == {"ok.png": SkipReason.TOO_SMALL}


@pytest.mark.parametrize("bad", [dict(res=48), dict(res=2), dict(crop="squash"),
                                 dict(min_size=0), dict(max_pixels=0)])
def test_bad_options_are_refused(messy, bad):
    with pytest.raises(DatasetError):
        check_dataset(DatasetCheckRequest(messy, **{"res": RES, **bad}))


def test_missing_or_wrong_source(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        check_dataset(DatasetCheckRequest(tmp_path / "nope", res=RES))
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(DatasetError, match="neither a folder nor"):
        check_dataset(DatasetCheckRequest(tmp_path / "a.txt", res=RES))


# --------------------------------------------------------------------------- build


def test_build_zip_layout_labels_and_reader(messy, tmp_path):
    before = tree_hashes(messy.parent)
    dest = tmp_path / "out" / "batik.zip"
    req = DatasetBuildRequest(DatasetCheckRequest(messy, res=RES, labels_from_folders=True), dest)
    report = build_dataset(req)
    assert tree_hashes(messy.parent) == before
    with zipfile.ZipFile(dest) as zf:
        names = sorted(zf.namelist())
        meta = json.loads(zf.read("dataset.json"))
        rep = json.loads(zf.read("report.json"))
    assert names == sorted([archive_name(i) for i in range(6)]
                           + ["dataset.json", "report.json", "report.txt"])
    assert archive_name(0) == "00000/img00000000.png" and archive_name(1234) == "00001/img00001234.png"
    assert meta["class_names"] == ["kawung", "parang"]
    assert meta["labels"] == [[archive_name(i), int(i >= 3)] for i in range(6)]
    assert rep["skipped_by_reason"]["duplicate"] == 1 and rep["dest"] == str(dest)
    with open_dataset(dest) as ds:
        assert (len(ds), ds.resolution, ds.channels) == (6, RES, 3)
        assert ds.class_names == ("kawung", "parang")
        assert ds.labels.tolist() == [0, 0, 0, 1, 1, 1]
        img, label = ds[1]
        assert img.shape == (RES, RES, 3) and img.dtype == np.uint8 and label == 0
        # kept file 1 is kawung/good.png: random pixels, center-cropped, not blank
        assert img.std() > 20
    assert report.kept[3].file == archive_name(3) and report.kept[3].label == 1


def test_conversions_give_the_right_pixels(messy, tmp_path):
    dest = tmp_path / "d.zip"
    build_dataset(DatasetBuildRequest(DatasetCheckRequest(messy, res=RES, crop="none"), dest))
    ds = open_dataset(dest)
    assert len(ds) == 7  # loose.png is kept when labels do not come from folders
    cmyk, _, palette, _, gray16, rgba, rotated = (ds[i][0].astype(int) for i in range(7))
    assert np.abs(cmyk[16, 16] - [0, 255, 255]).max() <= 3  # full cyan ink
    assert np.abs(palette[16, 4] - [200, 30, 30]).max() <= 2  # opaque entry
    assert palette[16, 28].tolist() == [255, 255, 255]  # transparent entry -> white
    assert rgba[16, 28].tolist() == [255, 255, 255] and rgba[16, 3].tolist() == [10, 200, 10]
    assert gray16[0, 0].max() <= 2 and gray16[-1, -1].min() >= 250
    # 60x40 landscape turned to 40x60 portrait: white pads left/right, red on top, blue below
    assert rotated[16, 0].tolist() == [255, 255, 255] and rotated[16, -1].tolist() == [255] * 3
    assert rotated[3, 16, 0] > 200 and rotated[3, 16, 2] < 60
    assert rotated[-4, 16, 2] > 200 and rotated[-4, 16, 0] < 60


def test_folder_output_matches_zip_and_grayscale(messy, tmp_path):
    scan = DatasetCheckRequest(messy, res=RES, grayscale=True)
    build_dataset(DatasetBuildRequest(scan, tmp_path / "a.zip"))
    build_dataset(DatasetBuildRequest(scan, tmp_path / "folder"))
    assert (tmp_path / "folder" / "00000" / "img00000000.png").is_file()
    assert json.loads((tmp_path / "folder" / "dataset.json").read_text())["labels"] is None
    a, b = open_dataset(tmp_path / "a.zip"), open_dataset(tmp_path / "folder")
    assert len(a) == len(b) == 7 and a.channels == b.channels == 1
    assert all(np.array_equal(a[i][0], b[i][0]) for i in range(7))
    assert a[0][1] == -1 and not a.has_labels
    with Image.open(tmp_path / "folder" / archive_name(0)) as im:
        assert im.mode == "L" and im.size == (RES, RES)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def zip_contents(path: Path) -> dict[str, tuple]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: (zf.read(i), i.date_time) for i in zf.infolist()
                if not i.filename.startswith("report.")}  # reports name the destination


def test_same_input_gives_identical_zip_entries(messy, tmp_path):
    scan = DatasetCheckRequest(messy, res=RES, crop="random", seed=3)
    build_dataset(DatasetBuildRequest(scan, tmp_path / "a.zip"))
    build_dataset(DatasetBuildRequest(scan, tmp_path / "b.zip"))
    assert zip_contents(tmp_path / "a.zip") == zip_contents(tmp_path / "b.zip")
    build_dataset(DatasetBuildRequest(replace(scan, seed=4), tmp_path / "c.zip"))
    a, c = zip_contents(tmp_path / "a.zip"), zip_contents(tmp_path / "c.zip")
    assert a.keys() == c.keys() and a != c  # a new seed picks other windows


def test_cancel_leaves_no_destination(messy, tmp_path):
    for name in ("c.zip", "cfolder"):
        ctx = RecordingContext(cancel_after=2)
        with pytest.raises(Cancelled):
            build_dataset(DatasetBuildRequest(DatasetCheckRequest(messy, res=RES),
                                              tmp_path / name), ctx)
        assert list(tmp_path.iterdir()) == []


def test_existing_destination_rules(messy, tmp_path):
    scan = DatasetCheckRequest(messy, res=RES)
    with pytest.raises(DatasetError, match="inside the source"):
        build_dataset(DatasetBuildRequest(scan, messy / "out.zip"))
    with pytest.raises(DatasetError, match="contain the source"):
        build_dataset(DatasetBuildRequest(scan, messy.parent, overwrite=True))
    other = tmp_path / "docs"
    write_tree(other, {"letter.txt": b"keep me"})
    with pytest.raises(DatasetError, match="not a data set"):
        build_dataset(DatasetBuildRequest(scan, other, overwrite=True))
    assert (other / "letter.txt").read_bytes() == b"keep me"
    (tmp_path / "empty").mkdir()
    build_dataset(DatasetBuildRequest(scan, tmp_path / "empty"))
    with pytest.raises(DatasetError, match="already holds"):
        build_dataset(DatasetBuildRequest(scan, tmp_path / "empty"))
    gray = DatasetCheckRequest(messy, res=RES, grayscale=True)
    build_dataset(DatasetBuildRequest(gray, tmp_path / "empty", overwrite=True))
    assert open_dataset(tmp_path / "empty").channels == 1
    build_dataset(DatasetBuildRequest(scan, tmp_path / "z.zip"))
    with pytest.raises(DatasetError, match="already exists"):
        build_dataset(DatasetBuildRequest(scan, tmp_path / "z.zip"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs", "empty", "z.zip"]


def test_no_usable_image_is_an_error(tmp_path):
    src = write_tree(tmp_path / "s", {"a.txt": b"x", "b.png": b"not a png"})
    with pytest.raises(DatasetError, match="no usable images.*1 corrupt"):
        build_dataset(DatasetBuildRequest(DatasetCheckRequest(src, res=RES), tmp_path / "o.zip"))
    assert not (tmp_path / "o.zip").exists()


# --------------------------------------------------------------------------- zip sources


def make_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def test_zip_source_with_root_folder_and_traversal_names(tmp_path):
    img = encode(Image.new("RGB", (40, 40), (9, 9, 9)), "PNG")
    img2 = encode(Image.new("RGB", (40, 40), (99, 9, 9)), "PNG")
    src = make_zip(tmp_path / "in.zip", {
        "batik/kawung/a.png": img, "batik/parang/b.png": img2,
        "../evil.png": img2, "/abs.png": img2, "__MACOSX/batik/._a.png": b"\0\5\26\7",
    })
    before = src.read_bytes()
    report = check_dataset(DatasetCheckRequest(src, res=RES, labels_from_folders=True))
    assert reasons(report) == {"../evil.png": SkipReason.UNSAFE_NAME,
                               "/abs.png": SkipReason.UNSAFE_NAME,
                               "__MACOSX/batik/._a.png": SkipReason.NOT_IMAGE}
    assert report.class_counts == {"kawung": 1, "parang": 1}
    build_dataset(DatasetBuildRequest(DatasetCheckRequest(src, res=RES, labels_from_folders=True),
                                      tmp_path / "out"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.zip", "out"]
    assert src.read_bytes() == before
    assert open_dataset(tmp_path / "out").labels.tolist() == [0, 1]


def test_zip_bomb_total_size_is_refused(tmp_path):
    src = make_zip(tmp_path / "z.zip", {"a.png": b"\0" * 200_000})
    with pytest.raises(DatasetError, match="zip bomb"):
        check_dataset(DatasetCheckRequest(src, res=RES, max_total_bytes=100_000))
    report = check_dataset(DatasetCheckRequest(src, res=RES, max_file_bytes=100_000))
    assert reasons(report) == {"a.png": SkipReason.TOO_LARGE}


def test_nvlabs_zip_source_keeps_its_labels(messy, tmp_path):
    first = tmp_path / "first.zip"
    build_dataset(DatasetBuildRequest(DatasetCheckRequest(messy, res=RES, labels_from_folders=True),
                                      first))
    again = DatasetCheckRequest(first, res=RES // 2)
    report = build_dataset(DatasetBuildRequest(again, tmp_path / "second.zip"))
    assert report.class_names == ("kawung", "parang")
    assert [k.label for k in report.kept] == [0, 0, 0, 1, 1, 1]
    assert open_dataset(tmp_path / "second.zip").resolution == RES // 2
