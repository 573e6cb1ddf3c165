"""Job: render a labelled procedural motif data set (stylegan2-ada-pytorch layout)."""

from __future__ import annotations

import logging
import multiprocessing
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Iterator

import cv2
import numpy as np

from batikstudio.jobs import JobContext
from batikstudio.motifs.colours import get_palette
from batikstudio.motifs.dataset import DatasetWriter
from batikstudio.motifs.families import FAMILIES
from batikstudio.motifs.generate import MAX_RES, MIN_RES, get_family, render_motif
from batikstudio.motifs.spec import LATEST_EDITION, check_edition

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MotifDatasetRequest:
    """What to render.

    Attributes:
        dst: output folder, or a path ending in ``.zip``.
        count: number of images (>= 1).
        res: image size in pixels.
        families: family names, in class-index order (default: every registered family).
        seed: first seed; image ``i`` is family ``i % F`` with seed ``seed + i // F``.
        palette: force one palette for every image (default: typical palettes per family).
        workers: processes that render at once (1: render in this process). The images are
            the same whatever the count: each depends only on its family and seed.
        edition: the motif generator edition (recorded in ``dataset.json`` as ``motif_edition``).
    """

    dst: str
    count: int
    res: int = 256
    families: tuple[str, ...] = tuple(FAMILIES)
    seed: int = 0
    palette: str | None = None
    workers: int = 1
    edition: int = LATEST_EDITION

    def validate(self) -> None:
        """Raise ``ValueError`` with a one-line reason for a bad request."""
        if self.count < 1:
            raise ValueError(f"count must be >= 1, got {self.count}")
        if not MIN_RES <= self.res <= MAX_RES:
            raise ValueError(f"res must be {MIN_RES}..{MAX_RES}, got {self.res}")
        if not self.families:
            raise ValueError("at least one family is needed")
        if len(set(self.families)) != len(self.families):
            raise ValueError("families are listed twice")
        for name in self.families:
            get_family(name)
        if self.palette is not None:
            get_palette(self.palette)
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        if not 1 <= self.workers <= 256:
            raise ValueError(f"workers must be 1..256, got {self.workers}")
        check_edition(self.edition)

    def motif(self, i: int) -> tuple[str, int, int, str | None, int]:
        """``render_motif`` arguments of image ``i`` (family, seed, res, palette, edition)."""
        fams = self.families
        return fams[i % len(fams)], self.seed + i // len(fams), self.res, self.palette, self.edition


@dataclass(frozen=True)
class MotifDatasetResult:
    path: str
    count: int
    classes: tuple[str, ...]


def _one_thread() -> None:
    cv2.setNumThreads(1)  # each worker process is one of the parallel streams


def _render(args: tuple[str, int, int, str | None, int]) -> np.ndarray:
    return render_motif(*args)


def rendered_motifs(request: MotifDatasetRequest) -> Iterator[np.ndarray]:
    """The request's images in order, rendered by ``request.workers`` processes.

    At most ``8 * workers`` images are in flight; closing the iterator (a cancelled job)
    drops the queued ones and ends the worker processes.
    """
    if request.workers == 1:
        for i in range(request.count):
            yield render_motif(*request.motif(i))
        return
    # spawn, not fork: the caller may be a Qt application with threads running
    pool = ProcessPoolExecutor(request.workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_one_thread)
    pending: deque[Future] = deque()
    try:
        for i in range(request.count):
            pending.append(pool.submit(_render, request.motif(i)))
            if len(pending) >= 8 * request.workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def make_motif_dataset(request: MotifDatasetRequest, ctx: JobContext) -> MotifDatasetResult:
    """Render ``request.count`` motifs, balanced round-robin over the families, and write
    them with ``dataset.json`` (labels = family index, ``classes`` = family names).

    Reports progress per image, hands the first image over as a partial result, and stops
    at the next image once cancelled (raising ``Cancelled``; nothing is left at ``dst``).
    """
    request.validate()
    fams = request.families
    ctx.status(f"rendering {request.count} motifs of {len(fams)} families at {request.res} px")
    images = rendered_motifs(request)
    with DatasetWriter(request.dst) as writer:
        try:
            for i, img in enumerate(images):
                ctx.check()
                writer.add(img, i % len(fams))
                if i == 0:
                    ctx.partial(img)
                ctx.progress(i + 1, request.count)
        finally:
            images.close()
        ctx.status("writing dataset.json")
        writer.finish(fams, {"motif_edition": request.edition})
    log.info("wrote %d motifs to %s", request.count, request.dst)
    return MotifDatasetResult(request.dst, request.count, tuple(fams))
