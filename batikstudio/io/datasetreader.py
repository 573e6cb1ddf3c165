"""Lazy reading of a converted data set (folder or zip in the stylegan2-ada-pytorch layout).

Reads what :func:`batikstudio.io.dataset.build_dataset` writes and NVlabs ``dataset_tool.py``
zips alike: every file with an image extension, sorted by name, plus labels from the
``dataset.json`` at the root (``{"labels": [[name, int or [floats]], ...] or null}``, with our
optional ``"class_names"``). For the trainer and metrics::

    ds = open_dataset("batik.zip")
    img, label = ds[0]          # HWC uint8 (res, res, C); int class (-1 = none)
    ds.resolution, ds.channels, ds.class_names, ds.labels
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from PIL import Image

from batikstudio.errors import DatasetError
from batikstudio.io.imagefile import ALLOWED_FORMATS, is_image_name

__all__ = ["DatasetReader", "open_dataset", "LABELS_FILE"]

LABELS_FILE = "dataset.json"

class DatasetReader:
    """Lazy random access to a data set folder or zip in the NVlabs layout.

    ``ds[i]`` returns ``(img, label)``: ``img`` HWC uint8 of shape (res, res, C), C = 1 or 3;
    ``label`` an int class index (-1 without labels) or a float32 vector for NVlabs data sets
    with vector labels. Images are every file with an image extension, sorted by name.
    Safe to pickle into DataLoader workers (the zip is reopened per process).

    Raises:
        DatasetError: missing path, no images, non-square or mixed-size images, bad labels.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self._zip_pid = -1
        self._is_dir = self.path.is_dir()
        if self._is_dir:
            names = [p.relative_to(self.path).as_posix() for p in self.path.rglob("*")
                     if p.is_file()]
        elif self.path.is_file() and self.path.suffix.lower() == ".zip":
            names = [n for n in self._zipfile().namelist() if not n.endswith("/")]
        else:
            raise DatasetError(f"{self.path} is not a data set folder or .zip file")
        self.image_names: tuple[str, ...] = tuple(sorted(n for n in names if is_image_name(n)))
        if not self.image_names:
            raise DatasetError(f"no images in {self.path}")
        first = self._load(0, check=False)
        if first.shape[0] != first.shape[1]:
            raise DatasetError(f"{self.image_names[0]} is not square: {first.shape[1]}x"
                               f"{first.shape[0]}")
        self.resolution: int = int(first.shape[0])
        self.channels: int = int(first.shape[2])
        self.characters: str | None = None  # per image, in image order (calligraphy data sets)
        self.labels, self.class_names = self._read_labels(LABELS_FILE in names)

    def _zipfile(self) -> zipfile.ZipFile:
        if self._zip is None or self._zip_pid != os.getpid():
            try:
                self._zip = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise DatasetError(f"cannot open {self.path} as a zip: {exc}") from exc
            self._zip_pid = os.getpid()
        return self._zip

    def _read(self, name: str) -> bytes:
        if self._is_dir:
            return (self.path / name).read_bytes()
        return self._zipfile().read(name)

    def _read_labels(self, present: bool) -> tuple[np.ndarray, tuple[str, ...] | None]:
        n = len(self.image_names)
        if not present:
            return np.full(n, -1, np.int64), None
        try:
            meta = json.loads(self._read(LABELS_FILE))
            raw = meta.get("labels")
            if raw is None:
                return np.full(n, -1, np.int64), None
            table = {str(k).replace("\\", "/"): v for k, v in raw}
            values = np.asarray([table[name] for name in self.image_names])
            self.characters = self._read_characters(meta.get("characters"), raw)
        except KeyError as exc:
            raise DatasetError(f"{LABELS_FILE} has no label for {exc.args[0]}") from exc
        except (ValueError, TypeError, AttributeError) as exc:
            raise DatasetError(f"{self.path}: {LABELS_FILE} is not valid: {exc}") from exc
        if values.ndim == 1:
            labels = values.astype(np.int64)
            if labels.min() < 0:
                raise DatasetError(f"{LABELS_FILE} has negative class labels")
            names = meta.get("class_names", meta.get("classes"))  # "classes": older motif sets
            count = int(labels.max()) + 1
            if not isinstance(names, list) or len(names) < count:
                names = [str(i) for i in range(count)]
            return labels, tuple(str(x) for x in names)
        return values.astype(np.float32), None

    def _read_characters(self, chars: Any, raw: list) -> str | None:
        """Our ``"characters"`` key: one character per entry of ``labels``, put in image order."""
        if chars is None:
            return None
        if not isinstance(chars, str) or len(chars) != len(raw):
            raise DatasetError(f"{self.path}: {LABELS_FILE} has {len(chars) if isinstance(chars, str) else 'no'} "
                               f"characters for {len(raw)} labelled images")
        by_name = {str(k).replace("\\", "/"): ch for (k, _), ch in zip(raw, chars)}
        return "".join(by_name[name] for name in self.image_names)

    def _load(self, index: int, check: bool = True) -> np.ndarray:
        name = self.image_names[index]
        try:
            with Image.open(io.BytesIO(self._read(name)), formats=ALLOWED_FORMATS) as im:
                if check and im.size != (self.resolution, self.resolution):
                    raise DatasetError(f"{name} is {im.size[0]}x{im.size[1]}, expected "
                                       f"{self.resolution}x{self.resolution}")
                im = im if im.mode in ("L", "RGB") else im.convert("RGB")
                img = np.asarray(im, dtype=np.uint8)
        except (OSError, ValueError, zipfile.BadZipFile, Image.DecompressionBombError) as exc:
            raise DatasetError(f"cannot read {name} in {self.path}: {exc}") from exc
        img = img[:, :, None] if img.ndim == 2 else img
        if check and img.shape[2] != self.channels:
            raise DatasetError(f"{name} has {img.shape[2]} channels, expected {self.channels}")
        return img

    def __len__(self) -> int:
        return len(self.image_names)

    def __getitem__(self, index: int) -> tuple[np.ndarray, Any]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"image {index} out of range for {len(self)} images")
        index %= len(self)
        label = self.labels[index]
        return self._load(index), (int(label) if label.ndim == 0 else label.copy())

    def __iter__(self) -> Iterator[tuple[np.ndarray, Any]]:
        return (self[i] for i in range(len(self)))

    @property
    def has_labels(self) -> bool:
        """True if images carry class or vector labels."""
        return self.labels.ndim == 2 or bool(len(self.labels) and self.labels.min() >= 0)

    @property
    def label_dim(self) -> int:
        """Width of the conditioning vector: number of classes, vector size, or 0."""
        if not self.has_labels:
            return 0
        if self.labels.ndim == 2:
            return int(self.labels.shape[1])
        return max(len(self.class_names or ()), int(self.labels.max()) + 1)

    def label_vector(self, index: int) -> np.ndarray:
        """float32 [label_dim]: one-hot class, the stored vector, or empty."""
        if self.labels.ndim == 2:
            return self.labels[index].copy()
        out = np.zeros(self.label_dim, np.float32)
        if self.label_dim:
            out[self.labels[index]] = 1.0
        return out

    def batch(self, indices: Any) -> tuple[np.ndarray, np.ndarray]:
        """Images as NCHW uint8 [N, C, res, res] and their labels (``labels[indices]``)."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        imgs = np.stack([self._load(int(i)) for i in idx]) if len(idx) else np.zeros(
            (0, self.resolution, self.resolution, self.channels), np.uint8)
        return np.ascontiguousarray(imgs.transpose(0, 3, 1, 2)), self.labels[idx]

    def close(self) -> None:
        """Close the zip, if any (reading again reopens it)."""
        if self._zip is not None:
            self._zip.close()
            self._zip = None

    def __enter__(self) -> "DatasetReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_zip": None, "_zip_pid": -1}


def open_dataset(path: str | os.PathLike[str]) -> DatasetReader:
    """Open a data set folder or zip (ours or NVlabs'): ``ds = open_dataset(p); img, y = ds[0]``."""
    return DatasetReader(path)
