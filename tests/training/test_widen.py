"""Growing a trained StyleGAN2 model to more channels (batikstudio.training.widen)."""

import json

import pytest
import torch

from batikstudio.cli.main import main
from batikstudio.core.nets import Discriminator, DiscriminatorConfig, Generator, GeneratorConfig
from batikstudio.errors import BatikError
from batikstudio.io.modelfile import read_model_file
from batikstudio.training.widen import widen_discriminator, widen_generator
from tests.conftest import labelled_png_folder


def _nets(arch: str = "skip"):
    torch.manual_seed(1)
    g = Generator(GeneratorConfig(z_dim=16, c_dim=3, w_dim=16, img_resolution=16, img_channels=3,
                                  mapping_layers=2, channel_base=128, channel_max=16, architecture=arch))
    d = Discriminator(DiscriminatorConfig(c_dim=3, img_resolution=16, img_channels=3, channel_base=128,
                                          channel_max=16, t_dim=1, mapping_layers=2))
    with torch.no_grad():  # trained-looking weights: nothing zero, biases and noise strengths set
        for net in (g, d):
            for name, p in net.named_parameters():
                if name.endswith(("bias", "noise_strength")):
                    p.normal_(0, 0.1)
    return g.eval(), d.eval()


@pytest.mark.parametrize("arch", ["skip", "orig"])
def test_the_wider_generator_draws_the_same_images(arch):
    g, _ = _nets(arch)
    wide = widen_generator(g, 256, 32).eval()
    assert wide.cfg.channel_max == 32 and wide.synthesis.b4.const.shape[0] == 32
    assert sum(p.numel() for p in wide.parameters()) > 2 * sum(p.numel() for p in g.parameters())
    z = torch.randn(6, 16)
    c = torch.eye(3)[torch.arange(6) % 3]
    with torch.no_grad():
        for psi in (1.0, 0.6):
            a = g(z, c, truncation_psi=psi, noise_mode="const")
            b = wide(z, c, truncation_psi=psi, noise_mode="const")
            assert torch.allclose(a, b, atol=1e-5), float((a - b).abs().max())
    # the new channels are live: their own weights are random, the links out of them zero
    w = wide.synthesis.b8.conv1.weight
    assert w[16:].abs().sum() > 0 and w[:, 16:].abs().sum() == 0


def test_the_wider_generator_learns_through_its_new_channels():
    g, _ = _nets()
    wide = widen_generator(g, 256, 32).train()
    z = torch.randn(4, 16)
    wide(z, torch.eye(3)[[0, 1, 2, 0]]).square().mean().backward()
    grad = wide.synthesis.b8.conv1.weight.grad
    assert grad[:, 16:].abs().sum() > 0  # the zero links from new channels get a gradient


def test_the_wider_discriminator_keeps_its_projection_and_runs():
    g, d = _nets()
    wide = widen_discriminator(d, 256, 32).eval()
    assert wide.cfg.cmap_dim == 16 and wide.b4.conv.weight.shape[1] == 33
    moved = d.b4.conv.weight[:, 16] * (d.b4.conv.weight_gain / wide.b4.conv.weight_gain)
    assert torch.allclose(wide.b4.conv.weight[:16, 32], moved)  # minibatch-std column: behind the new channels
    assert wide.b4.conv.weight[:, 16:32].abs().sum() == 0
    img = g(torch.randn(4, 16), torch.eye(3)[[0, 1, 2, 0]]).detach()
    c, t = torch.eye(3)[[0, 1, 2, 0]], torch.zeros(4, 1)
    with torch.no_grad():
        a, b = d(img, c, t), wide(img, c, t)
    assert b.shape == a.shape and torch.isfinite(b).all()


def test_only_growth():
    g, d = _nets()
    with pytest.raises(BatikError, match="can only grow"):
        widen_generator(g, 128, 8)
    with pytest.raises(BatikError, match="can only grow"):
        widen_discriminator(d, 64, 16)


def test_train_start_from_with_more_channels_widens_the_model(tmp_path):
    data = labelled_png_folder(tmp_path / "data", 8)
    base = ["--data", str(data), "--batch", "4", "--kimg", "0.004", "--tick", "0.004", "--snap", "1",
            "--augment", "none", "--device", "cpu", "--cond"]
    nets = ["--z-dim", "16", "--w-dim", "16", "--map", "2", "--cbase", "128", "--cmax", "16"]
    start = tmp_path / "start.safetensors"
    assert main(["train", "--out", str(tmp_path / "a"), *base, *nets]) == 0
    assert main(["train", "--export", str(tmp_path / "a"), "-o", str(start)]) == 0
    assert main(["train", "--out", str(tmp_path / "b"), "--start-from", str(start), *base,
                 "--cbase", "256", "--cmax", "32"]) == 0
    wide = tmp_path / "wide.safetensors"
    assert main(["train", "--export", str(tmp_path / "b"), "-o", str(wide)]) == 0
    model = read_model_file(wide)
    assert model.tensors["G_ema.synthesis.b4.const"].shape[0] == 32
    assert json.loads((tmp_path / "b" / "config.json").read_text())["config"]["g_kwargs"]["channel_max"] == 32
    assert main(["train", "--out", str(tmp_path / "c"), "--start-from", str(wide), *base, "--cmax", "8"]) == 2
