"""Training a character model: layouts from the data, labels that carry them, the
reconstruction term, growing a model into one, and rendering what it learned."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from batikstudio.errors import BatikError, DatasetError
from batikstudio.io import models
from batikstudio.jobs import RecordingContext
from batikstudio.render.engine import render
from batikstudio.render.request import RenderRequest
from batikstudio.training.config import TrainRequest
from batikstudio.training.data import RealSampler
from batikstudio.training.export import export_snapshot
from batikstudio.training import losses
from batikstudio.training.layouts import data_layouts, image_layouts
from batikstudio.training.loop import train
from batikstudio.training.networks import load_start
from batikstudio.training.runfolder import load_snapshot

from .conftest import TINY_G, TinyDataset, tiny_config

CHARS = "一二三四五六"
LAYOUT_G = {**TINY_G, "use_noise": False, "layout_res": 4}


class TinyGlyphs(TinyDataset):
    """Two 'fonts' (classes) x six characters, grey 8 px images: each character's ink sits in
    its own place, so that its layout is distinct."""

    def __init__(self, res: int = 8):
        super().__init__(n=12, res=res, channels=1, k=2)
        self.characters = "".join(ch for ch in CHARS for _ in range(2))
        self.imgs[:] = 255
        for i in range(len(self.imgs)):
            j = i // 2
            self.imgs[i, (j // 3) * 4:(j // 3) * 4 + 4, (j % 3) * 2:(j % 3) * 2 + 3] = 40 * (i % 2)


def test_data_layouts_average_each_characters_images():
    ds = TinyGlyphs()
    lay = data_layouts(ds, 4)
    assert lay.chars == CHARS and lay.table.shape == (6, 16)
    assert list(lay.image_rows) == [i // 2 for i in range(12)]
    assert np.allclose(lay.table.mean(axis=1), 0, atol=1e-6)
    assert len({row.tobytes() for row in lay.table}) == 6
    assert lay.image_layouts().shape == (12, 16)
    plain = TinyDataset()
    with pytest.raises(DatasetError, match="names the character"):
        data_layouts(plain, 4)


def test_sampler_labels_carry_the_layouts_and_wrong_labels_keep_them():
    ds = TinyGlyphs()
    lay = data_layouts(ds, 4)
    sampler = RealSampler(ds, 8, 2, False, torch.Generator().manual_seed(0), extra_labels=lay.image_layouts())
    x, c = sampler.next_real(8, torch.device("cpu"))
    assert c.shape == (8, 2 + 16)
    assert torch.all(c[:, :2].sum(dim=1) == 1)
    rows = [int(np.flatnonzero((lay.table == r.numpy()).all(axis=1))[0]) for r in c[:, 2:]]
    assert all(0 <= r < 6 for r in rows)
    wrong = sampler.next_wrong_labels(c, 8)
    assert torch.equal(wrong[:, 2:], c[:, 2:]) and not torch.equal(wrong[:, :2], c[:, :2])
    assert sampler.next_fake_labels(8, torch.device("cpu")).shape == (8, 18)
    assert sampler.extra_dim == 16
    one_font = RealSampler(ds, 8, 0, False, torch.Generator().manual_seed(0), extra_labels=lay.image_layouts())
    assert one_font.next_fake_labels(8, torch.device("cpu")).shape == (8, 16)  # unconditional: layouts only
    with pytest.raises(ValueError, match="extra labels"):
        RealSampler(ds, 8, 2, False, torch.Generator(), extra_labels=np.zeros((3, 16), np.float32))


def _layout_cfg(**changes):
    base = dict(conditional=True, g_kwargs=LAYOUT_G, recon_weight=1.0, total_kimg=0.024, batch=4)
    base.update(changes)
    return tiny_config(**base)


def test_a_character_model_trains_with_the_reconstruction_term_and_writes_asked_characters(tmp_path):
    ctx = RecordingContext()
    res = train(TrainRequest(_layout_cfg(), str(tmp_path / "run"), dataset=TinyGlyphs()), ctx)
    tensors, meta = load_snapshot(res.snapshot)
    assert meta["G_config"]["layout_res"] == 4 and meta["G_config"]["layout_chars"] == 6
    ticks = [p for p in ctx.partials if hasattr(p, "losses")]
    assert all(np.isfinite(t.losses["recon"]) for t in ticks)
    path = export_snapshot(tmp_path / "run", tmp_path / "m.safetensors", half=True)
    model = models.open_model(path)
    assert model.G_ema.characters == CHARS
    req = RenderRequest(seeds=(0, 1, 2), class_index=1, text="三一")
    out = render(model, req).images
    assert out.shape == (3, 8, 8, 1)
    assert req.for_seed(1).text == "一" and req.for_seed(2).text == "三"
    for i, seed in enumerate(req.seeds):  # each image is its provenance's one-seed request
        assert np.array_equal(out[i], render(model, req.for_seed(seed)).images[0])
    with pytest.raises(ValueError, match="not 七"):
        render(model, RenderRequest(seeds=(0,), class_index=0, text="七"))


def test_the_reconstruction_term_pulls_generated_glyphs_towards_their_reals(tmp_path):
    def error(recon):
        torch.manual_seed(0)
        res = train(TrainRequest(_layout_cfg(recon_weight=recon, total_kimg=0.24, kimg_per_tick=0.24, lr=0.01),
                                 str(tmp_path / f"r{recon}"), dataset=TinyGlyphs()), RecordingContext())
        model = models.open_model(export_snapshot(res.run_dir, tmp_path / f"r{recon}.safetensors"))
        ds = TinyGlyphs()
        req = RenderRequest(seeds=tuple(range(12)), text="".join(ds.characters))
        errs = []
        for k in (0, 1):
            imgs = render(model, RenderRequest(seeds=req.seeds, class_index=k, text=req.text)).images[..., 0]
            errs += [np.abs(imgs[i].astype(float) - ds.imgs[i, ..., 0]).mean() for i in range(k, 12, 2)]
        return float(np.mean(errs))

    assert error(20.0) < 0.7 * error(0.0)


def test_recon_and_layout_options_are_checked(tmp_path):
    with pytest.raises(ValueError, match="needs a character model"):
        train(TrainRequest(_layout_cfg(g_kwargs=TINY_G), str(tmp_path / "a"), dataset=TinyGlyphs()),
              RecordingContext())
    with pytest.raises(DatasetError, match="names the character"):
        train(TrainRequest(_layout_cfg(), str(tmp_path / "b"), dataset=TinyDataset(k=2)), RecordingContext())


def test_fine_tuning_a_model_into_a_character_model_keeps_what_it_draws(tmp_path):
    base = tiny_config(conditional=True, g_kwargs={**TINY_G, "use_noise": False})
    train(TrainRequest(base, str(tmp_path / "base"), dataset=TinyGlyphs()), RecordingContext())
    path = export_snapshot(tmp_path / "base", tmp_path / "m.safetensors")
    before = models.open_model(path).G_ema
    cfg = _layout_cfg(start=str(path), g_kwargs={**LAYOUT_G, "layout_chars": 6})
    nets = load_start(str(path), cfg, 8, 1, 2, 4)
    assert nets.G.cfg.layout_res == 4 and nets.G_ema.cfg.layout_chars == 6
    z, c = torch.randn(3, 16), torch.eye(2)[[0, 1, 1]]
    with torch.no_grad():
        assert torch.equal(before(z, c), nets.G_ema(z, c, layout=torch.randn(3, 1, 4, 4)))
    res = train(TrainRequest(cfg.replace(total_kimg=0.008, g_kwargs=LAYOUT_G), str(tmp_path / "ft"),
                             dataset=TinyGlyphs()), RecordingContext())
    assert res.kimg == pytest.approx(0.008)
    with pytest.raises(BatikError, match="reads 4 px layouts, not 2 px"):
        load_start(str(export_snapshot(tmp_path / "ft", tmp_path / "c.safetensors")),
                   cfg.replace(g_kwargs={**LAYOUT_G, "layout_res": 2, "layout_chars": 6}), 8, 1, 2, 4)


def test_fine_tuning_a_character_model_keeps_it_one_without_the_option(tmp_path):
    train(TrainRequest(_layout_cfg(total_kimg=0.008), str(tmp_path / "run"), dataset=TinyGlyphs()), RecordingContext())
    path = export_snapshot(tmp_path / "run", tmp_path / "chars.safetensors")
    ft = tiny_config(conditional=True, start=str(path), total_kimg=0.004, g_kwargs={**TINY_G, "use_noise": False})
    res = train(TrainRequest(ft, str(tmp_path / "ft"), dataset=TinyGlyphs()), RecordingContext())
    _, meta = load_snapshot(res.snapshot)
    assert meta["G_config"]["layout_res"] == 4 and meta["G_config"]["layout_chars"] == 6
    with pytest.raises(DatasetError, match="names the character"):
        train(TrainRequest(ft, str(tmp_path / "ft2"), dataset=TinyDataset(k=2, channels=1)), RecordingContext())


# -- structure models: each image's own layout, kept by class ---------------------------------------

STRUCT_G = {**LAYOUT_G, "layout_by_class": True}


def test_image_layouts_keep_every_images_layout_with_its_class():
    ds = TinyDataset(n=12, k=3)
    lay = image_layouts(ds, 4)
    assert lay.rows == 12 and lay.chars == "" and list(lay.classes) == [i % 3 for i in range(12)]
    assert list(lay.image_rows) == list(range(12))
    grey = ds.imgs.astype(np.float64).mean(axis=3)
    ink = 1 - grey.reshape(12, 4, 2, 4, 2).mean(axis=(2, 4)).reshape(12, 16) / 255
    expect = (ink - ink.mean(axis=1, keepdims=True)) / ink.std(axis=1, ddof=1, keepdims=True)
    assert np.allclose(lay.table, expect, atol=1e-4)
    with pytest.raises(DatasetError, match="cannot give 16 px layouts"):
        image_layouts(ds, 16)


def test_layout_error_sees_the_arrangement_not_the_fills_or_colours():
    torch.manual_seed(0)
    a = F.interpolate(torch.rand(2, 3, 4, 4) * 2 - 1, scale_factor=4) + 0.1 * torch.randn(2, 3, 16, 16)
    blocks = F.avg_pool2d(a.mean(dim=1, keepdim=True), 4)
    # same grey level in every 4 px square, other colours and other detail inside it
    b = F.interpolate(blocks, scale_factor=4).repeat(1, 3, 1, 1) + torch.tensor([0.3, -0.1, -0.2]).view(1, 3, 1, 1)
    assert losses.layout_error(b, a, 4).item() < 1e-5
    assert losses.layout_error(0.5 * b - 0.2, a, 4).item() < 1e-5  # another brightness and contrast
    assert losses.layout_error(torch.roll(a, 4, dims=3), a, 4).item() > 0.05


def test_a_structure_model_trains_and_draws_its_classes_layouts(tmp_path):
    ctx = RecordingContext()
    ds = TinyDataset(n=12, k=3)
    cfg = _layout_cfg(g_kwargs=STRUCT_G, tileable=True)
    res = train(TrainRequest(cfg, str(tmp_path / "run"), dataset=ds), ctx)
    _, meta = load_snapshot(res.snapshot)
    assert meta["G_config"]["layout_by_class"] is True and meta["G_config"]["layout_chars"] == 12
    assert all(np.isfinite(t.losses["recon"]) for t in ctx.partials if hasattr(t, "losses"))
    model = models.open_model(export_snapshot(tmp_path / "run", tmp_path / "m.safetensors", half=True))
    G = model.G_ema
    assert G.layout_classes.tolist() == [i % 3 for i in range(12)] and G.characters == ""
    assert torch.allclose(G.layout_table, torch.from_numpy(image_layouts(ds, 4).table), atol=1e-2)
    req = RenderRequest(seeds=(0, 1, 2, 3), class_index=2)
    out = render(model, req).images
    assert out.shape == (4, 8, 8, 3)
    for i, seed in enumerate(req.seeds):  # each image is its provenance's one-seed request
        assert np.array_equal(out[i], render(model, req.for_seed(seed)).images[0])
    with pytest.raises(ValueError, match="writes no characters"):
        render(model, RenderRequest(seeds=(0,), class_index=0, text="永"))


def test_the_layout_term_pulls_generated_motifs_towards_their_layouts(tmp_path):
    ds = TinyDataset(n=12, k=3)

    def error(recon):
        torch.manual_seed(0)
        cfg = _layout_cfg(g_kwargs=STRUCT_G, recon_weight=recon, total_kimg=0.24, kimg_per_tick=0.24, lr=0.01)
        res = train(TrainRequest(cfg, str(tmp_path / f"r{recon}"), dataset=ds), RecordingContext())
        G = models.open_model(export_snapshot(res.run_dir, tmp_path / f"r{recon}.safetensors")).G_ema
        lay = image_layouts(ds, 4)
        c = torch.eye(3)[torch.from_numpy(lay.classes)]
        with torch.no_grad():
            img = G(torch.randn(12, 16), c, layout=torch.from_numpy(lay.table).reshape(12, 1, 4, 4))
        real = torch.from_numpy(ds.imgs).permute(0, 3, 1, 2).float() / 127.5 - 1
        return losses.layout_error(img, real, 4).item()

    assert error(20.0) < 0.7 * error(0.0)


def test_fine_tuning_a_structure_model_keeps_it_one(tmp_path):
    ds = TinyDataset(n=12, k=3)
    train(TrainRequest(_layout_cfg(g_kwargs=STRUCT_G, total_kimg=0.008), str(tmp_path / "run"), dataset=ds),
          RecordingContext())
    path = export_snapshot(tmp_path / "run", tmp_path / "s.safetensors")
    ft = tiny_config(conditional=True, start=str(path), total_kimg=0.004, g_kwargs={**TINY_G, "use_noise": False})
    res = train(TrainRequest(ft, str(tmp_path / "ft"), dataset=TinyDataset(n=9, k=3)), RecordingContext())
    _, meta = load_snapshot(res.snapshot)
    assert meta["G_config"]["layout_by_class"] is True and meta["G_config"]["layout_chars"] == 9


def test_mirrored_images_get_mirrored_layouts_and_character_models_refuse_mirroring(tmp_path):
    ds = TinyDataset(n=12, k=3)
    lay = image_layouts(ds, 4)
    sampler = RealSampler(ds, 8, 3, True, torch.Generator().manual_seed(0), extra_labels=lay.image_layouts(),
                          extra_side=4)
    x, c = sampler.next_real(16, torch.device("cpu"))
    flipped = 0
    for img, label in zip(x, c):
        layout = label[3:].reshape(4, 4)
        ink = 1 - (F.avg_pool2d(img.mean(dim=0, keepdim=True)[None], 2)[0, 0] + 1) / 2
        z = (ink - ink.mean()) / ink.std()
        assert torch.allclose(layout, z, atol=1e-3)  # the layout always matches the image as drawn
        flipped += not any(torch.allclose(label[3:], torch.from_numpy(r)) for r in lay.table)
    assert 0 < flipped < 16
    with pytest.raises(ValueError, match="side 3"):
        RealSampler(ds, 8, 3, True, torch.Generator(), extra_labels=lay.image_layouts(), extra_side=3)
    with pytest.raises(BatikError, match="mirrored glyph"):
        train(TrainRequest(_layout_cfg(mirror=True), str(tmp_path / "m"), dataset=TinyGlyphs()), RecordingContext())


def test_an_arrangement_seed_gives_every_image_one_layout_and_is_kept_in_provenance(tmp_path):
    from batikstudio.render.engine import request_layouts
    from batikstudio.render.motif import MotifState

    ds = TinyDataset(n=12, k=3)
    train(TrainRequest(_layout_cfg(g_kwargs=STRUCT_G, total_kimg=0.008), str(tmp_path / "run"), dataset=ds),
          RecordingContext())
    model = models.open_model(export_snapshot(tmp_path / "run", tmp_path / "s.safetensors"))
    G = model.G_ema
    req = RenderRequest(seeds=(0, 1, 2, 3), class_index=1, layout_seed=7)
    lay = request_layouts(G, req, req.seeds)["layout"]
    assert all(torch.equal(row, G.seed_layouts([7], [1])[0]) for row in lay)
    own = request_layouts(G, RenderRequest(seeds=req.seeds, class_index=1), req.seeds)["layout"]
    assert torch.equal(own, G.seed_layouts([0, 1, 2, 3], [1] * 4))
    assert RenderRequest.from_dict(req.to_dict()).layout_seed == 7
    state = MotifState.from_dict(MotifState(seed=3, class_index=1, layout_seed=7).to_dict())
    assert state.layout_seed == 7 and state.request().layout_seed == 7
    out = render(model, req).images
    for i, seed in enumerate(req.seeds):
        assert np.array_equal(out[i], render(model, req.for_seed(seed)).images[0])
    with pytest.raises(ValueError, match=">= 0"):
        RenderRequest(layout_seed=-1)


def test_a_grown_structure_model_keeps_the_layouts_its_fixed_layers_learned(tmp_path):
    """--layouts-from: a structure model grown to larger images keeps the table of the smaller ones
    (those its fixed layers read), also when resumed, once the images are shown to be the same
    motifs; the larger images' own layouts differ (here: a dark line only they have)."""
    small = TinyDataset(n=12, k=3)
    train(TrainRequest(_layout_cfg(g_kwargs=STRUCT_G, total_kimg=0.008), str(tmp_path / "s"), dataset=small),
          RecordingContext())
    start = export_snapshot(tmp_path / "s", tmp_path / "s.safetensors")
    large = TinyDataset(n=12, k=3, res=16)
    large.imgs[:] = small.imgs.repeat(2, axis=1).repeat(2, axis=2)
    large.imgs[:, 5, :4, :] = 0
    own, kept = image_layouts(large, 4), image_layouts(small, 4)
    assert not np.allclose(own.table, kept.table, atol=0.1)

    def grown(run, **changes):
        cfg = _layout_cfg(g_kwargs={}, start=str(start), total_kimg=0.004, kimg_per_tick=0.004, **changes)
        train(TrainRequest(cfg, str(tmp_path / run), dataset=large), RecordingContext())
        G = models.open_model(export_snapshot(tmp_path / run, tmp_path / f"{run}.safetensors")).G_ema
        return G.layout_table.numpy()

    assert np.allclose(grown("own"), own.table, atol=1e-2)
    source = tmp_path / "source.safetensors"
    source.write_bytes(start.read_bytes())
    assert np.allclose(grown("kept", layouts_from=str(source)), kept.table, atol=1e-2)
    source.unlink()  # a resumed run takes them from its snapshot
    cfg = _layout_cfg(g_kwargs={}, start=str(start), total_kimg=0.012, kimg_per_tick=0.004)
    res = train(TrainRequest(cfg, str(tmp_path / "kept"), dataset=large, resume=True), RecordingContext())
    assert res.kimg > 0.008
    G = models.open_model(export_snapshot(tmp_path / "kept", tmp_path / "resumed.safetensors")).G_ema
    assert np.allclose(G.layout_table.numpy(), kept.table, atol=1e-2)
    # other images, another order or another count are refused with what differs
    others = TinyDataset(n=12, k=3, res=16, seed=5)
    shuffled = TinyDataset(n=12, k=3, res=16)
    shuffled.imgs[:] = large.imgs[::-1]
    shuffled.labels = large.labels[::-1].copy()
    for ds, message in ((others, "do not match"), (shuffled, "other classes"),
                        (TinyDataset(n=9, k=3, res=16), "9 images")):
        cfg = _layout_cfg(g_kwargs={}, start=str(start), total_kimg=0.004, layouts_from=str(start))
        with pytest.raises(DatasetError, match=message):
            train(TrainRequest(cfg, str(tmp_path / f"x{len(ds)}{message[:2]}"), dataset=ds), RecordingContext())
    with pytest.raises(BatikError, match="structure model"):
        train(TrainRequest(_layout_cfg(layouts_from=str(start)), str(tmp_path / "c"), dataset=TinyGlyphs()),
              RecordingContext())
    with pytest.raises(BatikError, match="structure model"):  # a model without layouts
        train(TrainRequest(tiny_config(conditional=True, layouts_from=str(start)), str(tmp_path / "p"),
                           dataset=small), RecordingContext())
