"""The renderer, end to end, on the NVlabs reference networks: seeds -> the reference pixels."""

import json
import os

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from batikstudio.core.latents import seeds_to_z
from batikstudio.core.nets import Generator, GeneratorConfig
from batikstudio.render.engine import render, to_uint8
from batikstudio.render.request import MixSpec, RenderRequest
from tests.conftest import SHARED

FIXTURES = os.path.join(SHARED, "fixtures", "nvlabs")


class Model:
    def __init__(self, G):
        self.G_ema, self.sha256 = G, "0" * 64


@pytest.fixture(scope="module", params=["sg2ada-rgb-64", "sg2ada-gray-cond-32"])
def case(request):
    folder = os.path.join(FIXTURES, request.param)
    with open(os.path.join(folder, "config.json"), encoding="utf-8") as fh:
        cfg = json.load(fh)
    G = Generator(GeneratorConfig.from_nvlabs_kwargs(cfg["G_init_kwargs"])).eval()
    G.load_state_dict(load_file(os.path.join(folder, "G_ema.safetensors")))
    return Model(G), load_file(os.path.join(folder, "reference.safetensors"))


def _class(ref, i):
    c = ref["c_seeds0123"][i]
    return int(c.argmax()) if c.numel() and c.abs().sum() > 0 else None


def test_seed_latents_are_the_reference_latents(case):
    _, ref = case
    assert torch.equal(seeds_to_z([0, 1, 2, 3], ref["z_seeds0123"].shape[1]), ref["z_seeds0123"])


def test_render_gives_reference_pixels(case):
    model, ref = case
    for i in range(4):
        # NVlabs truncates towards the model's w_avg (our default for conditional models is the class's centre)
        req = RenderRequest(seeds=(i,), psi=0.7, class_index=_class(ref, i), psi_centre="model")
        got = render(model, req).images[0]
        want = to_uint8(ref["img_psi0.7_const"][i : i + 1])[0]
        # float differences of 1e-5 may flip a rounding: allow a level on a few pixels
        diff = np.abs(got.astype(int) - want.astype(int))
        assert diff.max() <= 1 and (diff > 0).mean() < 0.01


def test_render_mixing_and_cutoff_give_reference_pixels(case):
    model, ref = case
    req = RenderRequest(seeds=(0,), psi=0.7, class_index=_class(ref, 0), mix=(MixSpec(1, (0, 1, 2, 3), _class(ref, 1)),),
                        psi_centre="model")
    got = render(model, req).images[0]
    want = to_uint8(ref["img_mix_fine_seed0_coarse_seed1_ws0to3"])[0]
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1
    req = RenderRequest(seeds=(0,), psi=0.5, cutoff=4, class_index=_class(ref, 0), psi_centre="model")
    want = to_uint8(ref["img_seed0_psi0.5_cutoff4_const"])[0]
    assert np.abs(render(model, req).images[0].astype(int) - want.astype(int)).max() <= 1
