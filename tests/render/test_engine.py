import numpy as np
import pytest
import torch

from batikstudio.core import latents
from batikstudio.core.directions import apply_directions, compute_directions
from batikstudio.core.nets import Generator, GeneratorConfig
from batikstudio.jobs import Cancelled, RecordingContext
from batikstudio.render.directions_cache import DirectionsCache
from batikstudio.render.engine import compute_ws, render, render_grid_image, to_uint8
from batikstudio.render.motif import MotifState
from batikstudio.render.request import MixSpec, RenderRequest


def tiny_generator(c_dim=0, res=16, channels=3, seed=0):
    torch.manual_seed(seed)
    cfg = GeneratorConfig(z_dim=16, c_dim=c_dim, w_dim=16, img_resolution=res, img_channels=channels,
                          mapping_layers=2, channel_base=256, channel_max=32)
    G = Generator(cfg).eval()
    with torch.no_grad():
        G.mapping.w_avg.copy_(torch.randn(16) * 0.5)
        for name, p in G.named_parameters():
            if name.endswith("noise_strength"):
                p.fill_(0.2)
    return G


class FakeModel:
    def __init__(self, G, sha="f" * 64):
        self.G_ema, self.sha256 = G, sha


def test_to_uint8_rounding_matches_nvlabs():
    x = torch.tensor([-1.0, 0.0, 1.0, 2.0]).view(1, 1, 2, 2)
    assert to_uint8(x).ravel().tolist() == [0, 128, 255, 255]


def test_render_matches_direct_generator_call():
    G = tiny_generator()
    req = RenderRequest(seeds=(3, 4), psi=0.6, cutoff=2)
    res = render(FakeModel(G), req)
    z = latents.seeds_to_z([3, 4], 16)
    with torch.no_grad():
        ref = to_uint8(G(z, None, truncation_psi=0.6, truncation_cutoff=2, noise_mode="const"))
    assert res.images.shape == (2, 16, 16, 3) and res.images.dtype == np.uint8
    assert np.array_equal(res.images, ref)
    prov = res.provenance(1)
    assert prov["seed"] == 4 and prov["model_sha256"] == "f" * 64
    assert RenderRequest.from_dict(prov["render"]) == req.for_seed(4)


def test_pixels_do_not_depend_on_batch_composition():
    G = tiny_generator()
    a = render(FakeModel(G), RenderRequest(seeds=(1, 2, 3)))
    b = render(FakeModel(G), RenderRequest(seeds=(3,)))
    assert np.array_equal(a.images[2], b.images[0])


def test_random_noise_is_seeded_and_reproducible():
    G = tiny_generator()
    req = RenderRequest(seeds=(5,), noise_mode="random")
    a, b = render(FakeModel(G), req), render(FakeModel(G), req)
    assert np.array_equal(a.images, b.images)
    c = render(FakeModel(G), RenderRequest(seeds=(5,), noise_mode="random", noise_seed=99))
    assert not np.array_equal(a.images, c.images)


def test_style_mixing_changes_only_requested_layers():
    G = tiny_generator()
    req = RenderRequest(seeds=(0,), psi=0.8, mix=(MixSpec(1, "coarse"),))
    ws = compute_ws(G, req, [0], None)
    ws0 = compute_ws(G, RenderRequest(seeds=(0,), psi=0.8), [0], None)
    ws1 = compute_ws(G, RenderRequest(seeds=(1,), psi=0.8), [1], None)
    coarse = list(latents.mixing_ranges(16)["coarse"])
    assert torch.allclose(ws[:, coarse], ws1[:, coarse])
    rest = [i for i in range(G.num_ws) if i not in coarse]
    assert torch.allclose(ws[:, rest], ws0[:, rest])


def test_conditional_model_needs_valid_class():
    G = tiny_generator(c_dim=3)
    with pytest.raises(ValueError, match="conditional on 3"):
        render(FakeModel(G), RenderRequest(seeds=(0,)))
    a = render(FakeModel(G), RenderRequest(seeds=(0,), class_index=0)).images
    b = render(FakeModel(G), RenderRequest(seeds=(0,), class_index=2)).images
    assert not np.array_equal(a, b)


