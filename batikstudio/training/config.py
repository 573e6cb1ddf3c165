"""Typed, frozen configuration of a training run, with documented defaults.

:class:`TrainConfig` holds every option of a run; it is written to the run folder's
``config.json`` and read back on resume (:meth:`TrainConfig.to_dict` / :meth:`from_dict`).
:class:`TrainRequest` is what the training job (:func:`batikstudio.training.loop.train`)
receives. Values that depend on the data (resolution, R1 gamma heuristic, EMA length) are
resolved by the ``effective_*`` helpers so the stored config keeps the user's choice.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

LOSSES = ("stylegan2", "wasserstein")
PENALTIES = ("r1", "wgan-gp")
AUGMENTS = ("ada", "diffaugment", "none")
ADA_OPS = ("xflip", "rotate90", "translate", "brightness", "contrast", "saturation", "hue", "cutout")
DIFFAUGMENT_OPS = ("color", "translation", "cutout")
TS_DISTS = ("priority", "uniform")
ARCHS = ("stylegan2", "dcgan")

# Per-family defaults of the options whose best value depends on the network family
# (TrainConfig's own defaults are StyleGAN2's). DCGAN: Radford et al.'s Adam settings, no R1
# (its D has BatchNorm), no style mixing (there is one input vector).
ARCH_DEFAULTS: Mapping[str, Mapping[str, Any]] = {
    "stylegan2": {"lr": 0.0025, "betas": (0.0, 0.99), "r1_gamma": None, "style_mixing_prob": 0.9},
    "dcgan": {"lr": 0.0002, "betas": (0.5, 0.999), "r1_gamma": 0.0, "style_mixing_prob": 0.0},
}


@dataclass(frozen=True)
class DiffusionConfig:
    """Diffusion-GAN instance noise on D's inputs (Wang et al. 2022).

    Attributes:
        enabled: noise real and fake images before every D call and condition D on t.
        t_min: smallest number of diffusion steps T (when p = 0).
        t_max: largest T (when p = 1).
        noise_std: standard deviation of the Gaussian noise (images are in [-1, 1]).
        ada_kimg: kimg for p to go from 0 to 1 at the adjustment speed.
        target: target of E[sign(D(real))]; above it p grows (D overfits), below it shrinks.
        ts_dist: how the 32 non-zero entries of the t table are drawn from 1..T:
            ``"priority"`` (P(k) proportional to k) or ``"uniform"``.
        interval: adjust p and T every this many iterations.
    """

    enabled: bool = False
    t_min: int = 10
    t_max: int = 1000
    noise_std: float = 0.05
    ada_kimg: float = 100.0
    target: float = 0.6
    ts_dist: str = "priority"
    interval: int = 4


@dataclass(frozen=True)
class TrainConfig:
    """Every option of a training run.

    Attributes:
        arch: network family, ``"stylegan2"`` or ``"dcgan"`` (see :meth:`for_arch` for the
            options whose defaults differ per family).
        data: dataset path (NVlabs zip layout or folder, see :mod:`batikstudio.io.dataset`).
        resolution: training resolution in pixels; ``None`` uses the dataset's.
        batch: global batch size (split over processes in multi-GPU runs).
        total_kimg: length of the run in thousands of real images shown to D.
        loss: ``"stylegan2"`` (non-saturating logistic) or ``"wasserstein"`` (linear logits).
        r1_gamma: R1 weight; ``None`` uses the NVlabs heuristic ``0.0002 * res**2 / batch``.
        r1_interval: lazy regularisation: R1 every this many iterations (scaled by it).
        gp: penalty for the Wasserstein loss: ``"r1"`` or ``"wgan-gp"`` (interpolates).
        gp_weight: weight of the WGAN-GP penalty (Gulrajani et al. use 10).
        pl_weight: path length regularisation weight; 0 (default) skips it, which is much
            cheaper on CPU (NVlabs uses 2).
        pl_interval: lazy path length regularisation interval.
        style_mixing_prob: probability of mixing two latents in a batch (0.9 like NVlabs).
        augment: ``"ada"``, ``"diffaugment"`` or ``"none"``.
        augment_ops: subset of ops to use; empty = all of the chosen kind
            (ADA: :data:`ADA_OPS`; DiffAugment: :data:`DIFFAUGMENT_OPS`). E.g. ``("translate",)``
            for wrap-around translation only.
        augment_wrap: integer translations wrap around (pushes toward tileable output)
            instead of padding with zeros.
        ada_target: target of E[sign(D(real))] for the adaptive augmentation strength p.
        ada_kimg: kimg for p to go 0 -> 1 (NVlabs: 500).
        ada_interval: adjust p every this many iterations.
        augment_p: fixed/initial augmentation probability (DiffAugment ignores it).
        diffusion: Diffusion-GAN options (off by default).
        ema_kimg: half-life of the generator EMA in kimg; ``None`` = ``batch * 10 / 32``.
        ema_rampup: EMA ramp-up ratio (half-life at most ``rampup * kimg``); ``None`` disables.
        lr: Adam learning rate of G and D.
        betas: Adam betas.
        mirror: x-flip real images at random (doubles the data).
        freeze_d: freeze the first N blocks of D (highest resolutions first, like FreezeD).
        train_g_top: train only G's top N synthesis blocks (the mapping network, the lower blocks
            and a layout encoder stay as they are); 0 = all of G. For a model just grown to a higher
            resolution: its new block learns the detail while D's fresh input layers cannot yet
            pull the trained layers off what they draw.
        noise_max_res: switch off the per-pixel noise inputs of G's synthesis layers above this
            resolution (their strengths set to 0 in G and G_ema and kept there, so the model draws
            without them in every noise mode); 0 = every layer keeps its noise. Measured on the
            128 px batik model grown from 64 px: the 128 px layers' noise was a speckle over flat fills.
        layouts_from: a structure model (``layout_by_class``): take the motif layouts from this
            model file (one trained on the same images, in the same order, at another resolution)
            instead of reading them from the data set, which must match them (same classes, image
            by image; each layout correlated with the image's own). For a model grown to a higher
            resolution: its fixed layers learned to read the layouts of the smaller images, and the
            larger images' own differ enough that the 128 px batik model lost its 64 px
            outlines. A resumed run keeps the table its snapshot holds. ``""`` = the data's own.
        conditional: condition G and D on the dataset's class labels.
        class_groups: with ``conditional``, make every minibatch-std group of D one class
            (real and fake batches alike; see :class:`~batikstudio.training.data.RealSampler`),
            so D sees when the seeds of a class all look alike.
        class_weights: draw the images of these classes (and generated images of them) this
            many times as often as their share of the data set; keys are class names or
            indices, classes not named weigh 1 (see :func:`~batikstudio.training.data.class_weight_vector`).
            Empty = draw uniformly over the images.
        mismatch_weight: matching-aware D (Reed et al., ICML 2016): each real image is also
            shown to D with a wrong class (drawn uniformly among the others) and counted as
            fake, with this weight in D's loss. Teaches D what each class looks like rather than
            only real against generated, so classes whose images share colours and fills still
            get told apart; G then has to draw the requested class. 0 = off; needs a
            conditional run with at least two classes. Costs one more D pass over the reals.
        diversity_weight: weight of the diversity-sensitive term in G's loss (0 = off; see
            :mod:`batikstudio.training.losses`). Pairs are items ``i`` and ``i + N/2`` of a
            batch with the same class: with ``class_groups`` every pair qualifies.
        recon_weight: character models (``g_kwargs["layout_res"]``): generated images are drawn
            with the labels (font and character) of the real batch, and this weight times their
            reconstruction error against those reals (:func:`~batikstudio.training.losses.recon_error`)
            joins G's loss; a real glyph is the one right answer for its font and character.
            Structure models (``g_kwargs["layout_by_class"]``): only the arrangement is compared
            (:func:`~batikstudio.training.losses.layout_error`). 0 = off.
        diversity_cap: the image/latent distance ratio above which the term stops pushing
            (mean absolute pixel difference in [-1, 1] units per unit of latent difference).
        mixed_precision: autocast (bf16 when supported, else fp16 + GradScaler) on CUDA.
        cpu_bf16: autocast to bfloat16 on CPUs with native bf16 (AVX512-BF16 / AMX): about
            1.8x faster per iteration at 32 px; weights and optimiser state stay float32.
            Off by default (float32 is exact); ignored on other CPUs and on CUDA.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"``.
        seed: seed of every random number generator of the run.
        kimg_per_tick: progress report / sample grid period in kimg.
        snapshot_ticks: write a snapshot every this many ticks (and at the end / on stop).
        keep_last: keep this many most recent snapshots (plus the best one).
        sample_seeds: seeds of the fixed sample grid (``RandomState(seed).randn`` like NVlabs).
        start: ``"scratch"``, a native ``.safetensors`` model file or an NVlabs / Diffusion-GAN
            ``.pkl`` to fine-tune.
        g_kwargs: overrides of :class:`GeneratorConfig` fields for scratch runs.
        d_kwargs: overrides of :class:`DiscriminatorConfig` fields for scratch runs.
        tileable: train the generator with wrap-around padding (seamless tiles).
        fast_path: the fast CPU path: the nets' plain-convolution synthesis, and one G forward
            plus one D pass over the fakes shared by G's and D's losses (simultaneous
            updates). ``False`` follows the NVlabs loop (G step, then D step on a second batch
            from the updated G, reference grouped / upfirdn convolutions).
    """

    arch: str = "stylegan2"
    data: str = ""
    resolution: int | None = None
    batch: int = 16
    total_kimg: float = 100.0
    loss: str = "stylegan2"
    r1_gamma: float | None = None
    r1_interval: int = 16
    gp: str = "r1"
    gp_weight: float = 10.0
    pl_weight: float = 0.0
    pl_interval: int = 4
    style_mixing_prob: float = 0.9
    augment: str = "ada"
    augment_ops: tuple[str, ...] = ()
    augment_wrap: bool = True
    ada_target: float = 0.6
    ada_kimg: float = 500.0
    ada_interval: int = 4
    augment_p: float = 0.0
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    ema_kimg: float | None = None
    ema_rampup: float | None = 0.05
    lr: float = 0.0025
    betas: tuple[float, float] = (0.0, 0.99)
    mirror: bool = False
    freeze_d: int = 0
    train_g_top: int = 0
    noise_max_res: int = 0
    layouts_from: str = ""
    conditional: bool = False
    class_groups: bool = False
    class_weights: Mapping[str, float] = field(default_factory=dict)
    mismatch_weight: float = 0.0
    diversity_weight: float = 0.0
    diversity_cap: float = 0.5
    recon_weight: float = 0.0
    mixed_precision: bool = True
    cpu_bf16: bool = False
    device: str = "auto"
    seed: int = 0
    kimg_per_tick: float = 4.0
    snapshot_ticks: int = 10
    keep_last: int = 3
    sample_seeds: tuple[int, ...] = tuple(range(16))
    start: str = "scratch"
    g_kwargs: Mapping[str, Any] = field(default_factory=dict)
    d_kwargs: Mapping[str, Any] = field(default_factory=dict)
    tileable: bool = False
    fast_path: bool = True

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError with a one-line message on an impossible option."""
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.gp not in PENALTIES:
            raise ValueError(f"gp must be one of {PENALTIES}, got {self.gp!r}")
        if self.augment not in AUGMENTS:
            raise ValueError(f"augment must be one of {AUGMENTS}, got {self.augment!r}")
        allowed = ADA_OPS if self.augment == "ada" else DIFFAUGMENT_OPS
        bad = [op for op in self.augment_ops if op not in allowed]
        if self.augment != "none" and bad:
            raise ValueError(f"unknown {self.augment} ops {bad}; choose from {allowed}")
        if self.diffusion.ts_dist not in TS_DISTS:
            raise ValueError(f"ts_dist must be one of {TS_DISTS}, got {self.diffusion.ts_dist!r}")
        if not 1 <= self.diffusion.t_min <= self.diffusion.t_max:
            raise ValueError("diffusion needs 1 <= t_min <= t_max")
        if self.batch < 1:
            raise ValueError(f"batch must be >= 1, got {self.batch}")
        if not math.isfinite(self.mismatch_weight) or self.mismatch_weight < 0:
            raise ValueError(f"mismatch weight must be finite and >= 0, got {self.mismatch_weight}")
        if not math.isfinite(self.recon_weight) or self.recon_weight < 0:
            raise ValueError(f"reconstruction weight must be finite and >= 0, got {self.recon_weight}")
        if self.diversity_weight < 0 or self.diversity_cap <= 0:
            raise ValueError("diversity needs weight >= 0 and cap > 0")
        if any(not math.isfinite(float(w)) or float(w) < 0 for w in self.class_weights.values()):
            raise ValueError(f"class weights must be finite and >= 0, got {dict(self.class_weights)}")
        if self.total_kimg <= 0 or self.kimg_per_tick <= 0:
            raise ValueError("total_kimg and kimg_per_tick must be positive")
        if self.resolution is not None and (self.resolution < 4 or self.resolution & (self.resolution - 1)):
            raise ValueError(f"resolution must be a power of two >= 4, got {self.resolution}")
        if self.noise_max_res < 0:
            raise ValueError(f"noise_max_res must be >= 0 (0 = noise in every layer), got {self.noise_max_res}")
        if self.freeze_d < 0 or self.train_g_top < 0 or self.keep_last < 1 or self.snapshot_ticks < 1:
            raise ValueError("freeze_d and train_g_top must be >= 0, keep_last and snapshot_ticks >= 1")
        if self.r1_interval < 1 or self.pl_interval < 1 or self.ada_interval < 1:
            raise ValueError("regularisation and adjustment intervals must be >= 1")
        if self.ema_rampup is not None and not (math.isfinite(self.ema_rampup) and self.ema_rampup > 0):
            raise ValueError(f"EMA ramp-up must be a positive ratio or None (off), got {self.ema_rampup}")
        if self.ema_kimg is not None and not (math.isfinite(self.ema_kimg) and self.ema_kimg >= 0):
            raise ValueError(f"EMA half-life must be >= 0 kimg, got {self.ema_kimg}")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {tuple(self.betas)}")

    @classmethod
    def for_arch(cls, arch: str = "stylegan2", **options: Any) -> "TrainConfig":
        """A config with the family's defaults (:data:`ARCH_DEFAULTS`) for options not given.

        Options passed as ``None`` count as not given, except where ``None`` is a value of its
        own for that family (StyleGAN2's ``r1_gamma=None`` = the NVlabs heuristic).

        >>> TrainConfig.for_arch("dcgan", lr=0.001).betas
        (0.5, 0.999)
        """
        if arch not in ARCH_DEFAULTS:
            raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")
        kw = {k: v for k, v in options.items() if v is not None}
        for key, value in ARCH_DEFAULTS[arch].items():
            kw.setdefault(key, value)
        return cls(arch=arch, **kw)

    # -- resolved values ------------------------------------------------------------------
    def effective_r1_gamma(self, resolution: int) -> float:
        """R1 gamma, or the NVlabs heuristic ``0.0002 * res**2 / batch`` when unset."""
        if self.r1_gamma is not None:
            return float(self.r1_gamma)
        return 0.0002 * resolution**2 / self.batch

    def effective_ema_kimg(self) -> float:
        """EMA half-life in kimg (``batch * 10 / 32`` when unset, like NVlabs)."""
        return float(self.ema_kimg) if self.ema_kimg is not None else self.batch * 10 / 32

    def effective_augment_ops(self) -> tuple[str, ...]:
        """The augmentation ops in use (all of the kind's ops when none were chosen)."""
        if self.augment == "none":
            return ()
        if self.augment_ops:
            return tuple(self.augment_ops)
        return ADA_OPS if self.augment == "ada" else DIFFAUGMENT_OPS

    # -- (de)serialisation ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (tuples become lists)."""
        out = dataclasses.asdict(self)
        out["g_kwargs"] = dict(self.g_kwargs)
        out["d_kwargs"] = dict(self.d_kwargs)
        out["class_weights"] = dict(self.class_weights)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TrainConfig":
        """Inverse of :meth:`to_dict`; unknown keys raise ValueError."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown training options {unknown}")
        kw = dict(data)
        if isinstance(kw.get("diffusion"), Mapping):
            kw["diffusion"] = DiffusionConfig(**kw["diffusion"])
        for key in ("augment_ops", "betas", "sample_seeds"):
            if key in kw:
                kw[key] = tuple(kw[key])
        return cls(**kw)

    def replace(self, **changes: Any) -> "TrainConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


MetricFn = Callable[[Any, Any], float]


@dataclass(frozen=True)
class TrainRequest:
    """What the training job receives.

    Attributes:
        config: the run's options (ignored on resume: the run folder's config.json wins,
            except ``total_kimg`` which may be extended).
        run_dir: the run folder (created when missing).
        resume: continue from the newest snapshot in ``run_dir``.
        dataset: an already-open dataset (``len``, ``ds[i] -> (HWC uint8, label)``,
            ``resolution``, ``channels``, ``class_names``); ``None`` opens ``config.data``.
        metrics: ``name -> fn(G_ema, device) -> float`` evaluated every snapshot (lower is
            better; the first decides the best snapshot).
        measure: ``(metric names, images per evaluation)`` behind ``metrics``, recorded in the
            run folder's measure.json once the run starts, so a later resume can go on alike;
            ``None`` leaves the record as it is.
        rank / world_size: this process in a multi-process run; ``None`` reads torchrun's
            environment (``RANK``, ``WORLD_SIZE``).
    """

    config: TrainConfig
    run_dir: str
    resume: bool = False
    dataset: Any = None
    metrics: Mapping[str, MetricFn] = field(default_factory=dict)
    measure: tuple[tuple[str, ...], int] | None = None
    rank: int | None = None
    world_size: int | None = None


@dataclass(frozen=True)
class TrainTick:
    """One progress report (``ctx.partial``), once per tick.

    Attributes:
        kimg: images shown so far / 1000.
        tick: tick index.
        losses: mean loss terms over the tick (``G``, ``D``, ``r1``, ``gp``, ``pl``).
        augment_p: current augmentation probability.
        diffusion_p / diffusion_T: Diffusion-GAN strength and number of steps.
        kimg_per_s: throughput over the tick (images/s / 1000).
        sec_per_iter: wall time per iteration over the tick.
        grid: sample grid from the fixed seeds, HWC uint8.
        metrics: metric values evaluated this tick (may be empty).
        snapshot: path of the snapshot written this tick, if any.
    """

    kimg: float
    tick: int
    losses: Mapping[str, float]
    augment_p: float
    diffusion_p: float
    diffusion_T: int
    kimg_per_s: float
    sec_per_iter: float
    grid: Any = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    snapshot: str | None = None

    def summary(self, digits: int = 4) -> str:
        """One line for logs and terminals: losses, then each strength under its own name (the
        augmentation probability is 1 for DiffAugment; the Diffusion-GAN p sets T)."""
        losses = " ".join(f"{k}={v:.{digits}g}" for k, v in self.losses.items())
        diffusion = f" diffusion_p={self.diffusion_p:.3f} T={self.diffusion_T}" if self.diffusion_T else ""
        return (f"tick {self.tick} kimg {self.kimg:.3f} {losses} augment_p={self.augment_p:.3f}{diffusion} "
                f"{self.sec_per_iter:.2f} s/it")


@dataclass(frozen=True)
class TrainResult:
    """What the training job returns.

    Attributes:
        run_dir: the run folder.
        kimg: images shown at the end / 1000.
        snapshot: path of the last snapshot written.
        stopped: True when the job was cancelled before ``total_kimg``.
        iterations: optimisation steps done by this call.
    """

    run_dir: str
    kimg: float
    snapshot: str | None
    stopped: bool
    iterations: int
