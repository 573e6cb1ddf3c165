"""Tests for batikstudio.imaging.animation (GIF and MP4 frame sinks)."""

import doctest
import subprocess
import sys
import weakref

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from batikstudio.errors import ExportError, ImageError
from batikstudio.imaging import animation
from batikstudio.imaging.animation import write_animation, write_gif, write_mp4
from batikstudio.jobs import Cancelled, RecordingContext


class LiveFrames:
    """A lazy frame generator that counts how many of its frames are still alive."""

    def __init__(self, n, h=16, w=24):
        self.n, self.h, self.w = n, h, w
        self.live = 0
        self.max_live = 0
        self.made = 0

    def _gone(self):
        self.live -= 1

    def __iter__(self):
        for i in range(self.n):
            frame = np.zeros((self.h, self.w, 3), np.uint8)
            frame[..., 0] = (7 * i) % 256
            frame[: self.h // 2, :, 2] = 200
            weakref.finalize(frame, self._gone)
            self.live += 1
            self.made += 1
            self.max_live = max(self.max_live, self.live)
            yield frame
            del frame


def _ramp(n=6, h=20, w=30):
    frames = []
    for i in range(n):
        f = np.zeros((h, w, 3), np.uint8)
        f[..., 0] = (25 * i) % 256
        f[:, : w // 2, 1] = 180
        frames.append(f)
    return frames


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


def _mp4_frames(path, w, h):
    """Decode an MP4 with the ffmpeg binary; return (stream info line, HxWx3 frames)."""
    proc = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path),
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    )
    info = next(line for line in proc.stderr.decode().splitlines() if "Video:" in line)
    data = np.frombuffer(proc.stdout, np.uint8)
    assert data.size % (w * h * 3) == 0
    return info, list(data.reshape(-1, h, w, 3))


def test_doctests():
    assert doctest.testmod(animation).failed == 0


def test_gif_round_trip_frames_loop_size_and_colours(tmp_path):
    frames = _ramp()
    out = write_gif(frames, tmp_path / "a.gif", fps=10)
    with Image.open(out) as im:
        assert im.n_frames == 6 and im.size == (30, 20)
        assert im.info["loop"] == 0 and im.info["duration"] == 100
        for i in range(6):
            im.seek(i)
            rgb = np.asarray(im.convert("RGB")).astype(int)
            assert np.abs(rgb - frames[i]).max() <= 12  # global palette keeps flat colours
    assert _leftovers(tmp_path) == ["a.gif"]


def test_gif_plays_once_without_loop_and_adaptive_palette(tmp_path):
    out = write_gif(iter(_ramp()), tmp_path / "b.gif", fps=5, loop=False, palette="adaptive")
    with Image.open(out) as im:
        assert im.n_frames == 6 and "loop" not in im.info and im.info["duration"] == 200


def test_gif_from_generator_does_not_keep_rgb_frames(tmp_path):
    source = LiveFrames(60)
    write_gif(iter(source), tmp_path / "c.gif", fps=20, sample_frames=4)
    assert source.made == 60
    assert source.max_live <= 4 + 2
    with Image.open(tmp_path / "c.gif") as im:
        assert im.n_frames == 60


def test_mp4_round_trip_frame_count_size_and_colour(tmp_path):
    frames = _ramp(n=9, h=21, w=31)  # odd size: padded to 32x22
    out = write_mp4(frames, tmp_path / "a.mp4", fps=12, quality=9)
    info, back = _mp4_frames(out, 32, 22)
    assert "h264" in info and "yuv420p" in info and "32x22" in info and "12 fps" in info
    assert len(back) == 9
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == 9
    for f, b in zip(frames, back):
        assert np.abs(b[4:16, 4:10].astype(int) - f[4:16, 4:10]).mean() < 6  # away from edges
    assert _leftovers(tmp_path) == ["a.mp4"]


def test_mp4_streams_without_collecting_frames(tmp_path):
    source = LiveFrames(240, h=32, w=32)
    ctx = RecordingContext()
    write_mp4(iter(source), tmp_path / "s.mp4", fps=30, ctx=ctx)
    assert source.made == 240
    assert source.max_live <= 2  # the frame being sent, at most one more
    assert ctx.progress_log[-1] == (240, None)
    assert imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "s.mp4"))[0] == 240


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_cancel_leaves_no_file_and_keeps_old_one(tmp_path, suffix):
    target = tmp_path / f"anim{suffix}"
    target.write_bytes(b"old")
    ctx = RecordingContext(cancel_after=3)
    with pytest.raises(Cancelled):
        write_animation(iter(_ramp(n=10)), target, fps=10, ctx=ctx)
    assert target.read_bytes() == b"old"
    assert _leftovers(tmp_path) == [target.name]
    assert len(ctx.progress_log) == 3


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_bad_frames_raise_and_leave_nothing(tmp_path, suffix):
    frames = _ramp(n=3)
    frames.append(np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(ImageError, match="frame 3 is 10x10, expected 30x20"):
        write_animation(frames, tmp_path / f"x{suffix}", fps=10)
    with pytest.raises(ImageError, match="frame 0: expected uint8"):
        write_animation([np.zeros((4, 4, 3), np.float32)], tmp_path / f"y{suffix}", fps=10)
    with pytest.raises(ExportError, match="no frames"):
        write_animation(iter([]), tmp_path / f"z{suffix}", fps=10)
    assert _leftovers(tmp_path) == []


def test_gray_frames_and_parameter_checks(tmp_path):
    gray = [np.full((8, 8), 30 * i, np.uint8) for i in range(3)]
    with Image.open(write_gif(gray, tmp_path / "g.gif", fps=10)) as im:
        assert im.n_frames == 3
    with pytest.raises(ValueError, match="fps"):
        write_gif(gray, tmp_path / "f.gif", fps=60)
    with pytest.raises(ValueError, match="quality"):
        write_mp4(gray, tmp_path / "q.mp4", quality=0)
    with pytest.raises(ValueError, match="palette"):
        write_gif(gray, tmp_path / "p.gif", palette="websafe")
    with pytest.raises(ExportError, match="use .gif or .mp4"):
        write_animation(gray, tmp_path / "a.avi", fps=10)


def test_mp4_without_imageio_ffmpeg_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # makes the import fail
    with pytest.raises(ExportError, match="pip install imageio-ffmpeg"):
        write_mp4(_ramp(n=2), tmp_path / "m.mp4", fps=10)
    assert _leftovers(tmp_path) == []