def test_directions_pca_and_cache(tmp_path):
    G = tiny_generator()
    d = compute_directions(G, num_components=4, num_samples=256, seed=1)
    assert d.components.shape == (4, 16)
    assert torch.allclose(d.components @ d.components.T, torch.eye(4), atol=1e-4)
    assert (d.stddev[:-1] >= d.stddev[1:]).all()
    ws = torch.zeros(1, G.num_ws, 16)
    moved = apply_directions(ws, d, {0: 2.0}, layers=[0, 1])
    assert torch.allclose(moved[0, 0], 2.0 * d.stddev[0] * d.components[0])
    assert moved[0, 2:].abs().max() == 0
    with pytest.raises(ValueError, match="does not exist"):
        apply_directions(ws, d, {9: 1.0})
    cache = DirectionsCache(tmp_path)
    model = FakeModel(G, sha="a" * 64)
    first = cache.get(model, count=4, samples=256, seed=1)
    assert list(tmp_path.iterdir())
    again = DirectionsCache(tmp_path).get(model, count=4, samples=256, seed=1)  # from the file
    assert torch.equal(first.components, again.components)
    req = RenderRequest(seeds=(0,), directions=((0, 3.0),), directions_count=4, directions_samples=256,
                        directions_seed=1)
    moved_img = render(model, req, directions=cache.for_request(model)).images
    still = render(model, RenderRequest(seeds=(0,))).images
    assert not np.array_equal(moved_img, still)


def test_render_progress_cancel_and_out_size():
    G = tiny_generator()
    ctx = RecordingContext()
    res = render(FakeModel(G), RenderRequest(seeds=(0, 1, 2), out_size=8), ctx=ctx)
    assert res.images.shape == (3, 8, 8, 3) and ctx.progress_log[-1] == (3, 3)
    ctx = RecordingContext(cancel_after=1)
    with pytest.raises(Cancelled):
        render(FakeModel(G), RenderRequest(seeds=(0, 1, 2)), ctx=ctx)


def test_grid_image_layout():
    imgs = np.stack([np.full((4, 4, 3), k, np.uint8) for k in range(5)])
    grid = render_grid_image(imgs, cols=3, pad=1)
    assert grid.shape == (9, 14, 3)
    assert grid[0, 0, 0] == 0 and grid[5, 0, 0] == 3 and grid[5, 10, 0] == 255


def test_motif_state_roundtrip_and_edits():
    st = MotifState(seed=4, psi=0.5).with_direction(2, 1.5).with_mix("coarse", 9)
    assert st.direction(2) == 1.5 and st.mix_seed("coarse") == 9
    assert MotifState.from_dict(st.to_dict()) == st
    assert st.with_direction(2, 0).directions == ()
    assert st.with_mix("coarse", None).mix == ()
    assert st.request().seeds == (4,)


def test_quick_preview_stops_early_and_resembles_the_full_render():
    G = tiny_generator(res=32)
    full = render(FakeModel(G), RenderRequest(seeds=(2,))).images[0].astype(float)
    quick = render(FakeModel(G), RenderRequest(seeds=(2,), max_resolution=16)).images[0]
    assert quick.shape == (16, 16, 3)
    up = render(FakeModel(G), RenderRequest(seeds=(2,), max_resolution=16, out_size=32)).images[0]
    assert up.shape == (32, 32, 3)
    other = render(FakeModel(G), RenderRequest(seeds=(9,))).images[0].astype(float)
    # the preview is closer to its own full render than to another seed's
    assert np.abs(up - full).mean() < np.abs(up - other).mean()


def test_bfloat16_precision_is_close_and_recorded():
    G = tiny_generator(res=16)
    exact = render(FakeModel(G), RenderRequest(seeds=(1,))).images[0].astype(int)
    fast = render(FakeModel(G), RenderRequest(seeds=(1,), precision="bfloat16"))
    assert np.abs(fast.images[0].astype(int) - exact).mean() < 8
    assert fast.provenance(0)["render"]["precision"] == "bfloat16"
    with pytest.raises(ValueError, match="precision"):
        RenderRequest(precision="int8")


