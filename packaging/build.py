"""Build the one-folder Batik Studio application with PyInstaller and print its size.

Usage (from the repository root, in the environment whose torch you want to ship)::

    pip install -e ".[gui,style,packaging]"
    python packaging/build.py            # -> build/dist/BatikStudio/ and, beside it,
                                         #    BatikStudio-linux-x86_64.tar.gz (what users download)
    python packaging/build.py --mp4      # also bundle ffmpeg for MP4 animations (~170 MB more)

The torch in that environment decides the flavour: a CPU torch gives the CPU build (the
default), a CUDA torch the CUDA build; the recipe is the same (packaging/README.md).
On Linux the desktop integration (``install.sh``, .desktop, metainfo, icons) is copied beside
the executable.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "batikstudio.spec"
APP_NAME = "BatikStudio"


def folder_size(path: Path) -> tuple[int, int]:
    """(bytes, files) under ``path``, not following symbolic links."""
    total = count = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            p = Path(dirpath) / name
            if not p.is_symlink():
                total += p.stat().st_size
                count += 1
    return total, count


def largest_parts(app: Path, n: int = 8) -> list[tuple[int, str]]:
    """The ``n`` biggest entries of the bundle's data folder (``_internal``), biggest first."""
    inner = app / "_internal" if (app / "_internal").is_dir() else app
    parts = []
    for entry in inner.iterdir():
        size = folder_size(entry)[0] if entry.is_dir() else (0 if entry.is_symlink() else entry.stat().st_size)
        parts.append((size, entry.name))
    return sorted(parts, reverse=True)[:n]


def torch_build() -> str:
    import torch

    return f"torch {torch.__version__} ({'CUDA ' + torch.version.cuda if torch.version.cuda else 'CPU only'})"


def add_linux_integration(app: Path) -> None:
    """Copy install.sh, the .desktop file, the metainfo and the icons into the application."""
    share = app / "share"
    share.mkdir(exist_ok=True)
    for src in (ROOT / "resources" / "linux").iterdir():
        shutil.copy2(src, share / src.name)
    icons = share / "icons"
    icons.mkdir(exist_ok=True)
    for src in (ROOT / "resources" / "icons").glob("batikstudio*.*"):
        if src.suffix in (".png", ".svg"):
            shutil.copy2(src, icons / src.name)
    shutil.copy2(ROOT / "packaging" / "install-linux.sh", app / "install.sh")
    (app / "install.sh").chmod(0o755)


def strip_torch_libraries(app: Path) -> int:
    """Linux: drop the static symbol tables of torch's shared libraries (~85 MB; the dynamic
    symbols stay, so they load and run the same). Returns the bytes saved (0 without ``strip``)."""
    strip = shutil.which("strip")
    lib = app / "_internal" / "torch" / "lib"
    if strip is None or not lib.is_dir():
        return 0
    saved = 0
    for so in sorted(lib.glob("*.so*")):
        if so.is_symlink():
            continue
        before = so.stat().st_size
        subprocess.run([strip, "--strip-unneeded", str(so)], check=True)
        saved += before - so.stat().st_size
    return saved


def make_readable(app: Path) -> int:
    """Give everyone read access (files written atomically, such as bundled models, can be
    mode 0600, which would break an install shared by several users). Returns files changed."""
    changed = 0
    for dirpath, _dirs, files in os.walk(app):
        for p in [Path(dirpath)] + [Path(dirpath) / f for f in files]:
            if p.is_symlink():
                continue
            mode = p.stat().st_mode
            want = mode | 0o444 | (0o111 if p.is_dir() else 0)
            if want != mode:
                p.chmod(want)
                changed += 1
    return changed


