"""Evaluate a generator against a data set: one-off (job, CLI) or every snapshot (trainer).

Images enter as NCHW uint8 batches. Real images are a seeded random subset of the data set;
fake images come from the generator for seeds ``0 .. num-1`` (NVlabs latents, psi 1, constant
noise), conditional models drawing classes from the data set's labels (seeded), so the same
model, data and options always give the same numbers.

:class:`MetricSuite` loads every feature network the chosen metrics need (once, before any
work, so missing weights fail fast) and turns batches into statistics; the real side's
statistics can be kept and compared with many fake sides (:func:`training_metrics`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
import torch

from batikstudio.core.latents import seeds_to_z
from batikstudio.core.nets.layout import layout_kwargs
from batikstudio.errors import DatasetError
from batikstudio.jobs import InlineContext, JobContext
from batikstudio.training.metrics import METRICS, parse_metric_names
from batikstudio.training.metrics.features import FeatureExtractor, make_extractor
from batikstudio.training.metrics.frechet import FeatureStats, frechet_distance
from batikstudio.training.metrics.kid import kernel_distance
from batikstudio.training.metrics.spread import collapse, wrap_kwargs
from batikstudio.training.metrics.swd import SWDAccumulator, SWDConfig, swd_from_descriptors

log = logging.getLogger(__name__)

__all__ = ["MetricOptions", "MetricSuite", "SideStats", "dataset_batches", "generator_batches", "compute_metrics",
           "training_metrics", "EvaluateRequest", "EvaluateResult", "evaluate"]

Batches = Iterable[Any]  # NCHW uint8 torch tensors or numpy arrays


@dataclass(frozen=True)
class MetricOptions:
    """Options shared by every metric.

    Attributes:
        swd: sliced Wasserstein options (ProGAN's defaults).
        inception: pytorch-fid's weights file for FID/KID (None: ``$BATIKSTUDIO_INCEPTION``,
            then ``<data dir>/weights/``).
        effnet_norm: EfficientNet input convention, ``"tf-lite"`` or ``"imagenet"``.
        kid_subsets: KID subsets averaged.
        kid_subset_size: largest KID subset.
        batch_size: images per generator / network call.
        collapse_per_class: seeds (and real images) per class for the collapse metric.
        seed: real subset, fake classes, SWD positions and directions, KID subsets.
        tileable: render the generated images with wrap-around padding, as a model trained
            for seamless tiles is meant to be rendered; ``None``: as a model file says it was
            trained (a bare generator module: no).
    """

    swd: SWDConfig = SWDConfig()
    inception: str | None = None
    effnet_norm: str = "tf-lite"
    kid_subsets: int = 100
    kid_subset_size: int = 1000
    batch_size: int = 32
    seed: int = 0
    collapse_per_class: int = 32
    tileable: bool | None = None


@dataclass
class SideStats:
    """Statistics of one image set (real or fake): SWD descriptors and feature moments."""

    count: int = 0
    swd: SWDAccumulator | None = None
    features: dict[str, FeatureStats] = field(default_factory=dict)


class MetricSuite:
    """The chosen metrics with their networks loaded on ``device``.

    Args:
        names: metric names (see :data:`~batikstudio.training.metrics.METRICS`).
        device: where feature networks run.
        options: see :class:`MetricOptions`.

    Raises:
        WeightsMissingError: a needed network's weights are missing (raised here, first).
        ValueError: an unknown metric name.
    """

    def __init__(self, names: Sequence[str] | str, device: torch.device | str = "cpu",
                 options: MetricOptions = MetricOptions()) -> None:
        self.names = parse_metric_names(names)
        self.options = options
        self.device = torch.device(device)
        kinds = sorted({METRICS[n].feature for n in self.names} - {"pixels"})
        self.extractors: dict[str, FeatureExtractor] = {
            k: make_extractor(k, self.device, inception_path=options.inception, effnet_norm=options.effnet_norm)
            for k in kinds}

    def new_side(self, resolution: int, stream: int) -> SideStats:
        """Empty statistics for a set of ``resolution``-px images (stream 0 real, 1 fake)."""
        swd = SWDAccumulator(resolution, self.options.swd, stream) if "swd" in self.names else None
        keep = "kid" in self.names
        return SideStats(swd=swd, features={k: FeatureStats(keep_features=keep and k == "inception")
                                            for k in self.extractors})

    def add(self, side: SideStats, images: Any) -> None:
        """Feed one NCHW uint8 batch (tensor or array, any device) into ``side``."""
        x = torch.as_tensor(images)
        if x.ndim != 4 or x.dtype != torch.uint8:
            raise ValueError(f"expected an NCHW uint8 batch, got {x.dtype} of shape {tuple(x.shape)}")
        if side.swd is not None:
            side.swd.add(x.to(self.device))
        for kind, extractor in self.extractors.items():
            side.features[kind].add(extractor(x))
        side.count += x.shape[0]

    def collect(self, batches: Batches, resolution: int, stream: int, ctx: JobContext | None = None,
                done: int = 0, total: int | None = None) -> SideStats:
        """Statistics of every batch; reports progress ``done + images`` of ``total``."""
        side = self.new_side(resolution, stream)
        for batch in batches:
            if ctx is not None:
                ctx.check()
            self.add(side, batch)
            if ctx is not None:
                ctx.progress(done + side.count, total)
        return side

    def compare(self, real: SideStats, fake: SideStats) -> dict[str, float]:
        """Every chosen metric (and SWD's per-level values ``swd_R``) for ``real`` vs ``fake``."""
        out: dict[str, float] = {}
        for name in self.names:
            if name == "swd":
                assert real.swd is not None and fake.swd is not None
                out.update(swd_from_descriptors(real.swd.descriptors(), fake.swd.descriptors(),
                                                real.swd.resolutions, self.options.swd))
            elif name in ("fd-effnet", "fid"):
                kind = METRICS[name].feature
                a, b = real.features[kind].gaussian(), fake.features[kind].gaussian()
                out[name] = frechet_distance(a.mu, a.sigma, b.mu, b.sigma)
            elif name == "kid":
                out[name] = kernel_distance(real.features["inception"].features, fake.features["inception"].features,
                                            self.options.kid_subsets, self.options.kid_subset_size, self.options.seed)
        return out


# -- image sources -----------------------------------------------------------------------------

def _dataset_images(ds: Any, idx: np.ndarray) -> np.ndarray:
    if hasattr(ds, "batch"):
        return ds.batch(idx)[0]
    return np.stack([np.asarray(ds[int(i)][0]) for i in idx]).transpose(0, 3, 1, 2)


def dataset_batches(ds: Any, num: int | None, batch_size: int = 32, seed: int = 0) -> tuple[Iterator[np.ndarray], int]:
    """A seeded random subset of ``num`` images of ``ds`` (all when None or larger) in batches.

    ``ds`` is a data set (``len``, ``ds[i] -> (HWC uint8, label)``, optional ``batch``).
    Returns ``(iterator of NCHW uint8 arrays, count)``.
    """
    n = len(ds)
    if n == 0:
        raise DatasetError("the data set has no images")
    count = n if num is None else min(int(num), n)
    idx = np.sort(np.random.default_rng(seed).permutation(n)[:count])

    def gen() -> Iterator[np.ndarray]:
        for start in range(0, count, batch_size):
            yield _dataset_images(ds, idx[start : start + batch_size])

    return gen(), count


def _class_vectors(c_dim: int, num: int, dataset: Any, seed: int) -> np.ndarray | None:
    """Conditioning for ``num`` fakes: the data set's labels drawn at random, else uniform classes."""
    if c_dim == 0:
        return None
    rng = np.random.default_rng(seed + 1)
    labels = getattr(dataset, "labels", None)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.ndim == 2 and labels.shape[1] == c_dim:
            return labels[rng.integers(0, len(labels), num)].astype(np.float32)
        if labels.ndim == 1 and len(labels) and labels.min() >= 0 and labels.max() < c_dim:
            classes = labels[rng.integers(0, len(labels), num)]
            return np.eye(c_dim, dtype=np.float32)[classes]
    return np.eye(c_dim, dtype=np.float32)[rng.integers(0, c_dim, num)]


def generator_batches(G: torch.nn.Module, num: int, batch_size: int = 32, seed: int = 0,
                      dataset: Any = None, tileable: bool = False) -> Iterator[torch.Tensor]:
    """Images of ``G`` for seeds ``seed .. seed + num - 1`` as NCHW uint8 tensors (G's device).

    psi 1, constant noise; a conditional ``G`` gets classes drawn from ``dataset`` labels when
    they fit (else uniform), seeded; ``tileable``: wrap-around padding.
    """
    device = next(G.parameters()).device
    c_all = _class_vectors(int(getattr(G, "c_dim", 0)), num, dataset, seed)
    for start in range(0, num, batch_size):
        seeds = range(seed + start, seed + min(start + batch_size, num))
        z = seeds_to_z(list(seeds), G.z_dim, device)
        c = None if c_all is None else torch.from_numpy(c_all[start : start + len(seeds)]).to(device)
        with torch.no_grad():
            img = G(z, c, truncation_psi=1.0, noise_mode="const", **wrap_kwargs(tileable),
                    **layout_kwargs(G, seeds, c))
        yield (img.float() * 127.5 + 128).clamp(0, 255).to(torch.uint8)


# -- one evaluation ------------------------------------------------------------------------------

def _check_compatible(names: Sequence[str], data_res: int, data_ch: int, g_res: int, g_ch: int) -> None:
    if "swd" in names and (data_res != g_res or data_ch != g_ch):
        raise DatasetError(f"SWD compares images pixel for pixel: the model makes {g_res} px, {g_ch}-channel images "
                           f"but the data set has {data_res} px, {data_ch}-channel ones")


def compute_metrics(names: Sequence[str] | str, real: Any, fake: Any, num_real: int | None = None,
                    num_fake: int = 2000, device: torch.device | str = "cpu", ctx: JobContext | None = None,
                    options: MetricOptions = MetricOptions()) -> dict[str, float]:
    """Compare a generator (or any image source) with real images.

    Args:
        names: metric names or ``"swd,fid"``.
        real: a data set (``len``, ``ds[i]``, ``resolution``) or an iterable of NCHW uint8 batches.
        fake: a generator module (``G(z, c)``), an object with ``G_ema`` (LoadedModel), or an
            iterable of NCHW uint8 batches.
        num_real: real images to use (None: all of a data set; ignored for batch iterables).
        num_fake: images to generate (ignored for batch iterables).
        device: where feature networks run (the generator stays where it is).
        ctx: progress (images done of ``num_real + num_fake``) and cancellation.
        options: see :class:`MetricOptions`.

    Returns:
        ``{name: value}`` for each metric, plus ``swd_R`` per pyramid level when SWD is chosen and
        ``spread_fake`` / ``spread_real`` with the collapse metric.

    Raises:
        WeightsMissingError / DatasetError / ValueError: user errors, one line each.
        Cancelled: when ``ctx`` is cancelled.
    """
    suite = MetricSuite(names, device, options)
    G = getattr(fake, "G_ema", fake)
    if options.tileable is not None:
        tileable = bool(options.tileable)
    else:
        from batikstudio.io.models import trained_tileable

        tileable = trained_tileable(fake)
    is_g = isinstance(G, torch.nn.Module)
    if hasattr(real, "__len__") and hasattr(real, "__getitem__") and hasattr(real, "resolution"):
        real_iter, n_real = dataset_batches(real, num_real, options.batch_size, options.seed)
        data_res, data_ch, dataset = int(real.resolution), int(getattr(real, "channels", 3)), real
    else:
        real_iter, n_real, dataset = iter(real), None, None
        first = next(real_iter)
        data_res, data_ch = int(first.shape[-1]), int(first.shape[1])
        real_iter = _chain(first, real_iter)
    out: dict[str, float] = {}
    if "collapse" in suite.names:
        if not is_g or dataset is None:
            raise ValueError("the collapse metric needs a generator and a data set, not image batches")
        out.update(collapse(G, dataset, options.collapse_per_class, options.seed, tileable))
        if suite.names == ("collapse",):
            return out
    if is_g:
        _check_compatible(suite.names, data_res, data_ch, int(G.img_resolution), int(G.img_channels))
    total = (n_real + num_fake) if (n_real is not None and is_g) else None
    real_side = suite.collect(real_iter, data_res, 0, ctx, 0, total)
    fake_iter = generator_batches(G, num_fake, options.batch_size, options.seed, dataset, tileable) if is_g else fake
    fake_side = suite.collect(fake_iter, data_res, 1, ctx, real_side.count, total)
    if ctx is not None:
        ctx.status("comparing statistics")
    out.update(suite.compare(real_side, fake_side))
    return out


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


def training_metrics(names: Sequence[str] | str, dataset: Any, num: int = 2048,
                     options: MetricOptions = MetricOptions()) -> dict[str, Callable[[torch.nn.Module, torch.device], float]]:
    """The trainer's hooks: ``{name: fn(G_ema, device) -> float}`` (lower is better).

    Real statistics are computed on the first call and kept; each call then generates ``num``
    fakes (seeds 0..num-1, so successive snapshots are compared on the same latents). Each
    hook generates its own fakes: choose one metric (``"swd"``, the cheap weight-free default)
    unless time does not matter. Feature networks are loaded at the first call, on its device.
    """
    hooks: dict[str, Callable[[torch.nn.Module, torch.device], float]] = {}
    for name in parse_metric_names(names):
        hooks[name] = _TrainingHook(name, dataset, num, options)
    return hooks


class _TrainingHook:
    """One metric evaluated on a generator, with the real side cached per device."""

    def __init__(self, name: str, dataset: Any, num: int, options: MetricOptions) -> None:
        self.name, self.dataset, self.num, self.options = name, dataset, num, options
        self._suite: MetricSuite | None = None
        self._real: SideStats | None = None

    def __call__(self, G: torch.nn.Module, device: torch.device | str) -> float:
        if self.name == "collapse":
            return collapse(G, self.dataset, self.options.collapse_per_class, self.options.seed,
                            bool(self.options.tileable))["collapse"]
        if self._suite is None or self._suite.device != torch.device(device):
            self._suite = MetricSuite((self.name,), device, self.options)
            self._real = None
        res, ch = int(self.dataset.resolution), int(getattr(self.dataset, "channels", 3))
        _check_compatible(self._suite.names, res, ch, int(G.img_resolution), int(G.img_channels))
        if self._real is None:
            batches, _ = dataset_batches(self.dataset, self.num, self.options.batch_size, self.options.seed)
            self._real = self._suite.collect(batches, res, 0)
        was_training = G.training
        G.eval()
        try:
            fakes = generator_batches(G, self.num, self.options.batch_size, self.options.seed, self.dataset,
                                      bool(self.options.tileable))
            fake = self._suite.collect(fakes, res, 1)
        finally:
            G.train(was_training)
        return float(self._suite.compare(self._real, fake)[self.name])


# -- the job -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EvaluateRequest:
    """Evaluate a model file against a data set.

    Attributes:
        model: ``.safetensors`` model or NVlabs ``.pkl``.
        data: data set folder or zip (see :mod:`batikstudio.io.dataset`).
        metrics: names, in order.
        num: fake images, and at most that many real ones.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``...
        options: see :class:`MetricOptions`.
    """

    model: str
    data: str
    metrics: tuple[str, ...] = ("swd",)
    num: int = 2000
    device: str = "auto"
    options: MetricOptions = MetricOptions()


@dataclass(frozen=True)
class EvaluateResult:
    """Metric values and what they were computed from."""

    values: Mapping[str, float]
    metrics: tuple[str, ...]
    num_real: int
    num_fake: int
    seconds: float
    model_sha256: str
    model: str
    data: str


def evaluate(request: EvaluateRequest, ctx: JobContext | None = None) -> EvaluateResult:
    """Job: open the model and data set, compute the metrics (progress in images, cancellable).

    Raises:
        ModelFileError / DatasetError / WeightsMissingError / ValueError: user errors.
        Cancelled: when ``ctx`` is cancelled.
    """
    from batikstudio.io.dataset import open_dataset
    from batikstudio.io.models import open_model
    from batikstudio.runtime import resolve_device

    ctx = ctx if ctx is not None else InlineContext()
    if request.num < 2:
        raise ValueError(f"need at least 2 images per side, got num={request.num}")
    names = parse_metric_names(request.metrics)
    start = time.perf_counter()
    device = resolve_device(request.device)
    ctx.status("opening model and data set")
    model = open_model(request.model, device)
    ds = open_dataset(request.data)
    ctx.status(f"computing {', '.join(names)}")
    values = compute_metrics(names, ds, model, request.num, request.num, device, ctx, request.options)
    seconds = time.perf_counter() - start
    log.info("%s vs %s: %s in %.1f s", request.model, request.data, values, seconds)
    num_real, num_fake = min(request.num, len(ds)), request.num
    if names == ("collapse",):  # only the per-class images of the collapse metric were used
        per_class = request.options.collapse_per_class * max(int(getattr(model.G_ema, "c_dim", 0)), 1)
        num_real, num_fake = min(per_class, len(ds)), per_class
    return EvaluateResult(values=values, metrics=names, num_real=num_real, num_fake=num_fake,
                          seconds=seconds, model_sha256=model.sha256, model=str(request.model),
                          data=str(request.data))
