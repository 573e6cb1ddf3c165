import copy

import numpy as np
import pytest
import torch

from batikstudio.core.nets import Generator, GeneratorConfig
from batikstudio.errors import BatikError, DatasetError
from batikstudio.io import models
from batikstudio.io.modelfile import ModelFile, read_model_file, save_model_file
from batikstudio.jobs import RecordingContext
from batikstudio.training.config import DiffusionConfig, TrainRequest, TrainTick
from batikstudio.training.data import RealSampler
from batikstudio.training.distributed import DistInfo
from batikstudio.training.export import export_snapshot
from batikstudio.training.loop import train
from batikstudio.training.networks import build_scratch, load_start, scratch_configs
from batikstudio.training.runfolder import RunFolder, load_snapshot, sub_state
from batikstudio.training.step import Trainer

from .conftest import TINY_G, TinyDataset, tiny_config


def _trainer(cfg, ds):
    g_cfg, d_cfg = scratch_configs(cfg, ds.resolution, ds.channels, 2 if cfg.conditional else 0, cfg.batch)
    nets = build_scratch(g_cfg, d_cfg)
    sampler = RealSampler(ds, ds.resolution, g_cfg.c_dim, cfg.mirror, torch.Generator().manual_seed(0))
    return Trainer(cfg, nets.G, nets.D, nets.G_ema, sampler, torch.device("cpu"), DistInfo(), ds.resolution)


def _changed(before, module):
    return {n for n, p in module.named_parameters() if not torch.equal(before[n], p.detach())}


def test_one_step_updates_G_D_and_G_ema_but_not_frozen_blocks(tiny_dataset):
    cfg = tiny_config(conditional=True, freeze_d=1, style_mixing_prob=0.9)
    tr = _trainer(cfg, tiny_dataset)
    g0, d0, e0 = (copy.deepcopy({n: p.detach().clone() for n, p in m.named_parameters()})
                  for m in (tr.G, tr.D, tr.G_ema))
    tr.step()
    assert "mapping.fc0.weight" in _changed(g0, tr.G) and "synthesis.b8.conv1.weight" in _changed(g0, tr.G)
    changed_d = _changed(d0, tr.D)
    assert any(n.startswith("b4.") for n in changed_d)
    assert tr.frozen_d and not (changed_d & tr.frozen_d)
    assert all(n.startswith("b8.") for n in tr.frozen_d)
    assert _changed(e0, tr.G_ema)
    stats = tr.take_stats()
    assert set(stats) >= {"G", "D", "r1"} and all(np.isfinite(v) for v in stats.values())
    assert tr.nimg == cfg.batch


@pytest.mark.parametrize("changes", [
    dict(loss="wasserstein", gp="wgan-gp"),
    dict(loss="wasserstein", gp="r1", augment="diffaugment", augment_ops=("translation",)),
    dict(pl_weight=2.0, pl_interval=1, fast_path=False, tileable=True),
    dict(diversity_weight=1.0, batch=8),
    dict(diversity_weight=1.0, batch=8, fast_path=False),
    dict(mismatch_weight=0.5, conditional=True),
    dict(mismatch_weight=0.5, conditional=True, fast_path=False, loss="wasserstein", gp="r1"),
])
def test_loss_variants_train_with_finite_losses(tiny_dataset, changes):
    tr = _trainer(tiny_config(**changes), tiny_dataset)
    for _ in range(2):
        tr.step()
    stats = tr.take_stats()
    assert all(np.isfinite(v) for v in stats.values())
    if changes.get("gp") == "wgan-gp":
        assert "gp" in stats and "r1" not in stats
    if changes.get("pl_weight"):
        assert "pl" in stats
    if changes.get("diversity_weight"):
        assert 0 < stats["div"] <= 0.5  # measured on the generated pairs, capped
    assert ("D_wrong" in stats) == bool(changes.get("mismatch_weight"))


def _class_margin(tr, ds):
    """Mean of D(real, own class) - D(real, the other class) over the data set (2 classes)."""
    x = torch.from_numpy(ds.imgs).permute(0, 3, 1, 2).float() / 127.5 - 1
    own = torch.eye(2)[torch.from_numpy(ds.labels)]
    with torch.no_grad():
        return float((tr.D(x, own) - tr.D(x, own.flip(1))).mean())


def test_mismatch_term_needs_two_classes(tiny_dataset):
    with pytest.raises(ValueError, match="conditional run"):
        _trainer(tiny_config(mismatch_weight=0.5), tiny_dataset)


