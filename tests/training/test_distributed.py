"""Two gloo processes on the CPU give the same weights as one process with the same global batch."""

import faulthandler
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from batikstudio.jobs import RecordingContext
from batikstudio.training import distributed, loop
from batikstudio.training.data import local_slice
from batikstudio.training.loop import train
from batikstudio.training.config import TrainRequest
from batikstudio.training.runfolder import load_snapshot

from .conftest import TINY_G, TinyDataset, tiny_config

# Per-pixel noise inputs (like augmentation and Diffusion-GAN noise) are drawn per process, so
# they cannot match a one-process run draw for draw; with them off the runs must agree to float
# round-off: same data, latents, mixing, labels, averaged gradients and w_avg.
CFG = dict(g_kwargs={**TINY_G, "use_noise": False}, batch=4, total_kimg=0.012, kimg_per_tick=0.012, d_kwargs={"mbstd_group_size": 2},
           style_mixing_prob=0.5, mirror=True, r1_interval=2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, run_dir: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    train(TrainRequest(tiny_config(**CFG), run_dir, dataset=TinyDataset(), rank=rank, world_size=world),
          RecordingContext())
    distributed.end_process(0)  # as ``batikstudio train`` under torchrun ends


def test_local_slices_cover_the_global_batch_once():
    parts = [list(range(8))[local_slice(8, r, 2)] for r in range(2)]
    assert sorted(parts[0] + parts[1]) == list(range(8))
    with pytest.raises(ValueError):
        local_slice(5, 0, 2)


def test_two_processes_match_one_process(tmp_path):
    one = train(TrainRequest(tiny_config(**CFG), str(tmp_path / "one"), dataset=TinyDataset()), RecordingContext())
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path / "two")), nprocs=2, join=True)
    two = sorted((tmp_path / "two").glob("snapshot-*.safetensors"))
    assert len(two) == 1, "only rank 0 writes"
    ta, ma = load_snapshot(one.snapshot)
    tb, mb = load_snapshot(two[0])
    assert ma["nimg"] == mb["nimg"] == 12
    diffs = {k: (ta[k] - tb[k]).abs().max().item() for k in ta if k.startswith(("G.", "D.")) and ta[k].is_floating_point()}
    moved = max(diffs.values())
    assert moved < 1e-5, f"weights differ by {moved}"
    trained = max((ta[k] - tb[k].new_zeros(())).abs().max().item() for k in ta if k.startswith("opt_G."))
    assert trained > 0
    assert ma["training"]["world_size"] == 1 and mb["training"]["world_size"] == 2


def _record_teardown(monkeypatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: True)
    monkeypatch.setattr(distributed.dist, "barrier", lambda: calls.append("barrier"))
    monkeypatch.setattr(distributed.dist, "destroy_process_group", lambda: calls.append("destroy"))
    return calls


def test_processes_wait_for_each_other_only_after_a_normal_end(monkeypatch):
    calls = _record_teardown(monkeypatch)
    joined = distributed.DistInfo(rank=1, world_size=2, initialised=True)
    distributed.shutdown(joined, finished=True)
    assert calls == ["barrier", "destroy"]
    calls.clear()
    distributed.shutdown(joined)  # after an error a peer may be gone: no barrier
    assert calls == ["destroy"]
    calls.clear()
    distributed.shutdown(distributed.DistInfo(rank=1, world_size=2, initialised=False), finished=True)
    assert calls == [], "a group this module did not create is left alone"


@pytest.mark.parametrize("fails", [False, True])
def test_train_tells_the_teardown_how_the_run_ended(monkeypatch, fails):
    ended = []

    class FakeRun:
        def __init__(self, *args):
            pass

        def run(self):
            if fails:
                raise RuntimeError("broken")
            return "result"

    monkeypatch.setattr(loop, "init_distributed", lambda *a: distributed.DistInfo(rank=0, world_size=2, initialised=True))
    monkeypatch.setattr(loop, "_Run", FakeRun)
    monkeypatch.setattr(loop, "shutdown", lambda info, finished=False: ended.append(finished))
    request = TrainRequest(tiny_config(**CFG), "unused", dataset=TinyDataset())
    if fails:
        with pytest.raises(RuntimeError):
            train(request, RecordingContext())
    else:
        assert train(request, RecordingContext()) == "result"
    assert ended == [not fails]


def test_a_joining_process_reports_a_fatal_signal_with_its_stack(monkeypatch):
    joined = []
    monkeypatch.setattr(distributed, "_joined_group", False)  # restored: this process must not end early
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: False)
    monkeypatch.setattr(distributed.dist, "init_process_group", lambda **kw: joined.append(kw))
    was_enabled = faulthandler.is_enabled()
    faulthandler.disable()
    try:
        info = distributed.init_distributed(1, 2, torch.device("cpu"))
        assert faulthandler.is_enabled(), "a SIGABRT in a gloo process would print nothing but the signal"
    finally:
        faulthandler.disable()
        if was_enabled:
            faulthandler.enable()
    assert joined == [{"backend": "gloo", "rank": 1, "world_size": 2}]
    assert info.initialised and info.rank == 1
    assert distributed._joined_group, "the process now ends through end_process"


def test_only_a_process_that_joined_a_group_ends_early():
    assert not distributed._joined_group
    assert distributed.end_process(3) == 3


# a rank's last output is piped (block-buffered): end_process must flush it before os._exit
ENDING_RANK = """
import logging, sys
from batikstudio.training import distributed
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
distributed._joined_group = True
print("snapshot written")
logging.getLogger("rank").info("run finished")
distributed.end_process(4)
print("finalised normally")
"""


def test_a_rank_ends_without_finalising_and_keeps_its_output():
    done = subprocess.run([sys.executable, "-c", ENDING_RANK], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 4, done.stderr[-2000:]
    assert done.stdout == "snapshot written\n"
    assert "run finished" in done.stderr
