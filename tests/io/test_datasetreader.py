"""open_dataset: lazy reads of our data sets and of NVlabs dataset_tool.py zips."""

from __future__ import annotations

import json
import pickle
import zipfile

import numpy as np
import pytest
from PIL import Image

from batikstudio.errors import DatasetError
from batikstudio.io.dataset import archive_name
from batikstudio.io.datasetreader import open_dataset
from tests.io.test_dataset import encode


def nvlabs_zip(path, images, labels):
    """Write a zip the way NVlabs dataset_tool.py does (stored PNGs + dataset.json)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for i, img in enumerate(images):
            zf.writestr(archive_name(i), encode(Image.fromarray(img), "PNG", compress_level=0))
        meta = {"labels": None if labels is None else
                [[archive_name(i), lab] for i, lab in enumerate(labels)]}
        zf.writestr("dataset.json", json.dumps(meta))
    return path


def rgb(value, side=8):
    return np.full((side, side, 3), value, np.uint8)


def test_nvlabs_zip_with_class_labels(tmp_path):
    path = nvlabs_zip(tmp_path / "d.zip", [rgb(i * 10) for i in range(5)], [2, 0, 1, 2, 0])
    ds = open_dataset(path)
    assert (len(ds), ds.resolution, ds.channels) == (5, 8, 3)
    assert ds.class_names == ("0", "1", "2") and ds.has_labels and ds.label_dim == 3
    img, label = ds[3]
    assert img.shape == (8, 8, 3) and int(img[0, 0, 0]) == 30 and label == 2
    assert ds[-1][1] == 0 and ds.label_vector(0).tolist() == [0, 0, 1]
    imgs, labels = ds.batch([4, 1])
    assert imgs.shape == (2, 3, 8, 8) and imgs.dtype == np.uint8
    assert imgs[:, 0, 0, 0].tolist() == [40, 10] and labels.tolist() == [0, 0]
    with pytest.raises(IndexError):
        ds[5]
    clone = pickle.loads(pickle.dumps(ds))
    assert np.array_equal(clone[2][0], ds[2][0])
    ds.close()
    assert ds[0][1] == 2  # reopens after close


def test_vector_and_null_labels(tmp_path):
    ds = open_dataset(nvlabs_zip(tmp_path / "v.zip", [rgb(1), rgb(2)], [[0.5, 1.0], [2.0, 0.0]]))
    assert ds.labels.dtype == np.float32 and ds.label_dim == 2 and ds.class_names is None
    assert ds[1][1].tolist() == [2.0, 0.0] and ds.label_vector(0).tolist() == [0.5, 1.0]
    ds = open_dataset(nvlabs_zip(tmp_path / "n.zip", [rgb(1), rgb(2)], None))
    assert not ds.has_labels and ds.label_dim == 0 and ds[0][1] == -1
    assert ds.label_vector(0).shape == (0,)


def test_grayscale_folder_without_dataset_json(tmp_path):
    for i in range(3):
        (tmp_path / "00000").mkdir(exist_ok=True)
        Image.new("L", (4, 4), i).save(tmp_path / "00000" / f"img{i:08d}.png")
    ds = open_dataset(tmp_path)
    assert (len(ds), ds.channels) == (3, 1) and ds[2][0].shape == (4, 4, 1)
    assert int(ds[2][0][0, 0, 0]) == 2 and ds.labels.tolist() == [-1, -1, -1]


def test_bad_data_sets(tmp_path):
    with pytest.raises(DatasetError, match="not a data set"):
        open_dataset(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no images"):
        open_dataset(tmp_path / "empty")
    with pytest.raises(DatasetError, match="not square"):
        open_dataset(nvlabs_zip(tmp_path / "r.zip", [np.zeros((4, 8, 3), np.uint8)], None))
    mixed = open_dataset(nvlabs_zip(tmp_path / "m.zip", [rgb(0, 8), rgb(0, 4)], None))
    with pytest.raises(DatasetError, match="expected 8x8"):
        mixed[1]
    path = nvlabs_zip(tmp_path / "l.zip", [rgb(0)], [1])
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr(archive_name(1), encode(Image.fromarray(rgb(0)), "PNG"))
    with pytest.raises(DatasetError, match="no label for"):
        open_dataset(path)


def test_motif_dataset_class_names_reach_the_reader(tmp_path):
    from batikstudio.io.dataset import open_dataset
    from batikstudio.jobs import RecordingContext
    from batikstudio.motifs.jobs import MotifDatasetRequest, make_motif_dataset

    dst = tmp_path / "m.zip"
    make_motif_dataset(MotifDatasetRequest(dst=str(dst), count=4, res=16, families=("kawung", "parang")), RecordingContext())
    assert open_dataset(dst).class_names == ("kawung", "parang")


def test_characters_of_a_glyph_data_set_round_trip_in_image_order(tmp_path):
    import json
    import zipfile

    from batikstudio.errors import DatasetError
    from batikstudio.io.datasetreader import open_dataset
    from batikstudio.motifs.dataset import DatasetWriter

    img = np.full((8, 8), 255, np.uint8)
    with DatasetWriter(tmp_path / "g.zip") as w:
        for ch, k in (("永", 0), ("永", 1), ("字", 0)):
            w.add(img, k, ch)
        with pytest.raises(ValueError, match="every image"):
            w.add(img, 0)
        w.finish(["a", "b"])
    ds = open_dataset(tmp_path / "g.zip")
    assert ds.characters == "永永字" and list(ds.labels) == [0, 1, 0]
    with zipfile.ZipFile(tmp_path / "g.zip") as z:
        meta = json.loads(z.read("dataset.json"))
        files = {n: z.read(n) for n in z.namelist() if n != "dataset.json"}
    meta["characters"] = "永字"  # one short
    with zipfile.ZipFile(tmp_path / "bad.zip", "w") as z:
        for n, data in files.items():
            z.writestr(n, data)
        z.writestr("dataset.json", json.dumps(meta))
    with pytest.raises(DatasetError, match="2 characters for 3 labelled images"):
        open_dataset(tmp_path / "bad.zip")
