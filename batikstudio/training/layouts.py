"""Layouts of a data set, for training a character model (``--layout``) or a structure model
(``--layout`` with ``--layout-source images``).

Every image of a calligraphy data set names the character it shows (``dataset.json``'s
``"characters"``, written by ``batikstudio calligraphy-data``). A character's layout is the mean
ink of all its images (one per font) at ``layout_res`` px, standardised; the generator is shown
that layout with every image of the character, real or generated, and so learns to write the
character asked for in the style of the requested class (see :mod:`batikstudio.core.nets.layout`).

A structure model takes each image's own layout (its darkness at ``layout_res`` px, standardised)
and keeps the whole table with each row's class: a seed then draws one layout of its class.
A model grown to larger images can keep the table of the smaller ones (:func:`matched_layouts`):
the layers it keeps learned to read those.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from batikstudio.core.nets.layout import ink_layouts, standardise_layouts
from batikstudio.errors import DatasetError, ModelFileError

__all__ = ["DataLayouts", "data_layouts", "fill_layout_table", "image_layouts", "matched_layouts",
           "stored_layouts"]

#: the least median correlation between a model's layouts and the data set's own images for
#: :func:`matched_layouts` (the batik motifs at 64 and 128 px: 0.99; other images: about 0)
MIN_LAYOUT_MATCH = 0.9


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


def stored_layouts(path: Any, net: str = "G_ema") -> tuple[np.ndarray, np.ndarray]:
    """``(table [rows, side ** 2] float32, classes [rows])``: the motif layouts a structure model's
    file (or a training snapshot) holds for ``net``.

    Raises:
        ModelFileError: not a readable safetensors file.
        DatasetError: the file holds no motif layouts (not a structure model).
    """
    from safetensors import SafetensorError, safe_open

    keys = (f"{net}.layout_table", f"{net}.layout_classes")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            if not set(keys) <= set(fh.keys()):
                raise DatasetError(f"{path} holds no motif layouts: it is not a structure model "
                                   "(one trained with --layout-source images)")
            table, classes = (fh.get_tensor(k) for k in keys)
    except (SafetensorError, OSError) as exc:
        raise ModelFileError(f"cannot read the layouts of {path}: {exc}") from exc
    return table.float().numpy(), classes.numpy().astype(np.int64)


def _row_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return (a * b).sum(axis=1) / np.where(norm > 1e-12, norm, 1.0)


def matched_layouts(data: DataLayouts, table: np.ndarray, classes: np.ndarray, source: str) -> DataLayouts:
    """A structure model's layouts (``table`` and its rows' ``classes``, e.g. from
    :func:`stored_layouts`) in place of the data set's own (``data``, from :func:`image_layouts`),
    once they are shown to belong to the same images: each row the layout of the same motif,
    drawn at another resolution.

    Raises:
        DatasetError: ``data`` is no structure model's, or the layouts are not of these images
            (another size, other classes image by image, or uncorrelated with the images).
    """
    if data.classes is None:
        raise DatasetError("layouts from another model need a structure model (--layout-source images)")
    table = np.asarray(table, dtype=np.float32)
    classes = np.asarray(classes, dtype=np.int64)
    if table.shape != data.table.shape:
        side = round(table.shape[1] ** 0.5) if table.ndim == 2 else 0
        raise DatasetError(f"{source} holds {len(table):,} motif layouts of {side} px; the data set has "
                           f"{data.rows:,} images with {data.res} px layouts: give the model trained on "
                           "these images (the same motifs at another resolution)")
    wrong = int((classes != data.classes).sum())
    if wrong:
        raise DatasetError(f"{source}'s layouts are of other classes than the data set's images "
                           f"({wrong:,} of {data.rows:,}): it was trained on other images or another order")
    match = float(np.median(_row_correlation(table, data.table)))
    if match < MIN_LAYOUT_MATCH:
        raise DatasetError(f"{source}'s layouts do not match the data set's images (median correlation "
                           f"{match:.2f}, at least {MIN_LAYOUT_MATCH} wanted): give the model trained on "
                           "these images (the same motifs at another resolution)")
    return DataLayouts(res=data.res, chars="", table=table, image_rows=data.image_rows, classes=data.classes)
