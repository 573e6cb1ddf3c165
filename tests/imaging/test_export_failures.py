"""Exports that cannot be written: a read-only folder, a refused rename, a full disk.

Every writer (print export PNG/TIFF, save_image, GIF, SVG/PDF vector export) must fail with an
:class:`ExportError` whose one line names the file and says why in plain words, leave no
partial or temporary file in the folder, and leave an older file of the same name untouched.

Tests often run as root, where ``chmod 0o500`` does not stop writes. The fixture probes the
folder; when the probe write succeeds, it simulates what the kernel would do in a read-only
folder (creating the temporary file fails with EACCES). A full disk is simulated by giving the
temporary file a byte budget after which ``write`` raises ENOSPC, part-way through the data.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import stat
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from batikstudio.cli.main import main
from batikstudio.errors import ExportError
from batikstudio.imaging.animation import write_gif
from batikstudio.imaging.export import (
    PrintExportRequest, VectorExportRequest, export_print, export_vector,
)
from batikstudio.imaging.printsize import PrintSpec
from batikstudio.imaging.repeat import TileLayout
from batikstudio.io import atomic
from batikstudio.io.provenance import save_image

OLD = b"an older export that must survive"
COLORS = np.array([[239, 230, 210], [200, 161, 101], [31, 42, 68]], np.uint8)


def _labels(n: int = 16) -> np.ndarray:
    yy, xx = np.mgrid[0:n, 0:n]
    lab = np.zeros((n, n), np.int64)
    lab[(xx - n / 2) ** 2 + (yy - n / 2) ** 2 < (n / 3) ** 2] = 1
    lab[: n // 4, : n // 4] = 2
    return lab


def _tile() -> np.ndarray:
    return COLORS[_labels()]


def _print(path: Path) -> None:
    export_print(_tile(), PrintExportRequest(path, PrintSpec(2, 1, "in", 16),
                                             layout=TileLayout.HALF_DROP))


def _save(path: Path) -> None:
    save_image(path, _tile(), {"seed": 3}, dpi=150)


def _gif(path: Path) -> None:
    write_gif((np.roll(_tile(), i, axis=1) for i in range(4)), path, fps=8)


def _vector(path: Path) -> None:
    export_vector(_labels(), COLORS, VectorExportRequest((path,), PrintSpec(4, 4, "cm")))


WRITERS: dict[str, tuple[Callable[[Path], None], str]] = {
    "print-png": (_print, "print.png"),
    "print-tiff": (_print, "print.tif"),
    "save_image": (_save, "image.png"),
    "gif": (_gif, "anim.gif"),
    "svg": (_vector, "dyes.svg"),
    "pdf": (_vector, "dyes.pdf"),
}


def _writable(folder: Path) -> bool:
    """Whether a file can really be created in ``folder`` (root ignores the mode bits)."""
    probe = folder / ".probe"
    try:
        probe.write_bytes(b"x")
    except PermissionError:
        return False
    probe.unlink()
    return True


def _deny(*args, **kwargs):
    raise PermissionError(errno.EACCES, "Permission denied")


@pytest.fixture
def folder(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    yield out
    out.chmod(stat.S_IRWXU)  # let pytest clean up


def make_read_only(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """chmod 0o500; if writes still succeed (root), fail temp-file creation like the kernel."""
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if _writable(folder):
        monkeypatch.setattr(atomic.tempfile, "mkstemp", _deny)


def refuse_rename(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The temporary file is written, then moving it over the target is refused."""
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if Path(dst).parent == folder:
            _deny()
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(atomic.os, "replace", replace)


