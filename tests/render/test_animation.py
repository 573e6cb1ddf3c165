"""Tests for batikstudio.render.animation: keyframe paths in W and Z, preview job, export job."""

import imageio_ffmpeg
import numpy as np
import pytest
import torch
from PIL import Image

from batikstudio.core import latents
from batikstudio.core.directions import compute_directions
from batikstudio.core.nets import Generator, GeneratorConfig
from batikstudio.errors import ExportError
from batikstudio.jobs import Cancelled, RecordingContext
from batikstudio.render.animation import (
    AnimationExportRequest, AnimationRequest, export_animation, frame_count, interpolation_frames,
    keys_from_provenance, provenance_path, read_animation_provenance, render_animation,
)
from batikstudio.render.engine import render, to_uint8
from batikstudio.render.motif import MotifState


class FakeModel:
    def __init__(self, G, sha="a" * 64):
        self.G_ema, self.sha256 = G, sha


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(3)
    cfg = GeneratorConfig(z_dim=16, c_dim=0, w_dim=16, img_resolution=16, img_channels=3,
                          mapping_layers=2, channel_base=256, channel_max=16)
    G = Generator(cfg).eval()
    with torch.no_grad():
        G.mapping.w_avg.copy_(torch.randn(16) * 0.5)
    return FakeModel(G)


@pytest.fixture(scope="module")
def cond_model():
    torch.manual_seed(4)
    cfg = GeneratorConfig(z_dim=16, c_dim=3, w_dim=16, img_resolution=16, img_channels=3,
                          mapping_layers=2, channel_base=256, channel_max=16)
    return FakeModel(Generator(cfg).eval(), sha="c" * 64)


def still(model, state, size=None):
    return render(model, state.request(out_size=size)).images[0]


KEYS = (MotifState(seed=1, psi=0.8), MotifState(seed=7, psi=0.8), MotifState(seed=12, psi=0.8))


@pytest.mark.parametrize("space", ["w", "z"])
def test_segment_starts_are_the_still_renders(model, space):
    frames = list(interpolation_frames(model, KEYS, 4, loop=True, space=space))
    assert len(frames) == frame_count(3, 4, True) == 12
    for k, key in enumerate(KEYS):
        assert np.array_equal(frames[4 * k], still(model, key))
    assert not np.array_equal(frames[1], frames[0]) and not np.array_equal(frames[1], frames[4])


def test_open_path_ends_on_the_last_key(model):
    frames = list(interpolation_frames(model, KEYS, 3, loop=False))
    assert len(frames) == frame_count(3, 3, False) == 7
    assert np.array_equal(frames[-1], still(model, KEYS[-1]))


def test_w_midpoint_is_lerp_of_key_ws(model):
    G = model.G_ema
    a, b = MotifState(seed=2, psi=0.5), MotifState(seed=9, psi=1.0, mix=())
    mid = list(interpolation_frames(model, [a, b], 2, loop=False, space="w"))[1]
    with torch.no_grad():
        wa = G.mapping(latents.seeds_to_z([2], 16), None)
        wa = latents.truncate(wa, G.mapping.w_avg, 0.5)
        wb = G.mapping(latents.seeds_to_z([9], 16), None)
        ref = to_uint8(G.synthesis((wa + wb) / 2, noise_mode="const"))[0]
    assert np.array_equal(mid, ref)


def test_z_midpoint_is_slerp_then_map(model):
    G = model.G_ema
    a, b = MotifState(seed=2, psi=0.7), MotifState(seed=9, psi=0.7)
    mid = list(interpolation_frames(model, [a, b], 2, loop=False, space="z"))[1]
    z = latents.slerp(latents.seeds_to_z([2], 16), latents.seeds_to_z([9], 16), 0.5)
    with torch.no_grad():
        ref = to_uint8(G(z, None, truncation_psi=0.7, noise_mode="const"))[0]
    assert np.array_equal(mid, ref)
    w_mid = list(interpolation_frames(model, [a, b], 2, loop=False, space="w"))[1]
    assert not np.array_equal(mid, w_mid)


def test_keys_differing_in_class_mix_and_psi(cond_model):
    a = MotifState(seed=5, class_index=0, psi=0.6)
    b = MotifState(seed=5, class_index=2, psi=1.0).with_mix("coarse", 8)
    for space in ("w", "z"):
        frames = list(interpolation_frames(cond_model, [a, b], 3, loop=False, space=space))
        assert np.array_equal(frames[0], still(cond_model, a))
        assert np.array_equal(frames[-1], still(cond_model, b))
    with pytest.raises(ValueError, match="class"):
        list(interpolation_frames(cond_model, [MotifState(seed=1), b], 2))


def test_directions_are_applied_and_required(model):
    G = model.G_ema
    d = compute_directions(G, 4, 256, 0)
    key = MotifState(seed=3).with_direction(0, 2.0)
    frames = list(interpolation_frames(model, [key, MotifState(seed=4)], 2, directions=d))
    assert np.array_equal(frames[0], render(model, key.request(directions_count=4), directions=d).images[0])
    with pytest.raises(ValueError, match="directions"):
        list(interpolation_frames(model, [key, MotifState(seed=4)], 2))


