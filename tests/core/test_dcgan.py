"""DCGAN generator / discriminator at 16-32 px: shapes, ranges, configs, truncation, tiling, bf16."""

import copy

import pytest
import torch

from batikstudio.core import latents
from batikstudio.core.nets import ARCHITECTURES, GeneratorConfig, architecture_of
from batikstudio.core.nets.dcgan import (
    DCGANDiscriminator, DCGANDiscriminatorConfig, DCGANGenerator, DCGANGeneratorConfig, dcgan_channels, up_conv,
)


def _nets(c_dim=0, channels=3, res=16, seed=0):
    torch.manual_seed(seed)
    G = DCGANGenerator(DCGANGeneratorConfig(c_dim=c_dim, img_resolution=res, img_channels=channels, z_dim=8, ngf=4))
    D = DCGANDiscriminator(DCGANDiscriminatorConfig(c_dim=c_dim, img_resolution=res, img_channels=channels, ndf=4))
    return G, D


def _labels(n, c_dim):
    return torch.eye(c_dim)[torch.arange(n) % c_dim] if c_dim else None


@pytest.mark.parametrize("c_dim", [0, 3])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_and_ranges(c_dim, channels):
    G, D = _nets(c_dim, channels)
    assert (G.num_ws, G.w_dim, G.z_dim) == (1, 8 + (8 if c_dim else 0), 8)
    z, c = torch.randn(5, 8), _labels(5, c_dim)
    ws = G.mapping(z, c)
    assert ws.shape == (5, 1, G.w_dim) and torch.equal(ws[:, 0, :8], z)
    img = G(z, c)
    assert img.shape == (5, channels, 16, 16) and img.dtype == torch.float32
    assert img.abs().max() <= 1 and img.std() > 0
    logits = D(img, c)
    assert logits.shape == (5, 1) and logits.dtype == torch.float32 and torch.isfinite(logits).all()


def test_channel_plan_doubles_towards_4px_with_a_cap():
    assert [dcgan_channels(r, 64, 64, 512) for r in (4, 8, 16, 32)] == [512, 256, 128, 64]
    G = DCGANGenerator(DCGANGeneratorConfig(c_dim=0, img_resolution=32, img_channels=3, z_dim=8, ngf=4,
                                            channel_max=8))
    assert G.synthesis.b4.conv.weight.shape == (8, 8, 4, 4)  # 4 * 32 / 8 = 16, capped at 8
    assert G.synthesis.torgb.weight.shape == (4, 3, 4, 4)


@pytest.mark.parametrize("bad, match", [
    (dict(img_resolution=8), "16..256"), (dict(img_resolution=24), "16..256"), (dict(img_resolution=512), "16..256"),
    (dict(img_channels=4), "img_channels"), (dict(ngf=0), "ngf"), (dict(z_dim=True), "z_dim"),
    (dict(c_dim=-1), "c_dim"), (dict(embed_features=0), "embed_features"), (dict(channel_max=1.5), "channel_max"),
])
def test_generator_config_validation(bad, match):
    kw = dict(c_dim=0, img_resolution=16, img_channels=3)
    kw.update(bad)
    with pytest.raises(ValueError, match=match):
        DCGANGeneratorConfig(**kw)


def test_config_dicts_round_trip_and_reject_unknown_fields():
    g = DCGANGeneratorConfig(c_dim=2, img_resolution=32, img_channels=1, z_dim=16, ngf=8, embed_features=4)
    d = DCGANDiscriminatorConfig(c_dim=2, img_resolution=32, img_channels=1, ndf=8)
    assert DCGANGeneratorConfig.from_dict(g.to_dict()) == g and g.w_dim == 20
    assert DCGANDiscriminatorConfig.from_dict(d.to_dict()) == d
    with pytest.raises(ValueError, match="unknown DCGANGeneratorConfig field.*w_dim"):
        DCGANGeneratorConfig.from_dict({**g.to_dict(), "w_dim": 16})
    with pytest.raises(ValueError, match="ndf"):
        DCGANDiscriminatorConfig.from_dict({**d.to_dict(), "ndf": -2})


def test_registry_entry():
    assert ARCHITECTURES["dcgan"] == (DCGANGeneratorConfig, DCGANGenerator, DCGANDiscriminatorConfig,
                                      DCGANDiscriminator)
    assert architecture_of(DCGANGeneratorConfig(c_dim=0, img_resolution=16, img_channels=3)) == "dcgan"
    assert architecture_of(GeneratorConfig(z_dim=8, c_dim=0, w_dim=8, img_resolution=8, img_channels=3)) == "stylegan2"


def test_dcgan_init_statistics():
    torch.manual_seed(0)
    G = DCGANGenerator(DCGANGeneratorConfig(c_dim=0, img_resolution=32, img_channels=3, z_dim=16, ngf=16))
    w = G.synthesis.b8.conv.weight.detach()
    assert abs(float(w.std()) - 0.02) < 0.002 and abs(float(w.mean())) < 0.002
    bn = G.synthesis.b8.bn.weight.detach()
    assert abs(float(bn.mean()) - 1) < 0.01 and 0.005 < float(bn.std()) < 0.04


