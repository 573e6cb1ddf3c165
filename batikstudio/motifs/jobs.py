"""Job: render a labelled procedural motif data set (stylegan2-ada-pytorch layout)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from batikstudio.jobs import JobContext
from batikstudio.motifs.colours import get_palette
from batikstudio.motifs.dataset import DatasetWriter
from batikstudio.motifs.families import FAMILIES
from batikstudio.motifs.generate import MAX_RES, MIN_RES, get_family, render_motif

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
    """

    dst: str
    count: int
    res: int = 256
    families: tuple[str, ...] = tuple(FAMILIES)
    seed: int = 0
    palette: str | None = None

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


@dataclass(frozen=True)
class MotifDatasetResult:
    path: str
    count: int
    classes: tuple[str, ...]


def make_motif_dataset(request: MotifDatasetRequest, ctx: JobContext) -> MotifDatasetResult:
    """Render ``request.count`` motifs, balanced round-robin over the families, and write
    them with ``dataset.json`` (labels = family index, ``classes`` = family names).

    Reports progress per image, hands the first image over as a partial result, and stops
    at the next image once cancelled (raising ``Cancelled``; nothing is left at ``dst``).
    """
    request.validate()
    fams = request.families
    ctx.status(f"rendering {request.count} motifs of {len(fams)} families at {request.res} px")
    with DatasetWriter(request.dst) as writer:
        for i in range(request.count):
            ctx.check()
            cls = i % len(fams)
            img = render_motif(fams[cls], request.seed + i // len(fams), request.res,
                               request.palette)
            writer.add(img, cls)
            if i == 0:
                ctx.partial(img)
            ctx.progress(i + 1, request.count)
        ctx.status("writing dataset.json")
        writer.finish(fams)
    log.info("wrote %d motifs to %s", request.count, request.dst)
    return MotifDatasetResult(request.dst, request.count, tuple(fams))
