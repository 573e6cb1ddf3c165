"""Animation tab: keyframes (current motif or favourites), a playable preview, GIF/MP4 export.

Keyframes are full motif states kept in a list (drag or Up/Down to reorder). Play renders
the path at preview size with a job whose frames arrive one by one into a buffer; a QTimer
plays the buffer at the chosen fps, waiting at its end while frames are still coming. Export
runs :func:`~batikstudio.render.animation.export_animation` as a job with progress and
Cancel; it writes the animation plus a ``.json`` provenance sidecar.
"""

from __future__ import annotations

import importlib.util

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout,
    QLabel, QListWidget, QListWidgetItem, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from batikstudio.app.imageutil import to_pixmap
from batikstudio.app.job_bar import JobBar
from batikstudio.app.motif_state import MotifViewModel
from batikstudio.app.motif_view import ImageLabel
from batikstudio.app.qtjobs import TaskRunner
from batikstudio.render.animation import (
    AnimationExportRequest, AnimationRequest, export_animation, render_animation,
)
from batikstudio.render.motif import MotifState

log = logging.getLogger(__name__)

STATE_ROLE = Qt.ItemDataRole.UserRole + 1
PREVIEW_PIXELS = 256  # previews are rendered at most this large


def describe(state: MotifState, labels: tuple[str, ...] = ()) -> str:
    """One line naming a keyframe: seed, class, psi and mixes."""
    parts = [f"seed {state.seed}"]
    if state.class_index is not None:
        cls = state.class_index
        parts.append(labels[cls] if cls < len(labels) else f"class {cls}")
    parts.append(f"ψ {state.psi:.2f}")
    parts += [f"{m.layers}←{m.seed}" for m in state.mix]
    if state.directions:
        parts.append("directions")
    return " · ".join(parts)


