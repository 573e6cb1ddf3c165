"""Jobs behind the Post-processing tab (no Qt): filter + dye preview, dye folder export.

The pipeline is: base image (the motif, or its style-transfer result) -> artifact filter
(optional) -> dye layers (optional). :func:`post_provenance` records each step under
``"filters"`` on top of the render provenance, in the same form as the ``filter`` / ``dyes`` /
``style`` CLI commands.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from PIL import Image, UnidentifiedImageError

from batikstudio.errors import ExportError, ImageError
from batikstudio.imaging.artifact import ArtifactFilterParams, apply_artifact_filter
from batikstudio.imaging.colour import rgb_to_hex
from batikstudio.imaging.dyes import DyeSeparation, reduce_palette
from batikstudio.imaging.dyes_sheet import dye_sheet
from batikstudio.io.atomic import atomic_write_text
from batikstudio.io.provenance import save_image
from batikstudio.jobs import JobContext

SHEET_DPI = 100


@dataclass(frozen=True)
class DyeSettings:
    """Dye-layer settings: ``n_colors`` (2..8) by k-means, or a named ``palette``.

    Attributes:
        n_colors: number of dyes when ``palette`` is None.
        palette: palette name (see :func:`~batikstudio.imaging.palettes.palette_names`) or None.
        min_region: merge single-colour regions smaller than this many pixels (0 = off).
    """

    n_colors: int = 4
    palette: str | None = None
    min_region: int = 0

    def separate(self, img: np.ndarray) -> DyeSeparation:
        """Reduce ``img`` (HxWxC uint8) to dye layers with these settings."""
        if self.palette:
            return reduce_palette(img, palette=self.palette, min_region=self.min_region)
        return reduce_palette(img, n_colors=self.n_colors, min_region=self.min_region)


@dataclass(frozen=True, eq=False)
class PostRequest:
    """One preview of the pipeline.

    Attributes:
        image: HxWx3 uint8 base image (motif or stylised motif).
        artifact: artifact filter settings, or None to skip the filter.
        dyes: dye-layer settings, or None to skip the reduction.
    """

    image: np.ndarray
    artifact: ArtifactFilterParams | None = None
    dyes: DyeSettings | None = None


@dataclass(frozen=True, eq=False)
class PostResult:
    """The processed image (HxWx3 uint8) and the dye separation, when dyes were on."""

    image: np.ndarray
    separation: DyeSeparation | None = None


def post_process_job(req: PostRequest, ctx: JobContext) -> PostResult:
    """Job: artifact filter (optional), then dye layers (optional)."""
    img = req.image
    if req.artifact is not None:
        img = apply_artifact_filter(img, req.artifact)
        ctx.check()
    sep = None
    if req.dyes is not None:
        sep = req.dyes.separate(img)
        img = sep.recoloured
    return PostResult(img, sep)


def post_provenance(
    base: Mapping[str, Any], style: Mapping[str, Any] | None, artifact: ArtifactFilterParams | None,
    dyes: DyeSettings | None, separation: DyeSeparation | None,
) -> dict[str, Any]:
    """``base`` plus one ``"filters"`` entry per step that was applied, in order.

    >>> post_provenance({"seed": 1}, None, ArtifactFilterParams(), None, None)["filters"][0]["name"]
    'artifact'
    """
    steps: list[dict[str, Any]] = []
    if style is not None:
        steps.append({"name": "style", **style})
    if artifact is not None:
        steps.append({"name": "artifact", **artifact.to_dict()})
    if dyes is not None:
        entry: dict[str, Any] = {"name": "dyes", **asdict(dyes)}
        if separation is not None:
            entry["colors"] = [rgb_to_hex(c) for c in separation.colors]
        steps.append(entry)
    return {**base, "filters": [*base.get("filters", []), *steps]}


def read_rgb(path: str | Path) -> np.ndarray:
    """Read an image file as HxWx3 uint8 RGB.

    Raises:
        ImageError: missing file or not an image.
    """
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()
    except FileNotFoundError as exc:
        raise ImageError(f"{path}: no such file") from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageError(f"{path}: not a readable image ({exc})") from exc


def mask_image(mask: np.ndarray) -> np.ndarray:
    """bool HxW wax mask -> uint8 film positive: 0 (black) = wax, 255 = bare cloth.

    >>> mask_image(np.array([[True, False]])).tolist()
    [[0, 255]]
    """
    return np.where(mask, 0, 255).astype(np.uint8)


@dataclass(frozen=True, eq=False)
class DyeFolderRequest:
    """Write a separation into ``folder`` (created if missing) with ``provenance``."""

    folder: Path
    separation: DyeSeparation
    provenance: Mapping[str, Any]


def dye_folder_job(req: DyeFolderRequest, ctx: JobContext) -> list[Path]:
    """Job: ``recoloured.png``, ``mask_stage_K.png`` (black = wax), ``sheet.png``, ``palette.json``.

    Raises:
        ExportError: when the folder cannot be created or a file cannot be written.
    """
    sep, prov, folder = req.separation, dict(req.provenance), Path(req.folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create folder {folder}: {exc.strerror}") from exc
    total = sep.n_colors + 3
    written = [save_image(folder / "recoloured.png", sep.recoloured, prov)]
    for k, mask in enumerate(sep.wax_masks()):
        ctx.check()
        written.append(save_image(folder / f"mask_stage_{k}.png", mask_image(mask),
                                  {**prov, "wax_stage": k, "dye": rgb_to_hex(sep.colors[k])}))
        ctx.progress(k + 2, total)
    ctx.status("drawing the dye sheet")
    written.append(save_image(folder / "sheet.png", dye_sheet(sep), prov, dpi=SHEET_DPI))
    record = {**sep.to_dict(), "source_provenance": prov,
              "masks": [f"mask_stage_{k}.png" for k in range(sep.n_colors)],
              "mask_format": "black (0) = wax before this stage's bath, white = bare cloth"}
    path = folder / "palette.json"
    atomic_write_text(path, json.dumps(record, indent=2, default=str) + "\n")
    ctx.progress(total, total)
    return [Path(p) for p in written] + [path]
