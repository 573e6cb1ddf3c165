"""Write labelled image data sets in the stylegan2-ada-pytorch layout, atomically.

Layout (a folder, or the same inside a ``.zip``)::

    00000/img00000000.png ... 00000/img00000999.png, 00001/img00001000.png ...
    dataset.json = {"labels": [["00000/img00000000.png", 3], ...], "class_names": ["parang", ...]}

NVlabs' loader reads ``labels`` and ignores the extra ``class_names`` key. Nothing appears at the
destination until the last file is written: a folder is built under a hidden temporary name
and renamed; a zip is written to a temporary file and renamed (``io.atomic``). A failure or a
cancelled job removes the temporary data.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from contextlib import ExitStack
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from batikstudio.errors import DatasetError
from batikstudio.io.atomic import atomic_path


def image_name(index: int) -> str:
    """``1234`` -> ``"00001/img00001234.png"`` (1000 images per folder, as NVlabs)."""
    return f"{index // 1000:05d}/img{index:08d}.png"


def encode_png(img: np.ndarray) -> bytes:
    """PNG bytes of an HW (gray) or HWC RGB uint8 image."""
    if img.dtype != np.uint8 or img.ndim not in (2, 3):
        raise ValueError(f"expected an HW or HWC uint8 image, got {img.dtype} {img.shape}")
    arr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if img.ndim == 3 else img
    ok, buf = cv2.imencode(".png", arr)
    if not ok:
        raise DatasetError("could not encode a PNG image")
    return buf.tobytes()


class DatasetWriter:
    """Collects images and labels, then publishes the data set in one atomic step.

    Use as a context manager and call :meth:`finish` inside it; leaving the block without
    ``finish`` (an exception, a cancelled job) discards everything written so far.

    Args:
        dst: destination folder, or a path ending in ``.zip``.

    Raises:
        DatasetError: the destination exists (a folder must not exist yet) or its parent
            folder is missing.
    """

    def __init__(self, dst: str | os.PathLike[str]) -> None:
        self.dst = Path(dst)
        self.is_zip = self.dst.suffix.lower() == ".zip"
        if not self.dst.parent.is_dir():
            raise DatasetError(f"cannot write {self.dst}: folder {self.dst.parent} does not exist")
        if self.dst.exists() and not self.is_zip:
            raise DatasetError(f"{self.dst} already exists; choose a new folder name")
        self.labels: list[list] = []
        self.chars: list[str] = []  # the character each image shows (calligraphy), if given
        self._stack = ExitStack()
        self._zip: zipfile.ZipFile | None = None
        self._tmpdir: Path | None = None
        self._finished = False

    def __enter__(self) -> "DatasetWriter":
        if self.is_zip:
            tmp = self._stack.enter_context(atomic_path(self.dst))
            self._zip = self._stack.enter_context(zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED))
        else:
            self._tmpdir = Path(tempfile.mkdtemp(prefix=f".{self.dst.name}.", suffix=".part",
                                                 dir=self.dst.parent))
        return self

    def add(self, img: np.ndarray, label: int, char: str | None = None) -> str:
        """Append one image with its class index (and, for glyphs, the character it shows);
        returns its path inside the data set. Give ``char`` for every image or for none."""
        if (char is None) != (not self.chars) and self.labels:
            raise ValueError("give the character of every image of a data set, or of none")
        if char is not None and len(char) != 1:
            raise ValueError(f"one character per image, got {char!r}")
        name = image_name(len(self.labels))
        data = encode_png(img)
        if self._zip is not None:
            self._zip.writestr(name, data)
        else:
            assert self._tmpdir is not None
            path = self._tmpdir / name
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(data)
        self.labels.append([name, int(label)])
        if char is not None:
            self.chars.append(char)
        return name

    def _publish(self, classes: Sequence[str], extra: dict | None) -> None:
        content: dict = {"labels": self.labels, "class_names": list(classes), **(extra or {})}
        if self.chars:
            content["characters"] = "".join(self.chars)  # ours: the character of each labelled image, in order
        meta = json.dumps(content, ensure_ascii=False)
        if self._zip is not None:
            self._zip.writestr("dataset.json", meta)
            return
        assert self._tmpdir is not None
        (self._tmpdir / "dataset.json").write_text(meta, encoding="utf-8")
        if self.dst.exists():
            raise DatasetError(f"{self.dst} appeared while writing; data left in {self._tmpdir}")
        os.replace(self._tmpdir, self.dst)
        self._tmpdir = None

    def finish(self, classes: Sequence[str], extra: dict | None = None) -> None:
        """Write ``dataset.json`` (labels + class names, and the keys of ``extra``, which say
        how the data was made) and publish the data set."""
        self._publish(classes, extra)
        self._stack.close()  # closes the zip, then renames the temporary file
        self._finished = True

    def __exit__(self, exc_type, exc, tb) -> bool:
        if not self._finished:  # an error, a cancelled job, or no finish(): discard
            reason = exc if exc is not None else DatasetError("data set not finished")
            if self._zip is not None:
                self._stack.__exit__(type(reason), reason, reason.__traceback__)
            if self._tmpdir is not None:
                shutil.rmtree(self._tmpdir, ignore_errors=True)
        return False


def read_labels(path: str | os.PathLike[str]) -> dict:
    """Read ``dataset.json`` of a data set folder or zip (for checks and tests)."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as zf:
                return json.loads(zf.read("dataset.json"))
        return json.loads((path / "dataset.json").read_text(encoding="utf-8"))
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise DatasetError(f"cannot read the labels of {path}: {exc}") from exc
