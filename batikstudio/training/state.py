"""Flatten training state into safetensors-friendly tensors + JSON, and back. No pickle.

Optimiser states become tensors named ``<prefix>.<param index>.<key>`` plus their JSON
``param_groups``; random number generator states become uint8 tensors (torch, CUDA, shared
generator) or JSON (numpy, Python ``random``).
"""

from __future__ import annotations

import random
from typing import Any, Mapping

import numpy as np
import torch


def optimizer_to_flat(opt: torch.optim.Optimizer, prefix: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split ``opt.state_dict()`` into tensors and JSON.

    Returns:
        ``(tensors, meta)``: tensors named ``prefix.<idx>.<key>`` (non-tensor values go in
        ``meta["scalars"]``), and ``meta["param_groups"]``.
    """
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, Any] = {}
    for idx, entry in sd["state"].items():
        for key, value in entry.items():
            name = f"{prefix}.{idx}.{key}"
            if isinstance(value, torch.Tensor):
                tensors[name] = value.detach().cpu().clone()
            else:
                scalars[name] = value
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in sd["param_groups"]]
    return tensors, {"param_groups": groups, "scalars": scalars}


def optimizer_from_flat(opt: torch.optim.Optimizer, prefix: str, tensors: Mapping[str, torch.Tensor],
                        meta: Mapping[str, Any]) -> None:
    """Load what :func:`optimizer_to_flat` produced into ``opt`` (same parameter order)."""
    state: dict[int, dict[str, Any]] = {}
    head = prefix + "."
    for name, value in tensors.items():
        if name.startswith(head):
            idx, key = name[len(head):].split(".", 1)
            state.setdefault(int(idx), {})[key] = value
    for name, value in meta.get("scalars", {}).items():
        if name.startswith(head):
            idx, key = name[len(head):].split(".", 1)
            state.setdefault(int(idx), {})[key] = value
    groups = []
    for g in meta["param_groups"]:
        g = dict(g)
        if "betas" in g:
            g["betas"] = tuple(g["betas"])
        groups.append(g)
    opt.load_state_dict({"state": state, "param_groups": groups})


def capture_rng(shared: torch.Generator | None = None) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """States of torch (CPU + every CUDA device), numpy, Python ``random`` and ``shared``."""
    tensors = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, st in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = st
    if shared is not None:
        tensors["rng.shared"] = shared.get_state()
    np_state = np.random.get_state()
    meta = {
        "numpy": [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])],
        "python": _py_state_to_json(random.getstate()),
    }
    return tensors, meta


def restore_rng(tensors: Mapping[str, torch.Tensor], meta: Mapping[str, Any],
                shared: torch.Generator | None = None) -> None:
    """Inverse of :func:`capture_rng`."""
    torch.set_rng_state(tensors["rng.torch"].to(torch.uint8).cpu())
    if torch.cuda.is_available():
        states = [tensors[k] for k in sorted(k for k in tensors if k.startswith("rng.cuda."))]
        for i, st in enumerate(states[: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(st.to(torch.uint8).cpu(), i)
    if shared is not None and "rng.shared" in tensors:
        shared.set_state(tensors["rng.shared"].to(torch.uint8).cpu())
    name, keys, pos, has_gauss, cached = meta["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    random.setstate(_py_state_from_json(meta["python"]))


def _py_state_to_json(state: tuple) -> list:
    version, internal, gauss = state
    return [version, list(internal), gauss]


def _py_state_from_json(data: list) -> tuple:
    version, internal, gauss = data
    return (version, tuple(internal), gauss)
