"""Growing a trained StyleGAN2 model to a higher resolution (batikstudio.training.grow)."""

import numpy as np
import pytest
import torch
from PIL import Image

from batikstudio.cli.main import main
from batikstudio.core import ops
from batikstudio.core.nets import Discriminator, DiscriminatorConfig, Generator, GeneratorConfig
from batikstudio.errors import BatikError
from batikstudio.io.modelfile import read_model_file
from batikstudio.training.grow import grow_discriminator, grow_generator
from tests.conftest import labelled_png_folder


def _nets(arch: str = "skip", res: int = 16):
    torch.manual_seed(1)
    g = Generator(GeneratorConfig(z_dim=16, c_dim=3, w_dim=16, img_resolution=res, img_channels=3,
                                  mapping_layers=2, channel_base=128, channel_max=16, architecture=arch))
    d = Discriminator(DiscriminatorConfig(c_dim=3, img_resolution=res, img_channels=3, channel_base=128,
                                          channel_max=16, t_dim=1, mapping_layers=2))
    with torch.no_grad():  # trained-looking weights: biases and noise strengths set
        for net in (g, d):
            for name, p in net.named_parameters():
                if name.endswith(("bias", "noise_strength")):
                    p.normal_(0, 0.1)
    return g.eval(), d.eval()


