"""The motif data set job and the data set writer (folder and zip layouts)."""

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from batikstudio.errors import DatasetError
from batikstudio.jobs import Cancelled, RecordingContext
from batikstudio.motifs import render_motif
from batikstudio.motifs.dataset import DatasetWriter, read_labels
from batikstudio.motifs.jobs import MotifDatasetRequest, make_motif_dataset

FAMS = ("parang", "kawung", "nitik")


def test_folder_dataset_layout_labels_and_pixels(tmp_path):
    dst = tmp_path / "ds"
    ctx = RecordingContext()
    res = make_motif_dataset(MotifDatasetRequest(str(dst), count=7, res=32, families=FAMS, seed=5), ctx)
    meta = read_labels(dst)
    assert meta["class_names"] == list(FAMS) and res.count == 7
    names = [n for n, _ in meta["labels"]]
    assert names == [f"00000/img{i:08d}.png" for i in range(7)]
    assert [c for _, c in meta["labels"]] == [0, 1, 2, 0, 1, 2, 0]  # round-robin, balanced
    for i, (name, cls) in enumerate(meta["labels"]):
        img = np.asarray(Image.open(dst / name))
        assert np.array_equal(img, render_motif(FAMS[cls], 5 + i // 3, 32))
    assert ctx.progress_log[-1] == (7, 7) and len(ctx.partials) == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


def test_zip_dataset_is_readable(tmp_path):
    dst = tmp_path / "ds.zip"
    make_motif_dataset(MotifDatasetRequest(str(dst), count=4, res=16, families=FAMS), RecordingContext())
    meta = read_labels(dst)
    with zipfile.ZipFile(dst) as zf:
        files = set(zf.namelist())
        assert {n for n, _ in meta["labels"]} | {"dataset.json"} == files
        img = Image.open(io.BytesIO(zf.read(meta["labels"][0][0])))
        assert img.size == (16, 16) and img.mode == "RGB"


def test_cancel_leaves_nothing_behind(tmp_path):
    for dst in (tmp_path / "a", tmp_path / "a.zip"):
        with pytest.raises(Cancelled):
            make_motif_dataset(MotifDatasetRequest(str(dst), count=20, res=16, families=FAMS),
                               RecordingContext(cancel_after=3))
        assert not dst.exists()
    assert list(tmp_path.iterdir()) == []


def test_workers_write_the_same_data_set_and_cancel_cleanly(tmp_path):
    one, two = tmp_path / "one.zip", tmp_path / "two.zip"
    make_motif_dataset(MotifDatasetRequest(str(one), count=23, res=16, families=FAMS, seed=9),
                       RecordingContext())
    ctx = RecordingContext()
    make_motif_dataset(MotifDatasetRequest(str(two), count=23, res=16, families=FAMS, seed=9, workers=2), ctx)
    assert ctx.progress_log[-1] == (23, 23)
    with zipfile.ZipFile(one) as a, zipfile.ZipFile(two) as b:
        assert a.namelist() == b.namelist()
        assert all(a.read(n) == b.read(n) for n in a.namelist())  # same PNG bytes, same order
    gone = tmp_path / "gone.zip"
    with pytest.raises(Cancelled):
        make_motif_dataset(MotifDatasetRequest(str(gone), count=200, res=16, families=FAMS, workers=2),
                           RecordingContext(cancel_after=5))
    assert not gone.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["one.zip", "two.zip"]


def test_bad_requests_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown motif family"):
        make_motif_dataset(MotifDatasetRequest(str(tmp_path / "x"), 2, families=("batik",)),
                           RecordingContext())
    with pytest.raises(ValueError, match="count"):
        MotifDatasetRequest(str(tmp_path / "x"), 0).validate()
    with pytest.raises(ValueError, match="workers must be 1..256"):
        MotifDatasetRequest(str(tmp_path / "x"), 2, workers=0).validate()
    (tmp_path / "exists").mkdir()
    with pytest.raises(DatasetError, match="already exists"):
        DatasetWriter(tmp_path / "exists")


def test_writer_without_finish_discards(tmp_path):
    with DatasetWriter(tmp_path / "w.zip") as w:
        w.add(np.zeros((4, 4), np.uint8), 0)
    assert list(tmp_path.iterdir()) == []
