"""Where Batik Studio keeps user files (no Qt: the app may override these from QSettings).

``BATIKSTUDIO_HOME`` moves everything under one folder (tests, portable installs); otherwise
XDG locations on Linux, ``%LOCALAPPDATA%`` on Windows, ``~/Library`` on macOS.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HOME_ENV = "BATIKSTUDIO_HOME"


def _project_root(source: Path | None = None, prefixes: tuple[str, ...] | None = None) -> Path:
    """Folder holding ``models/`` and ``resources/``: in a PyInstaller bundle (``sys.frozen``)
    the bundle's data folder ``sys._MEIPASS``; in a source checkout or an editable install the
    repository root; after a regular ``pip install`` the ``share/batikstudio`` folder of the
    environment, where pyproject.toml's data-files put them."""
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        return Path(bundle).resolve()
    source = source or Path(__file__).resolve().parents[1]
    if (source / "models").is_dir() or (source / "resources").is_dir():
        return source
    for prefix in prefixes or (sys.prefix, sys.base_prefix):
        shared = Path(prefix) / "share" / "batikstudio"
        if shared.is_dir():
            return shared
    return source


PROJECT_ROOT = _project_root()
BUNDLED_MODELS = PROJECT_ROOT / "models"


def _base(kind: str) -> Path:
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home) / kind
    if sys.platform == "win32":
        root = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return root / "BatikStudio" / kind
    if sys.platform == "darwin":
        lib = Path.home() / "Library"
        return (lib / "Caches" / "BatikStudio") if kind == "cache" else (lib / "Application Support" / "BatikStudio" / kind)
    xdg = {"cache": ("XDG_CACHE_HOME", ".cache"), "data": ("XDG_DATA_HOME", ".local/share")}[kind]
    return Path(os.environ.get(xdg[0], Path.home() / xdg[1])) / "batikstudio"


def cache_dir() -> Path:
    """Folder for derived data that can be recomputed (latent directions, thumbnails)."""
    return _base("cache")


def data_dir() -> Path:
    """Folder for the user's own data (models, favourites, collections, runs)."""
    return _base("data")


def user_models_dir() -> Path:
    """Folder the model library scans for the user's models."""
    return data_dir() / "models"