class AnimatePanel(QWidget):
    """Keyframe list + options + preview player + export. ``exported(Path)`` after a save."""

    exported = Signal(object)
    previewReady = Signal(int)  # number of frames rendered

    def __init__(self, session: Any, vm: MotifViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.vm = session, vm
        self.model_obj: Any = None
        self.directions: Any = None
        self.frames: list[Any] = []  # QPixmaps of the preview buffer
        self.preview_request: AnimationRequest | None = None
        self.preview_done = False
        self.position = 0
        self.preview_runner = TaskRunner(self)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self._build_keys()
        self._build_options()
        self._build_preview()
        self._layout()

    # -- building --------------------------------------------------------------------------

    def _build_keys(self) -> None:
        self.key_list = QListWidget(self)
        self.key_list.setObjectName("animationKeys")
        self.key_list.setIconSize(QSize(48, 48))
        self.key_list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.key_list.model().rowsMoved.connect(self._invalidate)
        self.add_current_button = QPushButton("Add current motif", self)
        self.add_current_button.clicked.connect(self.add_current)
        self.fav_box = QComboBox(self)
        self.fav_box.setMinimumContentsLength(18)
        self.add_fav_button = QPushButton("Add favourite", self)
        self.add_fav_button.clicked.connect(self.add_favourite)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.clicked.connect(self.remove_selected)
        self.up_button = QPushButton("Up", self)
        self.up_button.clicked.connect(self.move_up)
        self.down_button = QPushButton("Down", self)
        self.down_button.clicked.connect(self.move_down)

    def _build_options(self) -> None:
        self.frames_spin = QSpinBox(self)
        self.frames_spin.setRange(1, 240)
        self.frames_spin.setValue(12)
        self.fps_spin = QSpinBox(self)
        self.fps_spin.setRange(1, 50)
        self.fps_spin.setValue(12)
        self.loop_check = QCheckBox("Return to the first keyframe (seamless loop)", self)
        self.loop_check.setChecked(True)
        self.space_box = QComboBox(self)
        self.space_box.addItem("W (lerp)", "w")
        self.space_box.addItem("Z (slerp)", "z")
        self.easing_box = QComboBox(self)
        self.easing_box.addItems(["linear", "smooth"])
        self.size_spin = QSpinBox(self)
        self.size_spin.setRange(0, 2048)
        self.size_spin.setSingleStep(64)
        self.size_spin.setSpecialValueText("model size")
        for w in (self.frames_spin, self.fps_spin):
            w.valueChanged.connect(self._invalidate)
        self.loop_check.toggled.connect(self._invalidate)
        self.space_box.currentIndexChanged.connect(self._invalidate)
        self.easing_box.currentIndexChanged.connect(self._invalidate)
        self.gif_button = QPushButton("Export GIF…", self)
        self.gif_button.clicked.connect(self._on_export_gif)
        self.mp4_button = QPushButton("Export MP4…", self)
        self.mp4_button.clicked.connect(self._on_export_mp4)
        if importlib.util.find_spec("imageio_ffmpeg") is None:
            self.mp4_button.setEnabled(False)
            self.mp4_button.setToolTip("MP4 needs the video extra: pip install 'batikstudio[video]'")
        self.export_bar = JobBar(self)
        self.export_bar.finished.connect(self._on_exported)
        self.export_bar.failed.connect(self._on_export_failed)

    def _build_preview(self) -> None:
        self.image = ImageLabel(self)
        self.image.setObjectName("animationPreview")
        self.play_button = QPushButton("▶ Play", self)
        self.play_button.setObjectName("playButton")
        self.play_button.clicked.connect(self.toggle_play)
        self.frame_label = QLabel("Add two or more keyframes, then Play.", self)

    def _layout(self) -> None:
        keys = QGroupBox("Keyframes", self)
        kl = QVBoxLayout(keys)
        kl.addWidget(self.key_list, 1)
        kl.addWidget(self.add_current_button)
        fav_row = QHBoxLayout()
        fav_row.addWidget(self.fav_box, 1)
        fav_row.addWidget(self.add_fav_button)
        kl.addLayout(fav_row)
        edit_row = QHBoxLayout()
        for b in (self.remove_button, self.up_button, self.down_button):
            edit_row.addWidget(b)
        kl.addLayout(edit_row)
        opts = QGroupBox("Path", self)
        form = QFormLayout(opts)
        form.addRow("Frames per keyframe", self.frames_spin)
        form.addRow("Frames per second", self.fps_spin)
        form.addRow("Interpolate in", self.space_box)
        form.addRow("Easing", self.easing_box)
        form.addRow(self.loop_check)
        form.addRow("Export size (px)", self.size_spin)
        export_row = QHBoxLayout()
        export_row.addWidget(self.gif_button)
        export_row.addWidget(self.mp4_button)
        left = QVBoxLayout()
        left.addWidget(keys, 1)
        left.addWidget(opts)
        left.addLayout(export_row)
        left.addWidget(self.export_bar)
        right = QVBoxLayout()
        right.addWidget(self.image, 1)
        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.frame_label, 1)
        right.addLayout(controls)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        left_box = QWidget(self)
        left_box.setLayout(left)
        left_box.setMaximumWidth(380)
        layout.addWidget(left_box)
        layout.addLayout(right, 1)

    # -- model, favourites, keyframes -----------------------------------------------------

    @Slot(object)
    def set_model(self, model: Any) -> None:
        """A new model: keyframes of the old one no longer apply."""
        self.stop()
        self.preview_runner.cancel()
        self.export_bar.cancel()
        self.model_obj = model
        self.directions = None
        self.key_list.clear()
        self._invalidate()
        self.refresh_favourites()

    @Slot(object)
    def set_directions(self, directions: Any) -> None:
        self.directions = directions

    def _labels(self) -> tuple[str, ...]:
        return tuple(getattr(self.model_obj, "class_labels", ()) or ())

    @Slot()
    def refresh_favourites(self) -> None:
        """Reload the favourites of the current model into the combo box."""
        self.fav_box.clear()
        if self.model_obj is None:
            return
        for fav in self.session.favourites.for_model(self.model_obj.sha256):
            state = MotifState.from_dict(fav.state)
            self.fav_box.addItem(describe(state, self._labels()), state)
        self.add_fav_button.setEnabled(self.fav_box.count() > 0)

    def keys(self) -> tuple[MotifState, ...]:
        """The keyframes in list order."""
        return tuple(self.key_list.item(r).data(STATE_ROLE) for r in range(self.key_list.count()))

    def add_key(self, state: MotifState) -> None:
        item = QListWidgetItem(describe(state, self._labels()))
        item.setData(STATE_ROLE, state)
        self.key_list.addItem(item)
        self.key_list.setCurrentItem(item)
        self._invalidate()

    @Slot()
    def add_current(self) -> None:
        """Append the motif shown in the Motif tab."""
        self.add_key(self.vm.state)

    @Slot()
    def add_favourite(self, index: int | None = None) -> None:
        """Append the favourite chosen in the combo box (or at ``index``)."""
        index = self.fav_box.currentIndex() if index is None or isinstance(index, bool) else index
        if 0 <= index < self.fav_box.count():
            self.add_key(self.fav_box.itemData(index))

    @Slot()
    def remove_selected(self) -> None:
        row = self.key_list.currentRow()
        if row >= 0:
            self.key_list.takeItem(row)
            self._invalidate()

    @Slot()
    def move_up(self) -> None:
        self._move(-1)

    @Slot()
    def move_down(self) -> None:
        self._move(1)

    def _move(self, delta: int) -> None:
        row = self.key_list.currentRow()
        target = row + delta
        if row < 0 or not 0 <= target < self.key_list.count():
            return
        item = self.key_list.takeItem(row)
        self.key_list.insertItem(target, item)
        self.key_list.setCurrentRow(target)
        self._invalidate()

    # -- requests --------------------------------------------------------------------------

    def animation_request(self, size: int | None) -> AnimationRequest:
        """The path for the current keyframes and options. Raises ValueError when unusable."""
        if self.model_obj is None:
            raise ValueError("open a model first")
        keys = self.keys()
        if len(keys) < 2:
            raise ValueError("add at least two keyframes")
        if any(k.directions for k in keys) and self.directions is None:
            raise ValueError("a keyframe uses latent directions, which are still being computed")
        return AnimationRequest(self.model_obj, keys, self.frames_spin.value(), self.loop_check.isChecked(),
                                str(self.space_box.currentData()), self.easing_box.currentText(), size,
                                self.directions)

    def _preview_size(self) -> int | None:
        res = self.model_obj.G_ema.img_resolution
        return PREVIEW_PIXELS if res > PREVIEW_PIXELS else None

    # -- preview ---------------------------------------------------------------------------

    @Slot()
    def _invalidate(self, *_: Any) -> None:
        """Keyframes or options changed: the buffer no longer shows this path."""
        if self.preview_request is None:
            return
        self.stop()
        self.preview_runner.cancel()
        self.preview_request = None
        self.preview_done = False
        self.frames = []
        self.frame_label.setText("Changed: press Play to render the new path.")

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    @Slot()
    def toggle_play(self) -> None:
        if self.playing:
            self.stop()
        else:
            self.play()

    def play(self) -> None:
        """Play the path, rendering it first (frames stream in) when the buffer is stale."""
        try:
            req = self.animation_request(self._preview_size() if self.model_obj is not None else None)
        except ValueError as exc:
            self.frame_label.setText(f"Cannot play: {exc}.")
            return
        if req != self.preview_request:
            self.preview_request, self.frames, self.preview_done = req, [], False
            signals = self.preview_runner.start(render_animation, req)
            signals.partial.connect(self._on_frame)
            signals.finished.connect(self._on_preview_done)
            signals.failed.connect(self._on_preview_failed)
        self.position = 0
        self.timer.start(max(1, round(1000 / self.fps_spin.value())))
        self.play_button.setText("■ Stop")

    @Slot()
    def stop(self) -> None:
        self.timer.stop()
        self.play_button.setText("▶ Play")

    @Slot(object)
    def _on_frame(self, item: Any) -> None:
        index, frame = item
        pixmap = to_pixmap(frame)
        self.frames.append(pixmap)
        req = self.preview_request
        fps = req.frames_per_segment if req is not None else 0
        if fps and index % fps == 0 and index // fps < self.key_list.count():
            self.key_list.item(index // fps).setIcon(QIcon(pixmap))
        if len(self.frames) == 1:
            self.image.set_image(pixmap)

    @Slot(object)
    def _on_preview_done(self, frames: Any) -> None:
        self.preview_done = True
        self.previewReady.emit(len(frames))

    @Slot(object)
    def _on_preview_failed(self, exc: Any) -> None:
        self.stop()
        self.preview_request = None
        self.frame_label.setText(f"Preview failed: {exc}")

    @Slot()
    def _tick(self) -> None:
        total = self.preview_request.num_frames if self.preview_request is not None else 0
        if not self.frames:
            self.frame_label.setText("rendering…")
            return
        if self.position >= len(self.frames):
            if not self.preview_done:
                self.frame_label.setText(f"rendering… {len(self.frames)}/{total}")
                return  # wait for the next frame
            self.position = 0
        self.image.set_image(self.frames[self.position])
        self.frame_label.setText(f"frame {self.position + 1}/{total}")
        self.position += 1

    # -- export ----------------------------------------------------------------------------

    @Slot()
    def _on_export_gif(self) -> None:
        self.export_gif()

    @Slot()
    def _on_export_mp4(self) -> None:
        self.export_mp4()

    def export_gif(self, path: str | Path | None = None) -> bool:
        """Export as GIF to ``path`` (asks with a dialog when None); False if not started."""
        return self._export(path, "GIF (*.gif)", ".gif")

    def export_mp4(self, path: str | Path | None = None) -> bool:
        """Export as MP4 (H.264) to ``path`` (asks with a dialog when None)."""
        return self._export(path, "MP4 video (*.mp4)", ".mp4")

    def _export(self, path: str | Path | None, filter_text: str, suffix: str) -> bool:
        try:
            anim = self.animation_request(self.size_spin.value() or None)
        except ValueError as exc:
            self.export_bar.status.setText(f"Cannot export: {exc}.")
            return False
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Export animation", f"motifs{suffix}", filter_text)
            if not path:
                return False
        path = Path(path)
        if path.suffix.lower() != suffix:
            path = path.with_name(path.name + suffix)
        name = Path(str(getattr(self.model_obj, "path", ""))).stem
        request = AnimationExportRequest(anim, path, float(self.fps_spin.value()), model_name=name)
        self.export_bar.start(export_animation, request, f"Exporting {path.name}…")
        return True

    @Slot(object)
    def _on_exported(self, path: Any) -> None:
        self.export_bar.status.setText(f"Saved {path} (provenance in {Path(path).name}.json)")
        self.exported.emit(Path(path))

    @Slot(object)
    def _on_export_failed(self, exc: Any) -> None:
        log.warning("animation export failed: %s", exc)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self.refresh_favourites()

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.stop()  # nobody watches: stop the player (the render job may finish)
        super().hideEvent(event)

    def shutdown(self) -> bool:
        self.stop()
        ok = self.preview_runner.shutdown()
        return self.export_bar.shutdown() and ok
