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


def _block_dtypes_per_pass(tr) -> list:
    """Run one iteration with R1 and path length; the block dtype of every D and G pass, with
    whether the pass was differentiated twice (its input or ws require a gradient of a gradient)."""
    seen = []
    d_forward, g_synthesis = tr.D.forward, tr.G.synthesis.forward

    def d_spy(img, c, *args, dtype=None, **kw):
        seen.append(("D", img.requires_grad and img.grad_fn is None, dtype))
        return d_forward(img, c, *args, dtype=dtype, **kw)

    def g_spy(ws, *args, dtype=None, **kw):
        seen.append(("G", None, dtype))
        return g_synthesis(ws, *args, dtype=dtype, **kw)

    tr.D.forward, tr.G.synthesis.forward = d_spy, g_spy
    tr.batch_idx = 0  # an iteration with R1 and path length
    tr.step()
    return seen


def test_cpu_bf16_on_an_amx_cpu_runs_the_twice_differentiated_passes_in_float32(tiny_dataset, monkeypatch):
    # oneDNN's AMX bf16 kernels die with SIGFPE on some of the convolutions of a double backward
    # (a batch of 8 RGB images at 256 px): on AMX CPUs R1 and path length run D and G in float32.
    monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda: True)
    cfg = tiny_config(cpu_bf16=True, pl_weight=2.0, pl_interval=2, r1_interval=2)
    for amx, r1_dtype in ((True, None), (False, torch.bfloat16)):
        monkeypatch.setattr(runtime, "cpu_has_amx", lambda amx=amx: amx)
        tr = _trainer(cfg, tiny_dataset)
        assert tr.block_dtype == torch.bfloat16
        seen = _block_dtypes_per_pass(tr)
        r1 = [dt for net, leaf, dt in seen if net == "D" and leaf]
        main = [dt for net, leaf, dt in seen if net == "D" and not leaf]
        g = [dt for net, _, dt in seen if net == "G"]
        assert r1 == [r1_dtype], (amx, seen)
        assert main and all(dt == torch.bfloat16 for dt in main)
        # G: the main pass in bf16; the path-length pass like R1
        assert torch.bfloat16 in g and r1_dtype in g and len(g) >= 2, (amx, seen)
        assert all(np.isfinite(v) for v in tr.take_stats().values())


def test_cpu_bf16_is_off_by_default(tiny_dataset):
    assert _trainer(tiny_config(), tiny_dataset).amp_dtype is None
