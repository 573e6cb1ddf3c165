"""Motif view: a large render with its sliders (truncation, class, noise, directions, mixing).

Every control edits the :class:`MotifViewModel` (undoable); each state change submits a render
to a newest-wins runner, so a drag shows the latest slider position as soon as it is computed.
While a slider is held, renders use a reduced size (quick preview); releasing it renders in full.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton,
    QSizePolicy, QSlider, QSpinBox, QVBoxLayout, QWidget,
)

from batikstudio.app.widgets import control_column
from batikstudio.app.imageutil import to_pixmap
from batikstudio.app.motif_state import MotifViewModel
from batikstudio.app.qtjobs import PreviewRunner
from batikstudio.io.models import trained_tileable
from batikstudio.render.motif import MotifState
from batikstudio.render.request import RenderRequest

MIX_RANGES = ("coarse", "middle", "fine")


@dataclass(frozen=True)
class MotifRenderRequest:
    model: Any
    request: RenderRequest
    directions: Any
    quick: bool


def motif_render_job(req: MotifRenderRequest, ctx):
    """Job: render one motif (exact, batch 1)."""
    from batikstudio.render.engine import render

    return render(req.model, req.request, directions=req.directions, ctx=ctx)


class ImageLabel(QLabel):
    """Shows a pixmap scaled to fit, keeping its aspect ratio."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(256, 256)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._pixmap = None

    def set_image(self, pixmap) -> None:
        self._pixmap = pixmap
        self._rescale()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._pixmap is not None:
            self.setPixmap(self._pixmap.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.SmoothTransformation))


def _slider(lo: int, hi: int, value: int) -> QSlider:
    s = QSlider(Qt.Orientation.Horizontal)
    s.setRange(lo, hi)
    s.setValue(value)
    return s


