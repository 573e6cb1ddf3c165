"""Tiny-size tests of the StyleGAN2 generator and discriminator (no fixtures needed)."""

import pytest
import torch

from batikstudio.core.nets import ARCHITECTURES, Discriminator, DiscriminatorConfig, Generator, GeneratorConfig


def tiny_g(**kw) -> Generator:
    base = dict(z_dim=8, c_dim=0, w_dim=8, img_resolution=8, img_channels=3, mapping_layers=2,
                channel_base=64, channel_max=8)
    base.update(kw)
    G = Generator(GeneratorConfig(**base)).eval()
    with torch.no_grad():  # fresh nets have zero noise strength; make noise visible
        for name, p in G.named_parameters():
            if name.endswith("noise_strength"):
                p.fill_(0.3)
    return G


def tiny_d(**kw) -> Discriminator:
    base = dict(c_dim=0, img_resolution=8, img_channels=3, channel_base=64, channel_max=8, mapping_layers=2)
    base.update(kw)
    return Discriminator(DiscriminatorConfig(**base)).eval()


def _one_hot(n, c_dim):
    return torch.nn.functional.one_hot(torch.arange(n) % c_dim, c_dim).float()


@pytest.mark.parametrize("arch", ["skip", "resnet", "orig"])
@pytest.mark.parametrize("res", [4, 8])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_generator_and_discriminator_shapes(arch, res, channels):
    G = tiny_g(img_resolution=res, img_channels=channels, architecture=arch)
    D = tiny_d(img_resolution=res, img_channels=channels, architecture=arch)
    z = torch.randn(2, 8)
    with torch.no_grad():
        img = G(z, None)
        logits = D(img, None)
    assert img.shape == (2, channels, res, res) and img.dtype == torch.float32
    assert torch.isfinite(img).all() and img.std() > 0
    assert logits.shape == (2, 1) and torch.isfinite(logits).all()
    assert G.num_ws == G.cfg.num_ws == 2 * (res.bit_length() - 1) - 2
    assert G.synthesis.block_resolutions[-1] == res


def test_fresh_generator_is_initialised_like_nvlabs():
    G = Generator(GeneratorConfig(z_dim=8, c_dim=0, w_dim=8, img_resolution=8, img_channels=3,
                                  channel_base=64, channel_max=8))
    assert torch.equal(G.mapping.w_avg, torch.zeros(8))
    assert torch.equal(G.synthesis.b8.conv0.affine.bias, torch.ones(8))
    assert torch.equal(G.synthesis.b8.conv0.noise_strength, torch.zeros([]))
    assert torch.equal(G.synthesis.b8.conv0.bias, torch.zeros(8))
    assert G.mapping.fc0.weight.std() > 10  # randn / lr_multiplier 0.01


def test_conditional_generator_and_discriminator():
    G = tiny_g(c_dim=3)
    D = tiny_d(c_dim=3)
    z, c = torch.randn(3, 8), _one_hot(3, 3)
    with torch.no_grad():
        a = G(z, c)
        b = G(z, c.roll(1, dims=0))
        assert not torch.allclose(a, b)
        assert D(a, c).shape == (3, 1)
        assert not torch.allclose(D(a, c), D(a, c.roll(1, dims=0)))
    with pytest.raises(ValueError, match="c must be"):
        G(z, None)


@pytest.mark.parametrize("arch", ["skip", "resnet"])
def test_gradients_flow(arch):
    G = tiny_g(architecture=arch, c_dim=2)
    D = tiny_d(architecture=arch, c_dim=2, mbstd_group_size=2)
    G.train()
    D.train()
    img = G(torch.randn(2, 8), _one_hot(2, 2), noise_mode="random")
    D(img, _one_hot(2, 2)).sum().backward()
    for name, p in list(G.named_parameters()) + list(D.named_parameters()):
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert G.synthesis.b8.conv1.weight.grad.abs().sum() > 0
    assert D.b8.conv0.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("arch", ["skip", "resnet"])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("tileable", [False, True])
def test_fast_path_matches_straightforward(arch, batch, tileable):
    G = tiny_g(architecture=arch, img_resolution=16, channel_base=128, channel_max=16)
    ws = G.mapping(torch.randn(batch, 8), None, truncation_psi=0.8)
    with torch.no_grad():
        fast = G.synthesis(ws, noise_mode="const", tileable=tileable, fast=True)
        fused = G.synthesis(ws, noise_mode="const", tileable=tileable, fast=False, fused_modconv=True)
        split = G.synthesis(ws, noise_mode="const", tileable=tileable, fast=False, fused_modconv=False)
    assert (fast - fused).abs().max() < 1e-4
    assert (split - fused).abs().max() < 1e-4


