"""Layouts: what a character model is told about the character to write, and a structure
model about the arrangement of the motif to draw.

A *layout* is a character's ink at low resolution (``layout_res`` px square, e.g. 16), averaged
over the fonts of the training data and standardised (zero mean, unit variance per character).
A style-only generator draws plausible pseudo-characters; given the layout it writes the
character asked for, in the style of its class, with the strokes its upper layers learned.

A *structure model* (``layout_by_class``) keeps a table of motif layouts instead: the darkness of
real motifs of each class at ``layout_res`` px (where the patches, cells and bands lie). A seed
draws one layout of its class; the generator draws the fills, lines, colours and crackle.

:class:`LayoutEncoder` turns a layout into feature maps that are *added* to the synthesis
network's coarse features: to the 4 px constant and to the input of every block up to
``2 * layout_res`` px. Its output projections start at zero, so a generator that gains an
encoder first draws exactly what it drew before (training then teaches it to follow the layout).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from batikstudio.core.nets.config import channels_for
from batikstudio.core.nets.layers import Conv2dLayer

__all__ = ["LayoutEncoder", "class_indices", "ink_layouts", "layout_kwargs", "layout_levels", "seed_char_rows",
           "seed_class_rows", "standardise_layouts"]


def layout_levels(layout_res: int) -> list[int]:
    """Resolutions of the feature maps a layout of ``layout_res`` px feeds: 4, 8, ..., layout_res."""
    return [2 ** i for i in range(2, int(layout_res).bit_length())]


def ink_layouts(images: np.ndarray, layout_res: int) -> np.ndarray:
    """Ink maps of images: ``[N, C, H, W]`` uint8 (dark ink on a light ground) -> ``[N, layout_res ** 2]``
    float32, the mean ink (1 - grey level) of each ``H / layout_res`` square."""
    x = torch.from_numpy(np.ascontiguousarray(images)).float().mean(dim=1, keepdim=True)
    ink = 1.0 - x / 255.0
    return F.adaptive_avg_pool2d(ink, layout_res).flatten(1).numpy()


def standardise_layouts(mean_ink: np.ndarray) -> np.ndarray:
    """Zero mean and unit variance per row (an empty row stays zero): what the encoder is fed."""
    x = np.asarray(mean_ink, dtype=np.float32)
    x = x - x.mean(axis=1, keepdims=True)
    std = x.std(axis=1, ddof=1, keepdims=True) if x.shape[1] > 1 else np.ones((len(x), 1), np.float32)
    return (x / np.where(std > 1e-6, std, 1.0)).astype(np.float32)


def seed_char_rows(seeds, n_chars: int) -> list[int]:
    """The table row that seed ``s`` writes when no text is given: Knuth's multiplicative hash
    of the seed, so that neighbouring seeds write unrelated characters."""
    if n_chars < 1:
        raise ValueError("no characters to choose from")
    return [(int(s) * 2654435761) % (1 << 32) % n_chars for s in seeds]


def seed_class_rows(seeds, classes, row_classes) -> list[int]:
    """The table row that seed ``s`` of class ``k`` draws in a structure model: one of the rows
    whose class is ``k`` (``row_classes``), chosen by the seed's hash (:func:`seed_char_rows`).

    Raises:
        ValueError: a class without rows in the table.
    """
    by_class: dict[int, list[int]] = {}
    for row, k in enumerate(row_classes):
        by_class.setdefault(int(k), []).append(row)
    seeds, classes = list(seeds), [int(k) for k in classes]
    if len(classes) != len(seeds):
        raise ValueError(f"{len(classes)} classes for {len(seeds)} seeds")
    out = []
    for s, k in zip(seeds, classes):
        rows = by_class.get(k)
        if not rows:
            raise ValueError(f"the model's layout table has no layout of class {k}")
        out.append(rows[seed_char_rows([s], len(rows))[0]])
    return out


def class_indices(c, n: int) -> list[int]:
    """Class index of each of ``n`` images from one-hot labels ``c`` (``None`` or no columns: 0)."""
    if c is None or c.ndim != 2 or c.shape[1] == 0:
        return [0] * n
    return c.argmax(dim=1).tolist()


def layout_kwargs(G: torch.nn.Module, seeds, c: torch.Tensor | None = None) -> dict:
    """``{"layout": ...}`` with the layouts the seeds write (a character model) or draw (a
    structure model, of the classes of one-hot ``c``), else ``{}``: for code that renders seeds
    with any generator (``G(z, c, **layout_kwargs(G, seeds, c))``)."""
    cfg = getattr(G, "cfg", None)
    if not getattr(cfg, "layout_res", 0):
        return {}
    seeds = list(seeds)
    if getattr(cfg, "layout_by_class", False):
        return {"layout": G.seed_layouts(seeds, class_indices(c, len(seeds)))}
    return {"layout": G.seed_layouts(seeds)}


class LayoutEncoder(torch.nn.Module):
    """Layout ``[N, 1, L, L]`` -> ``{res: [N, C_res, res, res]}`` for res in 4 .. L.

    ``C_res`` is the synthesis network's channel count at ``res`` (the block input there).
    """

    def __init__(self, layout_res: int, channel_base: int, channel_max: int, width: int = 128) -> None:
        super().__init__()
        self.layout_res = layout_res
        self.levels = layout_levels(layout_res)
        self.stem0 = Conv2dLayer(1, width // 2, kernel_size=3, activation="lrelu")
        self.stem1 = Conv2dLayer(width // 2, width, kernel_size=3, activation="lrelu")
        for res in self.levels[1:-1]:
            setattr(self, f"down{res}", Conv2dLayer(width, width, kernel_size=3, activation="lrelu"))
        for res in self.levels:
            proj = Conv2dLayer(width, channels_for(res, channel_base, channel_max), kernel_size=1)
            torch.nn.init.zeros_(proj.weight)
            setattr(self, f"out{res}", proj)

    def forward(self, layout: torch.Tensor, circular: bool = False) -> dict[int, torch.Tensor]:
        """Feature maps per resolution, float32 (``circular``: a periodic layout, for tileable
        motifs: wrap-around padding).

        Raises:
            ValueError: on a layout of another shape than ``[N, 1, L, L]``.
        """
        L = self.layout_res
        if layout.ndim != 4 or tuple(layout.shape[1:]) != (1, L, L):
            raise ValueError(f"a layout must be [N, 1, {L}, {L}], got {tuple(layout.shape)}")
        h = self.stem1(self.stem0(layout.to(torch.float32), circular=circular), circular=circular)
        out = {}
        for res in reversed(self.levels):
            out[res] = getattr(self, f"out{res}")(h)
            if res > self.levels[0]:
                h = F.avg_pool2d(h, 2)
                if res // 2 > self.levels[0]:
                    h = getattr(self, f"down{res // 2}")(h, circular=circular)
        return out
