"""Batches of real images and labels for training, identical on every process.

Indices, mirror flips and the labels of generated images are drawn from a *shared* CPU
``torch.Generator`` (same seed and state on every process), for the whole global batch; each
process then keeps its own slice. So a run's data order depends on the seed and the global
batch, never on the number of processes, and resuming restores it exactly.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from batikstudio.errors import DatasetError


def images_to_tensor(images: Sequence[np.ndarray], channels: int) -> torch.Tensor:
    """Stack HWC (or HW) uint8 images into NCHW float32 in [-1, 1].

    >>> images_to_tensor([np.full((2, 2, 3), 255, np.uint8)], 3).max().item()
    1.0
    """
    arrs = []
    for img in images:
        a = np.asarray(img)
        if a.dtype != np.uint8:
            raise DatasetError(f"expected uint8 images, got {a.dtype}")
        if a.ndim == 2:
            a = a[:, :, None]
        if a.shape[2] != channels:
            if a.shape[2] == 1 and channels == 3:
                a = np.repeat(a, 3, axis=2)
            elif a.shape[2] in (3, 4) and channels == 1:
                a = a[:, :, :3].mean(axis=2, keepdims=True).round().astype(np.uint8)
            elif a.shape[2] == 4 and channels == 3:
                a = a[:, :, :3]
            else:
                raise DatasetError(f"image with {a.shape[2]} channels in a {channels}-channel data set")
        arrs.append(a)
    x = torch.from_numpy(np.stack(arrs)).permute(0, 3, 1, 2).float()
    return x / 127.5 - 1


def local_slice(n_global: int, rank: int, world_size: int) -> slice:
    """The part of a global batch that process ``rank`` handles: every ``world_size``-th item.

    Strided rather than contiguous so that D's minibatch-std groups (NVlabs groups items
    ``m, m + N/G, m + 2N/G, ...``) contain the same images whatever the process count, as long
    as the group size divides the per-process batch.
    """
    if n_global % world_size:
        raise ValueError(f"batch {n_global} is not divisible by {world_size} processes")
    return slice(rank, None, world_size)


def class_weight_vector(weights: Mapping[str, float], class_names: Sequence[str], n_classes: int) -> list[float] | None:
    """One weight per class from ``{name or index: weight}`` (classes not named weigh 1).

    ``None`` when ``weights`` is empty (draw uniformly over the images).

    >>> class_weight_vector({"kawung": 3, "1": 0.5}, ["parang", "lereng", "kawung"], 3)
    [1.0, 0.5, 3.0]

    Raises:
        DatasetError: naming a class the data set does not have.
    """
    if not weights:
        return None
    out = [1.0] * n_classes
    for key, value in weights.items():
        key = str(key).strip()
        if key in class_names:
            k = list(class_names).index(key)
        elif key.isdigit() and int(key) < n_classes:
            k = int(key)
        else:
            known = ", ".join(class_names) if class_names else f"indices 0-{n_classes - 1}"
            raise DatasetError(f"class weight for {key!r}: the data set has no such class ({known})")
        out[k] = float(value)
    return out


class RealSampler:
    """Draws training batches from a data set.

    Args:
        dataset: ``len(ds)``, ``ds[i] -> (HWC uint8, label int)``, ``ds.channels``.
        resolution: training resolution (images of another size are resized, area / bilinear).
        c_dim: number of classes when conditional, else 0.
        mirror: flip each real image left-right with probability 1/2.
        generator: the shared CPU generator.
        rank, world_size: this process's slice of each global batch.
        class_groups: 0, or D's minibatch-std group size G: each global batch (real and fake)
            then holds N/G classes drawn from the data's label distribution, G images of each,
            placed so that every minibatch-std group (items ``m, m + N/G, ...``) is one class.
            Mixed-class groups show D the spread *between* classes, which hides a generator
            that gives every seed of a class the same image; one-class groups show it the
            spread *within* a class.
        class_weights: ``None``, or one weight per class: images (and the classes of
            generated images) are then drawn with probability proportional to their class's
            weight, instead of uniformly over the data set (a weight of 2 draws a class twice
            as often as its share of the data; 0 never).
        extra_labels: ``None``, or ``[len(dataset), E]`` float32 features of each image that
            are appended to its one-hot label (a character model's layouts): labels are then
            ``[n, c_dim + E]``, and generated images take theirs from drawn data set images.
        extra_side: 0, or L when the extra features are ``L x L`` maps (layouts, row-major):
            a mirrored image then gets its map mirrored too.
    """

    def __init__(self, dataset: Any, resolution: int, c_dim: int, mirror: bool,
                 generator: torch.Generator, rank: int = 0, world_size: int = 1, class_groups: int = 0,
                 class_weights: Sequence[float] | None = None, extra_labels: np.ndarray | None = None,
                 extra_side: int = 0) -> None:
        if len(dataset) == 0:
            raise DatasetError("the data set is empty")
        if extra_labels is not None and (extra_labels.ndim != 2 or len(extra_labels) != len(dataset)):
            raise ValueError(f"extra labels must be [{len(dataset)}, E], got {extra_labels.shape}")
        self._extra = None if extra_labels is None else torch.from_numpy(np.asarray(extra_labels, np.float32))
        if extra_side and (self._extra is None or self._extra.shape[1] != extra_side ** 2):
            raise ValueError(f"extra labels of side {extra_side} must be [{len(dataset)}, {extra_side ** 2}]")
        self.extra_side = int(extra_side)
        self.dataset = dataset
        self.resolution = resolution
        self.channels = int(getattr(dataset, "channels", 3))
        self.c_dim = c_dim
        self.mirror = mirror
        self.generator = generator
        self.rank, self.world_size = rank, world_size
        labels = getattr(dataset, "labels", None)
        self._labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        self.class_groups = class_groups if c_dim > 0 else 0
        if self.class_groups:
            if self._labels is None or self._labels.ndim != 1 or (self._labels < 0).any():
                raise DatasetError("class-grouped batches need one class label per image")
            self._by_class = [np.nonzero(self._labels == k)[0] for k in range(int(self._labels.max()) + 1)]
        self._image_p = None if class_weights is None else self._image_probabilities(class_weights)

    def _image_probabilities(self, class_weights: Sequence[float]) -> torch.Tensor:
        """Per-image draw probabilities from per-class weights."""
        if self._labels is None or self._labels.ndim != 1 or (self._labels < 0).any():
            raise DatasetError("class weights need one class label per image")
        w = np.asarray(class_weights, dtype=np.float64)
        if w.ndim != 1 or len(w) <= int(self._labels.max()):
            raise DatasetError(f"{len(w)} class weights for a data set with {int(self._labels.max()) + 1} classes")
        if not np.isfinite(w).all() or (w < 0).any():
            raise DatasetError("class weights must be finite and >= 0")
        p = w[self._labels]
        if p.sum() <= 0:
            raise DatasetError("class weights leave no image to draw: give some class a weight above 0")
        return torch.from_numpy(p / p.sum())

    def _draw(self, n: int) -> torch.Tensor:
        """``n`` data set indices: uniform, or weighted by class."""
        if self._image_p is None:
            return torch.randint(0, len(self.dataset), (n,), generator=self.generator)
        return torch.multinomial(self._image_p, n, replacement=True, generator=self.generator)

    def _indices(self, n_global: int) -> torch.Tensor:
        """Data set indices of a global batch (class-grouped when asked)."""
        if not self.class_groups:
            return self._draw(n_global)
        classes = self._group_classes(n_global)
        u = torch.rand(n_global, generator=self.generator).numpy()
        idx = [self._by_class[k][min(int(f * len(self._by_class[k])), len(self._by_class[k]) - 1)]
               for k, f in zip(classes.tolist(), u)]
        return torch.tensor(idx, dtype=torch.int64)

    def _group_classes(self, n_global: int) -> torch.Tensor:
        """Class of every item of a class-grouped global batch: N/G classes, tiled G times."""
        g = self.class_groups
        if n_global % g:
            raise ValueError(f"batch {n_global} is not divisible by the class group size {g}")
        anchors = self._draw(n_global // g)
        return torch.from_numpy(self._labels[anchors.numpy()]).repeat(g)

    def _one_hot(self, labels: torch.Tensor) -> torch.Tensor:
        if self.c_dim == 0:
            return torch.zeros(labels.shape[0], 0)
        return F.one_hot(labels.clamp(0, self.c_dim - 1), self.c_dim).float()

    @property
    def extra_dim(self) -> int:
        """Width of the extra features appended to every label (0 without)."""
        return 0 if self._extra is None else int(self._extra.shape[1])

    def _with_extra(self, c: torch.Tensor, idx: torch.Tensor, flips: torch.Tensor | None = None) -> torch.Tensor:
        if self._extra is None:
            return c
        extra = self._extra[idx]
        if flips is not None and self.extra_side:  # square maps (layouts) flip with their images
            L = self.extra_side
            flipped = extra.reshape(-1, L, L).flip(2).reshape(-1, L * L)
            extra = torch.where(flips.view(-1, 1), flipped, extra)
        return torch.cat([c, extra], dim=1)

    def next_real(self, n_global: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """This process's part of a global batch: images NCHW [-1, 1] and labels [n, c_dim]."""
        idx = self._indices(n_global)
        flips = torch.rand(n_global, generator=self.generator) < 0.5
        part = local_slice(n_global, self.rank, self.world_size)
        items = [self.dataset[int(i)] for i in idx[part]]
        x = images_to_tensor([img for img, _ in items], self.channels)
        if x.shape[-1] != self.resolution or x.shape[-2] != self.resolution:
            mode = "area" if x.shape[-1] > self.resolution else "bilinear"
            x = F.interpolate(x, size=(self.resolution, self.resolution), mode=mode)
        if self.mirror:
            x = torch.where(flips[part].view(-1, 1, 1, 1), x.flip(3), x)
        labels = torch.tensor([int(lab) for _, lab in items], dtype=torch.int64)
        return x.to(device), self._with_extra(self._one_hot(labels), idx[part],
                                              flips[part] if self.mirror else None).to(device)

    def next_fake_labels(self, n_global: int, device: torch.device) -> torch.Tensor:
        """Labels for generated images, drawn from the data set's label distribution."""
        part = local_slice(n_global, self.rank, self.world_size)
        if self._extra is not None:  # the labels of drawn images, extra features and all
            idx = self._indices(n_global)[part]
            classes = self._one_hot(torch.from_numpy(self._labels[idx.numpy()]) if self.c_dim else idx)
            return self._with_extra(classes, idx).to(device)
        if self.c_dim == 0:
            return torch.zeros(n_global // self.world_size, 0, device=device)
        if self.class_groups:
            return self._one_hot(self._group_classes(n_global)[part]).to(device)
        idx = self._draw(n_global)
        if self._labels is not None:
            labels = torch.from_numpy(self._labels[idx[part].numpy()])
        else:
            labels = torch.tensor([int(self.dataset[int(i)][1]) for i in idx[part]])
        return self._one_hot(labels).to(device)

    def next_wrong_labels(self, labels: torch.Tensor, n_global: int) -> torch.Tensor:
        """For the mismatch term: one-hot labels [n, c_dim], each another class than ``labels``'
        (uniform among the other classes). ``labels`` is this process's part of a global batch of
        ``n_global``; the offsets are drawn for the whole batch, so every process's generator
        stays in step."""
        if self.c_dim < 2:
            raise ValueError("wrong labels need at least two classes")
        offsets = torch.randint(1, self.c_dim, (n_global,), generator=self.generator)
        offsets = offsets[local_slice(n_global, self.rank, self.world_size)].to(labels.device)
        wrong = self._one_hot((labels[:, :self.c_dim].argmax(dim=1) + offsets) % self.c_dim).to(labels.device)
        return torch.cat([wrong, labels[:, self.c_dim:]], dim=1)

    def next_z(self, n_global: int, z_dim: int, device: torch.device) -> torch.Tensor:
        """This process's part of a global batch of latents (standard normal)."""
        z = torch.randn(n_global, z_dim, generator=self.generator)
        return z[local_slice(n_global, self.rank, self.world_size)].to(device)
