"""compute_metrics, the trainer hooks, the evaluate job and ``batikstudio metrics`` (tiny sizes)."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from batikstudio.cli.main import main
from batikstudio.core.nets import Generator, GeneratorConfig
from batikstudio.errors import DatasetError
from batikstudio.io.models import new_random_model
from batikstudio.jobs import Cancelled, RecordingContext
from batikstudio.training.metrics import METRICS, parse_metric_names
from batikstudio.training.metrics.evaluate import (
    EvaluateRequest, MetricOptions, MetricSuite, _class_vectors, compute_metrics, dataset_batches, evaluate, generator_batches,
    training_metrics,
)
from batikstudio.training.metrics.swd import SWDConfig

FAST = MetricOptions(swd=SWDConfig(nhoods_per_image=8, dirs_per_repeat=16), batch_size=8)
CFG = dict(z_dim=8, w_dim=8, img_resolution=16, img_channels=3, mapping_layers=1, channel_base=64, channel_max=8)


class ArrayDataset:
    def __init__(self, imgs, labels=None):
        self.imgs = imgs
        self.labels = np.full(len(imgs), -1) if labels is None else np.asarray(labels)
        self.resolution, self.channels = imgs.shape[1], imgs.shape[3]

    def __len__(self):
        return len(self.imgs)

    def __getitem__(self, i):
        return self.imgs[i], int(self.labels[i])


def _noise(n, res=16, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, res, res, 3), dtype=np.uint8)


@pytest.fixture
def files(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for i, img in enumerate(_noise(12)):
        Image.fromarray(img).save(data / f"{i:03d}.png")
    model = new_random_model(GeneratorConfig(c_dim=0, **CFG), 0, tmp_path / "m.safetensors")
    return model, data


def test_registry_and_names():
    assert set(METRICS) == {"swd", "fd-effnet", "collapse", "fid", "kid"}
    assert METRICS["fid"].feature == METRICS["kid"].feature == "inception"
    with pytest.raises(ValueError, match="unknown metric 'is'"):
        parse_metric_names("swd,is")
    with pytest.raises(ValueError, match="no metric"):
        parse_metric_names(" , ")


def test_compute_metrics_on_batches():
    real = [torch.from_numpy(_noise(8, seed=0)).permute(0, 3, 1, 2)]
    same = [torch.from_numpy(_noise(8, seed=1)).permute(0, 3, 1, 2)]
    out = compute_metrics("swd", real, same, options=FAST)
    assert set(out) == {"swd", "swd_16"} and out["swd"] > 0


def test_suite_separates_distributions_in_effnet_features():
    suite = MetricSuite("swd,fd-effnet", "cpu", FAST)
    real = suite.collect([torch.from_numpy(_noise(4, seed=0)).permute(0, 3, 1, 2)], 16, 0)
    same = suite.collect([torch.from_numpy(_noise(4, seed=1)).permute(0, 3, 1, 2)], 16, 1)
    colours = torch.tensor([[200, 30, 30], [30, 200, 30], [30, 30, 200], [200, 200, 30]], dtype=torch.uint8)
    flat = suite.collect([colours.view(4, 3, 1, 1).expand(4, 3, 16, 16).contiguous()], 16, 1)
    a, b = suite.compare(real, same), suite.compare(real, flat)
    assert set(a) == {"swd", "swd_16", "fd-effnet"}
    assert b["fd-effnet"] > 3 * a["fd-effnet"] and b["swd"] > a["swd"]


def test_dataset_batches_seeded_subset():
    ds = ArrayDataset(_noise(10))
    it, n = dataset_batches(ds, 6, batch_size=4, seed=1)
    batches = list(it)
    assert n == 6 and [b.shape for b in batches] == [(4, 3, 16, 16), (2, 3, 16, 16)]
    again = np.concatenate(list(dataset_batches(ds, 6, 4, seed=1)[0]))
    np.testing.assert_array_equal(np.concatenate(batches), again)
    assert dataset_batches(ds, None)[1] == 10 and dataset_batches(ds, 99)[1] == 10


def test_generator_batches_are_seeded_uint8():
    G = Generator(GeneratorConfig(c_dim=0, **CFG)).eval()
    a = torch.cat(list(generator_batches(G, 5, batch_size=2)))
    b = torch.cat(list(generator_batches(G, 5, batch_size=5)))
    assert a.shape == (5, 3, 16, 16) and a.dtype == torch.uint8
    torch.testing.assert_close(a, b, atol=1, rtol=0)  # batch size changes nothing but round-off


def test_class_vectors_follow_dataset_labels():
    ds = ArrayDataset(_noise(4), labels=[2, 2, 2, 2])
    c = _class_vectors(3, 6, ds, seed=0)
    assert c.shape == (6, 3) and (c.argmax(1) == 2).all()
    uniform = _class_vectors(3, 300, ArrayDataset(_noise(2)), seed=0)
    assert set(uniform.argmax(1)) == {0, 1, 2}
    assert _class_vectors(0, 5, ds, 0) is None


def test_training_hook_is_deterministic_and_keeps_mode():
    G = Generator(GeneratorConfig(c_dim=2, **CFG)).train()
    ds = ArrayDataset(_noise(12), labels=np.arange(12) % 2)
    hooks = training_metrics("swd", ds, num=12, options=FAST)
    first = hooks["swd"](G, torch.device("cpu"))
    assert G.training
    assert isinstance(first, float) and first > 0
    assert hooks["swd"](G, torch.device("cpu")) == first


def test_resolution_mismatch_is_a_user_error():
    G = Generator(GeneratorConfig(c_dim=0, **CFG))
    with pytest.raises(DatasetError, match="16 px"):
        compute_metrics("swd", ArrayDataset(_noise(4, res=32)), G, num_fake=4, options=FAST)


def test_evaluate_job_progress_and_cancel(files):
    model, data = files
    ctx = RecordingContext()
    result = evaluate(EvaluateRequest(str(model), str(data), ("swd",), num=8, device="cpu", options=FAST), ctx)
    assert result.num_real == 8 and result.num_fake == 8 and result.values["swd"] > 0
    assert ctx.progress_log[-1] == (16, 16)
    with pytest.raises(Cancelled):
        evaluate(EvaluateRequest(str(model), str(data), ("swd",), num=8, device="cpu", options=FAST),
                 RecordingContext(cancel_after=1))


def test_cli_prints_table_and_json(files, capsys):
    model, data = files
    assert main(["metrics", "--model", str(model), "--data", str(data), "--num", "6", "--batch", "3",
                 "--device", "cpu"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    row = json.loads(out[-1])
    assert row["num_fake"] == 6 and row["num_real"] == 6 and row["swd"] > 0
    assert any(line.split()[0] == "swd" for line in out[1:-1])
    assert main(["metrics", "--model", str(model), "--data", str(data), "--metrics", "collapse",
                 "--device", "cpu"]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0 <= row["collapse"] <= 1 and row["spread_real"] > 0
    assert row["num_fake"] == 32 and row["num_real"] <= 32  # 32 seeds of its one class


def test_cli_user_errors(files, capsys, tmp_path, monkeypatch):
    model, data = files
    monkeypatch.delenv("BATIKSTUDIO_INCEPTION", raising=False)
    monkeypatch.setenv("BATIKSTUDIO_HOME", str(tmp_path / "home"))
    assert main(["metrics", "--model", str(model), "--data", str(data), "--metrics", "fid", "--num", "4"]) == 2
    assert "pt_inception-2015-12-05-6726825d.pth" in capsys.readouterr().err
    assert main(["metrics", "--model", str(model), "--data", str(data), "--metrics", "bogus"]) == 2
    assert "unknown metric" in capsys.readouterr().err
    assert main(["metrics", "--model", str(model), "--data", str(data), "--num", "1"]) == 2


def test_a_model_trained_for_seamless_tiles_is_judged_as_it_renders(tmp_path):
    from dataclasses import replace

    from batikstudio.io.modelfile import ModelFile, read_model_file, save_model_file
    from batikstudio.io.models import open_model

    G = Generator(GeneratorConfig(c_dim=0, **CFG)).eval()
    plain = torch.cat(list(generator_batches(G, 4)))
    wrapped = torch.cat(list(generator_batches(G, 4, tileable=True)))
    with torch.no_grad():
        want = G(torch.cat([torch.from_numpy(np.random.RandomState(s).randn(1, 8)) for s in range(4)]).float(),
                 None, noise_mode="const", tileable=True)
    torch.testing.assert_close(wrapped, (want * 127.5 + 128).clamp(0, 255).to(torch.uint8), atol=1, rtol=0)
    assert not torch.equal(plain, wrapped)
    # a model file that says it was trained tileable is measured wrapped unless the options say otherwise
    path = new_random_model(GeneratorConfig(c_dim=0, **CFG), seed=1, path=tmp_path / "m.safetensors")
    stored = read_model_file(path)
    save_model_file(path, ModelFile(stored.tensors, replace(stored.meta, training={"options": {"tileable": True}})))
    model, ds = open_model(path), ArrayDataset(_noise(16))
    by_file = compute_metrics("swd", ds, model, num_fake=16, options=FAST)
    assert by_file == compute_metrics("swd", ds, model, num_fake=16, options=replace(FAST, tileable=True))
    assert by_file != compute_metrics("swd", ds, model, num_fake=16, options=replace(FAST, tileable=False))
    hook = training_metrics("swd", ds, num=16, options=replace(FAST, tileable=True))["swd"]
    assert hook(model.G_ema, torch.device("cpu")) == pytest.approx(by_file["swd"])
