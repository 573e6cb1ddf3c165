"""Training data sets: check and convert a messy image folder or zip, and read the result.

Layout written by :func:`build_dataset` (the same as stylegan2-ada-pytorch's
``dataset_tool.py``, so NVlabs code reads it and :func:`open_dataset` reads NVlabs zips)::

    00000/img00000000.png ... 00000/img00000999.png, 00001/img00001000.png, ...
    dataset.json   {"labels": [["00000/img00000000.png", 3], ...] or null,
                    "class_names": ["kawung", "parang", ...] or null}
    report.json    what was kept (source -> file, label, conversions) and skipped (reason)
    report.txt     the same for people

Images are square ``res x res`` PNGs, all RGB or all grayscale (L), 8 bit. The source is never
modified, and nothing is written inside it. Output is atomic: a zip is written to a temporary
file then renamed; a folder is built in a temporary sibling then renamed into place, so a
cancelled or failed build leaves no destination behind.

Jobs (``fn(request, ctx)``, see :mod:`batikstudio.jobs`): :func:`check_dataset` scans without
writing (for the app's wizard); :func:`build_dataset` scans and writes. Both return a
:class:`DatasetReport` and hand each preview over as ``ctx.partial(DatasetPreview)``.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image

from batikstudio.errors import DatasetError
from batikstudio.io.atomic import atomic_path
from batikstudio.io.imagefile import (
    CROP_MODES, DEFAULT_MAX_PIXELS, ImageRejected, SkipReason, decode_image,
    fit_to_square, is_image_name,
)
from batikstudio.io.datasetreader import LABELS_FILE, DatasetReader, open_dataset
from batikstudio.io.datasetsource import (
    Entry, Source, class_key, common_root, is_os_litter, source_labels,
)
from batikstudio.jobs import BaseContext, JobContext

__all__ = [
    "DatasetCheckRequest", "DatasetBuildRequest", "DatasetReport", "KeptFile", "SkippedFile",
    "DatasetPreview", "SkipReason", "check_dataset", "build_dataset", "DatasetReader",
    "open_dataset", "archive_name",
]

log = logging.getLogger(__name__)

REPORT_JSON = "report.json"
REPORT_TEXT = "report.txt"
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # identical inputs give identical zips


@dataclass(frozen=True)
class DatasetCheckRequest:
    """What to scan and how to convert it.

    Attributes:
        source: a folder or a ``.zip`` of images (any layout, any depth).
        res: output side in pixels, a power of two in [4, 4096].
        crop: ``center`` / ``random`` (seeded) / ``none`` (pad with white, nothing cut off);
            see :func:`batikstudio.io.imagefile.fit_to_square`.
        grayscale: write one channel (L) instead of RGB.
        labels_from_folders: class = top-level subfolder (sorted names -> 0, 1, ...). In a zip
            whose entries all sit in one folder, that folder is skipped over.
        min_size: skip images whose shorter side is smaller (default ``max(8, res // 4)``,
            at most ``res``).
        max_pixels: skip images with more pixels (decompression bombs); PIL's default.
        seed: for ``crop="random"``.
        max_file_bytes: skip files larger than this (512 MiB).
        max_total_bytes: refuse a zip that claims to unpack to more than this (32 GiB).
        num_previews: how many thumbnails the report carries.
        preview_size: thumbnail side in pixels.
    """

    source: str | os.PathLike[str]
    res: int = 256
    crop: str = "center"
    grayscale: bool = False
    labels_from_folders: bool = False
    min_size: int | None = None
    max_pixels: int = DEFAULT_MAX_PIXELS
    seed: int = 0
    max_file_bytes: int = 512 * 2**20
    max_total_bytes: int = 32 * 2**30
    num_previews: int = 8
    preview_size: int = 64

    def validated(self) -> "DatasetCheckRequest":
        """Return self after checking the options; raises DatasetError with a one-line reason."""
        if not (4 <= self.res <= 4096 and self.res & (self.res - 1) == 0):
            raise DatasetError(f"resolution must be a power of two from 4 to 4096, not {self.res}")
        if self.crop not in CROP_MODES:
            raise DatasetError(f"crop must be one of {', '.join(CROP_MODES)}, not {self.crop!r}")
        if self.min_size is not None and self.min_size < 1:
            raise DatasetError(f"minimum size must be at least 1 px, not {self.min_size}")
        if self.max_pixels < 1 or self.max_file_bytes < 1 or self.max_total_bytes < 1:
            raise DatasetError("size limits must be positive")
        return self

    @property
    def effective_min_size(self) -> int:
        """The minimum shorter side actually used, in pixels."""
        if self.min_size is not None:
            return self.min_size
        return min(self.res, max(8, self.res // 4))


@dataclass(frozen=True)
class DatasetBuildRequest:
    """Scan ``scan.source`` and write the data set to ``dest``.

    Attributes:
        scan: the options, as checked in the wizard.
        dest: a ``.zip`` file or a folder (any other suffix). Must not be inside the source.
        overwrite: replace an existing zip, or an existing folder that holds a data set
            (one with ``dataset.json``). A non-empty folder of anything else is never replaced.
        png_compress_level: 0 (none, fastest to read) to 9.
    """

    scan: DatasetCheckRequest
    dest: str | os.PathLike[str]
    overwrite: bool = False
    png_compress_level: int = 1


@dataclass(frozen=True)
class KeptFile:
    """A source file that went into the data set (``file`` is None for a check)."""

    source: str
    file: str | None
    label: int | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SkippedFile:
    """A source file left out, and why."""

    source: str
    reason: SkipReason
    detail: str


@dataclass(frozen=True)
class DatasetPreview:
    """One thumbnail sent as a partial result: ``pixels`` HWC uint8, C = 1 or 3."""

    source: str
    pixels: np.ndarray


@dataclass(frozen=True)
class DatasetReport:
    """The outcome of a check or a build.

    ``duplicates`` holds groups of source names with identical decoded pixels, the kept one
    first. ``previews`` are HWC uint8 thumbnails of the first kept images.
    """

    source: str
    dest: str | None
    resolution: int
    channels: int
    crop: str
    kept: tuple[KeptFile, ...]
    skipped: tuple[SkippedFile, ...]
    duplicates: tuple[tuple[str, ...], ...]
    class_names: tuple[str, ...] | None
    notes: tuple[str, ...] = ()
    previews: tuple[np.ndarray, ...] = field(default=(), repr=False, compare=False)

    @property
    def class_counts(self) -> dict[str, int]:
        """Kept images per class name (empty without labels)."""
        if not self.class_names:
            return {}
        counts = Counter(k.label for k in self.kept)
        return {name: counts.get(i, 0) for i, name in enumerate(self.class_names)}

    @property
    def reason_counts(self) -> dict[str, int]:
        """Skipped files per reason code."""
        return dict(Counter(s.reason.value for s in self.skipped))

    @property
    def conversion_counts(self) -> dict[str, int]:
        """How many kept files had each conversion note."""
        return dict(Counter(n for k in self.kept for n in k.notes))

    def summary(self) -> str:
        """A few lines: kept, skipped by reason, duplicates, classes, conversions."""
        kind = "grayscale" if self.channels == 1 else "RGB"
        total = len(self.kept) + len(self.skipped)
        lines = [f"kept {len(self.kept)} of {total} files -> {self.resolution}x{self.resolution}"
                 f" {kind}, crop {self.crop}" + (f", written to {self.dest}" if self.dest else "")]
        reasons = ", ".join(f"{n} {SkipReason(r).label}" for r, n in sorted(self.reason_counts.items()))
        lines.append(f"skipped {len(self.skipped)}" + (f": {reasons}" if reasons else ""))
        lines.append(f"duplicate groups: {len(self.duplicates)}")
        if self.class_names:
            lines.append("classes: " + ", ".join(f"{k} {v}" for k, v in self.class_counts.items()))
        for note, n in sorted(self.conversion_counts.items()):
            lines.append(f"  {n} x {note}")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)

    def to_text(self) -> str:
        """Summary plus one line per skipped file."""
        lines = [self.summary()]
        if self.skipped:
            lines.append("skipped files:")
            lines.extend(f"  {s.source}: {s.reason.label} ({s.detail})" for s in self.skipped)
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        """Everything but the previews, as JSON-ready values."""
        return {
            "source": self.source, "dest": self.dest, "resolution": self.resolution,
            "channels": self.channels, "crop": self.crop,
            "class_names": list(self.class_names) if self.class_names else None,
            "class_counts": self.class_counts, "skipped_by_reason": self.reason_counts,
            "conversions": self.conversion_counts, "notes": list(self.notes),
            "kept": [{"source": k.source, "file": k.file, "label": k.label, "notes": list(k.notes)}
                     for k in self.kept],
            "skipped": [{"source": s.source, "reason": s.reason.value, "detail": s.detail}
                        for s in self.skipped],
            "duplicates": [list(g) for g in self.duplicates],
        }


def archive_name(index: int) -> str:
    """The file name of image ``index`` in the NVlabs layout: ``00001/img00001234.png``."""
    return f"{index // 1000:05d}/img{index:08d}.png"


# --------------------------------------------------------------------------- scanning


@dataclass
class _ScanState:
    kept: list[tuple[str, Any, tuple[str, ...]]] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    first_by_hash: dict[bytes, str] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    previews: list[np.ndarray] = field(default_factory=list)


def _process(src: Source, entry: Entry, req: DatasetCheckRequest, state: _ScanState,
             label_key: Any) -> tuple[np.ndarray, tuple[str, ...]] | SkippedFile:
    """One file -> (res x res pixels, notes), or the reason it is skipped."""
    if entry.unsafe is not None:
        return SkippedFile(entry.name, SkipReason.UNSAFE_NAME, entry.unsafe)
    if is_os_litter(entry.name):
        return SkippedFile(entry.name, SkipReason.NOT_IMAGE, "macOS metadata file")
    if not is_image_name(entry.name):
        return SkippedFile(entry.name, SkipReason.NOT_IMAGE, "not an image file type")
    if req.labels_from_folders and label_key is None:
        return SkippedFile(entry.name, SkipReason.UNLABELLED, "not inside a class folder")
    if entry.size > req.max_file_bytes:
        return SkippedFile(entry.name, SkipReason.TOO_LARGE,
                           f"{entry.size:,} bytes is over the {req.max_file_bytes:,} byte limit")
    try:
        data = src.read(entry.name)
    except OSError as exc:
        return SkippedFile(entry.name, SkipReason.UNREADABLE, f"cannot read: {exc}")
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        return SkippedFile(entry.name, SkipReason.CORRUPT, f"damaged in the archive: {exc}")
    except NotImplementedError as exc:
        return SkippedFile(entry.name, SkipReason.UNSUPPORTED, f"archive entry: {exc}")
    try:
        img = decode_image(data, max_pixels=req.max_pixels, min_size=req.effective_min_size,
                           grayscale=req.grayscale, draft_side=req.res)
    except ImageRejected as exc:
        return SkippedFile(entry.name, exc.reason, exc.detail)
    digest = hashlib.blake2b(img.pixels.tobytes(), digest_size=16,
                             key=repr(img.pixels.shape).encode()).digest()
    first = state.first_by_hash.setdefault(digest, entry.name)
    if first != entry.name:
        state.groups.setdefault(first, [first]).append(entry.name)
        return SkippedFile(entry.name, SkipReason.DUPLICATE, f"same pixels as {first}")
    notes = img.notes
    if min(img.pixels.shape[:2]) < req.res and req.crop != "none":
        notes = notes + ("upscaled",)
    return fit_to_square(img.pixels, req.res, req.crop, req.seed, entry.name), notes


def _scan(req: DatasetCheckRequest, ctx: JobContext,
          sink: Callable[[int, np.ndarray], str] | None) -> DatasetReport:
    req.validated()
    src = Source(Path(req.source), req.max_total_bytes)
    try:
        notes: list[str] = []
        root = common_root(src.entries) if src.is_zip else None
        json_labels, json_names, json_note = (None, None, "")
        if not req.labels_from_folders:
            json_labels, json_names, json_note = source_labels(src)
        elif root is not None:
            notes.append(f"archive folder '{root}' is not a class; classes are its subfolders")
        if json_note:
            notes.append(json_note)
        state = _ScanState()
        total = len(src.entries)
        ctx.status(f"scanning {total} files in {src.path.name}")
        for i, entry in enumerate(src.entries):
            ctx.check()
            key = (class_key(entry.name, root) if req.labels_from_folders
                   else (json_labels or {}).get(entry.name))
            outcome = _process(src, entry, req, state, key)
            if isinstance(outcome, SkippedFile):
                state.skipped.append(outcome)
            else:
                pixels, file_notes = outcome
                written = sink(len(state.kept), pixels) if sink is not None else None
                state.kept.append((entry.name, (key, written), file_notes))
                _preview(req, ctx, state, entry.name, pixels)
            ctx.progress(i + 1, total)
        ctx.status(f"kept {len(state.kept)}, skipped {len(state.skipped)} of {total} files")
    finally:
        src.close()
    return _make_report(req, state, json_names, notes)


def _preview(req: DatasetCheckRequest, ctx: JobContext, state: _ScanState, name: str,
             pixels: np.ndarray) -> None:
    if len(state.previews) >= req.num_previews:
        return
    side = min(req.preview_size, req.res)
    im = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    thumb = np.asarray(im.resize((side, side), Image.Resampling.LANCZOS))
    thumb = thumb.reshape(side, side, pixels.shape[2])
    state.previews.append(thumb)
    ctx.partial(DatasetPreview(name, thumb))


def _make_report(req: DatasetCheckRequest, state: _ScanState,
                 json_names: tuple[str, ...] | None, notes: list[str]) -> DatasetReport:
    class_names: tuple[str, ...] | None = None
    index: dict[Any, int] = {}
    if req.labels_from_folders:
        class_names = tuple(sorted({key for _, (key, _), _ in state.kept}))
        index = {name: i for i, name in enumerate(class_names)}
    elif json_names is not None:
        class_names = json_names
        index = {i: i for i in range(len(json_names))}
    kept = tuple(KeptFile(src, written, index.get(key) if class_names else None, fnotes)
                 for src, (key, written), fnotes in state.kept)
    if class_names and any(k.label is None for k in kept):
        notes.append(f"some images have no label in the source's {LABELS_FILE}; labels dropped")
        class_names = None
        kept = tuple(KeptFile(k.source, k.file, None, k.notes) for k in kept)
    return DatasetReport(
        source=str(req.source), dest=None, resolution=req.res,
        channels=1 if req.grayscale else 3, crop=req.crop, kept=kept,
        skipped=tuple(state.skipped),
        duplicates=tuple(tuple(g) for g in state.groups.values()),
        class_names=class_names, notes=tuple(notes), previews=tuple(state.previews),
    )


def check_dataset(request: DatasetCheckRequest, ctx: JobContext | None = None) -> DatasetReport:
    """Scan ``request.source`` and report what a build would keep and skip; writes nothing.

    Every file is decoded and converted exactly as :func:`build_dataset` would, so a check
    finds truncated files, bombs and duplicates too. Progress is reported per file.

    Raises:
        DatasetError: the source is missing, not a folder or zip, or a zip bomb; bad options.
        Cancelled: when ``ctx`` is cancelled.
    """
    return _scan(request, ctx if ctx is not None else BaseContext(), sink=None)


# --------------------------------------------------------------------------- writing


def _check_paths(source: Path, dest: Path, overwrite: bool) -> None:
    src, dst = source.resolve(), dest.resolve()
    if dst == src or src in dst.parents:
        raise DatasetError(f"the destination {dest} must not be inside the source {source}")
    if dst in src.parents:
        raise DatasetError(f"the destination {dest} must not contain the source {source}")
    if dest.suffix.lower() == ".zip":
        if dest.is_dir():
            raise DatasetError(f"{dest} is a folder, not a zip file")
        if dest.exists() and not overwrite:
            raise DatasetError(f"{dest} already exists (use overwrite to replace it)")
        return
    if dest.exists() and not dest.is_dir():
        raise DatasetError(f"{dest} exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()):
        if not (dest / LABELS_FILE).is_file():
            raise DatasetError(f"{dest} is a non-empty folder that is not a data set; "
                               "choose an empty or new folder")
        if not overwrite:
            raise DatasetError(f"{dest} already holds a data set (use overwrite to replace it)")


class _Writer:
    """Puts named files into a zip or a folder under construction."""

    def __init__(self, put: Callable[[str, bytes], None], compress_level: int) -> None:
        self._put = put
        self._level = compress_level

    def add_image(self, index: int, pixels: np.ndarray) -> str:
        name = archive_name(index)
        im = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
        buf = io.BytesIO()
        im.save(buf, format="PNG", compress_level=self._level)
        self._put(name, buf.getvalue())
        return name

    def finish(self, report: DatasetReport) -> None:
        labels = ([[k.file, k.label] for k in report.kept] if report.class_names else None)
        meta = {"labels": labels,
                "class_names": list(report.class_names) if report.class_names else None}
        self._put(LABELS_FILE, json.dumps(meta, indent=0).encode())
        self._put(REPORT_JSON, json.dumps(report.to_json(), indent=1).encode())
        self._put(REPORT_TEXT, report.to_text().encode())


def build_dataset(request: DatasetBuildRequest, ctx: JobContext | None = None) -> DatasetReport:
    """Convert ``request.scan.source`` into a data set at ``request.dest`` (zip or folder).

    See the module docstring for the layout. The write is atomic: on error or cancel no
    destination is left (an existing one is untouched).

    Raises:
        DatasetError: bad paths (destination inside the source, existing destination without
            ``overwrite``), unusable source, or no usable image at all.
        ExportError: the destination cannot be written (disk full, permissions).
        Cancelled: when ``ctx`` is cancelled.
    """
    ctx = ctx if ctx is not None else BaseContext()
    req = request.scan.validated()
    dest = Path(request.dest)
    if not 0 <= request.png_compress_level <= 9:
        raise DatasetError("PNG compression level must be 0 to 9")
    _check_paths(Path(req.source), dest, request.overwrite)
    dest.parent.mkdir(parents=True, exist_ok=True)
    build = _build_zip if dest.suffix.lower() == ".zip" else _build_folder
    report = build(req, dest, request.png_compress_level, ctx)
    log.info("data set written to %s: %d images", dest, len(report.kept))
    return report


def _scan_and_write(req: DatasetCheckRequest, ctx: JobContext, writer: _Writer,
                    dest: Path) -> DatasetReport:
    report = _scan(req, ctx, sink=writer.add_image)
    if not report.kept:
        reasons = ", ".join(f"{n} {SkipReason(r).label}" for r, n in report.reason_counts.items())
        raise DatasetError(f"no usable images in {req.source}" + (f" ({reasons})" if reasons else ""))
    report = replace(report, dest=str(dest))
    writer.finish(report)
    return report


def _build_zip(req: DatasetCheckRequest, dest: Path, level: int, ctx: JobContext) -> DatasetReport:
    with atomic_path(dest) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            def put(name: str, data: bytes) -> None:
                zf.writestr(zipfile.ZipInfo(name, _FIXED_ZIP_TIME), data)
            report = _scan_and_write(req, ctx, _Writer(put, level), dest)
    return report


def _build_folder(req: DatasetCheckRequest, dest: Path, level: int,
                  ctx: JobContext) -> DatasetReport:
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent))
    try:
        def put(name: str, data: bytes) -> None:
            target = tmp / name
            target.parent.mkdir(exist_ok=True)
            target.write_bytes(data)
        report = _scan_and_write(req, ctx, _Writer(put, level), dest)
        _move_into_place(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return report


def _move_into_place(tmp: Path, dest: Path) -> None:
    """Rename the finished folder over ``dest`` (an empty folder or an old data set)."""
    old = None
    if dest.is_dir():
        if any(dest.iterdir()):
            old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
            os.replace(dest, old / "data")
        else:
            dest.rmdir()
    os.replace(tmp, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
