"""Print tab: lay the current motif out as a repeat at a physical size and export it.

The source is the latest full render from the Motif tab, or the post-processed image that the
Post-processing tab sent over ("use post-processed"). Every layout / seamless / upscaling change
submits a 3 x 3 repeat preview to a newest-wins runner (computed off the GUI thread); size and
DPI changes only update the pixel-size readout, which refuses sizes over the pixel limit before
anything is allocated. Exports are :class:`~batikstudio.app.job_bar.JobBar` jobs with progress
and Cancel; :meth:`PrintPanel.export_print` and :meth:`PrintPanel.export_dye_layers` take a path
so tests (and scripts) can skip the file dialog.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
    QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from batikstudio.app.widgets import control_column
from batikstudio.app.imageutil import to_pixmap
from batikstudio.app.job_bar import JobBar, model_name, show_error
from batikstudio.app.motif_view import ImageLabel
from batikstudio.app.print_jobs import (
    DyeLayerExportRequest, PrintPreviewRequest, as_rgb, dye_layer_export_job, print_preview_job,
    seam_verdict,
)
from batikstudio.app.qtjobs import PreviewRunner
from batikstudio.errors import BatikError, ExportError
from batikstudio.imaging.export import (
    PrintExportRequest, VectorExportRequest, export_print, repeat_width, tile_pixel_size,
)
from batikstudio.imaging.printsize import (
    DEFAULT_MAX_PIXELS, FIT_WIDTH_PRESETS, PRESET_SIZES, UNIT_INCHES, PrintSpec, check_pixel_limit,
)
from batikstudio.imaging.repeat import TileLayout

log = logging.getLogger(__name__)

LAYOUTS = (("Block", TileLayout.BLOCK), ("Half-drop", TileLayout.HALF_DROP),
           ("Half-brick", TileLayout.HALF_BRICK), ("Mirror", TileLayout.MIRROR),
           ("Centre", TileLayout.CENTRE))
OFFSETS = (("1/2", 0.5), ("1/3", 1 / 3))
SEAMLESS = (("None (as rendered)", None), ("Make seamless: blend", "blend"),
            ("Make seamless: seam cut", "seam"))
PRESETS = (("Swatch 8 × 8 in", "swatch"), ("Fat quarter 21 × 18 in", "fat-quarter"),
           ("Wallpaper panel 24 × 36 in", "wallpaper-panel"), ("Batik cap 20 × 20 cm", "batik-cap"),
           ("Custom", None))
DPIS = (("150 (print-on-demand fabric)", 150), ("300 (mill, final size)", 300), ("Custom", None))
METHODS = (("Lanczos (smooth)", "lanczos"), ("Vector dye layers (crisp)", "vector"))
UNITS = ("cm", "mm", "in")


def _combo(items) -> QComboBox:
    box = QComboBox()
    for text, value in items:
        box.addItem(text, value)
    return box


def _spin(lo: float, hi: float, value: float, decimals: int = 2) -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setRange(lo, hi)
    s.setDecimals(decimals)
    s.setValue(value)
    return s


class PrintPanel(QWidget):
    """The Print tab.

    Signals:
        wrapRenderingToggled(bool): the user toggled "wrap rendering"; the main window passes
            it to the Motif tab's seamless-tile checkbox.
        previewUpdated(object): a new :class:`~batikstudio.app.print_jobs.PrintPreview` is shown.
        exported(object): an export finished; the written path (or list of paths).
    """

    wrapRenderingToggled = Signal(bool)
    previewUpdated = Signal(object)
    exported = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.max_pixels = DEFAULT_MAX_PIXELS
        self.last_preview: Any = None
        self._render: np.ndarray | None = None
        self._render_prov: dict = {}
        self._processed: np.ndarray | None = None
        self._processed_prov: dict = {}
        self._unit = "in"
        self.preview = ImageLabel(self)
        self.preview.setObjectName("printPreview")
        self.preview.setText("Open a model and pick a motif: its repeat shows here.")
        self.seam_label = QLabel("", self)
        self.size_label = QLabel("", self)
        self.refusal_label = QLabel("", self)
        self.refusal_label.setObjectName("refusal")
        self.refusal_label.setStyleSheet("color: #9E1B1B; font-weight: bold;")
        self.refusal_label.setWordWrap(True)
        self.refusal_label.setVisible(False)
        left = QVBoxLayout()
        left.addWidget(self.preview, 1)
        for label in (self.seam_label, self.size_label, self.refusal_label):
            label.setWordWrap(True)
            left.addWidget(label)
        left.addStretch(0)
        panel, self.form = control_column(self, 360)
        self._build_controls()
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addWidget(panel)
        self.runner = PreviewRunner(print_preview_job, self)
        self.runner.ready.connect(self._on_preview)
        self.jobs.finished.connect(self._on_export_done)
        self.jobs.failed.connect(self._on_export_failed)
        self._on_preset(self.preset.currentIndex())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        # the 3 x 3 preview is square: keep the readouts right under it, not at the bottom
        self.preview.setMaximumHeight(max(256, self.preview.width()))
        super().resizeEvent(event)

    # -- controls --------------------------------------------------------------------------

    def _build_controls(self) -> None:
        self._build_source()
        self._build_repeat()
        self._build_size()
        self._build_export()
        self.form.addStretch(1)

    def _build_source(self) -> None:
        box = QGroupBox("Source and seamless")
        form = QFormLayout(box)
        self.source_label = QLabel("no motif yet")
        self.source_label.setWordWrap(True)
        self.use_processed = QCheckBox("Use post-processed image")
        self.use_processed.setEnabled(False)
        self.use_processed.setToolTip("Send an image from the Post-processing tab to enable this")
        self.use_processed.toggled.connect(self._on_source_choice)
        self.wrap = QCheckBox("Wrap rendering (seamless generator)")
        self.wrap.setToolTip("Same switch as 'Seamless tile' in the Motif tab: the generator "
                             "renders with circular padding, so the motif tiles by itself")
        self.wrap.toggled.connect(self.wrapRenderingToggled)
        self.seamless = _combo(SEAMLESS)
        self.seamless.currentIndexChanged.connect(self._refresh)
        form.addRow("Source", self.source_label)
        form.addRow(self.use_processed)
        form.addRow(self.wrap)
        form.addRow("Seamless", self.seamless)
        self.form.addWidget(box)

    def _build_repeat(self) -> None:
        box = QGroupBox("Repeat")
        form = QFormLayout(box)
        self.layout_box = _combo(LAYOUTS)
        self.layout_box.setCurrentIndex(1)  # half-drop: the fabric default
        self.layout_box.currentIndexChanged.connect(self._refresh)
        self.offset = _combo(OFFSETS)
        self.offset.currentIndexChanged.connect(self._refresh)
        self.method = _combo(METHODS)
        self.method.currentIndexChanged.connect(self._refresh)
        self.n_colors = QSpinBox()
        self.n_colors.setRange(2, 8)
        self.n_colors.setValue(6)
        self.n_colors.setToolTip("Dyes for vector upscaling and for the SVG/PDF dye layers")
        self.n_colors.valueChanged.connect(self._refresh)
        form.addRow("Layout", self.layout_box)
        form.addRow("Offset", self.offset)
        form.addRow("Upscaling", self.method)
        form.addRow("Dye colours", self.n_colors)
        self.form.addWidget(box)

    def _build_size(self) -> None:
        box = QGroupBox("Print size")
        form = QFormLayout(box)
        self.preset = _combo(PRESETS)
        self.preset.currentIndexChanged.connect(self._on_preset)
        self.width_spin = _spin(0.1, 10000, 8)
        self.height_spin = _spin(0.1, 10000, 8)
        self.unit = QComboBox()
        self.unit.addItems(UNITS)
        self.unit.setCurrentText(self._unit)
        self.unit.currentTextChanged.connect(self._on_unit)
        self.dpi = _combo(DPIS)
        self.dpi.setCurrentIndex(1)
        self.dpi.currentIndexChanged.connect(self._on_dpi)
        self.dpi_custom = QSpinBox()
        self.dpi_custom.setRange(10, 2400)
        self.dpi_custom.setValue(300)
        self.dpi_custom.setSuffix(" DPI")
        self.dpi_custom.setVisible(False)
        self.dpi_custom.valueChanged.connect(self._update_info)
        self.repeat = _spin(0.0, 10000, 0.0)
        self.repeat.setSpecialValueText("auto (20 cm)")
        self.repeat.setToolTip("Width of one repeat on the cloth, in the print's unit")
        self.repeat.valueChanged.connect(self._update_info)
        for spin in (self.width_spin, self.height_spin):
            spin.valueChanged.connect(self._on_size_edit)
        size_row = QHBoxLayout()
        size_row.addWidget(self.width_spin)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.height_spin)
        size_row.addWidget(self.unit)
        dpi_row = QHBoxLayout()
        dpi_row.addWidget(self.dpi, 1)
        dpi_row.addWidget(self.dpi_custom)
        form.addRow("Preset", self.preset)
        form.addRow("Size", size_row)
        form.addRow("Resolution", dpi_row)
        form.addRow("Repeat width", self.repeat)
        self.form.addWidget(box)

    def _build_export(self) -> None:
        box = QGroupBox("Export")
        col = QVBoxLayout(box)
        self.export_button = QPushButton("Export print…")
        self.export_button.setToolTip("PNG or TIFF with the DPI and provenance embedded")
        self.export_button.clicked.connect(self._on_export_clicked)
        self.vector_button = QPushButton("Export dye layers (SVG/PDF)…")
        self.vector_button.clicked.connect(self._on_vector_clicked)
        row = QHBoxLayout()
        row.addWidget(self.export_button)
        row.addWidget(self.vector_button)
        self.jobs = JobBar(self)
        col.addLayout(row)
        col.addWidget(self.jobs)
        self.form.addWidget(box)

    # -- source ----------------------------------------------------------------------------

    @Slot(object)
    def set_source(self, result: Any) -> None:
        """Take the latest full render (a RenderResult: ``images[0]`` HxWxC uint8).

        A different motif becomes the source again (the post-processed image stays available).
        """
        image = as_rgb(result.images[0])
        changed = self._render is None or not np.array_equal(image, self._render)
        self._render = image
        if changed and self.use_processed.isChecked():
            self.use_processed.blockSignals(True)
            self.use_processed.setChecked(False)
            self.use_processed.blockSignals(False)
        self._render_prov = dict(result.provenance(0, model_name(self)))
        tileable = bool(getattr(getattr(result, "request", None), "tileable", False))
        self.wrap.blockSignals(True)
        self.wrap.setChecked(tileable)
        self.wrap.blockSignals(False)
        self._refresh()

    @Slot(object, object)
    def set_processed(self, image: np.ndarray, provenance: dict) -> None:
        """Take a post-processed image (HxWxC uint8) and its provenance; use it as the source."""
        self._processed = as_rgb(image)
        self._processed_prov = dict(provenance)
        self.use_processed.setEnabled(True)
        if self.use_processed.isChecked():
            self._refresh()
        else:
            self.use_processed.setChecked(True)  # triggers the refresh

    @Slot(bool)
    def _on_source_choice(self, _on: bool) -> None:
        self._refresh()

    def source(self) -> tuple[np.ndarray | None, dict]:
        """The image that will be printed (HxWx3 uint8, or None) and its provenance."""
        if self.use_processed.isChecked() and self._processed is not None:
            return self._processed, self._processed_prov
        return self._render, self._render_prov

    def _describe_source(self) -> str:
        tile, prov = self.source()
        if tile is None:
            return "no motif yet"
        size = f"{tile.shape[1]} × {tile.shape[0]} px"
        if tile is self._processed:
            steps = ", ".join(f.get("name", "?") for f in prov.get("filters", []))
            return f"post-processed ({steps or 'no filters'}), {size}"
        return f"seed {prov.get('seed', '?')}, {size}"

    # -- settings -> spec ------------------------------------------------------------------

    def current_dpi(self) -> float:
        value = self.dpi.currentData()
        return float(value if value is not None else self.dpi_custom.value())

    def current_spec(self) -> PrintSpec:
        """The physical size and DPI the controls describe."""
        return PrintSpec(self.width_spin.value(), self.height_spin.value(), self._unit, self.current_dpi())

    def _repeat_value(self) -> float | None:
        return self.repeat.value() or None

    def _fit_width(self) -> bool:
        return self.preset.currentData() in FIT_WIDTH_PRESETS

    @Slot(int)
    def _on_preset(self, _index: int) -> None:
        key = self.preset.currentData()
        if key is not None:
            w, h, unit = PRESET_SIZES[key]
            for widget, value in ((self.width_spin, w), (self.height_spin, h)):
                widget.blockSignals(True)
                widget.setValue(value)
                widget.blockSignals(False)
            self.unit.blockSignals(True)
            self.unit.setCurrentText(unit)
            self.unit.blockSignals(False)
            self._unit = unit
        self._update_info()

    @Slot()
    def _on_size_edit(self) -> None:
        if self.preset.currentData() is not None:
            self.preset.blockSignals(True)
            self.preset.setCurrentIndex(len(PRESETS) - 1)  # custom
            self.preset.blockSignals(False)
        self._update_info()

    @Slot(str)
    def _on_unit(self, unit: str) -> None:
        """Convert the numbers so the physical size stays the same."""
        factor = UNIT_INCHES[self._unit] / UNIT_INCHES[unit]
        self._unit = unit
        for spin in (self.width_spin, self.height_spin, self.repeat):
            spin.blockSignals(True)
            spin.setValue(spin.value() * factor)
            spin.blockSignals(False)
        self._update_info()

    @Slot(int)
    def _on_dpi(self, _index: int) -> None:
        self.dpi_custom.setVisible(self.dpi.currentData() is None)
        self._update_info()

    # -- preview and readouts --------------------------------------------------------------

    @Slot()
    def _refresh(self) -> None:
        """Settings that change the picture: re-submit the preview, update the readouts."""
        layout = self.layout_box.currentData()
        self.offset.setEnabled(layout in (TileLayout.HALF_DROP, TileLayout.HALF_BRICK))
        self.source_label.setText(self._describe_source())
        self._update_info()
        tile, _ = self.source()
        if tile is None:
            return
        self.runner.submit(PrintPreviewRequest(
            tile=tile, layout=layout, offset=self.offset.currentData(),
            seamless=self.seamless.currentData(), method=self.method.currentData(),
            n_colors=self.n_colors.value(),
        ))

    @Slot(object)
    def _on_preview(self, outcome: Any) -> None:
        if outcome.error is not None:
            self.seam_label.setText(f"Preview failed: {outcome.error}")
            return
        pv = outcome.result
        self.last_preview = pv
        self.preview.set_image(to_pixmap(pv.image))
        layout = outcome.request.layout
        verdict = seam_verdict(pv.score_after, layout)
        if outcome.request.seamless:
            text = (f"Seam score {pv.score_before:.2f} → {pv.score_after:.2f} after make-seamless "
                    f"for {layout.value}: {verdict}")
        else:
            text = f"Seam score ({layout.value}) {pv.score_after:.2f}: {verdict}"
        self.seam_label.setText(text + "  (1.0 = edges as smooth as the interior)")
        self.previewUpdated.emit(pv)

    def refusal(self) -> str | None:
        """Why an export of the current settings would be refused, or None."""
        spec = self.current_spec()
        try:
            check_pixel_limit(spec, self.max_pixels)
        except ExportError as exc:  # the engine's words, minus the CLI-only option
            return str(exc).replace(", or raise the limit (--max-pixels)", "")
        tile, _ = self.source()
        if tile is not None:
            tw, th = tile_pixel_size(tile.shape, spec, self._repeat_value(), self._fit_width())
            if tw * th > self.max_pixels:
                return (f"one repeat would be {tw} × {th} px, over the {self.max_pixels / 1e6:g} MP "
                        "limit; choose a smaller repeat width")
        return None

    @Slot()
    def _update_info(self) -> None:
        spec = self.current_spec()
        w, h = spec.pixel_size
        lines = [f"Output {w} × {h} px · {spec.megapixels:.1f} MP ({spec.describe()})"]
        tile, _ = self.source()
        if tile is not None:
            tw, th = tile_pixel_size(tile.shape, spec, self._repeat_value(), self._fit_width())
            rw = repeat_width(spec, self._repeat_value(), self._fit_width())
            lines.append(f"Repeat {tw} × {th} px ({rw:.3g} {spec.unit}): motif {tile.shape[1]} px "
                         f"upscaled ×{tw / tile.shape[1]:.1f}")
        self.size_label.setText("\n".join(lines))
        reason = self.refusal()
        self.refusal_label.setText(f"Refused: {reason}" if reason else "")
        self.refusal_label.setVisible(reason is not None)
        ready = reason is None and tile is not None
        self.export_button.setEnabled(ready)
        self.vector_button.setEnabled(tile is not None)

    # -- export ----------------------------------------------------------------------------

    @Slot()
    def _on_export_clicked(self) -> None:
        self.export_print()

    @Slot()
    def _on_vector_clicked(self) -> None:
        self.export_dye_layers()

    def _ask_path(self, title: str, default: str, filters: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, title, default, filters)
        return path

    def export_print(self, path: str | Path | None = None) -> bool:
        """Export the print (PNG/TIFF); asks for a file when ``path`` is None.

        Returns True when the export job was started; False when refused or abandoned.
        """
        tile, prov = self.source()
        if tile is None:
            show_error(self, "Nothing to print yet: open a model and pick a motif first.")
            return False
        reason = self.refusal()
        if reason is not None:  # refused before any file or large array exists
            self.refusal_label.setText(f"Refused: {reason}")
            self.refusal_label.setVisible(True)
            return False
        path = path or self._ask_path("Export print", f"print-{prov.get('seed', 'motif')}.png",
                                      "PNG (*.png);;TIFF (*.tif *.tiff)")
        if not path:
            return False
        request = PrintExportRequest(
            output=Path(path), spec=self.current_spec(), layout=self.layout_box.currentData(),
            offset=self.offset.currentData(), repeat=self._repeat_value(), fit_width=self._fit_width(),
            method=self.method.currentData(), seamless=self.seamless.currentData(),
            n_colors=self.n_colors.value() if self.method.currentData() == "vector" else None,
            provenance=prov, max_pixels=self.max_pixels,
        )
        self.jobs.start(functools.partial(export_print, tile), request, f"Exporting {Path(path).name}…")
        return True

    def export_dye_layers(self, path: str | Path | None = None) -> bool:
        """Export the dye layers as SVG or PDF (by suffix); asks for a file when ``path`` is None."""
        tile, prov = self.source()
        if tile is None:
            show_error(self, "Nothing to export yet: open a model and pick a motif first.")
            return False
        path = path or self._ask_path("Export dye layers", f"dyes-{prov.get('seed', 'motif')}.svg",
                                      "SVG (*.svg);;PDF (*.pdf)")
        if not path:
            return False
        vector = VectorExportRequest(
            outputs=(Path(path),), spec=self.current_spec(), layout=self.layout_box.currentData(),
            offset=self.offset.currentData(), repeat=self._repeat_value(), fit_width=self._fit_width(),
            provenance=prov,
        )
        request = DyeLayerExportRequest(tile, self.seamless.currentData(), self.n_colors.value(), vector)
        self.jobs.start(dye_layer_export_job, request, f"Exporting {Path(path).name}…")
        return True

    @Slot(object)
    def _on_export_done(self, result: Any) -> None:
        paths = result if isinstance(result, list) else [result]
        self.jobs.set_status("Saved " + ", ".join(str(p) for p in paths))
        self.exported.emit(result)

    @Slot(object)
    def _on_export_failed(self, exc: Any) -> None:
        text = str(exc) if isinstance(exc, BatikError) else f"Export failed: {exc}"
        show_error(self, text)

    def shutdown(self) -> bool:
        """Stop the preview thread and any export; True when both ended."""
        ok = self.jobs.shutdown()
        return self.runner.shutdown() and ok