def test_truncation_and_cutoff():
    G = tiny_g()
    with torch.no_grad():
        G.mapping.w_avg.copy_(torch.randn(8))
    z = torch.randn(2, 8)
    ws1 = G.mapping(z, None)
    ws = G.mapping(z, None, truncation_psi=0.5)
    assert torch.allclose(ws, G.mapping.w_avg + 0.5 * (ws1 - G.mapping.w_avg), atol=1e-6)
    cut = G.mapping(z, None, truncation_psi=0.5, truncation_cutoff=2)
    assert torch.allclose(cut[:, :2], ws[:, :2]) and torch.equal(cut[:, 2:], ws1[:, 2:])
    assert torch.allclose(G.mapping(z, None, truncation_psi=0.0), G.mapping.w_avg.expand_as(ws1))


def test_update_emas_moves_w_avg_only_when_asked():
    G = tiny_g()
    G.mapping(torch.randn(4, 8), None)
    assert torch.equal(G.mapping.w_avg, torch.zeros(8))
    G.mapping(torch.randn(4, 8), None, update_emas=True)
    assert G.mapping.w_avg.abs().sum() > 0


def test_noise_modes_and_gains():
    G = tiny_g()
    ws = G.mapping(torch.randn(1, 8), None)
    with torch.no_grad():
        const1 = G.synthesis(ws, noise_mode="const")
        const2 = G.synthesis(ws, noise_mode="const")
        none = G.synthesis(ws, noise_mode="none")
        rand1 = G.synthesis(ws, noise_mode="random")
        rand2 = G.synthesis(ws, noise_mode="random")
        gain0 = G.synthesis(ws, noise_mode="const", noise_gain=0.0)
        per_layer = G.synthesis(ws, noise_mode="const", noise_gain=[1.0, 1.0, 0.0])
        strong = G.synthesis(ws, noise_mode="const", noise_gain=[1.0, 1.0, 3.0])
    assert torch.equal(const1, const2)
    assert not torch.allclose(const1, none) and not torch.allclose(rand1, rand2)
    assert torch.allclose(gain0, none)
    assert not torch.allclose(per_layer, const1) and not torch.allclose(strong, const1)
    assert G.synthesis.num_conv_layers == 3
    assert G.synthesis.noise_layer_names == ["b4.conv1", "b8.conv0", "b8.conv1"]
    with pytest.raises(ValueError, match="noise_gain needs 3"):
        G.synthesis(ws, noise_gain=[1.0, 2.0])
    with pytest.raises(ValueError, match="noise_mode"):
        G.synthesis(ws, noise_mode="loud")
    with pytest.raises(ValueError, match="ws must be"):
        G.synthesis(ws[:, :2])


@pytest.mark.parametrize("fast", [True, False])
def test_paired_noise_shares_maps_between_i_and_i_plus_half(fast):
    G = tiny_g()
    ws = G.mapping(torch.randn(1, 8), None).repeat(5, 1, 1)  # one latent, five items
    with torch.no_grad():
        paired = G.synthesis(ws, noise_mode="paired", fast=fast)
        rand = G.synthesis(ws, noise_mode="random", fast=fast)
    # N = 5: pairs (0, 2) and (1, 3) share noise; 0, 1 and 4 draw their own
    assert torch.equal(paired[0], paired[2]) and torch.equal(paired[1], paired[3])
    assert not torch.allclose(paired[0], paired[1]) and not torch.allclose(paired[0], paired[4])
    assert not torch.allclose(rand[0], rand[2])


def _seam_ratio(img):
    edge = (img[..., 0] - img[..., -1]).abs().mean() + (img[..., 0, :] - img[..., -1, :]).abs().mean()
    inner = (img[..., 1:] - img[..., :-1]).abs().mean() + (img[..., 1:, :] - img[..., :-1, :]).abs().mean()
    return (edge / inner).item()


