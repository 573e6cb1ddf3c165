"""Finding interrupted training runs (no Qt)."""

import json
import os
import subprocess
import sys

import pytest

from batikstudio.app.recovery import (
    CLOSED, FINISHED, RUNNING, STOPPED, RunRegistry, pid_alive, run_complete, run_progress,
)
from batikstudio.training.config import TrainConfig
from batikstudio.training.runfolder import RunFolder


def _fake_run(path, total_kimg=1.0, nimg=None):
    folder = RunFolder(path)
    folder.write_config(TrainConfig(total_kimg=total_kimg))
    if nimg is not None:
        folder.snapshot_path(nimg).write_bytes(b"")  # only the name counts here
    return str(path)


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_progress_and_completion_come_from_the_snapshot_names(tmp_path):
    run = _fake_run(tmp_path / "a", total_kimg=0.5, nimg=200)
    assert run_progress(run) == (0.2, 0.5) and not run_complete(run)
    RunFolder(run).snapshot_path(500).write_bytes(b"")
    assert run_complete(run)
    assert run_progress(tmp_path / "missing") == (0.0, None)


def test_interrupted_runs_are_the_closed_or_orphaned_unfinished_ones(tmp_path):
    reg = RunRegistry(tmp_path / "runs.json")
    crashed = _fake_run(tmp_path / "crashed", nimg=100)
    closed = _fake_run(tmp_path / "closed", nimg=100)
    alive = _fake_run(tmp_path / "alive", nimg=100)
    stopped = _fake_run(tmp_path / "stopped", nimg=100)
    done = _fake_run(tmp_path / "done", total_kimg=0.1, nimg=100)
    no_snapshot = _fake_run(tmp_path / "empty")
    dead = _dead_pid()
    for run in (crashed, done, no_snapshot):
        reg.register(run, pid=dead)
    reg.register(closed)
    reg.set_status(closed, CLOSED)
    reg.register(alive)  # this process: still training
    reg.register(stopped, pid=dead)
    reg.set_status(stopped, STOPPED)
    found = {e.run_dir for e in reg.interrupted()}
    assert found == {os.path.realpath(crashed), os.path.realpath(closed)}
    assert reg.get(alive).status == RUNNING and reg.get(alive).pid == os.getpid()
    reg.set_status(crashed, FINISHED)
    reg.forget(closed)
    assert reg.interrupted() == [] and reg.get(closed) is None
    with pytest.raises(ValueError):
        reg.set_status(crashed, "exploded")


def test_registry_file_is_json_and_a_broken_one_counts_as_empty(tmp_path):
    reg = RunRegistry(tmp_path / "runs.json")
    reg.register(tmp_path / "r", pid=1, label="my run")
    data = json.loads((tmp_path / "runs.json").read_text())
    assert data["runs"][0]["label"] == "my run" and data["runs"][0]["status"] == RUNNING
    assert reg.entries()[0].name == "my run"
    (tmp_path / "runs.json").write_text("{not json")
    assert reg.entries() == []


def test_pid_alive():
    assert pid_alive(os.getpid())
    assert not pid_alive(_dead_pid())
    assert not pid_alive(0)
    assert not pid_alive(os.getpid(), boot="another-boot") or not os.path.exists("/proc/sys/kernel/random/boot_id")
