"""The explorer's main window: model library, seed grid, motif view, and the other tabs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QTabWidget,
)

from batikstudio.app.animate_panel import AnimatePanel
from batikstudio.app.favourites_panel import FavouritesPanel
from batikstudio.app.mixing_panel import MixingPanel
from batikstudio.app.model_library import MODEL_SUFFIXES, ModelLibrary
from batikstudio.app.motif_state import MotifViewModel
from batikstudio.app.motif_view import MotifView
from batikstudio.app.post_panel import PostPanel
from batikstudio.app.print_panel import PrintPanel
from batikstudio.app.seed_grid import SeedGridView
from batikstudio.app.session import Session
from batikstudio.app.trainer_panel import TrainerPanel
from batikstudio.io.favourites import Favourite

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """Top-level window. Long work happens in jobs; errors are shown in a dialog."""

    def __init__(self, device: str = "cpu") -> None:
        super().__init__()
        self.setWindowTitle("Batik Studio")
        self.setAcceptDrops(True)
        self.resize(1280, 820)
        self.session = Session(device, self)
        self.vm = MotifViewModel(self)
        self.error_dialog: QMessageBox | None = None
        self.grid = SeedGridView(self)
        self.motif = MotifView(self.vm, self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.grid, "Seeds")
        self.tabs.addTab(self.motif, "Motif")
        self.mixing = MixingPanel(self.session, self.vm, self)
        self.animate = AnimatePanel(self.session, self.vm, self)
        self.tabs.addTab(self.mixing, "Mixing")
        self.tabs.addTab(self.animate, "Animate")
        self.post_panel = PostPanel(self)
        self.print_panel = PrintPanel(self)
        self.tabs.addTab(self.post_panel, "Post-processing")
        self.tabs.addTab(self.print_panel, "Print")
        self.trainer = TrainerPanel(self)
        self.tabs.addTab(self.trainer, "Training")
        self.trainer.modelExported.connect(self._on_model_exported)
        self.recovery_box: QMessageBox | None = None
        QTimer.singleShot(0, self.offer_recovery)
        self.setCentralWidget(self.tabs)
        self.library = ModelLibrary(self)
        dock = QDockWidget("Library", self)
        dock.setObjectName("libraryDock")
        dock.setWidget(self.library)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.favourites_panel = FavouritesPanel(self.session, self.vm, self.library.paths, self)
        self.favourites_dock = QDockWidget("Favourites", self)
        self.favourites_dock.setObjectName("favouritesDock")
        self.favourites_dock.setWidget(self.favourites_panel)
        # below the library, so the central views keep their width on a laptop screen
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.favourites_dock)
        self.splitDockWidget(dock, self.favourites_dock, Qt.Orientation.Vertical)
        self.favourites_panel.favouritesChanged.connect(self._refresh_favourites)
        self.favourites_panel.errorOccurred.connect(self.show_error)
        self.favourites_panel.motifOpened.connect(self.show_motif_tab)
        self.device_label = QLabel(f"device: {device}")
        self.time_label = QLabel("")
        self.statusBar().addPermanentWidget(self.time_label)
        self.statusBar().addPermanentWidget(self.device_label)
        self._build_menus()
        self.library.openRequested.connect(self.open_model)
        self.session.modelChanged.connect(self._on_model)
        self.session.directionsReady.connect(self.motif.set_directions)
        self.session.modelChanged.connect(self.mixing.set_model)
        self.session.modelChanged.connect(self.animate.set_model)
        self.session.directionsReady.connect(self.mixing.set_directions)
        self.session.directionsReady.connect(self.animate.set_directions)
        self.session.error.connect(self.show_error)
        self.session.busy.connect(self._on_busy)
        self.grid.seedActivated.connect(self._on_seed_activated)
        self.motif.rendered.connect(self._on_rendered)
        self.motif.rendered.connect(self.post_panel.set_source)
        self.motif.rendered.connect(self.print_panel.set_source)
        self.post_panel.processed.connect(self.print_panel.set_processed)
        self.print_panel.wrapRenderingToggled.connect(self.motif.tileable.setChecked)
        self.motif.favouriteRequested.connect(self.toggle_favourite)
        self.vm.stateChanged.connect(self._on_state)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Open model…", QKeySequence.StandardKey.Open, self.library.choose_file)
        self._action(file_menu, "&Export motif PNG…", QKeySequence("Ctrl+E"), self.export_motif)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        edit = self.menuBar().addMenu("&Edit")
        undo = self.vm.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.vm.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcut(QKeySequence.StandardKey.Redo)
        edit.addAction(undo)
        edit.addAction(redo)
        edit.addSeparator()
        self._action(edit, "Toggle &favourite", QKeySequence("F"), self.toggle_favourite)
        edit.addSeparator()
        self._action(edit, "&Preferences…", QKeySequence.StandardKey.Preferences, self.open_settings)
        self.undo_action, self.redo_action = undo, redo
        self.menuBar().addMenu("&View").addAction(self.favourites_dock.toggleViewAction())
        train = self.menuBar().addMenu("&Train")
        self.train_action = self._action(train, "&Fine-tune on my images…", QKeySequence("Ctrl+T"),
                                         self.open_train_wizard)

    def _action(self, menu, text, shortcut, slot) -> QAction:
        action = QAction(text, self)
        action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    @Slot()
    def open_settings(self) -> None:
        """Preferences dialog (non-blocking); changes apply when it is accepted."""
        from batikstudio.app.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self)
        dialog.setObjectName("settingsDialog")
        dialog.accepted.connect(self._apply_settings)
        dialog.open()
        self.settings_dialog = dialog

    @Slot()
    def _apply_settings(self) -> None:
        from PySide6.QtWidgets import QApplication

        from batikstudio.app.theme import apply_theme
        from batikstudio.runtime import configure_threads

        settings = QSettings()
        configure_threads(int(settings.value("threads", 1)))
        apply_theme(QApplication.instance(), str(settings.value("theme", "light")))
        device = str(settings.value("device", "cpu"))
        self.library.refresh()
        if device != self.session.device:
            self.session.device = device
            self.device_label.setText(f"device: {device}")
            if self.session.model is not None:
                self.open_model(str(self.session.model.path))

    # -- model -----------------------------------------------------------------------------

    @Slot(str)
    def open_model(self, path: str) -> None:
        self.session.open(path)

    @Slot(object)
    def _on_model(self, model: Any) -> None:
        self.library.add_recent(str(model.path))
        self.setWindowTitle(f"Batik Studio — {Path(str(model.path)).name}")
        self.statusBar().showMessage(f"Opened {Path(str(model.path)).name}", 5000)
        self.grid.set_model(model)
        self.motif.set_model(model)
        self._refresh_favourites()

    @Slot(str)
    def _on_busy(self, text: str) -> None:
        self.statusBar().showMessage(text)

    @Slot(str)
    def show_error(self, text: str) -> None:
        """Plain-words error dialog (non-blocking); the app keeps working."""
        log.warning("error shown to user: %s", text)
        box = QMessageBox(QMessageBox.Icon.Warning, "Batik Studio", text, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("errorDialog")
        box.open()
        self.error_dialog = box

    # -- motif -----------------------------------------------------------------------------

    @Slot(int)
    def _on_seed_activated(self, seed: int) -> None:
        from dataclasses import replace

        self.vm.edit(replace(self.vm.state, seed=seed), f"seed {seed}")
        self.tabs.setCurrentWidget(self.motif)

    @Slot()
    def show_motif_tab(self) -> None:
        self.tabs.setCurrentWidget(self.motif)

    @Slot(object)
    def _on_rendered(self, result: Any) -> None:
        self.time_label.setText(f"render {result.seconds * 1000:.0f} ms")

    @Slot(object)
    def _on_state(self, _state: Any) -> None:
        self._update_fav_button()

    def _favourite_for_state(self) -> Favourite | None:
        model = self.session.model
        if model is None:
            return None
        return Favourite(model.sha256, str(model.path), Path(str(model.path)).stem, self.vm.state.to_dict())

    @Slot()
    def toggle_favourite(self) -> None:
        fav = self._favourite_for_state()
        if fav is None:
            return
        added = self.session.favourites.toggle(fav)
        self.statusBar().showMessage("Added to favourites" if added else "Removed from favourites", 3000)
        self._refresh_favourites()

    @Slot()
    def _refresh_favourites(self) -> None:
        self.favourites_panel.refresh()
        self.animate.refresh_favourites()
        model = self.session.model
        if model is None:
            return
        seeds = {int(f.state.get("seed", -1)) for f in self.session.favourites.for_model(model.sha256)}
        self.grid.grid_model.set_favourites(seeds)
        self._update_fav_button()

    def _update_fav_button(self) -> None:
        fav = self._favourite_for_state()
        on = fav is not None and self.session.favourites.contains(fav)
        self.motif.fav_button.setText("★ Favourite" if on else "☆ Favourite")

    @Slot()
    def export_motif(self, path: str | None = None) -> None:
        result = self.motif.last_result
        if result is None:
            self.show_error("Nothing to export yet: open a model and pick a motif first.")
            return
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Export motif", f"motif-{result.request.seeds[0]}.png",
                                                  "PNG (*.png);;TIFF (*.tif)")
        if not path:
            return
        from batikstudio.errors import BatikError
        from batikstudio.io.provenance import save_image

        try:
            save_image(path, result.images[0], result.provenance(0, Path(str(self.session.model.path)).stem))
        except BatikError as exc:
            self.show_error(str(exc))
            return
        self.statusBar().showMessage(f"Saved {path}", 5000)

    # -- training ---------------------------------------------------------------------------

    @Slot()
    def open_train_wizard(self):
        """Open the fine-tuning wizard (non-blocking); its plan starts in the Training tab."""
        from batikstudio.app.train_wizard import TrainWizard

        wizard = TrainWizard(self)
        wizard.planReady.connect(self.start_training)
        wizard.open()
        self.train_wizard = wizard
        return wizard

    @Slot(object)
    def start_training(self, plan: Any) -> None:
        from batikstudio.errors import BatikError

        try:
            self.trainer.start(plan)
        except BatikError as exc:
            self.show_error(str(exc))
            return
        self.tabs.setCurrentWidget(self.trainer)

    @Slot()
    def offer_recovery(self) -> None:
        """Offer the newest interrupted training run for resumption (non-blocking)."""
        runs = self.trainer.registry.interrupted()
        if not runs or self.trainer.running:
            return
        names = "\n".join(f"• {r.name}" for r in runs[:5])
        box = QMessageBox(QMessageBox.Icon.Question, "Batik Studio",
                          f"Training was interrupted (the app closed or crashed):\n{names}\n\n"
                          f"Resume {runs[0].name} from its last snapshot?", QMessageBox.StandardButton.NoButton, self)
        box.setObjectName("recoveryDialog")
        self.recovery_resume = box.addButton("Resume", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
        self.recovery_forget = box.addButton("Forget these runs", QMessageBox.ButtonRole.DestructiveRole)
        self.recovery_runs = runs
        box.buttonClicked.connect(self._on_recovery_answer)
        box.open()
        self.recovery_box = box

    @Slot(object)
    def _on_recovery_answer(self, button: Any) -> None:
        if button is self.recovery_resume:
            self.trainer.resume_run(self.recovery_runs[0].run_dir)
            self.tabs.setCurrentWidget(self.trainer)
        elif button is self.recovery_forget:
            for run in self.recovery_runs:
                self.trainer.registry.set_status(run.run_dir, "stopped")

    @Slot(str)
    def _on_model_exported(self, path: str) -> None:
        """Hand-off: the run's model is in the library; open it in the explorer."""
        self.library.refresh()
        self.open_model(path)

    def confirm_close_during_training(self) -> bool:
        """Ask before closing while a run trains (tests replace this)."""
        answer = QMessageBox.question(
            self, "Batik Studio", "A training run is going. Stop it and quit? A snapshot is written and "
            "the run is offered for resumption at the next start.")
        return answer == QMessageBox.StandardButton.Yes

    # -- drag and drop, close -------------------------------------------------------------

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        urls = event.mimeData().urls()
        if urls and Path(urls[0].toLocalFile()).suffix in MODEL_SUFFIXES:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        urls = event.mimeData().urls()
        if urls:
            self.open_model(urls[0].toLocalFile())

    def shutdown(self) -> bool:
        """Stop every background thread; True when all ended."""
        ok = self.session.shutdown()  # first: no model or directions arrive after this
        ok = self.grid.shutdown() and ok
        ok = self.motif.shutdown() and ok
        ok = self.mixing.shutdown() and ok
        ok = self.animate.shutdown() and ok
        ok = self.post_panel.shutdown() and ok
        ok = self.print_panel.shutdown() and ok
        ok = self.trainer.shutdown() and ok
        ok = self.favourites_panel.shutdown() and ok
        return ok

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self.trainer.running and not self.confirm_close_during_training():
            event.ignore()
            return
        QSettings().setValue("window/geometry", self.saveGeometry())
        self.shutdown()
        super().closeEvent(event)