@pytest.mark.parametrize("arch", ["skip", "resnet"])
def test_tileable_output_wraps_seamlessly(arch):
    G = tiny_g(architecture=arch, img_resolution=32, channel_base=256, channel_max=16)
    ws = G.mapping(torch.randn(4, 8), None)
    with torch.no_grad():
        tiled = G.synthesis(ws, noise_mode="none", tileable=True)
        plain = G.synthesis(ws, noise_mode="none", tileable=False)
        # Exact check: rolling the 4x4 constant by one pixel rolls the tileable output by R/4.
        const = G.synthesis.b4.const.clone()
        G.synthesis.b4.const.copy_(const.roll((1, 1), dims=(1, 2)))
        rolled = G.synthesis(ws, noise_mode="none", tileable=True)
        G.synthesis.b4.const.copy_(const)
    assert _seam_ratio(tiled) < 0.5 * _seam_ratio(plain)
    assert (tiled - plain).abs().mean() > 1e-3 and tiled.std() > 0.1
    assert torch.allclose(rolled, tiled.roll((8, 8), dims=(2, 3)), atol=1e-4)


def test_discriminator_t_conditioning():
    D = tiny_d(t_dim=1)
    img = torch.randn(4, 3, 8, 8)
    with torch.no_grad():
        none = D(img, None)
        zeros = D(img, None, torch.zeros(4, dtype=torch.long))
        steps = D(img, None, torch.tensor([[0], [5], [17], [3]]))
    assert torch.equal(none, zeros)
    assert not torch.allclose(steps[1:], zeros[1:])
    assert "mapping.embed.weight" in D.state_dict() and D.state_dict()["mapping.embed.weight"].shape == (8, 1)
    assert D.b4.out.weight.shape == (8, 8)
    with pytest.raises(ValueError, match="t must be"):
        D(img, None, torch.zeros(3))


def test_discriminator_checks_inputs():
    D = tiny_d(mbstd_group_size=4)
    with pytest.raises(ValueError, match="divisible"):
        D(torch.randn(6, 3, 8, 8), None)
    with pytest.raises(ValueError, match="img must be"):
        D(torch.randn(4, 1, 8, 8), None)


def test_fp16_blocks_run_float32_on_cpu():
    G = tiny_g(num_fp16_res=2, conv_clamp=256)
    D = tiny_d(num_fp16_res=2, conv_clamp=256)
    with torch.no_grad():
        img = G(torch.randn(2, 8), None)
        assert img.dtype == torch.float32 and D(img, None).dtype == torch.float32


def test_config_round_trip_and_registry():
    cfg = GeneratorConfig(z_dim=8, c_dim=2, w_dim=8, img_resolution=16, img_channels=4, conv_clamp=256,
                          architecture="resnet", num_fp16_res=2)
    assert GeneratorConfig.from_dict(cfg.to_dict()) == cfg
    dcfg = DiscriminatorConfig(c_dim=2, img_resolution=16, img_channels=4, t_dim=1, mbstd_group_size=None)
    assert DiscriminatorConfig.from_dict(dcfg.to_dict()) == dcfg
    gc, gcls, dc, dcls = ARCHITECTURES["stylegan2"]
    assert (gc, gcls, dc, dcls) == (GeneratorConfig, Generator, DiscriminatorConfig, Discriminator)


@pytest.mark.parametrize("field, value", [
    ("img_resolution", 48), ("img_resolution", 2048), ("img_channels", 2), ("z_dim", 0),
    ("w_dim", -1), ("architecture", "unet"), ("channel_base", 0), ("mapping_layers", 0),
    ("conv_clamp", -1.0),
])
def test_bad_generator_config_names_the_field(field, value):
    d = GeneratorConfig(z_dim=8, c_dim=0, w_dim=8, img_resolution=8, img_channels=3).to_dict()
    d[field] = value
    with pytest.raises(ValueError, match=field):
        GeneratorConfig.from_dict(d)


def test_bad_discriminator_config_and_unknown_fields():
    with pytest.raises(ValueError, match="t_dim"):
        DiscriminatorConfig(c_dim=0, img_resolution=8, img_channels=3, t_dim=-1)
    with pytest.raises(ValueError, match="colour"):
        GeneratorConfig.from_dict({"z_dim": 8, "c_dim": 0, "w_dim": 8, "img_resolution": 8, "img_channels": 3,
                                   "colour": 1})


