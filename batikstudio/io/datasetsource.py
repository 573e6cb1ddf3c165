"""Where a data set's images come from: a folder or a zip, read without extracting.

Guards against zip bombs (total size cap), unsafe member names (traversal, absolute paths,
symlinks, encryption) and OS litter; derives class labels from top-level folders.
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from batikstudio.errors import DatasetError
from batikstudio.io.datasetreader import LABELS_FILE


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Entry:
    name: str  # posix path relative to the source root
    size: int
    unsafe: str | None = None  # why the name cannot be used, if it cannot


class Source:
    """Lists and reads the files of a folder or a zip, read-only, without extracting."""

    def __init__(self, path: Path, max_total_bytes: int) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        if path.is_dir():
            self.entries = self._list_folder()
        elif path.is_file() and path.suffix.lower() == ".zip":
            try:
                self._zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise DatasetError(f"cannot open {path} as a zip: {exc}") from exc
            self.entries = self._list_zip(max_total_bytes)
        elif path.exists():
            raise DatasetError(f"{path} is neither a folder nor a .zip file")
        else:
            raise DatasetError(f"{path} does not exist")

    def _list_folder(self) -> list[Entry]:
        out = []
        for root, dirs, files in os.walk(self.path):
            dirs.sort()
            for fname in files:
                full = Path(root) / fname
                try:
                    size = full.stat().st_size
                except OSError:
                    size = 0  # reading it will report the problem
                out.append(Entry(full.relative_to(self.path).as_posix(), size))
        return sorted(out, key=lambda e: e.name)

    def _list_zip(self, max_total_bytes: int) -> list[Entry]:
        assert self._zip is not None
        infos = [i for i in self._zip.infolist() if not i.is_dir()]
        total = sum(i.file_size for i in infos)
        if total > max_total_bytes:
            self.close()
            raise DatasetError(f"{self.path} would unpack to {total / 2**30:.1f} GiB, over the "
                               f"{max_total_bytes / 2**30:.1f} GiB limit (zip bomb guard)")
        return sorted((Entry(i.filename, i.file_size, unsafe_member(i)) for i in infos),
                      key=lambda e: e.name)

    @property
    def is_zip(self) -> bool:
        return self._zip is not None

    def read(self, name: str) -> bytes:
        """The bytes of one file; OSError / zipfile errors propagate to the caller."""
        if self._zip is not None:
            return self._zip.read(name)
        return (self.path / name).read_bytes()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None


def unsafe_member(info: zipfile.ZipInfo) -> str | None:
    """Why a zip entry's name or kind is unsafe to use, or None."""
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "absolute path in archive"
    if ".." in parts:
        return "path leads outside the archive ('..')"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symbolic link in archive"
    if info.flag_bits & 0x1:
        return "encrypted entry"
    return None


def class_key(name: str, strip_root: str | None) -> str | None:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if strip_root is not None and parts and parts[0] == strip_root:
        parts = parts[1:]
    return parts[0] if len(parts) >= 2 else None


def common_root(entries: list[Entry]) -> str | None:
    """The one folder every zip entry sits in (zipping a folder adds one), or None."""
    names = [e.name.replace("\\", "/") for e in entries
             if e.unsafe is None and not is_os_litter(e.name)]
    roots = {PurePosixPath(n).parts[0] for n in names}
    if len(roots) == 1 and all("/" in n for n in names):
        return roots.pop()
    return None


def is_os_litter(name: str) -> bool:
    """macOS resource forks and folder metadata that zips often carry."""
    base = PurePosixPath(name).name
    return name.startswith("__MACOSX/") or base.startswith("._") or base == ".DS_Store"


def source_labels(src: Source) -> tuple[dict[str, int] | None, tuple[str, ...] | None, str]:
    """Integer class labels from a ``dataset.json`` at the source root (NVlabs layout)."""
    if not any(e.name == LABELS_FILE for e in src.entries):
        return None, None, ""
    try:
        meta = json.loads(src.read(LABELS_FILE))
        labels = meta.get("labels")
        if labels is None:
            return None, None, ""
        mapping = {str(n).replace("\\", "/"): int(v) for n, v in labels}
    except (OSError, ValueError, TypeError, AttributeError, zipfile.BadZipFile) as exc:
        return None, None, f"source {LABELS_FILE} ignored: {exc}"
    names = meta.get("class_names")
    if not isinstance(names, list) or len(names) <= max(mapping.values(), default=-1):
        names = [str(i) for i in range(max(mapping.values(), default=-1) + 1)]
    return mapping, tuple(str(n) for n in names), f"labels taken from the source's {LABELS_FILE}"