@pytest.mark.parametrize("tileable", [False, True])
@pytest.mark.parametrize("new_res", [32, 64])
def test_the_grown_generator_draws_the_old_images_upsampled(tileable, new_res):
    g, _ = _nets()
    big = grow_generator(g, new_res).eval()
    assert big.img_resolution == new_res and big.num_ws == g.num_ws + 2 * (new_res // 32)
    z = torch.randn(6, 16)
    c = torch.eye(3)[torch.arange(6) % 3]
    f = g.synthesis.b16.resample_filter
    with torch.no_grad():
        for psi in (1.0, 0.6):
            want = g(z, c, truncation_psi=psi, noise_mode="const", tileable=tileable)
            while want.shape[-1] < new_res:
                want = ops.upsample2d(want, f, circular=tileable)
            got = big(z, c, truncation_psi=psi, noise_mode="const", tileable=tileable)
            assert got.shape == (6, 3, new_res, new_res)
            assert torch.allclose(got, want, atol=1e-5), float((got - want).abs().max())
    # the trained blocks are copied, the new ones are random but silent
    assert torch.equal(big.synthesis.b16.conv1.weight, g.synthesis.b16.conv1.weight)
    assert big.synthesis.b32.conv1.weight.abs().sum() > 0
    assert big.synthesis.b32.torgb.weight.abs().sum() == 0


def test_the_grown_generator_learns_through_its_new_blocks():
    g, _ = _nets()
    big = grow_generator(g, 32).train()
    loss = big(torch.randn(4, 16), torch.eye(3)[[0, 1, 2, 0]])[:, :, ::2].square().mean()
    loss.backward()
    assert big.synthesis.b32.torgb.weight.grad.abs().sum() > 0


def test_the_grown_discriminator_keeps_its_trained_blocks_and_runs():
    g, d = _nets()
    big = grow_discriminator(d, 32).eval()
    assert big.img_resolution == 32 and big.cfg.cmap_dim == d.cfg.effective_cmap_dim
    assert hasattr(big.b32, "fromrgb") and not hasattr(big.b16, "fromrgb")
    assert torch.equal(big.b16.conv1.weight, d.b16.conv1.weight)
    assert torch.equal(big.b4.out.weight, d.b4.out.weight)
    img = grow_generator(g, 32)(torch.randn(4, 16), torch.eye(3)[[0, 1, 2, 0]]).detach()
    with torch.no_grad():
        score = big(img, torch.eye(3)[[0, 1, 2, 0]], torch.zeros(4, 1))
    assert score.shape == (4, 1) and torch.isfinite(score).all()


def test_only_growth_to_a_power_of_two():
    g, d = _nets()
    for res in (8, 16, 48):
        with pytest.raises(BatikError, match="only grow"):
            grow_generator(g, res)
        with pytest.raises(BatikError, match="only grow"):
            grow_discriminator(d, res)
    resnet_g, _ = _nets("resnet")
    with pytest.raises(BatikError, match="skip-architecture"):
        grow_generator(resnet_g, 32)


def test_train_start_from_on_larger_images_grows_the_model(tmp_path):
    small, large = labelled_png_folder(tmp_path / "d8", 8), labelled_png_folder(tmp_path / "d16", 16)
    base = ["--batch", "4", "--kimg", "0.004", "--tick", "0.004", "--snap", "1", "--augment", "none",
            "--device", "cpu", "--cond", "--diffusion"]
    start = tmp_path / "start.safetensors"
    assert main(["train", "--data", str(small), "--out", str(tmp_path / "a"), *base, "--z-dim", "16",
                 "--w-dim", "16", "--map", "2", "--cbase", "128", "--cmax", "16"]) == 0
    assert main(["train", "--export", str(tmp_path / "a"), "-o", str(start)]) == 0
    assert main(["train", "--data", str(large), "--out", str(tmp_path / "b"), "--start-from", str(start),
                 *base]) == 0
    log = (tmp_path / "b" / "log.txt").read_text()
    assert "grew start.safetensors from 8 to 16 px" in log and "starting from start.safetensors" in log
    grown = tmp_path / "grown.safetensors"
    assert main(["train", "--export", str(tmp_path / "b"), "-o", str(grown)]) == 0
    tensors = read_model_file(grown).tensors
    assert tensors["G_ema.synthesis.b16.torgb.weight"].shape[0] == 3
    assert "D.b16.fromrgb.weight" in tensors and "D.b8.fromrgb.weight" not in tensors
    out = tmp_path / "motifs"
    assert main(["generate", "--model", str(grown), "--seeds", "0-1", "--class", "parang", "--out", str(out)]) == 0
    assert Image.open(next(out.glob("*.png"))).size == (16, 16)
    # a smaller data set than the model is still refused, with the sizes in the message
    assert main(["train", "--data", str(small), "--out", str(tmp_path / "c"), "--start-from", str(grown),
                 *base]) == 2


def test_train_g_top_keeps_the_grown_models_trained_layers(tmp_path):
    """--train-g-top 1 after growing: only the new block of G learns; its mapping network and the
    blocks it was trained with stay exactly as they were (D trains as usual)."""
    small, large = labelled_png_folder(tmp_path / "d8", 8), labelled_png_folder(tmp_path / "d16", 16)
    base = ["--batch", "4", "--kimg", "0.008", "--tick", "0.004", "--snap", "1", "--augment", "none",
            "--device", "cpu", "--cond"]
    start = tmp_path / "start.safetensors"
    assert main(["train", "--data", str(small), "--out", str(tmp_path / "a"), *base, "--z-dim", "16",
                 "--w-dim", "16", "--map", "2", "--cbase", "128", "--cmax", "16"]) == 0
    assert main(["train", "--export", str(tmp_path / "a"), "-o", str(start)]) == 0
    assert main(["train", "--data", str(large), "--out", str(tmp_path / "b"), "--start-from", str(start),
                 *base, "--train-g-top", "1"]) == 0
    out = tmp_path / "out.safetensors"
    assert main(["train", "--export", str(tmp_path / "b"), "-o", str(out)]) == 0
    before, after = read_model_file(start).tensors, read_model_file(out).tensors
    for name in ("mapping.fc0.weight", "synthesis.b4.conv1.weight", "synthesis.b8.torgb.weight",
                 "synthesis.b8.conv1.affine.weight"):
        # the averaged G (what the app draws) keeps its own fixed layers; G trains on top of them
        assert not torch.equal(before["G." + name], before["G_ema." + name]), name
        assert torch.equal(before["G_ema." + name], after["G_ema." + name]), name
        assert torch.equal(before["G_ema." + name], after["G." + name]), name
    assert after["G_ema.synthesis.b16.torgb.weight"].abs().sum() > 0  # the new block drew from zero
    assert not torch.equal(before["D.b8.conv1.weight"], after["D.b8.conv1.weight"])
    assert main(["train", "--data", str(large), "--out", str(tmp_path / "c"), *base, "--train-g-top", "-1"]) == 2


def test_noise_max_res_switches_off_the_noise_above_it(tmp_path):
    """--noise-max-res R: the noise strengths of G's layers above R px are 0 in G and G_ema and stay
    there (so the model draws alike in every noise mode there); the layers at or below R keep theirs."""
    data = labelled_png_folder(tmp_path / "d8", 8)
    base = ["--data", str(data), "--batch", "4", "--kimg", "0.008", "--tick", "0.004", "--snap", "1",
            "--augment", "none", "--device", "cpu", "--cond"]
    start = tmp_path / "start.safetensors"
    assert main(["train", "--out", str(tmp_path / "a"), *base, "--z-dim", "16", "--w-dim", "16", "--map", "2",
                 "--cbase", "128", "--cmax", "16"]) == 0
    assert main(["train", "--export", str(tmp_path / "a"), "-o", str(start)]) == 0
    before = read_model_file(start).tensors
    names = [n[len("G_ema."):] for n in before if n.startswith("G_ema.") and n.endswith("noise_strength")]
    assert {n.split(".")[1] for n in names} == {"b4", "b8"}
    assert all(before["G_ema." + n].item() != 0 for n in names)  # trained: every strength has moved off 0
    for max_res, off in ((4, {"b8"}), (2, {"b4", "b8"})):
        run = tmp_path / f"r{max_res}"
        assert main(["train", "--out", str(run), "--start-from", str(start), *base,
                     "--noise-max-res", str(max_res)]) == 0
        out = tmp_path / f"r{max_res}.safetensors"
        assert main(["train", "--export", str(run), "-o", str(out)]) == 0
        after = read_model_file(out).tensors
        for n in names:
            silenced = n.split(".")[1] in off
            for net in ("G.", "G_ema."):
                assert (after[net + n].item() == 0) == silenced, (max_res, net + n)
    # every layer silenced: const noise, fresh noise and none draw the same motifs
    pngs = {}
    for mode in ("const", "random", "none"):
        folder = tmp_path / mode
        assert main(["generate", "--model", str(out), "--seeds", "0-1", "--class", "0", "--noise", mode,
                     "--out", str(folder)]) == 0
        pngs[mode] = np.stack([np.asarray(Image.open(p)) for p in sorted(folder.glob("*.png"))])
    assert pngs["none"].shape[0] == 2 and not np.array_equal(pngs["none"][0], pngs["none"][1])
    assert np.array_equal(pngs["const"], pngs["none"]) and np.array_equal(pngs["random"], pngs["none"])
    assert main(["train", "--out", str(tmp_path / "c"), *base, "--noise-max-res", "-1"]) == 2
