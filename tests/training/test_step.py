"""Trainer options that change how a step computes (not what it optimises)."""

import logging

import numpy as np
import torch

from batikstudio import runtime
from batikstudio.runtime import cpu_has_native_bf16

from .conftest import tiny_config
from .test_loop import _trainer


def test_cpu_bf16_autocast_trains_with_float32_weights(tiny_dataset):
    tr = _trainer(tiny_config(cpu_bf16=True, diffusion=tiny_config().diffusion, conditional=True), tiny_dataset)
    assert tr.amp_dtype == (torch.bfloat16 if cpu_has_native_bf16() else None)
    before = tr.G.synthesis.b8.conv1.weight.detach().clone()
    for _ in range(3):
        tr.step()
    stats = tr.take_stats()
    assert all(np.isfinite(v) for v in stats.values())
    for net in (tr.G, tr.D, tr.G_ema):
        assert all(p.dtype == torch.float32 for p in net.parameters())
    assert not torch.equal(before, tr.G.synthesis.b8.conv1.weight)
    assert float(tr.G.mapping.w_avg.abs().sum()) > 0  # the bf16 w_avg update works


def test_cpu_bf16_on_a_cpu_without_native_bf16_trains_in_float32_and_says_so(tiny_dataset, monkeypatch, caplog):
    monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda: False)
    with caplog.at_level(logging.WARNING, logger="batikstudio.training.step"):
        tr = _trainer(tiny_config(cpu_bf16=True), tiny_dataset)
    assert tr.amp_dtype is None and tr.block_dtype is None
    assert any("no native bfloat16" in r.getMessage() and "float32" in r.getMessage() for r in caplog.records)


def test_cpu_bf16_is_off_by_default(tiny_dataset):
    assert _trainer(tiny_config(), tiny_dataset).amp_dtype is None
