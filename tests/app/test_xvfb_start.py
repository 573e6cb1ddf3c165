"""Start the app as a user would, on a real X server (Xvfb), screenshot it, end it with SIGTERM.

Needs the ``Xvfb`` binary and the xcb libraries Qt loads (Debian: xvfb libxcb-icccm4
libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-xinerama0 libxcb-shape0 libxcb-randr0
libxcb-xkb1 libxcb-cursor0 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 libdbus-1-3).
"""

import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageGrab

XVFB = shutil.which("Xvfb")
START_TIMEOUT = 60.0
QUIT_TIMEOUT = 20.0
MIN_COLOURS = 2000  # the bare UI (text on a flat theme) has far fewer; rendered motifs many more

pytestmark = pytest.mark.skipif(XVFB is None, reason="Xvfb is not installed (apt-get install xvfb)")


@pytest.fixture
def xdisplay(tmp_path):
    """A fresh Xvfb on the first free display number (``-displayfd``: no races, no guessing)."""
    read_fd, write_fd = os.pipe()
    log = open(tmp_path / "xvfb.log", "wb")
    proc = subprocess.Popen(
        [XVFB, "-displayfd", str(write_fd), "-screen", "0", "1280x840x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdout=log, stderr=subprocess.STDOUT,
    )
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], 20)
        number = os.read(read_fd, 32).decode().strip() if ready else ""
        if not number:
            pytest.fail(f"Xvfb did not start: {(tmp_path / 'xvfb.log').read_text(errors='replace')}")
        yield f":{number}"
    finally:
        os.close(read_fd)
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _colours(img: Image.Image) -> int:
    found = img.convert("RGB").getcolors(maxcolors=1 << 24)
    return len(found) if found else 0


def _wait_for_render(display: str, app: subprocess.Popen, log_path) -> Image.Image:
    deadline = time.monotonic() + START_TIMEOUT
    shot = None
    while time.monotonic() < deadline:
        if app.poll() is not None:
            pytest.fail(f"the app exited with {app.returncode}: {log_path.read_text(errors='replace')[-3000:]}")
        shot = ImageGrab.grab(xdisplay=display)
        if _colours(shot) >= MIN_COLOURS:
            return shot
        time.sleep(0.5)
    n = _colours(shot) if shot is not None else 0
    pytest.fail(f"no rendered motifs on screen after {START_TIMEOUT:.0f} s ({n} colours); "
                f"app log: {log_path.read_text(errors='replace')[-3000:]}")


def _user_command() -> list[str]:
    """``batikstudio`` as a user types it: the console script next to this Python, no arguments
    (the app opens the bundled default model)."""
    script = Path(sys.executable).with_name("batikstudio")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "batikstudio"]


def test_app_starts_renders_grid_and_quits_on_sigterm(xdisplay, tmp_path):
    env = dict(os.environ, DISPLAY=xdisplay, QT_QPA_PLATFORM="xcb", BATIKSTUDIO_THREADS="1",
               BATIKSTUDIO_HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_RUNTIME_DIR=str(tmp_path / "runtime"))
    (tmp_path / "runtime").mkdir(mode=0o700)
    log_path = tmp_path / "app.log"
    with open(log_path, "wb") as log:
        app = subprocess.Popen(_user_command(), env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            shot = _wait_for_render(xdisplay, app, log_path)
            shot.save(tmp_path / "xvfb-start.png")
            pixels = np.asarray(shot.convert("RGB"))
            assert pixels.std() > 10 and _colours(shot) >= MIN_COLOURS
            app.send_signal(signal.SIGTERM)
            code = app.wait(QUIT_TIMEOUT)
        finally:
            if app.poll() is None:
                app.kill()
                app.wait()
    assert code == 0, log_path.read_text(errors="replace")[-3000:]
    assert "Traceback" not in log_path.read_text(errors="replace")
