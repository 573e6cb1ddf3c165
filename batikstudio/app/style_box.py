"""The style-transfer controls of the Post-processing tab.

The user picks a style image (e.g. a photo of a real cloth), a method (Gatys optimisation on
the bundled VGG16 trunk or a user VGG19 file; the fast Magenta network when onnxruntime is
installed), a size and a colour mode, and runs :func:`~batikstudio.imaging.style_transfer.stylize`
as a :class:`~batikstudio.app.job_bar.JobBar` job: progress, partial previews, Cancel. Errors
such as missing weights come back in the engine's plain words and go to the window's error
dialog.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSlider,
    QSpinBox, QWidget,
)

from batikstudio.app.imageutil import to_pixmap
from batikstudio.app.job_bar import JobBar, show_error
from batikstudio.app.post_jobs import read_rgb
from batikstudio.errors import BatikError
from batikstudio.imaging.style_transfer import GatysConfig, StyleTransferRequest, stylize

log = logging.getLogger(__name__)

COLOUR_MODES = (("Style's palette (recoloured)", "style"), ("As the network paints it", "none"),
                ("Keep motif colours (luminance)", "luminance"),
                ("Match motif colours (histogram)", "histogram"))


def fast_available() -> bool:
    """True when onnxruntime (needed by the fast method) is installed."""
    return importlib.util.find_spec("onnxruntime") is not None


class StyleTransferBox(QGroupBox):
    """Style transfer controls and job.

    Signals:
        partial(object): an HxWx3 uint8 intermediate result while Gatys runs.
        stylised(object, object): the result (HxWx3 uint8) and its settings record (dict).
    """

    partial = Signal(object)
    stylised = Signal(object, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Style transfer from a photo", parent)
        self.content: np.ndarray | None = None
        self.style_image: np.ndarray | None = None
        self.style_path: Path | None = None
        self.vgg_weights: str | None = None
        self.gatys_config = GatysConfig()
        self.device = "cpu"
        form = QFormLayout(self)
        self.style_button = QPushButton("Choose style image…")
        self.style_button.clicked.connect(self._on_choose_style)
        self.style_thumb = QLabel("no style image")
        self.style_thumb.setMinimumHeight(48)
        self.method = QComboBox()
        # fast first when it can run: cleaner results in under a second (docs/style-transfer.md)
        if fast_available():
            self.method.addItem("Fast (Magenta network, one pass)", "fast")
        self.method.addItem("Gatys (optimisation, bundled VGG16)", "gatys")
        self.method.currentIndexChanged.connect(self._on_method)
        self.size = QSpinBox()
        self.size.setRange(32, 1024)
        self.size.setSingleStep(32)
        self.size.setValue(256)
        self.size.setSuffix(" px")
        self.colour = QComboBox()
        for text, value in COLOUR_MODES:
            self.colour.addItem(text, value)
        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0, 100)
        self.strength.setValue(100)
        self.weights_button = QPushButton("VGG19 weights (optional)…")
        self.weights_button.setToolTip("torchvision's vgg19-dcbb9e9d.pth; without it the bundled "
                                       "VGG16 trunk is used")
        self.weights_button.clicked.connect(self._on_choose_weights)
        self.run_button = QPushButton("Run style transfer")
        self.run_button.clicked.connect(self._on_run_clicked)
        self.jobs = JobBar(self)
        self.jobs.partial.connect(self.partial)
        self.jobs.finished.connect(self._on_finished)
        self.jobs.failed.connect(self._on_failed)
        style_row = QHBoxLayout()
        style_row.addWidget(self.style_button)
        style_row.addWidget(self.style_thumb, 1)
        form.addRow(style_row)
        form.addRow("Method", self.method)
        form.addRow("Size", self.size)
        form.addRow("Colours", self.colour)
        form.addRow("Strength", self.strength)
        form.addRow(self.weights_button)
        form.addRow(self.run_button)
        form.addRow(self.jobs)
        self._on_method()

    @Slot()
    def _on_method(self) -> None:
        fast = self.method.currentData() == "fast"
        self.strength.setEnabled(fast)
        self.weights_button.setEnabled(not fast)

    @Slot()
    def _on_choose_style(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Style image", "",
                                              "Images (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp)")
        if path:
            self.set_style_file(path)

    @Slot()
    def _on_choose_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "VGG19 weights", "", "PyTorch weights (*.pth *.pt)")
        if path:
            self.set_vgg_weights(path)

    def set_vgg_weights(self, path: str | None) -> None:
        """Use a torchvision VGG19 file for Gatys (None: the bundled VGG16 trunk)."""
        self.vgg_weights = str(path) if path else None
        self.weights_button.setText(f"VGG19: {Path(path).name}" if path else "VGG19 weights (optional)…")

    def set_style_file(self, path: str | Path) -> bool:
        """Load the style image; shows the error dialog and returns False when it cannot."""
        try:
            image = read_rgb(path)
        except BatikError as exc:
            show_error(self, str(exc))
            return False
        self.style_image, self.style_path = image, Path(path)
        pix = to_pixmap(image).scaledToHeight(48, Qt.TransformationMode.SmoothTransformation)
        self.style_thumb.setPixmap(pix)
        self.style_thumb.setToolTip(str(path))
        return True

    def settings_record(self) -> dict[str, Any]:
        """The style settings as recorded in provenance."""
        method = self.method.currentData()
        record: dict[str, Any] = {
            "method": method, "style_file": self.style_path.name if self.style_path else None,
            "size": self.size.value(), "colour": self.colour.currentData(),
        }
        if method == "fast":
            record["strength"] = self.strength.value() / 100
        else:
            record["weights"] = Path(self.vgg_weights).name if self.vgg_weights else "bundled vgg16"
            record["iterations"] = list(self.gatys_config.iterations)
        return record

    @Slot()
    def _on_run_clicked(self) -> None:
        self.run()

    def run(self) -> bool:
        """Start style transfer of :attr:`content`; False (with a message) when it cannot."""
        if self.content is None:
            show_error(self, "Nothing to stylise yet: open a model and pick a motif first.")
            return False
        if self.style_image is None:
            show_error(self, "Choose a style image first (for example a photo of a batik cloth).")
            return False
        try:
            request = StyleTransferRequest(
                content=self.content, style=self.style_image, method=self.method.currentData(),
                size=self.size.value(), colour=self.colour.currentData(), weights=self.vgg_weights,
                gatys=self.gatys_config, strength=self.strength.value() / 100, device=self.device,
            )
        except (BatikError, ValueError) as exc:
            show_error(self, str(exc))
            return False
        self._record = self.settings_record()
        self.jobs.start(stylize, request, f"Style transfer ({request.method})…")
        return True

    def cancel(self) -> None:
        self.jobs.cancel()

    @Slot(object)
    def _on_finished(self, image: Any) -> None:
        self.stylised.emit(image, dict(self._record))

    @Slot(object)
    def _on_failed(self, exc: Any) -> None:
        show_error(self, str(exc) if isinstance(exc, BatikError) else f"Style transfer failed: {exc}")

    def shutdown(self) -> bool:
        return self.jobs.shutdown()
