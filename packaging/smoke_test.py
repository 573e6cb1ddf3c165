"""Smoke test of a built Batik Studio application (not part of CI: it needs a build, minutes).

    python packaging/smoke_test.py [build/dist/BatikStudio] [--offscreen] [--shot FILE]

Runs the packaged executable as a user would, with a throw-away home folder:

1. ``batikstudio --version`` and ``batikstudio doctor`` (exit 0, no problem reported);
2. ``batikstudio generate`` renders a grid PNG with the bundled default model (no Qt);
3. the app itself starts headless, renders its seed grid with the bundled model, and exits 0
   on SIGTERM. With ``Xvfb`` installed (Debian: ``apt-get install xvfb``) the screen is grabbed
   until rendered motifs appear (many colours) and then until the page stops changing: those
   are the start-up times printed. With ``--offscreen`` (or no Xvfb) Qt's offscreen platform
   is used, which nobody can look at: the test then only checks that the app runs for a while
   without a traceback and quits cleanly.

Without a bundled generator the test makes a random 32 px model with the packaged
``batikstudio model new`` and says so. Needs Pillow in the Python that runs it (screen grabs).
Exit status 0 when every step passed.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 120.0
MIN_COLOURS = 2000  # the bare window (flat theme, text) has far fewer; rendered motifs many more
OFFSCREEN_RUN = 20.0
STABLE_FOR = 2.0  # a page is complete when the screen has not changed for this long


def step(msg: str) -> None:
    print(f"--- {msg}", flush=True)


def run(cmd: list[str], env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    print(f"    {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))}: exit {proc.returncode} "
          f"in {time.monotonic() - t0:.1f} s", flush=True)
    if proc.returncode != 0:
        raise SystemExit(f"FAILED: {cmd}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return proc


def find_model(exe: str, app: Path, env: dict, tmp: Path) -> tuple[Path, bool]:
    """The bundled default model (from ``doctor --json``), else a random stand-in."""
    report = json.loads(run([exe, "doctor", "--json"], env).stdout)
    bundled = {c["label"]: c for s in report if s["title"] == "bundled models" for c in s["checks"]}
    folder = Path(next(c["value"] for s in report if s["title"] == "folders"
                       for c in s["checks"] if c["label"] == "bundled models"))
    default = bundled.get("default model", {})
    if default.get("status") == "ok":
        return folder / default["value"].split(" (")[0], True
    print("    NO BUNDLED GENERATOR in this build: using a random 32 px model instead", flush=True)
    model = tmp / "stand-in.safetensors"
    run([exe, "model", "new", "--res", "32", "--channel-max", "64", "-o", str(model)], env)
    return model, False


def check_grid(exe: str, model: Path, env: dict, tmp: Path) -> None:
    from PIL import Image

    grid = tmp / "grid.png"
    run([exe, "generate", "--model", str(model), "--seeds", "0-7", "--grid", str(grid)], env)
    img = Image.open(grid).convert("RGB")
    lo, hi = zip(*img.getextrema())
    print(f"    grid {img.size[0]}x{img.size[1]} px, value range {min(lo)}..{max(hi)}", flush=True)
    if max(hi) - min(lo) < 20:
        raise SystemExit("FAILED: the rendered grid is flat")


def start_xvfb(tmp: Path) -> tuple[subprocess.Popen, str]:
    read_fd, write_fd = os.pipe()
    log = open(tmp / "xvfb.log", "wb")
    proc = subprocess.Popen([shutil.which("Xvfb"), "-displayfd", str(write_fd), "-screen", "0", "1280x840x24",
                             "-nolisten", "tcp"], pass_fds=(write_fd,), stdout=log, stderr=subprocess.STDOUT)
    os.close(write_fd)
    ready, _, _ = select.select([read_fd], [], [], 20)
    number = os.read(read_fd, 32).decode().strip() if ready else ""
    # read_fd stays open while Xvfb runs: it may still write the rest of its line, and a
    # closed pipe makes it exit ("Cannot write display number")
    if not number:
        proc.terminate()
        raise SystemExit("FAILED: Xvfb did not start")
    return proc, f":{number}", read_fd


def colours(img) -> int:
    found = img.convert("RGB").getcolors(maxcolors=1 << 24)
    return len(found) if found else 0


def wait_rendered(app: subprocess.Popen, display: str | None, log: Path, t0: float):
    """Xvfb: poll screen grabs until motifs show, then until the page stops changing (every
    visible motif rendered). Returns (last grab, seconds to first motifs, seconds to a full
    page). Offscreen: just stay alive a while, returns Nones."""
    from PIL import ImageChops, ImageGrab

    deadline = t0 + (START_TIMEOUT if display else OFFSCREEN_RUN)
    shot = first = page = None
    stable_since = None
    while time.monotonic() < deadline:
        if app.poll() is not None:
            raise SystemExit(f"FAILED: the app exited with {app.returncode}\n{log.read_text(errors='replace')[-3000:]}")
        if display:
            now, grab = time.monotonic(), ImageGrab.grab(xdisplay=display)
            if first is None and colours(grab) >= MIN_COLOURS:
                first = now - t0
            if first is not None and shot is not None and ImageChops.difference(grab, shot).getbbox() is None:
                stable_since = stable_since or now
                if now - stable_since >= STABLE_FOR:
                    return grab, first, stable_since - t0
            else:
                stable_since = None
            shot = grab
        time.sleep(0.25)
    if display:
        raise SystemExit(f"FAILED: no fully rendered page after {START_TIMEOUT:.0f} s "
                         f"({colours(shot) if shot else 0} colours)\n{log.read_text(errors='replace')[-3000:]}")
    return None, None, None


def check_app(exe: str, model: Path, is_default: bool, env: dict, tmp: Path, offscreen: bool,
              shot_path: Path | None) -> None:
    xvfb = None
    env = dict(env)
    if not offscreen and shutil.which("Xvfb"):
        xvfb, display, xvfb_fd = start_xvfb(tmp)
        env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")
    else:
        display = None
        env["QT_QPA_PLATFORM"] = "offscreen"
    # the bundled default opens with no argument, as from the desktop menu
    cmd = [exe] if is_default else [exe, "gui", str(model)]
    log = tmp / "app.log"
    try:
        with open(log, "wb") as fh:
            t0 = time.monotonic()
            app = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT)
            try:
                shot, first, page = wait_rendered(app, display, log, t0)
                if shot is not None:
                    print(f"    start-up: first motifs after {first:.1f} s, the whole visible grid after {page:.1f} s "
                          f"({colours(shot)} colours on screen)")
                    if shot_path is not None:
                        shot.save(shot_path)
                        print(f"    screenshot: {shot_path}")
                else:
                    print(f"    offscreen: ran {OFFSCREEN_RUN:.0f} s without exiting (rendering not visible)")
                app.send_signal(signal.SIGTERM)
                code = app.wait(30)
            finally:
                if app.poll() is None:
                    app.kill()
                    app.wait()
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)
            os.close(xvfb_fd)
    text = log.read_text(errors="replace")
    if code != 0 or "Traceback" in text:
        raise SystemExit(f"FAILED: the app exited with {code} after SIGTERM\n{text[-3000:]}")
    print("    SIGTERM: exit 0, no traceback", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("app", nargs="?", type=Path, default=ROOT / "build" / "dist" / "BatikStudio")
    parser.add_argument("--offscreen", action="store_true", help="use Qt's offscreen platform, not Xvfb")
    parser.add_argument("--shot", type=Path, default=None, help="save the Xvfb screenshot here")
    args = parser.parse_args(argv)
    exe = str(args.app / ("batikstudio.exe" if sys.platform == "win32" else "batikstudio"))
    if not Path(exe).is_file():
        print(f"no application at {exe}: run python packaging/build.py first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="batik-smoke-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "runtime").mkdir(mode=0o700)
        env = dict(os.environ, BATIKSTUDIO_HOME=str(tmp / "home"), XDG_CONFIG_HOME=str(tmp / "config"),
                   XDG_RUNTIME_DIR=str(tmp / "runtime"), BATIKSTUDIO_THREADS=os.environ.get("BATIKSTUDIO_THREADS", "1"))
        step("version and doctor")
        print("    " + run([exe, "--version"], env).stdout.strip())
        run([exe, "doctor"], env)
        model, is_default = find_model(exe, args.app, env, tmp)
        print(f"    model: {model.name}" + (" (bundled default)" if is_default else ""))
        step("command-line render of a grid")
        check_grid(exe, model, env, tmp)
        step("the app, headless")
        check_app(exe, model, is_default, env, tmp, args.offscreen, args.shot)
    print("SMOKE TEST PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
