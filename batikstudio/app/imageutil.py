"""numpy <-> Qt image conversion (copies, so Qt never points into numpy memory)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap


def to_qimage(img: np.ndarray) -> QImage:
    """HWC (or HW) uint8 with 1, 3 or 4 channels -> QImage (deep copy)."""
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    img = np.ascontiguousarray(img)
    h, w = img.shape[:2]
    if img.ndim == 2:
        fmt = QImage.Format.Format_Grayscale8
    elif img.shape[2] == 3:
        fmt = QImage.Format.Format_RGB888
    elif img.shape[2] == 4:
        fmt = QImage.Format.Format_RGBA8888
    else:
        raise ValueError(f"cannot show an image of shape {img.shape}")
    return QImage(img.data, w, h, img.strides[0], fmt).copy()


def to_pixmap(img: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(to_qimage(img))


def from_qimage(image: QImage) -> np.ndarray:
    """QImage -> HWC uint8 RGB (for screenshots and tests)."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    ptr = image.constBits()
    arr = np.frombuffer(ptr, np.uint8, count=image.bytesPerLine() * h).reshape(h, image.bytesPerLine())
    return arr[:, : w * 3].reshape(h, w, 3).copy()
