"""Process-wide runtime settings: torch threads and device choice.

The thread count is a setting (``BATIKSTUDIO_THREADS`` or the app's settings) because on
small machines two torch threads collapse as soon as anything else runs. Tests and CI use 1.
"""

from __future__ import annotations

import logging
import os

import torch

log = logging.getLogger(__name__)

THREADS_ENV = "BATIKSTUDIO_THREADS"


def configure_threads(threads: int | None = None) -> int:
    """Set torch's intra-op thread count.

    Args:
        threads: number of threads; ``None`` reads ``BATIKSTUDIO_THREADS`` and otherwise
            leaves torch's default.

    Returns:
        The thread count now in effect.

    Raises:
        ValueError: if the count is not a positive integer.
    """
    if threads is None:
        env = os.environ.get(THREADS_ENV, "").strip()
        if not env:
            return torch.get_num_threads()
        try:
            threads = int(env)
        except ValueError as exc:
            raise ValueError(f"{THREADS_ENV} must be a positive integer, got {env!r}") from exc
    if threads < 1:
        raise ValueError(f"thread count must be >= 1, got {threads}")
    torch.set_num_threads(threads)
    log.debug("torch threads set to %d", threads)
    return threads


def cpu_has_native_bf16() -> bool:
    """True on CPUs with bf16 instructions (where bf16 autocast is a speed-up, not a slow-down)."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def cpu_has_amx() -> bool:
    """True on CPUs with AMX tiles (Intel Sapphire Rapids and later), where oneDNN runs bf16
    convolutions on AMX kernels."""
    return bool(getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)())


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """Turn a device name into a :class:`torch.device`.

    Args:
        name: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:N"``,
            ``"mps"`` or a device.

    Raises:
        ValueError: if the device is unknown or not available on this machine.
    """
    if isinstance(name, torch.device):
        return name
    if name in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {name!r}") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available on this machine")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {name!r} requested but MPS is not available on this machine")
    return device
