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
