"""Tests for ``batikstudio animate`` (batikstudio.cli.cmd_animate)."""

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from batikstudio.cli import main as cli_main
from batikstudio.cli.cmd_animate import frame_files


@pytest.fixture
def run_cli(monkeypatch):
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("cmd_animate",))
    return lambda *argv: cli_main.main([str(a) for a in argv])


@pytest.fixture
def folder(tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in (1, 2, 10):  # natural order: 1, 2, 10 (not 1, 10, 2)
        img = np.zeros((18, 26, 3), np.uint8)
        img[..., 1] = 20 * i
        Image.fromarray(img).save(frames / f"frame_{i}.png")
    (frames / "notes.txt").write_text("not a frame")
    return frames


def test_frame_files_natural_order(folder):
    assert [p.name for p in frame_files([folder])] == ["frame_1.png", "frame_2.png", "frame_10.png"]


def test_gif_from_folder_with_pingpong(tmp_path, folder, run_cli):
    out = tmp_path / "walk.gif"
    assert run_cli("animate", folder, "-o", out, "--fps", 10, "--pingpong") == 0
    with Image.open(out) as im:
        assert im.n_frames == 4 and im.info["loop"] == 0 and im.size == (26, 18)
        greens = []
        for i in range(4):
            im.seek(i)
            greens.append(int(np.asarray(im.convert("RGB"))[5, 5, 1]))
    assert greens == pytest.approx([20, 40, 200, 40], abs=8)


def test_mp4_from_files(tmp_path, folder, run_cli):
    out = tmp_path / "walk.mp4"
    files = sorted(folder.glob("*.png"))
    assert run_cli("animate", *files, "-o", out, "--fps", 5) == 0
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == 3


def test_user_errors(tmp_path, folder, run_cli, capsys):
    assert run_cli("animate", tmp_path / "nope.png", "-o", tmp_path / "a.gif") == 2
    assert "no such file" in capsys.readouterr().err
    assert run_cli("animate", folder, "-o", tmp_path / "a.avi") == 2
    assert "use .gif or .mp4" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli("animate", empty, "-o", tmp_path / "a.gif") == 2
    assert "no image files" in capsys.readouterr().err


# -- latent walk mode (--model --seeds) ---------------------------------------------------------


@pytest.fixture
def walk_model(tmp_path):
    from batikstudio.core.nets import GeneratorConfig
    from batikstudio.io.models import new_random_model

    cfg = GeneratorConfig(z_dim=16, c_dim=2, w_dim=16, img_resolution=16, img_channels=3,
                          mapping_layers=2, channel_base=256, channel_max=16)
    return new_random_model(cfg, seed=2, path=tmp_path / "walk.safetensors")


def test_walk_gif_from_model_matches_engine_frames(tmp_path, walk_model, run_cli):
    from batikstudio.io.models import open_model
    from batikstudio.render.animation import interpolation_frames, read_animation_provenance
    from batikstudio.render.motif import MotifState

    out = tmp_path / "walk.gif"
    assert run_cli("animate", "--model", walk_model, "--seeds", "1,5,9", "--frames", 3, "--fps", 6,
                   "--space", "z", "--loop", "--psi", 0.7, "--class", 1, "-o", out) == 0
    with Image.open(out) as im:
        assert im.n_frames == 9 and im.size == (16, 16)
        im.seek(6)
        got = np.asarray(im.convert("RGB")).astype(int)
    keys = [MotifState(seed=s, class_index=1, psi=0.7) for s in (1, 5, 9)]
    ref = list(interpolation_frames(open_model(walk_model), keys, 3, loop=True, space="z"))[6]
    assert np.abs(got - ref.astype(int)).mean() < 20  # GIF palette + dithering
    prov = read_animation_provenance(out)
    assert [k["seed"] for k in prov["keys"]] == [1, 5, 9] and prov["loop"] and prov["space"] == "z"


def test_walk_mp4_open_path(tmp_path, walk_model, run_cli):
    out = tmp_path / "walk.mp4"
    assert run_cli("animate", "--model", walk_model, "--seeds", "3-4", "--frames", 4, "-o", out) == 0
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == 5


def test_walk_user_errors(tmp_path, walk_model, folder, run_cli, capsys):
    out = tmp_path / "a.gif"
    assert run_cli("animate", "--model", walk_model, "-o", out) == 2
    assert "needs --seeds" in capsys.readouterr().err
    assert run_cli("animate", "--model", walk_model, "--seeds", "4", "-o", out) == 2
    assert "two keyframes" in capsys.readouterr().err
    assert run_cli("animate", "--model", walk_model, "--seeds", "1,2", "--class", "lereng", "-o", out) == 2
    assert "unknown class" in capsys.readouterr().err
    assert run_cli("animate", folder, "--model", walk_model, "--seeds", "1,2", "-o", out) == 2
    assert "not both" in capsys.readouterr().err
    assert run_cli("animate", "-o", out) == 2
    assert "--model and --seeds" in capsys.readouterr().err
    assert not out.exists()
