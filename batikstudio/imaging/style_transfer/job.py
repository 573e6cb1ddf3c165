"""The style-transfer job: ``stylize(StyleTransferRequest, ctx) -> HWC uint8``.

Methods:

* ``"gatys"``: optimisation (:mod:`.gatys`) on VGG features. Weights: the bundled VGG16 trunk
  by default, or the user's torchvision VGG19 file (``weights``). Reports progress per step,
  hands partial previews over, and stops at the next step when cancelled.
* ``"fast"``: Magenta's arbitrary-style network via onnxruntime (:mod:`.fast`), one pass.

Colour (``colour``): ``"none"``, ``"luminance"`` (keep the content's chroma exactly),
``"histogram"`` (recolour the style to the content's colour statistics first) or ``"style"``
(give the result the style image's colour statistics afterwards: the cloth's palette; it
corrects the pastel colours the bundled VGG16 trunk tends to produce).
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from batikstudio.errors import ImageError
from batikstudio.imaging.style_transfer import colour as colour_ops
from batikstudio.imaging.style_transfer.features import (
    VGGFeatures,
    default_models_dir,
    load_bundled_vgg16,
    load_torchvision_vgg,
    needed_layers,
)
from batikstudio.imaging.style_transfer.gatys import (
    GatysConfig,
    fit_size,
    gatys_transfer,
    image_to_tensor,
    resize_tensor,
    tensor_to_image,
)
from batikstudio.jobs import JobContext
from batikstudio.runtime import resolve_device

log = logging.getLogger(__name__)

METHODS = ("gatys", "fast")


@dataclass(frozen=True, eq=False)
class StyleTransferRequest:
    """What to stylise and how.

    Attributes:
        content: HxWx3 uint8 RGB content image (a motif, a photo).
        style: HxWx3 uint8 RGB style image (e.g. a photo of a real cloth).
        method: ``"gatys"`` or ``"fast"``.
        size: longest side of the result in pixels (aspect ratio of ``content`` kept).
        colour: ``"none"``, ``"luminance"``, ``"histogram"`` or ``"style"`` (module docstring).
        weights: path of a torchvision VGG19 state dict (``vgg19-dcbb9e9d.pth``) for ``gatys``;
            ``None`` uses the bundled VGG16 trunk.
        gatys: optimisation options for ``gatys``.
        strength: ``fast`` only: 0 keeps the content's own style, 1 is the full style.
        device: torch device name for ``gatys`` (``"auto"``, ``"cpu"``, ``"cuda"``...).
        models_dir: folder of bundled weights; ``None`` is the repository's ``models/``.
    """

    content: np.ndarray
    style: np.ndarray
    method: str = "gatys"
    size: int = 256
    colour: str = "none"
    weights: str | None = None
    gatys: GatysConfig = field(default_factory=GatysConfig)
    strength: float = 1.0
    device: str = "auto"
    models_dir: str | None = None

    def __post_init__(self) -> None:
        for what, image in (("content", self.content), ("style", self.style)):
            if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 \
                    or image.shape[2] != 3:
                got = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
                raise ImageError(f"{what} must be an HxWx3 uint8 RGB image, got {got}")
            if min(image.shape[:2]) < 16:
                raise ImageError(f"{what} image is too small ({image.shape[1]}x{image.shape[0]}); need 16 px or more")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.colour not in colour_ops.COLOUR_MODES:
            raise ValueError(f"colour must be one of {colour_ops.COLOUR_MODES}, got {self.colour!r}")
        if not 16 <= self.size <= 4096:
            raise ValueError(f"size must be between 16 and 4096 px, got {self.size}")


def stylize(request: StyleTransferRequest, ctx: JobContext) -> np.ndarray:
    """Run style transfer; returns HxWx3 uint8 RGB whose longest side is ``request.size``.

    Raises:
        WeightsMissingError: weights file missing or with wrong tensor shapes (names the tensor).
        BatikError: ``fast`` without onnxruntime installed.
        Cancelled: if ``ctx`` is cancelled (Gatys checks before every optimiser step).

    >>> from batikstudio.jobs import InlineContext
    >>> img = np.full((32, 32, 3), 128, np.uint8)
    >>> request = StyleTransferRequest(img, img, size=16, gatys=GatysConfig(iterations=(1,)))
    >>> stylize(request, InlineContext()).shape
    (16, 16, 3)
    """
    out_hw = fit_size(request.content.shape[:2], request.size)
    content, style = request.content, request.style
    if request.colour == "luminance":
        style = colour_ops.luminance_as_rgb(style, match_to=content)
        content = colour_ops.luminance_as_rgb(content)
    elif request.colour == "histogram":
        style = colour_ops.match_colour_statistics(style, content)
    ctx.check()
    if request.method == "fast":
        result = _run_fast(request, content, style, out_hw, ctx)
        ctx.progress(1.0, 1.0)
    else:
        result = _run_gatys(request, content, style, out_hw, ctx)
    if request.colour == "luminance":
        reference = _resize_uint8(request.content, out_hw)
        result = colour_ops.join_luminance(result, reference)
    elif request.colour == "style":
        result = colour_ops.match_colour_statistics(result, request.style)
    return result


def _resize_uint8(image: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    return tensor_to_image(resize_tensor(image_to_tensor(image), hw))


def _run_fast(request: StyleTransferRequest, content: np.ndarray, style: np.ndarray,
              out_hw: tuple[int, int], ctx: JobContext) -> np.ndarray:
    from batikstudio.imaging.style_transfer.fast import cached_stylizer

    ctx.status("fast style transfer (Magenta arbitrary-style network)")
    folder = str(request.models_dir or default_models_dir())
    stylizer = cached_stylizer(folder, torch.get_num_threads())
    return stylizer.stylize(content, style, out_hw, strength=request.strength)


def _run_gatys(request: StyleTransferRequest, content: np.ndarray, style: np.ndarray,
               out_hw: tuple[int, int], ctx: JobContext) -> np.ndarray:
    device = resolve_device(request.device)
    net = load_features(request.weights, request.models_dir, request.gatys, str(device))
    c = resize_tensor(image_to_tensor(content, device), out_hw)
    s = image_to_tensor(style, device)
    x = gatys_transfer(net, c, s, request.gatys, ctx)
    return tensor_to_image(x)


def load_features(weights: str | os.PathLike[str] | None, models_dir: str | None,
                  config: GatysConfig, device: str = "cpu") -> VGGFeatures:
    """The feature network for ``config``: user VGG19 file when ``weights`` is set, else bundled.

    Raises:
        WeightsMissingError: as :func:`load_torchvision_vgg` / :func:`load_bundled_vgg16`.
    """
    arch = "vgg19" if weights is not None else "vgg16"
    last = needed_layers(config.content_layers, config.style_layers, arch)
    stamp = None
    if weights is not None:
        path = Path(weights)
        stamp = path.stat().st_mtime_ns if path.is_file() else None
        weights = str(path.resolve()) if path.exists() else str(path)
    return _cached_features(weights, stamp, models_dir, last, device)


@functools.lru_cache(maxsize=2)
def _cached_features(weights: str | None, stamp: int | None, models_dir: str | None, last: str,
                     device: str) -> VGGFeatures:
    # stamp (file mtime) is part of the key so a replaced weights file is read again
    if weights is not None:
        net = load_torchvision_vgg(weights, "vgg19", last)
    else:
        net = load_bundled_vgg16(models_dir, last)
    log.debug("feature network %s up to %s (file stamp %s)", weights or "bundled", last, stamp)
    return net.to(torch.device(device)).eval()
