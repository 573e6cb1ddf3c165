"""Training the DCGAN baseline with the project's loop: CLI run, export, generate, metrics, exact resume."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from batikstudio.cli.main import main
from batikstudio.core.latents import seeds_to_z
from batikstudio.core.nets import DCGANGenerator, DCGANGeneratorConfig
from batikstudio.io.modelfile import read_model_file
from batikstudio.jobs import RecordingContext
from batikstudio.training.config import TrainConfig, TrainRequest
from batikstudio.training.data import RealSampler
from batikstudio.training.distributed import DistInfo
from batikstudio.training.loop import train
from batikstudio.training.networks import build_scratch, scratch_configs
from batikstudio.training.runfolder import RunFolder, load_snapshot, sub_state
from batikstudio.training.step import Trainer
from tests.conftest import labelled_png_folder

from .conftest import TinyDataset

NETS = ["--arch", "dcgan", "--z-dim", "8", "--ngf", "4", "--ndf", "4"]
TINY = dict(g_kwargs=dict(z_dim=8, ngf=4), d_kwargs=dict(ndf=4))


def _cfg(**changes) -> TrainConfig:
    base = dict(batch=4, total_kimg=0.016, kimg_per_tick=0.008, snapshot_ticks=1, sample_seeds=(0, 1, 2, 3),
                device="cpu", augment="none", **TINY)
    base.update(changes)
    return TrainConfig.for_arch("dcgan", **base)


@pytest.fixture
def png_folder(tmp_path):
    return labelled_png_folder(tmp_path / "data", 16)


def test_dcgan_defaults_and_user_overrides():
    cfg = TrainConfig.for_arch("dcgan")
    assert (cfg.lr, cfg.betas, cfg.r1_gamma, cfg.style_mixing_prob) == (0.0002, (0.5, 0.999), 0.0, 0.0)
    assert cfg.effective_r1_gamma(64) == 0
    assert TrainConfig.for_arch("dcgan", lr=0.001, betas=(0.0, 0.9)).betas == (0.0, 0.9)
    assert TrainConfig.for_arch("stylegan2", lr=None) == TrainConfig()
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="arch must be"):
        TrainConfig(arch="biggan")
    with pytest.raises(ValueError, match="betas"):
        TrainConfig(betas=(0.5, 1.5))


def test_cli_run_export_generate_metrics(tmp_path, png_folder, capsys):
    run, model = tmp_path / "run", tmp_path / "dcgan.safetensors"
    assert main(["train", "--data", str(png_folder), "--out", str(run), "--batch", "4", "--kimg", "0.008",
                 "--tick", "0.004", "--snap", "1", "--cond", "--augment", "none", "--device", "cpu", *NETS]) == 0
    cfg = RunFolder(run).read_config()
    assert (cfg.arch, cfg.lr, cfg.betas, cfg.r1_gamma, cfg.style_mixing_prob) == ("dcgan", 0.0002, (0.5, 0.999), 0, 0)
    assert main(["train", "--export", str(run), "-o", str(model)]) == 0
    stored = read_model_file(model)
    assert stored.meta.architecture == "dcgan" and stored.nets == ("G_ema", "G", "D")
    assert "synthesis.b4.bn.running_var" in stored.state_dict("G_ema")
    out = tmp_path / "png"
    assert main(["generate", "--model", str(model), "--seeds", "0-3", "--class", "parang", "--out", str(out)]) == 0
    pngs = [np.asarray(Image.open(out / f"seed{s:05d}.png")) for s in range(4)]
    # the same pixels as the snapshot's G_ema rendered directly
    tensors, meta = load_snapshot(RunFolder(run).latest_snapshot())
    G = DCGANGenerator(DCGANGeneratorConfig.from_dict(meta["G_config"])).eval()
    G.load_state_dict(sub_state(tensors, "G_ema"))
    with torch.no_grad():
        img = torch.cat([G(seeds_to_z([s], 8, "cpu"), torch.tensor([[0.0, 1.0]])) for s in range(4)])
    expected = (img * 127.5 + 128).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    assert all(np.array_equal(p, e) for p, e in zip(pngs, expected))
    capsys.readouterr()
    assert main(["generate", "--model", str(model), "--seeds", "0", "--mix", "1:coarse", "--out", str(out)]) == 2
    assert "DCGAN models have no W space" in capsys.readouterr().err
    assert main(["metrics", "--model", str(model), "--data", str(png_folder), "--metrics", "swd", "--num", "8",
                 "--device", "cpu"]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["num_fake"] == 8 and all(np.isfinite(v) for k, v in row.items() if k.startswith("swd"))
    # fine-tuning from the exported model keeps its family
    assert main(["train", "--data", str(png_folder), "--out", str(tmp_path / "ft"), "--batch", "4", "--kimg",
                 "0.004", "--tick", "0.004", "--cond", "--augment", "none", "--start", str(model), *NETS[:2]]) == 0
    sg_run = str(tmp_path / "sg")
    assert main(["train", "--data", str(png_folder), "--out", sg_run, "--cond", "--start", str(model)]) == 2
    assert "is a dcgan model: train it with --arch dcgan" in capsys.readouterr().err


def test_cli_refuses_what_dcgan_cannot_do(tmp_path, png_folder, capsys):
    base = ["train", "--data", str(png_folder), "--out", str(tmp_path / "r"), "--device", "cpu", *NETS]
    assert main([*base, "--diffusion"]) == 2
    assert "--diffusion needs --arch stylegan2" in capsys.readouterr().err
    assert main([*base, "--style-mixing", "0.5"]) == 2
    assert "DCGAN models have no W space" in capsys.readouterr().err
    assert main([*base, "--map", "2"]) == 2
    assert "bad network options for dcgan" in capsys.readouterr().err
    assert main([*base, "--pl-weight", "2"]) == 2
    assert "path length regularisation needs --arch stylegan2" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "--betas", "0.5"])
    assert "use two numbers" in capsys.readouterr().err


def test_stop_and_resume_is_exact_including_batchnorm_stats(tmp_path):
    cfg = _cfg(total_kimg=0.024, conditional=True, mirror=True, augment="ada", ada_interval=1, ada_kimg=0.5,
               ada_target=-2.0, kimg_per_tick=0.004)
    full = train(TrainRequest(cfg, str(tmp_path / "a"), dataset=TinyDataset(res=16)), RecordingContext())
    stop = train(TrainRequest(cfg, str(tmp_path / "b"), dataset=TinyDataset(res=16)), RecordingContext(cancel_after=2))
    assert stop.stopped and stop.kimg == pytest.approx(0.008)
    resumed = train(TrainRequest(cfg, str(tmp_path / "b"), dataset=TinyDataset(res=16), resume=True),
                    RecordingContext())
    assert resumed.kimg == pytest.approx(0.024) and resumed.iterations == 4
    ta, ma = load_snapshot(full.snapshot)
    tb, mb = load_snapshot(resumed.snapshot)
    assert ma["architecture"] == mb["architecture"] == "dcgan" and ma["augment_p"] == mb["augment_p"] > 0
    assert "G_ema.synthesis.b8.bn.running_mean" in ta and "D.b8.bn.num_batches_tracked" in ta
    checked = [k for k in ta if k.startswith(("G.", "D.", "G_ema.", "opt_"))]
    for key in checked:
        assert torch.equal(ta[key], tb[key]), key
    assert int(ta["G.synthesis.b4.bn.num_batches_tracked"]) == 6


@pytest.mark.parametrize("changes", [
    dict(loss="wasserstein", gp="wgan-gp"),
    dict(r1_gamma=0.1, r1_interval=1, conditional=True, freeze_d=1),
    dict(fast_path=False, tileable=True),
])
def test_loss_variants_step_with_finite_losses(changes):
    cfg = _cfg(**changes)
    ds = TinyDataset(res=16)
    c_dim = 2 if cfg.conditional else 0
    g_cfg, d_cfg = scratch_configs(cfg, 16, 3, c_dim, cfg.batch)
    torch.manual_seed(0)
    nets = build_scratch(g_cfg, d_cfg)
    sampler = RealSampler(ds, 16, c_dim, False, torch.Generator().manual_seed(0))
    trainer = Trainer(cfg, nets.G, nets.D, nets.G_ema, sampler, torch.device("cpu"), DistInfo(), 16)
    frozen = {n: p.detach().clone() for n, p in nets.D.named_parameters() if n.startswith("b16.")}
    for _ in range(2):
        trainer.step()
    stats = trainer.take_stats()
    assert stats and all(np.isfinite(v) for v in stats.values())
    assert ("r1" in stats) == bool(cfg.r1_gamma) and ("gp" in stats) == (cfg.gp == "wgan-gp")
    assert all(torch.equal(p, frozen[n]) for n, p in nets.D.named_parameters() if n in frozen) == bool(cfg.freeze_d)


def test_bfloat16_blocks_train(monkeypatch):
    cfg = _cfg()
    g_cfg, d_cfg = scratch_configs(cfg, 16, 3, 0, cfg.batch)
    nets = build_scratch(g_cfg, d_cfg)
    sampler = RealSampler(TinyDataset(res=16), 16, 0, False, torch.Generator().manual_seed(0))
    trainer = Trainer(cfg, nets.G, nets.D, nets.G_ema, sampler, torch.device("cpu"), DistInfo(), 16)
    trainer.block_dtype = torch.bfloat16  # what cpu_bf16 selects on CPUs with native bf16
    before = nets.G.synthesis.torgb.weight.detach().clone()
    trainer.step()
    assert all(np.isfinite(v) for v in trainer.take_stats().values())
    assert nets.G.synthesis.torgb.weight.dtype == torch.float32
    assert not torch.equal(before, nets.G.synthesis.torgb.weight)
