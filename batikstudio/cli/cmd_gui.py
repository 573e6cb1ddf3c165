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


def run(args: argparse.Namespace) -> int:
    try:
        from batikstudio.app.main import run_app
    except ImportError as exc:
        raise BatikError(
            f"the app needs the GUI packages ({exc.name or exc}): pip install 'batikstudio[gui]'"
        ) from exc
    return run_app(model=args.model, device=args.device)
