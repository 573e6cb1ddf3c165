"""Every bundled generator in models/ loads and renders sensible, seed-dependent images."""

import numpy as np
import pytest

from batikstudio.errors import BatikError
from batikstudio.io.modelfile import read_model_meta
from batikstudio.io.models import open_model
from batikstudio.paths import BUNDLED_MODELS
from batikstudio.render.engine import render
from batikstudio.render.request import RenderRequest


def bundled_generators():
    found = []
    for path in sorted(BUNDLED_MODELS.glob("*.safetensors")):
        try:
            read_model_meta(path)
        except BatikError:
            continue  # other weights (style transfer) live there too
        found.append(path)
    return found


def test_the_default_model_exists_and_is_a_generator():
    name = (BUNDLED_MODELS / "default.txt").read_text(encoding="utf-8").strip()
    assert (BUNDLED_MODELS / name) in bundled_generators()


@pytest.mark.parametrize("path", bundled_generators(), ids=lambda p: p.name)
def test_bundled_model_renders_every_class(path):
    assert path.stat().st_size <= 40 * 2**20, "bundled models are at most 40 MB"
    assert path.with_suffix(".md").is_file(), "each bundled model has a model card"
    model = open_model(path)
    G = model.G_ema
    classes = range(G.c_dim) if G.c_dim else [None]
    assert len(model.class_labels) == G.c_dim and all(not label.isdigit() for label in model.class_labels)
    for cls in classes:
        images = render(model, RenderRequest(seeds=(0, 1, 2), class_index=cls, psi=0.7)).images
        assert images.shape == (3, G.img_resolution, G.img_resolution, G.img_channels)
        assert images.dtype == np.uint8 and images.std() > 5  # not a flat colour
        assert not np.array_equal(images[0], images[1]) and not np.array_equal(images[1], images[2])


def test_the_default_model_varies_with_the_seed_not_only_the_class():
    """Against mode collapse: the seeds of one family must differ about as much as real motifs do
    (per-pixel spread across seeds, [-1, 1] scale: the training motifs about 0.47, the collapsed
    32 px model 0.08, the 64 px default 0.42)."""
    from batikstudio.training.metrics.spread import generator_spread

    name = (BUNDLED_MODELS / "default.txt").read_text(encoding="utf-8").strip()
    assert generator_spread(open_model(BUNDLED_MODELS / name).G_ema, per_class=16) > 0.25


def test_the_calligraphy_model_writes_the_characters_it_is_asked_for():
    """The bundled calligraphy model is a character model: it knows the 6,763 GB2312 characters,
    writes the one asked for (different characters, different glyphs; the same character in two
    fonts, two glyphs of one layout), and refuses one it does not know."""
    model = open_model(BUNDLED_MODELS / "calligraphy-kai-64.safetensors")
    G = model.G_ema
    assert len(G.characters) == 6763 and "永" in G.characters
    a, b = (render(model, RenderRequest(seeds=(0, 0), class_index=k, text="永三")).images[..., 0].astype(float)
            for k in (0, 3))
    assert np.abs(a[0] - a[1]).mean() > 20  # two characters
    assert 0 < np.abs(a[0] - b[0]).mean() < np.abs(a[0] - a[1]).mean()  # one character, two fonts
    with pytest.raises(ValueError, match="not A"):
        render(model, RenderRequest(seeds=(0,), class_index=0, text="A"))
