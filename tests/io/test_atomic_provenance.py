import errno
import os

import numpy as np
import pytest
from PIL import Image

from batikstudio.errors import ExportError, ImageError
from batikstudio.io import atomic
from batikstudio.io.provenance import read_dpi, read_provenance, save_image


def test_atomic_write_replaces_and_cleans_up(tmp_path):
    target = tmp_path / "a.txt"
    atomic.atomic_write_text(target, "one")
    with pytest.raises(RuntimeError):
        with atomic.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "one"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_atomic_write_disk_full_is_clear(tmp_path, monkeypatch):
    target = tmp_path / "b.bin"
    atomic.atomic_write_bytes(target, b"old")

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", full)
    with pytest.raises(ExportError, match="disk is full"):
        atomic.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert len(os.listdir(tmp_path)) == 1


def test_atomic_missing_folder(tmp_path):
    with pytest.raises(ExportError, match="does not exist"):
        atomic.atomic_write_text(tmp_path / "nope" / "x.txt", "x")


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_save_image_roundtrip_with_provenance_and_dpi(tmp_path, suffix, channels):
    img = (np.arange(8 * 6 * channels) % 251).astype(np.uint8).reshape(8, 6, channels)
    prov = {"model_sha256": "ab" * 32, "seed": np.int64(7), "psi": 0.7, "mix": [[1, "coarse"]]}
    path = save_image(tmp_path / f"x{suffix}", img, prov, dpi=300)
    back = np.asarray(Image.open(path))
    assert np.array_equal(back.reshape(img.shape), img)
    got = read_provenance(path)
    assert got["seed"] == 7 and got["mix"] == [[1, "coarse"]]
    assert read_dpi(path) == pytest.approx((300, 300), abs=0.5)


def test_provenance_errors(tmp_path):
    with pytest.raises(ImageError, match="uint8"):
        save_image(tmp_path / "x.png", np.zeros((2, 2), np.float32))
    with pytest.raises(ImageError, match="unsupported image format"):
        save_image(tmp_path / "x.bmp", np.zeros((2, 2), np.uint8))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(ImageError, match="not a readable image"):
        read_provenance(bad)
    plain = tmp_path / "plain.png"
    Image.new("RGB", (2, 2)).save(plain)
    assert read_provenance(plain) is None


def test_atomic_write_gets_normal_permissions(tmp_path):
    target = tmp_path / "perm.txt"
    atomic.atomic_write_text(target, "x")
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


def test_atomic_path_mode_survives_writers_that_recreate_the_file(tmp_path):
    target = tmp_path / "t.bin"
    with atomic.atomic_path(target) as tmp:
        tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