def test_from_nvlabs_kwargs_defaults_and_unsupported_keys():
    kw = {"z_dim": 512, "w_dim": 512, "c_dim": 0, "img_resolution": 256, "img_channels": 3,
          "mapping_kwargs": {"num_layers": 8},
          "synthesis_kwargs": {"channel_base": 16384, "channel_max": 512, "num_fp16_res": 4, "conv_clamp": 256}}
    cfg = GeneratorConfig.from_nvlabs_kwargs(kw)
    assert (cfg.architecture, cfg.resample_filter, cfg.mapping_lr_multiplier, cfg.w_avg_beta) == \
        ("skip", (1, 3, 3, 1), 0.01, 0.995)
    assert cfg.num_ws == 14
    bad = dict(kw, synthesis_kwargs={"activation": "relu"})
    with pytest.raises(ValueError, match="activation"):
        GeneratorConfig.from_nvlabs_kwargs(bad)
    with pytest.raises(ValueError, match="magic"):
        GeneratorConfig.from_nvlabs_kwargs(dict(kw, mapping_kwargs={"magic": 1}))
    dkw = {"c_dim": 0, "img_resolution": 32, "img_channels": 3, "epilogue_kwargs": {"mbstd_group_size": 8}}
    assert DiscriminatorConfig.from_nvlabs_kwargs(dkw).mbstd_group_size == 8
    assert DiscriminatorConfig.from_nvlabs_kwargs(dkw, diffusion=True).t_dim == 1


@pytest.mark.parametrize("tileable", [False, True])
def test_fast_path_with_winograd_and_sub_batches_matches(monkeypatch, tileable):
    from batikstudio.core.nets import layers, synthesis

    monkeypatch.setattr(layers, "_WINOGRAD_MIN_CHANNELS", 1)  # exercise Winograd at tiny sizes
    monkeypatch.setattr(layers, "CHANNELS_LAST_MIN", 8)
    monkeypatch.setattr(synthesis, "_CHUNK_BYTES", 1)  # split into single samples from the start
    G = tiny_g(architecture="resnet", img_resolution=16, channel_base=128, channel_max=16, conv_clamp=0.5)
    ws = G.mapping(torch.randn(3, 8), None)
    with torch.no_grad():
        fast = G.synthesis(ws, noise_mode="const", tileable=tileable, fast=True)
        ref = G.synthesis(ws, noise_mode="const", tileable=tileable, fast=False)
    assert fast.shape == ref.shape == (3, 3, 16, 16)
    assert (fast - ref).abs().max() < 1e-4


def test_bfloat16_fast_path_is_close_and_float32_output():
    G = tiny_g(img_resolution=16, channel_base=128, channel_max=16)
    ws = G.mapping(torch.randn(2, 8), None)
    with torch.no_grad():
        ref = G.synthesis(ws)
        bf = G.synthesis(ws, dtype=torch.bfloat16)
    assert bf.dtype == torch.float32 and bf.shape == ref.shape
    assert 0 < (bf - ref).abs().max() < 0.1 * ref.abs().max()
    with pytest.raises(ValueError, match="fast=True"):
        G.synthesis(ws, fast=False, dtype=torch.bfloat16)


@pytest.mark.parametrize("arch", ["resnet", "skip", "orig"])
@pytest.mark.parametrize("clamp", [None, 0.5])
def test_discriminator_fast_path_matches_the_reference_with_gradients(arch, clamp):
    # 32 px so the fast path also switches to channels-last activations
    D = tiny_d(architecture=arch, img_resolution=32, channel_base=256, channel_max=16, c_dim=2, t_dim=1,
               conv_clamp=clamp)
    with torch.no_grad():  # fresh biases are zero; make them matter
        for name, p in D.named_parameters():
            if name.endswith("bias"):
                p.normal_(0, 0.5)
    img = torch.randn(4, 3, 32, 32, requires_grad=True)
    c, t = _one_hot(4, 2), torch.tensor([0, 3, 7, 1])
    outs, grads = [], []
    for fast in (False, True):
        out = D(img, c, t, fast=fast)
        grads.append(torch.autograd.grad(out.square().sum(), [img, D.b32.conv1.weight, D.b4.conv.bias]))
        outs.append(out)
    assert (outs[0] - outs[1]).abs().max() < 1e-4 * (1 + outs[0].abs().max())
    for ref, fast in zip(*grads):
        assert (ref - fast).abs().max() < 1e-4 * (1 + ref.abs().max())
    with torch.no_grad():  # bf16 blocks: close, float32 logits
        bf = D(img, c, t, dtype=torch.bfloat16, fast=True)
    assert bf.dtype == torch.float32 and (bf - outs[0]).abs().max() < 0.1 * (1 + outs[0].abs().max())