def archive_name(cuda: bool, system: str | None = None, machine: str | None = None) -> str:
    """The name users download: ``BatikStudio-linux-x86_64.tar.gz`` (``-cuda`` before the
    extension for a CUDA build; ``.zip`` on Windows and macOS).

    >>> archive_name(False, "Linux", "x86_64"), archive_name(True, "Linux", "x86_64")
    ('BatikStudio-linux-x86_64.tar.gz', 'BatikStudio-linux-x86_64-cuda.tar.gz')
    """
    system = (system or platform.system()).lower()
    machine = (machine or platform.machine()).lower().replace("amd64", "x86_64")
    ext = ".tar.gz" if system == "linux" else ".zip"
    return f"{APP_NAME}-{system}-{machine}{'-cuda' if cuda else ''}{ext}"


def make_archive(app: Path, dest: Path) -> Path:
    """Pack the folder ``app`` (kept as the top folder, symbolic links kept) into ``dest``
    (``.tar.gz`` or ``.zip``), written beside it under a temporary name and renamed at the end."""
    tmp = dest.with_name(dest.name + ".part")
    if dest.name.endswith(".tar.gz"):
        tar = shutil.which("tar")
        if tar is not None:  # much faster than tarfile for ~900 MB
            subprocess.run([tar, "-C", str(app.parent), "-czf", str(tmp), app.name], check=True)
        else:
            import tarfile

            with tarfile.open(tmp, "w:gz") as tf:
                tf.add(app, arcname=app.name)
    else:
        base = shutil.make_archive(str(tmp.with_suffix("")), "zip", app.parent, app.name)
        Path(base).replace(tmp)
    tmp.replace(dest)
    return dest


def run_pyinstaller(dist: Path, work: Path, mp4: bool) -> None:
    env = dict(os.environ, BATIKSTUDIO_BUILD_MP4="1" if mp4 else "0")
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
           "--distpath", str(dist), "--workpath", str(work), str(SPEC)]
    print("running:", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT, env=env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "build" / "dist", help="output folder")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller", help="scratch folder")
    parser.add_argument("--mp4", action="store_true", help="bundle ffmpeg (imageio-ffmpeg) for MP4 export")
    parser.add_argument("--no-archive", action="store_true",
                        help="do not pack the folder into BatikStudio-<system>-<machine>[-cuda].tar.gz/.zip")
    args = parser.parse_args(argv)

    if importlib.util.find_spec("PyInstaller") is None:
        print('PyInstaller is missing: pip install -e ".[packaging]"', file=sys.stderr)
        return 2
    if args.mp4 and importlib.util.find_spec("imageio_ffmpeg") is None:
        print('--mp4 needs imageio-ffmpeg: pip install -e ".[video]"', file=sys.stderr)
        return 2
    if not (ROOT / "resources" / "icons" / "batikstudio-256.png").is_file():
        subprocess.run([sys.executable, str(ROOT / "packaging" / "make_icons.py")], check=True)
    models = sorted(p.name for p in (ROOT / "models").iterdir() if p.is_file())
    print(f"building with {torch_build()}; bundled models: {', '.join(models) or 'none'}", flush=True)

    start = time.monotonic()
    run_pyinstaller(args.dist, args.work, args.mp4)
    app = args.dist / APP_NAME
    print(f"made {make_readable(app)} files readable by everyone")
    if sys.platform.startswith("linux"):
        print(f"stripped torch's libraries: {strip_torch_libraries(app) / 2**20:.0f} MiB less")
        add_linux_integration(app)
    size, files = folder_size(app)
    print(f"\nbuilt {app} in {time.monotonic() - start:.0f} s")
    print(f"size: {size / 2**20:.0f} MiB in {files} files")
    for part_size, name in largest_parts(app):
        print(f"  {part_size / 2**20:8.1f} MiB  {name}")
    if not args.no_archive:
        import torch

        archive = make_archive(app, args.dist / archive_name(torch.version.cuda is not None))
        print(f"archive: {archive} ({archive.stat().st_size / 2**20:.0f} MiB)")
    exe = app / ("batikstudio.exe" if sys.platform == "win32" else "batikstudio")
    print(f"run it: {exe}   (smoke test: python packaging/smoke_test.py {app})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
