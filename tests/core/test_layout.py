"""Character models: the layout encoder, the character table, and what synthesis asks for."""

import dataclasses

import numpy as np
import pytest
import torch

from batikstudio.core.nets import Generator, GeneratorConfig
from batikstudio.core.nets.layout import (ink_layouts, layout_kwargs, layout_levels, seed_char_rows,
                                          standardise_layouts)

CFG = GeneratorConfig(z_dim=16, c_dim=2, w_dim=16, img_resolution=32, img_channels=1, mapping_layers=2,
                      channel_base=256, channel_max=32, use_noise=False)


def _char_model(chars="永字八法", layout_res=8):
    torch.manual_seed(0)
    G = Generator(dataclasses.replace(CFG, layout_res=layout_res, layout_chars=len(chars)))
    with torch.no_grad():
        G.layout_codepoints.copy_(torch.tensor([ord(c) for c in chars]))
        G.layout_table.copy_(torch.randn(len(chars), layout_res ** 2))
    return G


def test_config_checks_the_layout_options():
    with pytest.raises(ValueError, match="layout_res"):
        dataclasses.replace(CFG, layout_res=12)
    with pytest.raises(ValueError, match="layout_res"):
        dataclasses.replace(CFG, layout_res=32)  # more than half the image
    with pytest.raises(ValueError, match="layout_chars"):
        dataclasses.replace(CFG, layout_chars=5)  # a table without layouts
    assert GeneratorConfig.from_dict(dataclasses.replace(CFG, layout_res=8, layout_chars=3).to_dict()).layout_res == 8
    assert layout_levels(16) == [4, 8, 16]


def test_a_new_encoder_starts_silent_so_a_grown_model_draws_what_it_drew():
    torch.manual_seed(0)
    plain = Generator(CFG)
    grown = _char_model()
    missing, unexpected = grown.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and all("layout" in k for k in missing)
    z, c = torch.randn(3, 16), torch.eye(2)[[0, 1, 0]]
    with torch.no_grad():
        assert torch.equal(plain(z, c), grown(z, c, layout=grown.char_layouts("永永八")))


def test_the_layout_changes_the_image_once_the_encoder_has_weights():
    G = _char_model()
    with torch.no_grad():
        for name, p in G.synthesis.layout_encoder.named_parameters():
            if name.endswith("weight"):
                p.normal_()
        z, c = torch.randn(2, 16).repeat(2, 1), torch.eye(2)[[0, 0, 0, 0]]
        img = G(z, c, layout=G.char_layouts("永字永字"))
    assert torch.equal(img[0], img[2]) and not torch.allclose(img[0], img[1], atol=1e-3)


def test_synthesis_needs_a_layout_only_for_character_models():
    G = _char_model()
    ws = G.mapping(torch.randn(2, 16), torch.eye(2))
    with pytest.raises(ValueError, match="draws from a layout"):
        G.synthesis(ws)
    with pytest.raises(ValueError, match="2 images"):
        G.synthesis(ws, layout=G.char_layouts("永"))
    with pytest.raises(ValueError, match="takes no layout"):
        Generator(CFG).synthesis(ws, layout=G.char_layouts("永字"))


def test_chunked_synthesis_slices_the_layout_with_the_batch(monkeypatch):
    from batikstudio.core.nets import synthesis

    G = _char_model()
    with torch.no_grad():
        for p in G.synthesis.layout_encoder.parameters():
            p.normal_()
        z, c = torch.randn(5, 16), torch.eye(2)[[0, 1, 0, 1, 1]]
        layout = G.char_layouts("永字八法永")
        whole = G(z, c, layout=layout)
        monkeypatch.setattr(synthesis, "_CHUNK_BYTES", 1)  # one image per chunk from the first block on
        chunked = G(z, c, layout=layout)
    assert torch.allclose(whole, chunked, atol=1e-5)


def test_the_table_names_characters_and_seeds_pick_their_own():
    G = _char_model()
    assert G.characters == "永字八法"
    assert torch.equal(G.char_layouts("八")[0, 0], G.layout_table[2].reshape(8, 8))
    with pytest.raises(ValueError, match="knows 4 characters; not 龍"):
        G.char_layouts("永龍")
    picks = G.seed_characters(range(40))
    assert set(picks) == set("永字八法") and picks == G.seed_characters(range(40))
    assert seed_char_rows([0, 1, 2], 4) == seed_char_rows([0, 1, 2], 4)
    assert torch.equal(layout_kwargs(G, [5])["layout"], G.char_layouts(G.seed_characters([5])))
    assert layout_kwargs(Generator(CFG), [5]) == {}
    with pytest.raises(ValueError, match="no character table"):
        Generator(CFG).char_layouts("永")


def test_ink_layouts_average_squares_and_standardise_per_row():
    img = np.full((1, 1, 8, 8), 255, np.uint8)
    img[0, 0, :4, :4] = 0  # ink in the top-left quarter
    ink = ink_layouts(img, 2)
    assert np.allclose(ink, [[1, 0, 0, 0]])
    std = standardise_layouts(np.concatenate([ink, np.zeros((1, 4), np.float32)]))
    assert np.allclose(std[0].mean(), 0, atol=1e-6) and np.isclose(std[0].std(ddof=1), 1)
    assert np.all(std[1] == 0)  # an empty layout stays empty instead of dividing by zero
