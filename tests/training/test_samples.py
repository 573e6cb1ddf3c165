import numpy as np
import pytest
import torch

from batikstudio.core.nets import Generator, GeneratorConfig
from batikstudio.training.samples import sample_grid, tile_grid

from .conftest import TINY_G


def test_tile_grid_places_images_row_major():
    imgs = np.stack([np.full((2, 2, 1), k, np.uint8) for k in range(5)])
    grid = tile_grid(imgs, cols=3)
    assert grid.shape == (4, 6, 1)
    assert grid[0, 2, 0] == 1 and grid[2, 0, 0] == 3 and grid[2, 4, 0] == 0
    with pytest.raises(ValueError):
        tile_grid(np.zeros((2, 2, 3), np.uint8))


def test_sample_grid_is_deterministic_and_conditional():
    G = Generator(GeneratorConfig(c_dim=2, img_resolution=8, img_channels=3, **TINY_G)).eval()
    a = sample_grid(G, [0, 1, 2, 3], 2, torch.device("cpu"))
    b = sample_grid(G, [0, 1, 2, 3], 2, torch.device("cpu"))
    assert a.dtype == np.uint8 and a.shape == (16, 16, 3) and np.array_equal(a, b)


def test_sample_grid_of_a_tileable_run_renders_wrapped():
    G = Generator(GeneratorConfig(c_dim=0, img_resolution=8, img_channels=3, **TINY_G)).eval()
    plain = sample_grid(G, [0, 1], 0, torch.device("cpu"))
    wrapped = sample_grid(G, [0, 1], 0, torch.device("cpu"), tileable=True)
    with torch.no_grad():
        z = torch.cat([torch.from_numpy(np.random.RandomState(s).randn(1, G.z_dim)) for s in (0, 1)]).float()
        want = (G(z, None, noise_mode="const", tileable=True) * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    assert np.array_equal(wrapped, np.concatenate(list(want.permute(0, 2, 3, 1).numpy()), axis=1))
    assert not np.array_equal(plain, wrapped)