def test_size_easing_and_bad_options(model):
    small = list(interpolation_frames(model, KEYS[:2], 4, size=8))
    assert small[0].shape == (8, 8, 3) and np.array_equal(small[0], still(model, KEYS[0], size=8))
    lin = list(interpolation_frames(model, KEYS[:2], 4, easing="linear"))
    smooth = list(interpolation_frames(model, KEYS[:2], 4, easing="smooth"))
    assert np.array_equal(lin[0], smooth[0]) and not np.array_equal(lin[1], smooth[1])
    for kwargs, text in [({"space": "q"}, "space"), ({"easing": "bounce"}, "easing"),
                         ({"frames_per_segment": 0}, "frames per segment")]:
        args = {"frames_per_segment": 2, **kwargs}
        with pytest.raises(ValueError, match=text):
            next(interpolation_frames(model, KEYS, **args))
    with pytest.raises(ValueError, match="two keyframes"):
        next(interpolation_frames(model, KEYS[:1], 2))


def test_random_noise_is_the_same_on_every_frame(model):
    a, b = MotifState(seed=1, noise_mode="random"), MotifState(seed=1, noise_mode="random")
    frames = list(interpolation_frames(model, [a, b], 3, loop=False))
    assert all(np.array_equal(f, frames[0]) for f in frames)


def test_render_animation_job_partials_progress_cancel(model):
    req = AnimationRequest(model, KEYS, frames_per_segment=2, loop=True)
    ctx = RecordingContext()
    frames = render_animation(req, ctx)
    assert len(frames) == req.num_frames == 6
    assert [i for i, _ in ctx.partials] == list(range(6))
    assert ctx.progress_log[-1] == (6, 6)
    with pytest.raises(Cancelled):
        render_animation(req, RecordingContext(cancel_after=2))


def test_export_gif_with_provenance_sidecar(model, tmp_path):
    anim = AnimationRequest(model, KEYS, frames_per_segment=3, loop=True, space="z")
    out = tmp_path / "walk.gif"
    ctx = RecordingContext()
    assert export_animation(AnimationExportRequest(anim, out, fps=10, model_name="tiny"), ctx) == out
    with Image.open(out) as gif:
        assert gif.n_frames == 9 and gif.size == (16, 16) and gif.info["loop"] == 0
        gif.seek(3)
        second_key = np.asarray(gif.convert("RGB")).astype(int)
    # a GIF is palettised and dithered: compare with the still render loosely
    assert np.abs(second_key - still(model, KEYS[1]).astype(int)).mean() < 20
    assert ctx.progress_log[-1] == (9, 9)
    prov = read_animation_provenance(out)
    assert prov["model_sha256"] == model.sha256 and prov["space"] == "z" and prov["frames"] == 9
    assert keys_from_provenance(prov) == KEYS and provenance_path(out).name == "walk.gif.json"


def test_export_mp4_and_cancel_leaves_nothing(model, tmp_path):
    anim = AnimationRequest(model, KEYS[:2], frames_per_segment=4, loop=False, size=32)
    out = tmp_path / "walk.mp4"
    export_animation(AnimationExportRequest(anim, out, fps=8), RecordingContext())
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == 5
    assert read_animation_provenance(out)["size"] == 32
    gone = tmp_path / "gone.gif"
    with pytest.raises(Cancelled):
        export_animation(AnimationExportRequest(anim, gone), RecordingContext(cancel_after=2))
    assert not gone.exists() and not provenance_path(gone).exists()
    with pytest.raises(ExportError, match="use .gif or .mp4"):
        export_animation(AnimationExportRequest(anim, tmp_path / "a.avi"), RecordingContext())
    with pytest.raises(ExportError, match="provenance"):
        read_animation_provenance(tmp_path / "a.avi")



def test_a_character_model_morphs_from_one_keys_character_into_the_next():
    torch.manual_seed(5)
    cfg = GeneratorConfig(z_dim=16, c_dim=2, w_dim=16, img_resolution=16, img_channels=1, mapping_layers=2,
                          channel_base=256, channel_max=16, use_noise=False, layout_res=8, layout_chars=2)
    G = Generator(cfg).eval()
    with torch.no_grad():
        G.layout_codepoints.copy_(torch.tensor([ord("永"), ord("字")]))
        G.layout_table.copy_(torch.randn(2, 64))
        for p in G.synthesis.layout_encoder.parameters():
            p.normal_()
    m = FakeModel(G)
    seeds = [s for s in range(50) if G.seed_characters([s]) == "永"][:1] + \
        [s for s in range(50) if G.seed_characters([s]) == "字"][:1]
    keys = [MotifState(seed=s, class_index=0, psi=1.0) for s in seeds]
    frames = list(interpolation_frames(m, keys, 4, loop=False))
    stills = [render(m, k.request()).images[0] for k in keys]
    assert np.array_equal(frames[0], stills[0]) and np.array_equal(frames[-1], stills[1])
    assert not np.array_equal(frames[2], frames[0]) and not np.array_equal(frames[2], frames[-1])