class MotifView(QWidget):
    """Large motif + control panel. ``rendered(RenderResult)`` after each full render."""

    rendered = Signal(object)
    favouriteRequested = Signal()

    def __init__(self, vm: MotifViewModel, parent=None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.model_obj: Any = None
        self.directions: Any = None
        self.last_result: Any = None
        self.last_seconds = 0.0
        self._dragging = False
        self._submitted_at = 0.0
        self.image = ImageLabel(self)
        self.image.setObjectName("motifImage")
        self.info = QLabel("", self)
        left = QVBoxLayout()
        left.addWidget(self.image, 1)
        left.addWidget(self.info)
        panel, self.form = control_column(self, 300)
        self._build_controls()
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addWidget(panel)
        self.runner = PreviewRunner(motif_render_job, self)
        self.runner.ready.connect(self._on_ready)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(150)
        self._settle.timeout.connect(self._full_render)
        vm.stateChanged.connect(self._on_state)

    # -- controls --------------------------------------------------------------------------

    def _build_controls(self) -> None:
        box = QGroupBox("Motif")
        form = QFormLayout(box)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.valueChanged.connect(self._on_seed)
        self.class_box = QComboBox()
        self.class_box.currentIndexChanged.connect(self._on_class)
        self.char_edit = QLineEdit()
        self.char_edit.setMaxLength(1)
        self.char_edit.editingFinished.connect(self._on_char)
        self.arrangement = QSpinBox()
        self.arrangement.setRange(-1, 2**31 - 1)
        self.arrangement.setSpecialValueText("the seed's own")
        self.arrangement.valueChanged.connect(self._on_arrangement)
        self.psi = _slider(-100, 200, 70)
        self.psi_label = QLabel("0.70")
        self.psi.valueChanged.connect(self._on_psi)
        self.psi_class = QCheckBox("Truncate towards the class")
        self.psi_class.setChecked(True)
        self.psi_class.setToolTip("ψ pulls towards the chosen class's average motif, so each family keeps its\n"
                                  "look. Off: towards the model's average over all classes (NVlabs).")
        self.psi_class.toggled.connect(self._on_psi_centre)
        self.cutoff = QSpinBox()
        self.cutoff.setRange(0, 18)
        self.cutoff.setSpecialValueText("all layers")
        self.cutoff.valueChanged.connect(self._on_cutoff)
        self.noise_mode = QComboBox()
        self.noise_mode.addItems(["const", "random", "none"])
        self.noise_mode.currentTextChanged.connect(self._on_noise_mode)
        self.noise_gain = _slider(0, 300, 100)
        self.noise_gain.valueChanged.connect(self._on_noise_gain)
        self.tileable = QCheckBox("Seamless tile (wrap rendering)")
        self.tileable.toggled.connect(self._on_tileable)
        psi_row = QHBoxLayout()
        psi_row.addWidget(self.psi, 1)
        psi_row.addWidget(self.psi_label)
        form.addRow("Seed", self.seed)
        form.addRow("Class", self.class_box)
        form.addRow("Character", self.char_edit)
        form.addRow("Arrangement", self.arrangement)
        form.addRow("Truncation ψ", psi_row)
        form.addRow(self.psi_class)
        form.addRow("Cutoff", self.cutoff)
        form.addRow("Noise", self.noise_mode)
        form.addRow("Noise strength", self.noise_gain)
        form.addRow(self.tileable)
        self.form.addWidget(box)
        self._build_directions()
        self._build_mixing()
        buttons = QHBoxLayout()
        self.reset_button = QPushButton("Reset")
        self.reset_button.clicked.connect(self._on_reset)
        self.fav_button = QPushButton("☆ Favourite")
        self.fav_button.clicked.connect(self.favouriteRequested)
        buttons.addWidget(self.reset_button)
        buttons.addWidget(self.fav_button)
        self.form.addLayout(buttons)
        self.form.addStretch(1)
        for s in (self.psi, self.noise_gain, *self.direction_sliders):
            s.sliderPressed.connect(self._on_press)
            s.sliderReleased.connect(self._on_release)

    def _build_directions(self) -> None:
        box = QGroupBox("Latent directions (PCA)")
        form = QFormLayout(box)
        self.direction_sliders: list[QSlider] = []
        for k in range(8):
            s = _slider(-500, 500, 0)
            s.setObjectName(f"direction{k}")
            s.setEnabled(False)
            s.valueChanged.connect(self._on_direction)
            form.addRow(f"Direction {k + 1}", s)
            self.direction_sliders.append(s)
        self.form.addWidget(box)

    def _build_mixing(self) -> None:
        box = QGroupBox("Style mixing: take from seed")
        form = QFormLayout(box)
        self.mix_boxes: dict[str, tuple[QCheckBox, QSpinBox]] = {}
        for name in MIX_RANGES:
            check = QCheckBox(name)
            spin = QSpinBox()
            spin.setRange(0, 2**31 - 1)
            check.toggled.connect(self._on_mix)
            spin.valueChanged.connect(self._on_mix)
            form.addRow(check, spin)
            self.mix_boxes[name] = (check, spin)
        self.form.addWidget(box)

    # -- control -> state ------------------------------------------------------------------

    def _edit(self, new: MotifState, text: str, key: str | None = None) -> None:
        self.vm.edit(new, text, key)

    @Slot(int)
    def _on_seed(self, v: int) -> None:
        self._edit(replace(self.vm.state, seed=v), f"seed {v}", "seed")

    @Slot(int)
    def _on_class(self, i: int) -> None:
        if self.model_obj is not None and self.model_obj.G_ema.c_dim and i >= 0:
            self._edit(replace(self.vm.state, class_index=i), "class")

    @Slot()
    def _on_char(self) -> None:
        G = None if self.model_obj is None else self.model_obj.G_ema
        known = getattr(G, "characters", "") if G is not None else ""
        ch = self.char_edit.text().strip() or None
        if ch is not None and ch not in known:
            self.char_edit.setToolTip(f"This model does not know {ch}: it writes the {len(known):,} characters "
                                      "it was trained on.")
            self.char_edit.setText(self.vm.state.text or "")
            return
        if ch != self.vm.state.text:
            self._edit(replace(self.vm.state, text=ch), "character")

    @Slot(int)
    def _on_arrangement(self, v: int) -> None:
        seed = None if v < 0 else v
        if seed != self.vm.state.layout_seed:
            self._edit(replace(self.vm.state, layout_seed=seed), "arrangement", "arrangement")

    @Slot(int)
    def _on_psi(self, v: int) -> None:
        self.psi_label.setText(f"{v / 100:.2f}")
        self._edit(replace(self.vm.state, psi=v / 100), "truncation", "psi")

    @Slot(bool)
    def _on_psi_centre(self, on: bool) -> None:
        self._edit(replace(self.vm.state, psi_centre="class" if on else "model"), "truncation centre")

    @Slot(int)
    def _on_cutoff(self, v: int) -> None:
        self._edit(replace(self.vm.state, cutoff=v or None), "cutoff", "cutoff")

    @Slot(str)
    def _on_noise_mode(self, mode: str) -> None:
        self._edit(replace(self.vm.state, noise_mode=mode), "noise mode")

    @Slot(int)
    def _on_noise_gain(self, v: int) -> None:
        self._edit(replace(self.vm.state, noise_gain=v / 100), "noise strength", "noise")

    @Slot(bool)
    def _on_tileable(self, on: bool) -> None:
        self._edit(replace(self.vm.state, tileable=on), "seamless")

    @Slot()
    def _on_direction(self) -> None:
        state = self.vm.state
        for k, s in enumerate(self.direction_sliders):
            state = state.with_direction(k, s.value() / 100)
        self._edit(state, "direction", "direction")

    @Slot()
    def _on_mix(self) -> None:
        state = self.vm.state
        for name, (check, spin) in self.mix_boxes.items():
            state = state.with_mix(name, spin.value() if check.isChecked() else None)
        self._edit(state, "style mixing", "mix")

    @Slot()
    def _on_reset(self) -> None:
        cls = 0 if self.model_obj is not None and self.model_obj.G_ema.c_dim else None
        self._edit(MotifState(seed=self.vm.state.seed, class_index=cls), "reset")

    @Slot()
    def _on_press(self) -> None:
        self._dragging = True

    @Slot()
    def _on_release(self) -> None:
        self._dragging = False
        self.vm.end_merge()
        self._full_render()

    # -- state -> controls + render --------------------------------------------------------

    def set_model(self, model: Any) -> None:
        self.model_obj = model
        self.directions = None
        G = model.G_ema
        self.class_box.blockSignals(True)
        self.class_box.clear()
        self.class_box.addItems(list(model.class_labels) or ["(unconditional)"])
        self.class_box.setEnabled(bool(G.c_dim))
        self.psi_class.setEnabled(bool(G.c_dim) and getattr(G.mapping, "class_centres", True))
        self.class_box.blockSignals(False)
        chars = getattr(G, "characters", "")
        self.char_edit.setEnabled(bool(chars))
        self.char_edit.setToolTip(f"The character to write (one of the {len(chars):,} the model knows); empty: the "
                                  "seed's own." if chars else "Only calligraphy models with a character table "
                                  "write a character you choose.")
        structure = bool(getattr(getattr(G, "cfg", None), "layout_by_class", False))
        self.arrangement.setEnabled(structure)
        self.arrangement.setToolTip("Take the arrangement (where the patches, cells and bands lie) of another seed, "
                                    "keeping this seed's fills and colours." if structure else
                                    "Only batik models with motif layouts (structure models) take an arrangement.")
        self.cutoff.setMaximum(G.num_ws)
        has_noise = bool(getattr(getattr(G, "cfg", None), "use_noise", False))
        for control in (self.noise_mode, self.noise_gain):
            control.setEnabled(has_noise)
            control.setToolTip("" if has_noise else
                               "This model has no noise inputs: every variation comes from the seed.")
        for s in self.direction_sliders:
            s.setEnabled(False)
        wrap = trained_tileable(model)
        self.tileable.setToolTip("This model was trained for seamless tiles: it draws best with wrap rendering."
                                 if wrap else "")
        self.vm.reset(MotifState(seed=self.vm.state.seed, class_index=0 if G.c_dim else None, tileable=wrap))

    def set_directions(self, directions: Any) -> None:
        self.directions = directions
        for k, s in enumerate(self.direction_sliders):
            s.setEnabled(k < directions.count)
        self._full_render()

    @Slot(object)
    def _on_state(self, state: MotifState) -> None:
        self._sync_controls(state)
        if self._dragging:
            self._submit(quick=True)
            self._settle.start()
        else:
            self._full_render()

    def _sync_controls(self, st: MotifState) -> None:
        pairs = [(self.seed, st.seed), (self.psi, round(st.psi * 100)), (self.cutoff, st.cutoff or 0),
                 (self.arrangement, -1 if st.layout_seed is None else st.layout_seed),
                 (self.noise_gain, round(st.noise_gain * 100))]
        for widget, value in pairs:
            if widget.value() != value:
                widget.blockSignals(True)
                widget.setValue(value)
                widget.blockSignals(False)
        self.psi_label.setText(f"{st.psi:.2f}")
        G = None if self.model_obj is None else self.model_obj.G_ema
        own = G.seed_characters([st.seed]) if getattr(getattr(G, "cfg", None), "layout_chars", 0) else ""
        self.char_edit.setPlaceholderText(own)
        for widget, setter, value in [
            (self.char_edit, self.char_edit.setText, st.text or ""),
            (self.noise_mode, self.noise_mode.setCurrentText, st.noise_mode),
            (self.tileable, self.tileable.setChecked, st.tileable),
            (self.psi_class, self.psi_class.setChecked, st.psi_centre == "class"),
            (self.class_box, self.class_box.setCurrentIndex, st.class_index or 0),
        ]:
            widget.blockSignals(True)
            setter(value)
            widget.blockSignals(False)
        for k, s in enumerate(self.direction_sliders):
            s.blockSignals(True)
            s.setValue(round(st.direction(k) * 100))
            s.blockSignals(False)
        for name, (check, spin) in self.mix_boxes.items():
            seed = st.mix_seed(name)
            check.blockSignals(True)
            spin.blockSignals(True)
            check.setChecked(seed is not None)
            if seed is not None:
                spin.setValue(seed)
            check.blockSignals(False)
            spin.blockSignals(False)

    @Slot()
    def _full_render(self) -> None:
        self._submit(quick=False)

    def _submit(self, quick: bool) -> None:
        if self.model_obj is None:
            return
        st = self.vm.state
        if st.directions and self.directions is None:
            st = replace(st, directions=())
        res = self.model_obj.G_ema.img_resolution
        # while dragging: stop synthesis one block early (a quarter of the work), shown at
        # full size; the full render follows when the drag pauses
        quick_res = res // 2 if quick and res >= 32 else None
        req = st.request(out_size=res if quick_res else None, max_resolution=quick_res,
                         directions_count=self.directions.count if self.directions else 16)
        self._submitted_at = time.perf_counter()
        self.runner.submit(MotifRenderRequest(self.model_obj, req, self.directions, quick))

    @Slot(object)
    def _on_ready(self, outcome) -> None:
        if outcome.error is not None:
            self.info.setText(f"Render failed: {outcome.error}")
            return
        result = outcome.result
        self.last_seconds = result.seconds
        self.image.set_image(to_pixmap(result.images[0]))
        quick = outcome.request.quick
        self.info.setText(f"seed {result.request.seeds[0]} · {result.seconds * 1000:.0f} ms"
                          + (" · preview" if quick else ""))
        if not quick:
            self.last_result = result
            self.rendered.emit(result)

    def shutdown(self) -> bool:
        self._settle.stop()
        return self.runner.shutdown()
