import numpy as np
import pytest
import torch

from batikstudio.core import latents as L


def test_parse_seeds_ranges_and_errors():
    assert L.parse_seeds("0-3, 7,10-11") == [0, 1, 2, 3, 7, 10, 11]
    for bad in ["", "a", "5-2", "1-x", str(2**32)]:
        with pytest.raises(ValueError):
            L.parse_seeds(bad)
    with pytest.raises(ValueError, match="too many"):
        L.parse_seeds("0-1000", limit=10)


def test_seed_to_z_matches_nvlabs_convention():
    z = L.seed_to_z(42, 512)
    assert z.shape == (1, 512) and z.dtype == np.float64
    np.testing.assert_array_equal(z, np.random.RandomState(42).randn(1, 512))
    zt = L.seeds_to_z([1, 2], 8)
    assert zt.dtype == torch.float32 and zt.shape == (2, 8)
    np.testing.assert_allclose(zt[1].numpy(), np.random.RandomState(2).randn(8).astype(np.float32))


def test_class_vector():
    assert L.class_vector(0, None) is None
    c = L.class_vector(3, 2, batch=2)
    assert c.tolist() == [[0, 0, 1], [0, 0, 1]]
    with pytest.raises(ValueError, match="conditional on 3"):
        L.class_vector(3, None)
    with pytest.raises(ValueError, match="out of range"):
        L.class_vector(3, 3)
    with pytest.raises(ValueError, match="unconditional"):
        L.class_vector(0, 1)


def test_mixing_ranges_match_nvlabs_at_256():
    r = L.mixing_ranges(256)
    assert (r["coarse"], r["middle"], r["fine"]) == (range(0, 4), range(4, 8), range(8, 14))
    assert L.num_ws_for(256) == 14


@pytest.mark.parametrize("res", [4, 8, 16, 32, 64, 128, 512, 1024])
def test_mixing_ranges_partition_all_ws(res):
    r = L.mixing_ranges(res)
    covered = [i for name in L.MIX_RANGE_NAMES for i in r[name]]
    assert covered == list(range(L.num_ws_for(res)))
    assert len(r["coarse"]) > 0


def test_resolve_layers():
    assert L.resolve_layers("coarse+fine", 64) == [0, 1, 2, 3, 8, 9]
    assert L.resolve_layers("0-2", 64) == [0, 1, 2]
    assert L.resolve_layers((3, 1), 64) == [1, 3]
    with pytest.raises(ValueError, match="out of range"):
        L.resolve_layers("0-10", 64)
    with pytest.raises(ValueError, match="bad layer range"):
        L.resolve_layers("sky", 64)


def test_truncate_and_cutoff():
    ws = torch.randn(2, 6, 4)
    avg = torch.randn(4)
    assert torch.equal(L.truncate(ws, avg, 1.0), ws)
    full = L.truncate(ws, avg, 0.0)
    assert torch.allclose(full, avg.expand_as(ws))
    cut = L.truncate(ws, avg, 0.5, cutoff=2)
    assert torch.allclose(cut[:, :2], avg + 0.5 * (ws[:, :2] - avg))
    assert torch.equal(cut[:, 2:], ws[:, 2:])


def test_mix_styles_replaces_only_layers():
    a, b = torch.zeros(2, 6, 3), torch.ones(1, 6, 3)
    m = L.mix_styles(a, b, [0, 1])
    assert m[:, :2].eq(1).all() and m[:, 2:].eq(0).all()
    with pytest.raises(ValueError):
        L.mix_styles(a, torch.ones(1, 5, 3), [0])


def test_slerp_endpoints_and_norm():
    a, b = torch.randn(16), torch.randn(16)
    assert torch.allclose(L.slerp(a, b, 0.0), a, atol=1e-5)
    assert torch.allclose(L.slerp(a, b, 1.0), b, atol=1e-5)
    mid = L.slerp(a, b, 0.5)
    assert abs(mid.norm() - (a.norm() + b.norm()) / 2) < 1e-4
    assert torch.allclose(L.slerp(a, a, 0.3), a, atol=1e-5)  # parallel: no NaN


def test_keyframe_schedule_loop_and_open():
    loop = list(L.keyframe_schedule(3, 4, loop=True))
    assert len(loop) == 12 and loop[-1].index == 2 and loop[0].t == 0
    open_ = list(L.keyframe_schedule(3, 4, loop=False))
    assert len(open_) == 9 and open_[-1].t == 1.0 and open_[-1].index == 1
    keys = torch.stack([torch.zeros(2, 3), torch.ones(2, 3)])
    out = L.interpolate_keys(keys, L.PathPoint(0, 0, 0.25), "w")
    assert out.shape == (1, 2, 3) and torch.allclose(out, torch.full((1, 2, 3), 0.25))
    with pytest.raises(ValueError):
        list(L.keyframe_schedule(1, 4))
    assert L.ease(0.5, "smooth") == pytest.approx(0.5)
    with pytest.raises(ValueError):
        L.ease(0.5, "bouncy")