def test_single_latent_models_render_but_refuse_mixing_clearly():
    from batikstudio.core.nets.dcgan import DCGANGenerator, DCGANGeneratorConfig

    torch.manual_seed(0)
    G = DCGANGenerator(DCGANGeneratorConfig(c_dim=0, img_resolution=16, img_channels=3, z_dim=8, ngf=8)).eval()
    img = render(FakeModel(G), RenderRequest(seeds=(1, 2), psi=0.7)).images
    assert img.shape == (2, 16, 16, 3) and img.dtype == np.uint8
    assert not np.array_equal(img[0], img[1])
    with pytest.raises(ValueError, match="single latent vector"):
        render(FakeModel(G), RenderRequest(seeds=(1,), mix=(MixSpec(5, "coarse"),)))
    with pytest.raises(ValueError, match="single latent vector"):
        compute_ws(G, RenderRequest(seeds=(1,), direction_layers="fine"), (1,), None)


def test_truncation_pulls_each_class_towards_its_own_centre():
    G = tiny_generator(c_dim=3)
    model = FakeModel(G)
    # psi 0: every seed gives the centre itself
    at_centre = {k: render(model, RenderRequest(seeds=(1, 2), class_index=k, psi=0.0)).images for k in range(3)}
    for k, imgs in at_centre.items():
        assert np.array_equal(imgs[0], imgs[1])
    assert not np.array_equal(at_centre[0][0], at_centre[1][0])  # but each class has its own
    blend = [render(model, RenderRequest(seeds=(1,), class_index=k, psi=0.0, psi_centre="model")).images[0]
             for k in range(3)]
    assert np.array_equal(blend[0], blend[1])  # NVlabs' w_avg: one image for every class
    # the centre is the mean w of the class over the fixed latents
    z = torch.from_numpy(np.random.RandomState(latents.CLASS_CENTRE_SEED).randn(latents.CLASS_CENTRE_SAMPLES, 16))
    with torch.no_grad():
        want = G.mapping(z.float(), latents.class_vector(3, 2, len(z)))[:, 0].mean(0)
    assert torch.allclose(latents.truncation_centre(G, 2), want, atol=1e-6)
    assert latents.truncation_centre(G, 2, "model") is G.mapping.w_avg
    assert latents.truncation_centre(G, None) is G.mapping.w_avg
    # psi 0.6 lies between: truncated towards the class centre, not the blend
    req = RenderRequest(seeds=(5,), class_index=1, psi=0.6)
    with torch.no_grad():
        w = G.mapping(latents.seeds_to_z([5], 16), latents.class_vector(3, 1))
        ref = to_uint8(G.synthesis(latents.truncate(w, latents.truncation_centre(G, 1), 0.6), noise_mode="const"))
    assert np.array_equal(render(model, req).images, ref)
    with pytest.raises(ValueError, match="truncation centre"):
        RenderRequest(psi_centre="family")


def test_class_centres_follow_new_weights_and_unconditional_models_ignore_them():
    G = tiny_generator(c_dim=2)
    before = latents.truncation_centre(G, 0).clone()
    assert latents.truncation_centre(G, 0) is latents.truncation_centre(G, 0)  # cached
    with torch.no_grad():  # a training step changes the mapping in place
        G.mapping.fc0.weight.add_(0.3)
    assert not torch.allclose(latents.truncation_centre(G, 0), before)
    plain = tiny_generator()
    a = render(FakeModel(plain), RenderRequest(seeds=(3,), psi=0.5)).images
    b = render(FakeModel(plain), RenderRequest(seeds=(3,), psi=0.5, psi_centre="model")).images
    assert np.array_equal(a, b)


def test_provenance_keeps_the_truncation_centre_and_older_provenance_meant_the_model_average():
    req = RenderRequest(seeds=(3,), class_index=1, psi=0.7)
    assert RenderRequest.from_dict(req.to_dict()) == req and req.psi_centre == "class"
    older = {k: v for k, v in req.to_dict().items() if k != "psi_centre"}
    assert RenderRequest.from_dict(older).psi_centre == "model"


def test_a_class_centre_first_computed_under_inference_mode_serves_autograd_later():
    G = tiny_generator(c_dim=2)
    with torch.inference_mode():
        first = latents.truncation_centre(G, 1)
    assert not first.is_inference()
    w = G.mapping(latents.seeds_to_z([0], 16), latents.class_vector(2, 1)).detach().requires_grad_(True)
    latents.truncate(w, latents.truncation_centre(G, 1), 0.5).sum().backward()  # no inference-tensor error
    assert w.grad is not None


def test_the_truncation_centres_named_by_requests_are_those_the_core_knows():
    from batikstudio.render import request

    assert request.PSI_CENTRES == latents.PSI_CENTRES
