"""Structure models: a table of motif layouts by class, seeds that draw their class's layouts,
and a layout encoder that wraps around for tileable motifs."""

import dataclasses

import numpy as np
import pytest
import torch

from batikstudio.core.nets import Generator, GeneratorConfig
from batikstudio.core.nets.layout import LayoutEncoder, class_indices, layout_kwargs, seed_class_rows

CFG = GeneratorConfig(z_dim=16, c_dim=3, w_dim=16, img_resolution=32, img_channels=3, mapping_layers=2,
                      channel_base=256, channel_max=32, use_noise=False, layout_res=8, layout_chars=7,
                      layout_by_class=True)
ROW_CLASSES = [0, 0, 1, 2, 1, 0, 2]


def _structure_model():
    torch.manual_seed(0)
    G = Generator(CFG)
    with torch.no_grad():
        G.layout_classes.copy_(torch.tensor(ROW_CLASSES))
        G.layout_table.copy_(torch.randn(7, 64))
        for name, p in G.synthesis.layout_encoder.named_parameters():
            if name.endswith("weight"):
                p.normal_()
    return G


def test_the_config_round_trips_and_needs_a_layout_size():
    assert GeneratorConfig.from_dict(CFG.to_dict()).layout_by_class is True
    with pytest.raises(ValueError, match="layout_by_class"):
        dataclasses.replace(CFG, layout_res=0, layout_chars=0)
    assert "layout_codepoints" not in dict(Generator(CFG).named_buffers())


def test_seeds_draw_only_layouts_of_their_class_deterministically():
    seeds = list(range(200))
    for k in range(3):
        rows = seed_class_rows(seeds, [k] * len(seeds), ROW_CLASSES)
        assert {ROW_CLASSES[r] for r in rows} == {k}
        assert set(rows) == {r for r, c in enumerate(ROW_CLASSES) if c == k}  # every layout gets drawn
        assert rows == seed_class_rows(seeds, [k] * len(seeds), ROW_CLASSES)
    with pytest.raises(ValueError, match="no layout of class 3"):
        seed_class_rows([0], [3], ROW_CLASSES)
    with pytest.raises(ValueError, match="2 classes for 1 seeds"):
        seed_class_rows([0], [0, 1], ROW_CLASSES)


def test_a_structure_model_names_no_characters_and_needs_classes():
    G = _structure_model()
    assert G.characters == "" and G.seed_characters([0, 1]) == ""
    with pytest.raises(ValueError, match="no character table"):
        G.char_layouts("永")
    with pytest.raises(ValueError, match="one class per seed"):
        G.seed_layouts([0, 1])
    lay = G.seed_layouts([5, 5, 9], [1, 2, 1])
    assert lay.shape == (3, 1, 8, 8)
    rows = seed_class_rows([5, 5, 9], [1, 2, 1], ROW_CLASSES)
    assert torch.equal(lay.flatten(1), G.layout_table[rows])


def test_layout_kwargs_reads_the_classes_from_one_hot_labels():
    G = _structure_model()
    c = torch.eye(3)[[2, 0, 1]]
    assert class_indices(c, 3) == [2, 0, 1] and class_indices(None, 2) == [0, 0]
    kw = layout_kwargs(G, [4, 4, 4], c)
    assert torch.equal(kw["layout"], G.seed_layouts([4, 4, 4], [2, 0, 1]))
    img = G(torch.randn(3, 16), c, **kw)
    assert img.shape == (3, 3, 32, 32) and torch.isfinite(img).all()


def test_different_layouts_of_one_class_give_different_motifs_for_one_seed():
    G = _structure_model()
    z, c = torch.randn(1, 16).repeat(2, 1), torch.eye(3)[[0, 0]]
    with torch.no_grad():
        img = G(z, c, layout=G.layout_table[[0, 1]].reshape(2, 1, 8, 8))
    assert not torch.allclose(img[0], img[1], atol=1e-3)


def test_the_encoder_wraps_around_for_tileable_motifs():
    torch.manual_seed(0)
    enc = LayoutEncoder(16, 256, 32)
    with torch.no_grad():
        for name, p in enc.named_parameters():
            if name.endswith("weight"):
                p.normal_()
        x = torch.randn(1, 1, 16, 16)
        a, b = enc(x, circular=True), enc(torch.roll(x, shifts=(4, 8), dims=(2, 3)), circular=True)
        flat_a, flat_b = enc(x), enc(torch.roll(x, shifts=(4, 8), dims=(2, 3)))
    for res in (4, 8, 16):  # shifting a periodic layout shifts every feature map with it
        step = res // 4
        assert torch.allclose(torch.roll(a[res], shifts=(step, 2 * step), dims=(2, 3)), b[res], atol=1e-5)
    assert not torch.allclose(torch.roll(flat_a[16], shifts=(4, 8), dims=(2, 3)), flat_b[16], atol=1e-3)


def test_a_tileable_structure_model_tiles_seamlessly():
    G = _structure_model()
    with torch.no_grad():
        img = G(torch.randn(1, 16), torch.eye(3)[[1]], tileable=True, **layout_kwargs(G, [3], torch.eye(3)[[1]]))
    img = img[0].numpy()
    # the jump across the wrap edge is no larger than the jumps inside the motif
    inner = np.abs(np.diff(img, axis=2)).mean()
    edge = np.abs(img[:, :, 0] - img[:, :, -1]).mean()
    assert edge < 2.5 * inner
