"""``batikstudio gui [MODEL]`` (also what plain ``batikstudio`` runs): open the explorer."""

from __future__ import annotations

import argparse
from pathlib import Path

from batikstudio.errors import BatikError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the Batik Studio app (the default command)")
    p.add_argument("model", nargs="?", type=Path, default=None,
                   help="model file to open (default: the bundled default model)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:N or auto (default: settings)")
    p.set_defaults(func=run)


def gui_import_message(exc: ImportError) -> str:
    """One line for an ImportError raised while loading the app.

    A missing Python package asks for the ``gui`` extra; a Qt module whose *system* library is
    missing (``libGL.so.1: cannot open shared object file``, common on minimal Linux systems and
    in the packaged application) names that library instead, since pip cannot install it.
    """
    text = str(exc)
    if "cannot open shared object file" in text or "shared object" in text:
        lib = text.split(":", 1)[0].strip()
        return (f"the app cannot load a system library: {lib} is missing; install your system's "
                "Qt/X11 libraries (Debian/Ubuntu: see 'Install' in the user guide, e.g. libgl1 libegl1 "
                "libxkbcommon-x11-0 libxcb-cursor0)")
    return f"the app needs the GUI packages ({exc.name or exc}): pip install 'batikstudio[gui]'"


def run(args: argparse.Namespace) -> int:
    try:
        from batikstudio.app.main import run_app
    except ImportError as exc:
        raise BatikError(gui_import_message(exc)) from exc
    return run_app(model=args.model, device=args.device)
