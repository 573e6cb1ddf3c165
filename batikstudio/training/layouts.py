"""Layouts of a data set, for training a character model (``--layout``) or a structure model
(``--layout`` with ``--layout-source images``).

Every image of a calligraphy data set names the character it shows (``dataset.json``'s
``"characters"``, written by ``batikstudio calligraphy-data``). A character's layout is the mean
ink of all its images (one per font) at ``layout_res`` px, standardised; the generator is shown
that layout with every image of the character, real or generated, and so learns to write the
character asked for in the style of the requested class (see :mod:`batikstudio.core.nets.layout`).

A structure model takes each image's own layout (its darkness at ``layout_res`` px, standardised)
and keeps the whole table with each row's class: a seed then draws one layout of its class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from batikstudio.core.nets.layout import ink_layouts, standardise_layouts
from batikstudio.errors import DatasetError

__all__ = ["DataLayouts", "data_layouts", "fill_layout_table", "image_layouts"]


@dataclass(frozen=True)
class DataLayouts:
    """Attributes: ``res`` (layout side), ``chars`` (the table's characters, in order of first
    appearance; '' for a structure model), ``table`` ``[rows, res ** 2]`` float32, ``image_rows``
    ``[N]`` the table row of each image of the data set, ``classes`` ``[rows]`` the class of
    each row of a structure model (else None)."""

    res: int
    chars: str
    table: np.ndarray
    image_rows: np.ndarray
    classes: np.ndarray | None = None

    @property
    def rows(self) -> int:
        """Size of the table."""
        return len(self.table)

    def image_layouts(self) -> np.ndarray:
        """``[N, res ** 2]``: the layout shown with each image."""
        return self.table[self.image_rows]


def _image_batches(dataset: Any, batch: int):
    """``(indices, NCHW uint8 images)`` over the whole data set."""
    for start in range(0, len(dataset), batch):
        idx = np.arange(start, min(start + batch, len(dataset)))
        images = np.stack([np.asarray(dataset[int(i)][0]) for i in idx])  # NHWC (or NHW) uint8
        images = images[..., None] if images.ndim == 3 else images
        yield idx, images.transpose(0, 3, 1, 2)


def _check_res(dataset: Any, res: int) -> None:
    if int(dataset.resolution) < res or int(dataset.resolution) % res:
        raise DatasetError(f"{dataset.resolution} px images cannot give {res} px layouts")


def image_layouts(dataset: Any, res: int, batch: int = 512) -> DataLayouts:
    """A structure model's table: each image's own layout, with its class (reads all images once).

    Raises:
        DatasetError: images smaller than the layout, or a data set without integer class labels.
    """
    _check_res(dataset, res)
    labels = np.asarray(getattr(dataset, "labels", np.zeros(0)))
    if labels.ndim != 1 or len(labels) != len(dataset):
        raise DatasetError("a structure model needs one class label (or none) per image")
    classes = np.where(labels >= 0, labels, 0).astype(np.int64)
    table = np.zeros((len(dataset), res * res), np.float32)
    for idx, images in _image_batches(dataset, batch):
        table[idx] = ink_layouts(images, res)
    rows = np.arange(len(dataset), dtype=np.int64)
    return DataLayouts(res=res, chars="", table=standardise_layouts(table), image_rows=rows, classes=classes)


def data_layouts(dataset: Any, res: int, batch: int = 512) -> DataLayouts:
    """Layouts of every character of ``dataset`` (reads all its images once).

    Raises:
        DatasetError: the data set does not name the character of each image, or its images
            are smaller than the layout.
    """
    chars = getattr(dataset, "characters", None)
    if not chars:
        raise DatasetError("a character model (--layout) needs a data set that names the character of each "
                           "image: make one with `batikstudio calligraphy-data`")
    if len(chars) != len(dataset):
        raise DatasetError(f"the data set names {len(chars)} characters for {len(dataset)} images")
    _check_res(dataset, res)
    order: dict[str, int] = {}
    for ch in chars:
        order.setdefault(ch, len(order))
    rows = np.fromiter((order[ch] for ch in chars), dtype=np.int64, count=len(chars))
    sums = np.zeros((len(order), res * res), np.float64)
    for idx, images in _image_batches(dataset, batch):
        np.add.at(sums, rows[idx], ink_layouts(images, res))
    counts = np.bincount(rows, minlength=len(order)).astype(np.float64)
    table = standardise_layouts(sums / counts[:, None])
    return DataLayouts(res=res, chars="".join(order), table=table, image_rows=rows)


def fill_layout_table(G: torch.nn.Module, layouts: DataLayouts) -> None:
    """Write the data's characters (or classes) and layouts into a model's table (in place).

    Raises:
        ValueError: the model's table has another size, layout resolution or kind.
    """
    cfg = G.cfg
    if (cfg.layout_res, cfg.layout_chars) != (layouts.res, layouts.rows):
        raise ValueError(f"the model's table is {cfg.layout_chars} rows at {cfg.layout_res} px; the data "
                         f"has {layouts.rows} at {layouts.res} px")
    if bool(cfg.layout_by_class) != (layouts.classes is not None):
        raise ValueError("a structure model's table holds motif layouts by class, a character model's characters")
    with torch.no_grad():
        if layouts.classes is not None:
            G.layout_classes.copy_(torch.from_numpy(layouts.classes))
        else:
            G.layout_codepoints.copy_(torch.tensor([ord(ch) for ch in layouts.chars], dtype=torch.int64))
        G.layout_table.copy_(torch.from_numpy(layouts.table))