@pytest.mark.parametrize("c_dim", [0, 2])
def test_truncation_scales_z_and_keeps_the_class(c_dim):
    G, _ = _nets(c_dim)
    G.eval()
    z, c = torch.randn(4, 8), _labels(4, c_dim)
    ws = latents.truncate(G.mapping(z, c), G.mapping.w_avg, 0.5)  # the renderer's way
    expected = G(z * 0.5, c)
    assert torch.allclose(G.synthesis(ws), expected, atol=1e-6)
    assert torch.allclose(G(z, c, truncation_psi=0.5), expected, atol=1e-6)
    assert torch.equal(G(z, c, truncation_psi=0.5, truncation_cutoff=0), G(z, c))
    assert "mapping.w_avg" not in G.state_dict()
    for k in ([None] if c_dim == 0 else [0, 1]):  # no class centre in W to pull towards: z is scaled
        assert latents.truncation_centre(G, k) is G.mapping.w_avg


def test_eval_mode_images_do_not_depend_on_the_batch_and_bn_stats_are_state():
    G, D = _nets(2)
    z, c = torch.randn(4, 8), _labels(4, 2)
    before = G.synthesis.b4.bn.running_mean.clone()
    G(z, c)  # train mode: batch statistics, running stats move
    assert not torch.equal(before, G.synthesis.b4.bn.running_mean)
    keys = G.state_dict().keys()
    assert {f"synthesis.b4.bn.{k}" for k in ("running_mean", "running_var", "num_batches_tracked")} <= keys
    assert "b8.bn.running_var" in D.state_dict() and "b16.bn.weight" not in D.state_dict()  # no BN on layer 1
    G.eval()
    assert torch.allclose(G(z, c)[:1], G(z[:1], c[:1]), atol=1e-6)


def test_tileable_up_conv_is_the_periodic_extension():
    conv = torch.nn.ConvTranspose2d(3, 2, 4, 2, 1, bias=True)
    x = torch.randn(1, 3, 5, 5)
    big = up_conv(x.repeat(1, 1, 3, 3), conv, torch.float32, tileable=False)  # 30 x 30
    wrapped = up_conv(x, conv, torch.float32, tileable=True)
    assert wrapped.shape == (1, 2, 10, 10)
    assert torch.allclose(wrapped, big[:, :, 10:20, 10:20], atol=1e-6)
    G, _ = _nets()
    z = torch.randn(2, 8)
    assert G(z, tileable=True).shape == (2, 3, 16, 16)
    assert not torch.allclose(G(z, tileable=True), G(z))


def test_bfloat16_blocks_give_float32_close_to_float32():
    G, D = _nets(2)
    G.eval()
    D.eval()
    z, c = torch.randn(3, 8), _labels(3, 2)
    img = G(z, c)
    low = G(z, c, dtype=torch.bfloat16)
    assert low.dtype == torch.float32 and (low - img).abs().max() < 0.05
    logits, low_logits = D(img, c), D(img, c, dtype=torch.bfloat16)
    assert low_logits.dtype == torch.float32 and torch.allclose(low_logits, logits, atol=0.05, rtol=0.05)


def test_projection_makes_the_class_matter():
    _, D = _nets(2)
    with torch.no_grad():
        D.embed.weight.normal_()
    D.eval()
    img = torch.rand(2, 3, 16, 16) * 2 - 1
    assert not torch.allclose(D(img, torch.eye(2)[[0, 0]]), D(img, torch.eye(2)[[1, 1]]))


def test_bad_inputs_raise_clear_errors():
    G, D = _nets(2)
    with pytest.raises(ValueError, match="z must be"):
        G.mapping(torch.randn(2, 7), _labels(2, 2))
    with pytest.raises(ValueError, match="c must be"):
        G.mapping(torch.randn(2, 8), None)
    with pytest.raises(ValueError, match=r"ws must be \[N, 1, 16\]"):
        G.synthesis(torch.randn(2, 3, 16))
    with pytest.raises(ValueError, match="dtype"):
        G(torch.randn(2, 8), _labels(2, 2), dtype=torch.float64)
    with pytest.raises(ValueError, match="Diffusion-GAN"):
        D(torch.zeros(2, 3, 16, 16), _labels(2, 2), t=torch.zeros(2))
    with pytest.raises(ValueError, match="img must be"):
        D(torch.zeros(2, 3, 32, 32), _labels(2, 2))


def test_gradients_reach_every_parameter():
    G, D = _nets(2)
    G_ema = copy.deepcopy(G)
    z, c = torch.randn(4, 8), _labels(4, 2)
    D(G(z, c), c).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters())
    assert all(p.grad is not None for p in D.parameters())
    assert all(p.grad is None for p in G_ema.parameters())
