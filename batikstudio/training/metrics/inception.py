"""The FID Inception v3 network (pytorch-fid's port of TensorFlow's 2015-12-05 graph).

FID and KID are only comparable with published numbers when computed with this exact
network, whose weights cannot ship with Batik Studio. The user downloads pytorch-fid's file
``pt_inception-2015-12-05-6726825d.pth`` once and points to it (``--inception FILE``, the
``BATIKSTUDIO_INCEPTION`` environment variable, or ``<data dir>/weights/``). The module below
is our own, with the parameter names and shapes of torchvision's ``Inception3`` as patched by
pytorch-fid (``FIDInceptionA/C/E``: average pools that ignore padding, a max pool in the last
block), so its state dict loads with ``torch.load(weights_only=True)`` and a shape check.

Input: NCHW uint8 RGB 0..255; resized to 299 px (bilinear, no antialias, as pytorch-fid),
scaled to [-1, 1]; output: the 2048-d pool3 features.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from batikstudio.errors import WeightsMissingError
from batikstudio.paths import data_dir

log = logging.getLogger(__name__)

__all__ = ["FIDInception", "INCEPTION_FILE", "INCEPTION_ENV", "find_inception_weights", "load_fid_inception",
           "expected_inception_shapes"]

INCEPTION_FILE = "pt_inception-2015-12-05-6726825d.pth"
INCEPTION_SHA256_PREFIX = "6726825d"
INCEPTION_ENV = "BATIKSTUDIO_INCEPTION"
INCEPTION_SOURCE = "the 'fid_weights' release of github.com/mseitzer/pytorch-fid"
FEATURE_DIM = 2048
INPUT_SIZE = 299


class BasicConv2d(nn.Module):
    """Conv (no bias) + batch norm (eps 1e-3) + ReLU, named ``conv`` / ``bn`` as torchvision."""

    def __init__(self, cin: int, cout: int, kernel, stride=1, padding=0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg3(x: torch.Tensor) -> torch.Tensor:
    # TensorFlow's average pool leaves padded zeros out of the mean
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class InceptionA(nn.Module):
    def __init__(self, cin: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, 1)
        self.branch5x5_1 = BasicConv2d(cin, 48, 1)
        self.branch5x5_2 = BasicConv2d(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), b5, b3, self.branch_pool(_avg3(x))], 1)


class InceptionB(nn.Module):
    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), b3, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionC(nn.Module):
    def __init__(self, cin: int, c7: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 192, 1)
        self.branch7x7_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7_2 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for i in range(1, 6):
            d = getattr(self, f"branch7x7dbl_{i}")(d)
        return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(_avg3(x))], 1)


class InceptionD(nn.Module):
    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, 1)
        self.branch3x3_2 = BasicConv2d(192, 320, 3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, 1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([b3, b7, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionE(nn.Module):
    """``pool="avg"`` for Mixed_7b, ``"max"`` for Mixed_7c (a quirk of the FID graph)."""

    def __init__(self, cin: int, pool: str) -> None:
        super().__init__()
        self.pool = pool
        self.branch1x1 = BasicConv2d(cin, 320, 1)
        self.branch3x3_1 = BasicConv2d(cin, 384, 1)
        self.branch3x3_2a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, 1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        pooled = _avg3(x) if self.pool == "avg" else F.max_pool2d(x, 3, stride=1, padding=1)
        return torch.cat([self.branch1x1(x), b3, d, self.branch_pool(pooled)], 1)


class FIDInception(nn.Module):
    """Inception v3 up to pool3, with the FID graph's names (``Conv2d_1a_3x3`` ... ``Mixed_7c``).

    :meth:`forward` takes ``[N, 3, 299, 299]`` float in [-1, 1] and returns ``[N, 2048]``.
    The 1008-way classifier ``fc`` of the file is validated but not built.
    """

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, 3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, 1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, 3)
        self.Mixed_5b = InceptionA(192, 32)
        self.Mixed_5c = InceptionA(256, 64)
        self.Mixed_5d = InceptionA(288, 64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, 128)
        self.Mixed_6c = InceptionC(768, 160)
        self.Mixed_6d = InceptionC(768, 160)
        self.Mixed_6e = InceptionC(768, 192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280, "avg")
        self.Mixed_7c = InceptionE(2048, "max")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)
        x = F.max_pool2d(self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x)), 3, stride=2)
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{name}")(x)
        return x.mean(dim=(2, 3))


def expected_inception_shapes() -> dict[str, tuple[int, ...]]:
    """Name -> shape of every tensor the FID weights file must hold (plus ``fc``).

    ``num_batches_tracked`` counters are left out: files saved by older torch lack them.
    """
    shapes = {k: tuple(v.shape) for k, v in FIDInception().state_dict().items()
              if not k.endswith("num_batches_tracked")}
    shapes["fc.weight"] = (1008, FEATURE_DIM)
    shapes["fc.bias"] = (1008,)
    return shapes


def _missing_message(where: str) -> str:
    return (f"FID/KID need the Inception weights file {INCEPTION_FILE} (SHA-256 starting "
            f"{INCEPTION_SHA256_PREFIX}) from {INCEPTION_SOURCE}; {where}. Download it yourself and pass "
            f"--inception FILE, set {INCEPTION_ENV}=FILE, or put it in {data_dir() / 'weights'}. "
            "Without it, use the weight-free 'swd' or 'fd-effnet' metrics")


def find_inception_weights(path: str | os.PathLike[str] | None = None) -> Path:
    """Locate the FID Inception file: ``path``, then ``$BATIKSTUDIO_INCEPTION``, then
    ``<data dir>/weights/pt_inception-2015-12-05-6726825d.pth``.

    Raises:
        WeightsMissingError: saying which file is needed, where it comes from and where to put it.
    """
    if path is not None:
        p = Path(path)
        if p.is_dir():
            p = p / INCEPTION_FILE
        if not p.is_file():
            raise WeightsMissingError(_missing_message(f"{p} does not exist"))
        return p
    env = os.environ.get(INCEPTION_ENV, "").strip()
    if env:
        return find_inception_weights(env)
    default = data_dir() / "weights" / INCEPTION_FILE
    if default.is_file():
        return default
    raise WeightsMissingError(_missing_message("no file was given and none was found"))


def _check_state(state: object, name: str) -> dict[str, torch.Tensor]:
    if not isinstance(state, dict):
        raise WeightsMissingError(f"{name}: expected a state dict, found {type(state).__name__}")
    for key, shape in expected_inception_shapes().items():
        if key not in state:
            raise WeightsMissingError(f"{name}: tensor {key!r} is missing (expected shape {list(shape)}): "
                                      f"not pytorch-fid's {INCEPTION_FILE}")
        if tuple(state[key].shape) != shape:
            raise WeightsMissingError(f"{name}: tensor {key!r} has shape {list(state[key].shape)}, expected "
                                      f"{list(shape)}: not pytorch-fid's {INCEPTION_FILE}")
    return state  # type: ignore[return-value]


def load_fid_inception(path: str | os.PathLike[str] | None = None,
                       device: torch.device | str = "cpu") -> FIDInception:
    """Find (see :func:`find_inception_weights`), validate and load the FID Inception network.

    The file is read with ``torch.load(weights_only=True, map_location='cpu')``; every tensor
    is checked by name and shape. A file whose SHA-256 does not start with ``6726825d`` loads
    (it has the right shapes) with a logged warning: its FID is not comparable to published ones.

    Raises:
        WeightsMissingError: file missing, unreadable, or a tensor missing / of the wrong shape.
    """
    file = find_inception_weights(path)
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except (RuntimeError, OSError, ValueError, EOFError, pickle.UnpicklingError) as exc:
        raise WeightsMissingError(f"{file.name}: not a readable torch state dict ({exc})") from exc
    state = _check_state(state, file.name)
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    if not digest.startswith(INCEPTION_SHA256_PREFIX):
        log.warning("%s has the right tensor shapes but not the SHA-256 of pytorch-fid's %s: "
                    "its FID/KID will not match published values", file, INCEPTION_FILE)
    net = FIDInception()
    own = net.state_dict()
    net.load_state_dict({k: state.get(k, own[k]) for k in own})
    return net.eval().requires_grad_(False).to(device)