def test_mismatch_term_teaches_D_the_classes(tiny_dataset):
    # two classes that differ only in brightness: real-vs-fake alone hardly needs the label
    ds = tiny_dataset
    ds.imgs = np.where(ds.labels[:, None, None, None] == 0, ds.imgs // 4, 255 - ds.imgs // 4).astype(np.uint8)
    margins = {}
    for w in (0.0, 1.0):
        torch.manual_seed(0)
        tr = _trainer(tiny_config(conditional=True, mismatch_weight=w, lr=0.01), ds)
        for _ in range(30):
            tr.step()
        margins[w] = _class_margin(tr, ds)
    assert margins[1.0] > 1.0 and margins[1.0] > margins[0.0] + 0.5


def test_ada_and_diffusion_strength_follow_the_real_signs(tiny_dataset):
    cfg = tiny_config(augment="ada", ada_interval=1, ada_kimg=1,
                      diffusion=DiffusionConfig(enabled=True, interval=1, ada_kimg=1))
    tr = _trainer(cfg, tiny_dataset)
    tr.batch_idx = 1
    tr.ada_acc[:] = torch.tensor([4.0, 4.0])  # D says "real" for every real: it overfits
    tr.diff_acc[:] = torch.tensor([4.0, 4.0])
    tr._adjust_strengths()
    assert tr.augment_p == pytest.approx(0.004) and tr.diffusion.p == pytest.approx(0.004)
    tr.diffusion.p = 0.5
    tr.ada_acc[:] = torch.tensor([0.0, 4.0])
    tr.diff_acc[:] = torch.tensor([0.0, 4.0])
    tr._adjust_strengths()
    assert tr.augment_p == 0.0 and tr.diffusion.p == pytest.approx(0.496)
    assert tr.diffusion.T == 10 + round(0.496 * 990)


def test_job_reports_ticks_and_writes_the_run_folder(tmp_path, tiny_dataset):
    calls = []

    def fake_metric(G_ema, device):
        calls.append(device)
        return 5.0 - len(calls)

    ctx = RecordingContext()
    cfg = tiny_config(conditional=True, augment="ada")
    res = train(TrainRequest(cfg, str(tmp_path / "run"), dataset=tiny_dataset, metrics={"fid": fake_metric}), ctx)
    assert not res.stopped and res.kimg == pytest.approx(0.016) and res.iterations == 4
    ticks = [p for p in ctx.partials if isinstance(p, TrainTick)]
    assert len(ticks) == 2 and ticks[-1].grid.dtype == np.uint8 and ticks[-1].grid.shape == (16, 16, 3)
    assert ticks[-1].metrics == {"fid": 3.0}
    assert ctx.progress_log[-1] == (pytest.approx(0.016), 0.016)
    run = RunFolder(tmp_path / "run")
    assert run.read_config() == cfg
    assert len(run.read_metrics()) == 2 and run.best()["value"] == 3.0
    assert "tick" in run.log_path.read_text()


def test_stop_writes_a_snapshot_and_resume_is_exact(tmp_path):
    # targets below -1 make p and T rise every iteration, so resuming must carry them on
    cfg = tiny_config(total_kimg=0.024, conditional=True, class_groups=True, mirror=True, augment="ada", ada_interval=1, ada_kimg=0.5,
                      ada_target=-2.0, diffusion=DiffusionConfig(enabled=True, interval=1, ada_kimg=0.5, target=-2.0),
                      style_mixing_prob=0.5)
    full = train(TrainRequest(cfg, str(tmp_path / "a"), dataset=TinyDataset()), RecordingContext())
    stop = train(TrainRequest(cfg, str(tmp_path / "b"), dataset=TinyDataset()), RecordingContext(cancel_after=2))
    assert stop.stopped and stop.kimg == pytest.approx(0.008) and stop.snapshot
    _, meta = load_snapshot(stop.snapshot)
    assert meta["nimg"] == 8 and meta["augment_p"] == pytest.approx(0.016) and meta["diffusion"]["p"] == pytest.approx(0.016)
    resumed = train(TrainRequest(cfg, str(tmp_path / "b"), dataset=TinyDataset(), resume=True), RecordingContext())
    assert resumed.kimg == pytest.approx(0.024) and resumed.iterations == 4
    ta, ma = load_snapshot(full.snapshot)
    tb, mb = load_snapshot(resumed.snapshot)
    assert ma["augment_p"] == mb["augment_p"] == pytest.approx(0.048) and ma["diffusion"] == mb["diffusion"]
    for key in ta:
        if key.startswith(("G.", "D.", "G_ema.", "opt_")):
            assert torch.equal(ta[key], tb[key]), key


def test_resume_without_snapshot_raises(tmp_path):
    run = RunFolder(tmp_path)
    run.write_config(tiny_config())
    with pytest.raises(DatasetError, match="no snapshot"):
        train(TrainRequest(tiny_config(), str(tmp_path), dataset=TinyDataset(), resume=True), RecordingContext())


def test_export_gives_a_loadable_model_with_its_training_record(tmp_path):
    cfg = tiny_config(conditional=True, diffusion=DiffusionConfig(enabled=True))
    res = train(TrainRequest(cfg, str(tmp_path / "run"), dataset=TinyDataset()), RecordingContext())
    out = export_snapshot(tmp_path / "run", tmp_path / "model.safetensors")
    model = read_model_file(out)
    assert model.nets == ("G_ema", "G", "D")
    rec = model.meta.training
    assert rec["kimg"] == pytest.approx(res.kimg) and rec["diffusion"]["T"] >= 10 and rec["loss"] == "stylegan2"
    assert model.meta.class_labels == ("family0", "family1")
    G = Generator(GeneratorConfig.from_dict(model.meta.G_config))
    G.load_state_dict(model.state_dict("G_ema"))
    img = G(torch.randn(2, G.z_dim), torch.eye(2), noise_mode="const")
    assert img.shape == (2, 3, 8, 8) and torch.isfinite(img).all()
    tensors, _ = load_snapshot(res.snapshot)
    assert torch.equal(model.state_dict("G_ema")["mapping.fc0.weight"], sub_state(tensors, "G_ema")["mapping.fc0.weight"])


def test_conditional_needs_labels(tmp_path):
    ds = TinyDataset()
    ds.labels = np.full(len(ds), -1)
    with pytest.raises(DatasetError, match="labels"):
        train(TrainRequest(tiny_config(conditional=True), str(tmp_path), dataset=ds), RecordingContext())


def test_fine_tune_from_an_exported_model_keeps_weights_and_diffusion_p(tmp_path):
    cfg = tiny_config(diffusion=DiffusionConfig(enabled=True, interval=1, ada_kimg=0.2))
    train(TrainRequest(cfg, str(tmp_path / "base"), dataset=TinyDataset()), RecordingContext())
    exported = read_model_file(export_snapshot(tmp_path / "base", tmp_path / "base.safetensors"))
    # as if imported from a Diffusion-GAN pickle whose p had reached 0.3
    record = {**exported.meta.training, "diffusion": {"p": 0.3, "T": 307}}
    model = save_model_file(tmp_path / "start.safetensors",
                            ModelFile(exported.tensors, exported.meta.replace(training=record)))
    ft = cfg.replace(start=str(model), total_kimg=0.004, kimg_per_tick=0.004)
    ctx = RecordingContext()
    res = train(TrainRequest(ft, str(tmp_path / "ft"), dataset=TinyDataset()), ctx)
    assert res.kimg == pytest.approx(0.004)
    tensors, meta = load_snapshot(res.snapshot)
    base = read_model_file(model)
    w0 = base.state_dict("G")["synthesis.b8.conv1.weight"]
    w1 = sub_state(tensors, "G")["synthesis.b8.conv1.weight"]
    assert 0 < (w1 - w0).abs().max() < 0.05  # one step away from the start, not a fresh init
    assert abs(meta["diffusion"]["p"] - 0.3) <= 0.02 + 1e-9
    assert meta["diffusion"]["T"] >= 10 + round(0.28 * 990)


def test_start_model_must_fit_the_data(tmp_path):
    from batikstudio.errors import ModelFileError

    train(TrainRequest(tiny_config(), str(tmp_path / "base"), dataset=TinyDataset()), RecordingContext())
    model = export_snapshot(tmp_path / "base", tmp_path / "m.safetensors", include_training_nets=False)
    with pytest.raises(ModelFileError, match="makes 8 px.*needs 4 px"):  # smaller data; larger grows the model
        train(TrainRequest(tiny_config(start=str(model)), str(tmp_path / "ft"), dataset=TinyDataset(res=4)),
              RecordingContext())
    # a model without G and D still fine-tunes (G from G_ema, fresh D)
    res = train(TrainRequest(tiny_config(start=str(model), total_kimg=0.004), str(tmp_path / "ok"),
                             dataset=TinyDataset()), RecordingContext())
    assert res.kimg == pytest.approx(0.004)


def test_fine_tune_with_no_noise_drops_the_noise_inputs_and_keeps_the_rest(tmp_path):
    train(TrainRequest(tiny_config(), str(tmp_path / "base"), dataset=TinyDataset()), RecordingContext())
    model = export_snapshot(tmp_path / "base", tmp_path / "m.safetensors")
    ft = tiny_config(start=str(model), total_kimg=0.004, kimg_per_tick=0.004, g_kwargs={**TINY_G, "use_noise": False})
    res = train(TrainRequest(ft, str(tmp_path / "ft"), dataset=TinyDataset()), RecordingContext())
    tensors, meta = load_snapshot(res.snapshot)
    assert meta["G_config"]["use_noise"] is False
    assert not [k for k in tensors if "noise" in k]
    w0 = read_model_file(model).state_dict("G")["synthesis.b8.conv1.weight"]
    w1 = sub_state(tensors, "G")["synthesis.b8.conv1.weight"]
    assert 0 < (w1 - w0).abs().max() < 0.05  # continued from the start model's weights


def test_fine_tune_with_noise_adds_zero_strength_noise_inputs_to_a_noise_free_model(tmp_path):
    base = tiny_config(g_kwargs={**TINY_G, "use_noise": False})
    train(TrainRequest(base, str(tmp_path / "base"), dataset=TinyDataset()), RecordingContext())
    model = export_snapshot(tmp_path / "base", tmp_path / "m.safetensors")
    nets = load_start(str(model), tiny_config(start=str(model), g_kwargs={**TINY_G, "use_noise": True}),
                      8, 3, 0, 4)
    before = models.open_model(model, device="cpu").G_ema
    assert not before.cfg.use_noise and nets.G.cfg.use_noise and nets.G_ema.cfg.use_noise
    names = [k for k in nets.G.state_dict() if k.endswith("noise_const")]
    assert names and all(torch.equal(nets.G.state_dict()[k], nets.G_ema.state_dict()[k]) for k in names)
    with torch.no_grad():  # zero strength: the same images as the noise-free start model
        ws = before.mapping(torch.randn(3, TINY_G["z_dim"]), None)
        assert torch.allclose(nets.G_ema.synthesis(ws, noise_mode="random"), before.synthesis(ws), atol=1e-6)
    ft = tiny_config(start=str(model), total_kimg=0.008, kimg_per_tick=0.008, diversity_weight=1.0, batch=8,
                     g_kwargs={**TINY_G, "use_noise": True})
    res = train(TrainRequest(ft, str(tmp_path / "ft"), dataset=TinyDataset()), RecordingContext())
    tensors, meta = load_snapshot(res.snapshot)
    assert meta["G_config"]["use_noise"] is True
    assert any(float(sub_state(tensors, "G")[k]) != 0 for k in sub_state(tensors, "G") if k.endswith("noise_strength"))


def test_a_fine_tune_records_the_kimg_of_earlier_stages_through_resume_and_export(tmp_path):
    base = train(TrainRequest(tiny_config(total_kimg=0.008, kimg_per_tick=0.004), str(tmp_path / "base"),
                              dataset=TinyDataset()), RecordingContext())
    model = export_snapshot(tmp_path / "base", tmp_path / "base.safetensors")
    assert read_model_file(model).meta.training["kimg_total"] == pytest.approx(base.kimg)
    ft = tiny_config(start=str(model), total_kimg=0.004, kimg_per_tick=0.004)
    train(TrainRequest(ft, str(tmp_path / "ft"), dataset=TinyDataset()), RecordingContext())
    more = ft.replace(total_kimg=0.008)
    res = train(TrainRequest(more, str(tmp_path / "ft"), dataset=TinyDataset(), resume=True), RecordingContext())
    _, meta = load_snapshot(res.snapshot)
    rec = meta["training"]
    assert rec["kimg"] == pytest.approx(0.008) and rec["kimg_before"] == pytest.approx(base.kimg)
    assert rec["kimg_total"] == pytest.approx(base.kimg + 0.008)
    second = read_model_file(export_snapshot(tmp_path / "ft", tmp_path / "ft.safetensors")).meta
    assert second.training["kimg_total"] == pytest.approx(0.016)
    assert "0.0 kimg" in second.description  # rounded to a tenth of a kimg
    # a run started from a file that never recorded its total is told at export
    told = read_model_file(export_snapshot(tmp_path / "ft", tmp_path / "told.safetensors", kimg_before=100.5)).meta
    assert told.training["kimg_total"] == pytest.approx(100.508) and "100.5 kimg" in told.description
    with pytest.raises(BatikError, match="negative"):
        export_snapshot(tmp_path / "ft", tmp_path / "bad.safetensors", kimg_before=-1)
    assert not (tmp_path / "bad.safetensors").exists()
