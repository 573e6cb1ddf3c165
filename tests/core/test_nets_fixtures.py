"""Reproduce the NVlabs / Diffusion-GAN reference outputs from the shared fixtures."""

import json
import os

import pytest
import torch
from safetensors.torch import load_file

from batikstudio.core.nets import Discriminator, DiscriminatorConfig, Generator, GeneratorConfig
from tests.conftest import SHARED

FIXTURES = os.path.join(SHARED, "fixtures", "nvlabs")
CASES = ["sg2ada-rgb-64", "sg2ada-gray-cond-32", "diffgan-rgb-32"]
TOL = 1e-4


def _load(name):
    folder = os.path.join(FIXTURES, name)
    with open(os.path.join(folder, "config.json"), encoding="utf-8") as fh:
        cfg = json.load(fh)
    ref = load_file(os.path.join(folder, "reference.safetensors"))
    return folder, cfg, ref


@pytest.fixture(scope="module", params=CASES)
def gen_case(request):
    folder, cfg, ref = _load(request.param)
    G = Generator(GeneratorConfig.from_nvlabs_kwargs(cfg["G_init_kwargs"])).eval()
    G.load_state_dict(load_file(os.path.join(folder, "G_ema.safetensors")), strict=True)
    return G, cfg, ref


def _close(a, b):
    assert a.shape == b.shape
    assert (a - b).abs().max().item() < TOL


def test_buffers_and_num_ws_match(gen_case):
    G, cfg, _ = gen_case
    assert G.num_ws == cfg["num_ws"]
    assert sorted(G.state_dict().keys() - dict(G.named_parameters()).keys()) == sorted(cfg["G_buffers"])


@pytest.mark.parametrize("fast", [False, True])
@torch.no_grad()
def test_generator_reproduces_reference(gen_case, fast):
    G, _, ref = gen_case
    z, c = ref["z_seeds0123"], ref["c_seeds0123"]
    ws = G.mapping(z, c, truncation_psi=0.7)
    _close(ws, ref["ws_psi0.7"])
    _close(G.synthesis(ref["ws_psi0.7"], noise_mode="const", fast=fast), ref["img_psi0.7_const"])
    _close(G(z[:1], c[:1], truncation_psi=1.0, noise_mode="none", fast=fast), ref["img_seed0_psi1.0_none"])
    ws_cut = G.mapping(z[:1], c[:1], truncation_psi=0.5, truncation_cutoff=4)
    _close(ws_cut, ref["ws_seed0_psi0.5_cutoff4"])
    _close(G.synthesis(ws_cut, noise_mode="const", fast=fast), ref["img_seed0_psi0.5_cutoff4_const"])
    mixed = torch.cat([ws[1:2, 0:4], ws[0:1, 4:]], dim=1)
    _close(G.synthesis(mixed, noise_mode="const", fast=fast), ref["img_mix_fine_seed0_coarse_seed1_ws0to3"])


@pytest.mark.parametrize("name", CASES)
@torch.no_grad()
def test_discriminator_reproduces_reference(name):
    folder, cfg, ref = _load(name)
    diffusion = "diffusion_T" in cfg
    dcfg = DiscriminatorConfig.from_nvlabs_kwargs(cfg["D_init_kwargs"], diffusion=diffusion)
    assert dcfg.t_dim == (1 if diffusion else 0)
    D = Discriminator(dcfg).eval()
    D.load_state_dict(load_file(os.path.join(folder, "D.safetensors")), strict=True)
    buffers = sorted(D.state_dict().keys() - dict(D.named_parameters()).keys())
    assert buffers == sorted(cfg["D_buffers"])
    t = ref["D_t"] if diffusion else None
    if diffusion:
        assert t.abs().sum() > 0  # the reference exercises non-zero steps
    _close(D(ref["img_psi0.7_const"], ref["c_seeds0123"], t), ref["D_logits"])
