"""Post-processing tab: clean, recolour and restyle the current motif, then send it to print.

Pipeline: base (the motif, or its style-transfer result when "use stylised" is on) -> artifact
filter (optional) -> dye layers (optional). Every control change submits the pipeline to a
newest-wins preview runner; the result is shown next to the original, with the palette
swatches and one wax mask per dye stage. "Send to print" emits ``processed(image,
provenance)``; the provenance is the render's plus one ``filters`` entry per applied step.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QListView,
    QListWidget, QListWidgetItem, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from batikstudio.app.widgets import control_column
from batikstudio.app.imageutil import to_pixmap
from batikstudio.app.job_bar import JobBar, SwatchStrip, model_name, show_error
from batikstudio.app.motif_view import ImageLabel
from batikstudio.app.post_jobs import (
    DyeFolderRequest, DyeSettings, PostRequest, dye_folder_job, post_process_job, post_provenance,
)
from batikstudio.app.print_jobs import as_rgb
from batikstudio.app.qtjobs import PreviewRunner
from batikstudio.app.style_box import StyleTransferBox
from batikstudio.errors import BatikError
from batikstudio.imaging.artifact import ArtifactFilterParams
from batikstudio.imaging.dyes import DyeSeparation
from batikstudio.imaging.palettes import palette_names

log = logging.getLogger(__name__)

WAX = np.array([60, 52, 40], dtype=np.uint8)  # wax drawn dark, as on the dye sheet
MASK_ICON = 120


def stage_image(sep: DyeSeparation, k: int) -> np.ndarray:
    """HxWx3 uint8 picture of stage ``k``: wax dark, the cloth taking bath ``k`` in its colour.

    >>> from batikstudio.imaging.dyes import reduce_palette
    >>> img = np.zeros((2, 2, 3), np.uint8); img[0] = 250
    >>> stage_image(reduce_palette(img, n_colors=2), 1)[0, 0].tolist()
    [60, 52, 40]
    """
    out = np.empty(sep.labels.shape + (3,), dtype=np.uint8)
    wax = sep.labels < k
    out[wax] = WAX
    out[~wax] = sep.colors[k]
    return out


class PostPanel(QWidget):
    """The Post-processing tab.

    Signals:
        processed(object, object): "Send to print": HxWx3 uint8 image and provenance dict.
        previewUpdated(object): a new :class:`~batikstudio.app.post_jobs.PostResult` is shown.
        exported(object): the list of files a dye-folder export wrote.
    """

    processed = Signal(object, object)
    previewUpdated = Signal(object)
    exported = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._source: np.ndarray | None = None
        self._source_prov: dict = {}
        self._stylised: np.ndarray | None = None
        self._style_record: dict | None = None
        self.last_result: Any = None
        self._last_request: PostRequest | None = None
        self.before = ImageLabel(self)
        self.after = ImageLabel(self)
        self.after.setObjectName("postPreview")
        for label in (self.before, self.after):
            label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.after.setText("Open a model and pick a motif to clean or recolour it.")
        self.info = QLabel("", self)
        self.info.setWordWrap(True)
        self.swatches = SwatchStrip(self)
        self.masks = QListWidget(self)
        self.masks.setViewMode(QListView.ViewMode.IconMode)
        self.masks.setFlow(QListView.Flow.LeftToRight)
        self.masks.setWrapping(False)
        self.masks.setIconSize(QSize(MASK_ICON, MASK_ICON))
        self.masks.setFixedHeight(MASK_ICON + 44)
        self.masks.setToolTip("Wax (dark) goes on before each bath, lightest dye first")
        self.dye_caption = QLabel("Dye stages: wax (dark) before each bath, the rest takes that dye")
        self._build_left()
        panel, self.form = control_column(self, 360)
        self._build_controls()
        self._outer.addWidget(panel)
        self.runner = PreviewRunner(post_process_job, self)
        self.runner.ready.connect(self._on_result)
        self._show_dyes(None)

    def _build_left(self) -> None:
        self.views = QWidget(self)
        views = QHBoxLayout(self.views)
        views.setContentsMargins(0, 0, 0, 0)
        for caption, label in (("Original", self.before), ("Processed", self.after)):
            col = QVBoxLayout()
            col.addWidget(QLabel(caption))
            col.addWidget(label, 1)
            views.addLayout(col, 1)
        left = QVBoxLayout()
        left.addWidget(self.views, 1)
        left.addWidget(self.info)
        left.addWidget(self.swatches)
        left.addWidget(self.dye_caption)
        left.addWidget(self.masks)
        left.addStretch(0)
        self._outer = QHBoxLayout(self)
        self._outer.addLayout(left, 1)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        # two square views side by side: taller than half the width would only add blank space
        self.views.setMaximumHeight(self.views.width() // 2 + 30)
        super().resizeEvent(event)

    # -- controls --------------------------------------------------------------------------

    def _build_controls(self) -> None:
        self.style = StyleTransferBox(self)
        self.style.partial.connect(self._on_style_partial)
        self.style.stylised.connect(self._on_stylised)
        self.use_stylised = QCheckBox("Use the stylised image")
        self.use_stylised.setEnabled(False)
        self.use_stylised.toggled.connect(self._refresh)
        self.style.layout().addRow(self.use_stylised)
        self.form.addWidget(self.style)
        self._build_artifact()
        self._build_dyes()
        box = QGroupBox("Output")
        col = QVBoxLayout(box)
        self.send_button = QPushButton("Send to print")
        self.send_button.setToolTip("Make the processed image the Print tab's source")
        self.send_button.clicked.connect(self.send_to_print)
        self.export_button = QPushButton("Export dye sheet and masks…")
        self.export_button.clicked.connect(self._on_export_clicked)
        self.jobs = JobBar(self)
        self.jobs.finished.connect(self._on_exported)
        self.jobs.failed.connect(self._on_export_failed)
        col.addWidget(self.send_button)
        col.addWidget(self.export_button)
        col.addWidget(self.jobs)
        self.form.addWidget(box)
        self.form.addStretch(1)

    def _build_artifact(self) -> None:
        self.artifact_box = QGroupBox("Artifact filter")
        self.artifact_box.setCheckable(True)
        self.artifact_box.setChecked(False)
        self.artifact_box.toggled.connect(self._refresh)
        form = QFormLayout(self.artifact_box)
        defaults = ArtifactFilterParams()
        self.white = QSpinBox()
        self.white.setRange(0, 255)
        self.white.setValue(defaults.white_threshold)
        self.white.setToolTip("Pixels at least this light become paper white (255 = off)")
        self.speck = QSpinBox()
        self.speck.setRange(0, 5000)
        self.speck.setValue(defaults.speck_area)
        self.speck.setSuffix(" px")
        self.speck.setToolTip("Dark specks of at most this many pixels are erased (0 = off)")
        self.binarise = QCheckBox("Binarise (pure black and white)")
        for w in (self.white, self.speck):
            w.valueChanged.connect(self._refresh)
        self.binarise.toggled.connect(self._refresh)
        form.addRow("White threshold", self.white)
        form.addRow("Speck area", self.speck)
        form.addRow(self.binarise)
        self.form.addWidget(self.artifact_box)

    def _build_dyes(self) -> None:
        self.dye_box = QGroupBox("Dye layers")
        self.dye_box.setCheckable(True)
        self.dye_box.setChecked(False)
        self.dye_box.toggled.connect(self._refresh)
        form = QFormLayout(self.dye_box)
        self.palette = QComboBox()
        self.palette.addItem("Find colours (k-means)", None)
        for name in palette_names():
            self.palette.addItem(f"Palette: {name.replace('_', ' ')}", name)
        self.n_colors = QSpinBox()
        self.n_colors.setRange(2, 8)
        self.n_colors.setValue(4)
        self.min_region = QSpinBox()
        self.min_region.setRange(0, 100000)
        self.min_region.setSuffix(" px")
        self.min_region.setToolTip("Merge single-colour regions smaller than this (0 = off)")
        self.palette.currentIndexChanged.connect(self._refresh)
        self.n_colors.valueChanged.connect(self._refresh)
        self.min_region.valueChanged.connect(self._refresh)
        form.addRow("Colours", self.palette)
        form.addRow("Number of dyes", self.n_colors)
        form.addRow("Min region", self.min_region)
        self.form.addWidget(self.dye_box)

    # -- settings --------------------------------------------------------------------------

    def artifact_params(self) -> ArtifactFilterParams | None:
        if not self.artifact_box.isChecked():
            return None
        return ArtifactFilterParams(self.white.value(), self.speck.value(), self.binarise.isChecked())

    def dye_settings(self) -> DyeSettings | None:
        if not self.dye_box.isChecked():
            return None
        return DyeSettings(self.n_colors.value(), self.palette.currentData(), self.min_region.value())

    def _base(self) -> np.ndarray | None:
        if self.use_stylised.isChecked() and self._stylised is not None:
            return self._stylised
        return self._source

    # -- source, preview -------------------------------------------------------------------

    @Slot(object)
    def set_source(self, result: Any) -> None:
        """Take the latest full render (a RenderResult: ``images[0]`` HxWxC uint8).

        A different motif drops the style-transfer result (and cancels a running one): it was
        made from the old motif. The same pixels again (a re-render) keep it.
        """
        image = as_rgb(result.images[0])
        if self._source is not None and not np.array_equal(image, self._source):
            self._drop_stylised()
        self._source = image
        self._source_prov = dict(result.provenance(0, model_name(self)))
        self.style.content = self._source
        self.style.device = str(getattr(getattr(self.window(), "session", None), "device", "cpu"))
        self.before.set_image(to_pixmap(self._source))
        self._refresh()

    @Slot()
    def _refresh(self) -> None:
        self.n_colors.setEnabled(self.palette.currentData() is None)
        base = self._base()
        if base is None:
            return
        self.runner.submit(PostRequest(base, self.artifact_params(), self.dye_settings()))

    @Slot(object)
    def _on_result(self, outcome: Any) -> None:
        if outcome.error is not None:
            self.info.setText(f"Preview failed: {outcome.error}")
            return
        result = outcome.result
        self.last_result, self._last_request = result, outcome.request
        self.after.set_image(to_pixmap(result.image))
        steps = [f["name"] for f in self.provenance()["filters"][len(self._source_prov.get("filters", [])):]]
        self.info.setText("Processed: " + (", ".join(steps) if steps else "nothing applied yet")
                          + f" · {result.image.shape[1]} × {result.image.shape[0]} px")
        self._show_dyes(result.separation)
        self.previewUpdated.emit(result)

    def _show_dyes(self, sep: DyeSeparation | None) -> None:
        self.masks.clear()
        for w in (self.swatches, self.masks, self.dye_caption):
            w.setVisible(sep is not None)
        if sep is None:
            return
        self.swatches.set_colors(sep.colors, [f"{100 * c:.0f}%" for c in sep.coverage()])
        for k in range(sep.n_colors):
            pix = to_pixmap(stage_image(sep, k)).scaled(
                MASK_ICON, MASK_ICON, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
            wax = "no wax" if k == 0 else ("wax on 0" if k == 1 else f"wax on 0–{k - 1}")
            item = QListWidgetItem(QIcon(pix), f"{k}: {wax}")
            item.setToolTip(f"Stage {k}: {wax}, then the bath dyes the rest #{bytes(sep.colors[k]).hex().upper()}")
            self.masks.addItem(item)

    def _drop_stylised(self) -> None:
        if self.style.jobs.running or self._stylised is not None:
            self.style.cancel()
            self.style.jobs.set_status("The motif changed: run style transfer again.")
        self._stylised, self._style_record = None, None
        self.use_stylised.blockSignals(True)
        self.use_stylised.setChecked(False)
        self.use_stylised.blockSignals(False)
        self.use_stylised.setEnabled(False)

    @Slot(object)
    def _on_style_partial(self, image: Any) -> None:
        self.after.set_image(to_pixmap(image))

    @Slot(object, object)
    def _on_stylised(self, image: Any, record: Any) -> None:
        self._stylised, self._style_record = image, dict(record)
        self.use_stylised.setEnabled(True)
        if self.use_stylised.isChecked():
            self._refresh()
        else:
            self.use_stylised.setChecked(True)  # triggers the refresh

    # -- output ----------------------------------------------------------------------------

    def provenance(self) -> dict[str, Any]:
        """Provenance of the image on screen: the render's plus the applied steps."""
        req = self._last_request
        styled = req is not None and self._stylised is not None and req.image is self._stylised
        return post_provenance(self._source_prov, self._style_record if styled else None,
                               req.artifact if req else None, req.dyes if req else None,
                               self.last_result.separation if self.last_result is not None else None)

    @Slot()
    def send_to_print(self) -> bool:
        """Emit ``processed`` with the image on screen; False (with a message) when there is none."""
        if self.last_result is None:
            show_error(self, "Nothing processed yet: open a model and pick a motif first.")
            return False
        self.processed.emit(self.last_result.image.copy(), self.provenance())
        self.jobs.set_status("Sent to the Print tab.")
        return True

    @Slot()
    def _on_export_clicked(self) -> None:
        self.export_dyes()

    def export_dyes(self, folder: str | Path | None = None) -> bool:
        """Write the dye sheet, masks, recoloured image and palette.json into ``folder``."""
        sep = self.last_result.separation if self.last_result is not None else None
        if sep is None:
            show_error(self, "Turn on 'Dye layers' first: there is no dye separation to export.")
            return False
        folder = folder or QFileDialog.getExistingDirectory(self, "Folder for the dye sheet and masks")
        if not folder:
            return False
        request = DyeFolderRequest(Path(folder), sep, self.provenance())
        self.jobs.start(dye_folder_job, request, f"Writing dye layers to {Path(folder).name}…")
        return True

    @Slot(object)
    def _on_exported(self, paths: Any) -> None:
        self.jobs.set_status(f"Saved {len(paths)} files to {Path(paths[0]).parent}")
        self.exported.emit(paths)

    @Slot(object)
    def _on_export_failed(self, exc: Any) -> None:
        show_error(self, str(exc) if isinstance(exc, BatikError) else f"Export failed: {exc}")

    def shutdown(self) -> bool:
        """Stop the preview thread, style transfer and exports; True when all ended."""
        ok = self.style.shutdown()
        ok = self.jobs.shutdown() and ok
        return self.runner.shutdown() and ok
