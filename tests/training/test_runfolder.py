import json

import numpy as np
import pytest
import torch

from batikstudio.errors import BatikError, ModelFileError
from batikstudio.training.config import TrainConfig
from batikstudio.training.runfolder import RunFolder, load_snapshot, sub_state


def test_config_round_trip(tmp_path):
    run = RunFolder(tmp_path / "run")
    cfg = TrainConfig(data="d.zip", batch=8)
    run.write_config(cfg, {"r1_gamma": 0.1})
    assert run.read_config() == cfg
    assert json.loads(run.config_path.read_text())["resolved"]["r1_gamma"] == 0.1


def test_missing_run_folder_and_config(tmp_path):
    with pytest.raises(BatikError):
        RunFolder(tmp_path / "nope", create=False)
    with pytest.raises(BatikError, match="not a run folder"):
        RunFolder(tmp_path).read_config()


def test_snapshots_keep_last_and_best(tmp_path):
    run = RunFolder(tmp_path)
    paths = [run.save_snapshot(n * 1000, {"G.w": torch.full((2,), float(n))}, {"kimg": n}) for n in range(1, 5)]
    assert run.offer_best(paths[0], "fid", 10.0)
    assert not run.offer_best(paths[1], "fid", 12.0)
    run.prune(keep_last=2)
    assert [p.name for p in run.snapshots()] == [paths[0].name, paths[2].name, paths[3].name]
    tensors, meta = load_snapshot(run.latest_snapshot())
    assert meta["kimg"] == 4 and torch.equal(sub_state(tensors, "G")["w"], torch.full((2,), 4.0))
    assert not list(tmp_path.glob("*.part"))


def test_load_rejects_foreign_files(tmp_path):
    (tmp_path / "x.safetensors").write_bytes(b"garbage")
    with pytest.raises(ModelFileError):
        load_snapshot(tmp_path / "x.safetensors")
    with pytest.raises(ModelFileError):
        load_snapshot(tmp_path / "missing.safetensors")


def test_metrics_and_grid(tmp_path):
    run = RunFolder(tmp_path)
    run.append_metrics({"kimg": 1.0, "losses": {"G": 0.7}})
    run.append_metrics({"kimg": 2.0})
    assert [r["kimg"] for r in run.read_metrics()] == [1.0, 2.0]
    path = run.save_grid(2000, np.zeros((8, 8, 3), np.uint8))
    assert path.exists() and path.name == "samples-000002000.png"


def test_partial_writes_are_removed_only_on_request(tmp_path):
    from batikstudio.training.runfolder import RunFolder

    folder = RunFolder(tmp_path / "run")
    part = folder.path / ".snapshot-000001000.safetensors.abc.part"
    part.write_bytes(b"half")
    RunFolder(folder.path, create=False)  # a reader (the app following a run) leaves it alone
    assert part.exists()
    folder.remove_partial_writes()
    assert not part.exists()