class _FullDisk:
    """A file whose disk fills up after ``budget`` bytes: the rest of a write raises ENOSPC."""

    def __init__(self, real, budget: int):
        self._real, self._left = real, budget

    def write(self, data) -> int:
        data = bytes(data)
        if len(data) > self._left:
            self._real.write(data[: self._left])  # the part that fitted stays in the temp file
            self._left = 0
            self._real.flush()
            raise OSError(errno.ENOSPC, "No space left on device")
        self._left -= len(data)
        return self._real.write(data)

    def fileno(self) -> int:
        # writers that find no descriptor write through write(), where the disk fills up
        raise io.UnsupportedOperation("fileno")

    def __getattr__(self, name):
        return getattr(self._real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._real.close()


def fill_disk(folder: Path, monkeypatch: pytest.MonkeyPatch, budget: int = 40) -> None:
    """Temporary files in ``folder`` opened for writing hit a full disk after ``budget`` bytes."""
    real_open = builtins.open

    def full_open(file, mode="r", *args, **kwargs):
        fh = real_open(file, mode, *args, **kwargs)
        name = Path(os.fsdecode(file)) if isinstance(file, (str, bytes, os.PathLike)) else None
        if name is not None and name.parent == folder and name.suffix == ".part" and "w" in mode:
            return _FullDisk(fh, budget)
        return fh

    monkeypatch.setattr(builtins, "open", full_open)
    monkeypatch.setattr(io, "open", full_open)  # pathlib opens through io.open


FAILURES = {
    "read-only-folder": (make_read_only, ("permission denied", "read-only")),
    "rename-refused": (refuse_rename, ("permission denied", "read-only")),
    "disk-full": (fill_disk, ("the disk is full",)),
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_failed_export_is_clear_and_leaves_no_trace(folder, monkeypatch, writer, failure):
    write, name = WRITERS[writer]
    target = folder / name
    target.write_bytes(OLD)
    simulate, phrases = FAILURES[failure]
    simulate(folder, monkeypatch)
    with pytest.raises(ExportError) as info:
        write(target)
    message = str(info.value)
    assert str(target) in message and "\n" not in message
    assert any(p in message.lower() for p in phrases), message
    monkeypatch.undo()
    assert sorted(os.listdir(folder)) == [name]  # no temp file, no partial file
    assert target.read_bytes() == OLD


def test_the_simulations_reach_the_writers(folder, monkeypatch):
    """Guard against a simulation that never fires: without it, each writer succeeds."""
    for write, name in WRITERS.values():
        write(folder / name)
    assert sorted(os.listdir(folder)) == sorted(n for _, n in WRITERS.values())
    fill_disk(folder, monkeypatch, budget=10**9)  # a disk that does not fill up
    _save(folder / "roomy.png")
    assert (folder / "roomy.png").stat().st_size > 40


def test_missing_folder_is_named(tmp_path):
    target = tmp_path / "nowhere" / "print.png"
    with pytest.raises(ExportError, match="does not exist"):
        _print(target)
    assert not target.parent.exists()


@pytest.fixture
def inputs(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    tile = _tile()
    save_image(src / "motif.png", tile)
    save_image(src / "frame_2.png", np.roll(tile, 5, axis=0))
    return src


@pytest.mark.parametrize("command", ["export", "dyes", "filter", "animate"])
def test_cli_disk_full_and_read_only_are_one_line_exit_2(inputs, folder, monkeypatch, capsys,
                                                         command):
    motif = str(inputs / "motif.png")
    argv = {
        "export": ["export", motif, "-o", str(folder / "p.png"), "--size", "2x1in", "--dpi", "16"],
        "dyes": ["dyes", motif, "-o", str(folder), "--colors", "3"],
        "filter": ["filter", motif, "-o", str(folder / "clean.png")],
        "animate": ["animate", motif, str(inputs / "frame_2.png"), "-o", str(folder / "a.gif")],
    }[command]
    for simulate, phrase in ((fill_disk, "the disk is full"), (make_read_only, "permission denied")):
        simulate(folder, monkeypatch)
        assert main(argv) == 2
        lines = capsys.readouterr().err.splitlines()  # progress bars, then the error
        errors = [line for line in lines if line.startswith("batikstudio:")]
        assert errors == lines[-1:] and errors[0].startswith("batikstudio: error: cannot write")
        assert phrase in errors[0] and str(folder) in errors[0]
        monkeypatch.undo()
        folder.chmod(stat.S_IRWXU)
        assert not [n for n in os.listdir(folder) if n.endswith(".part")]
