"""Favourites & collections panel: browse kept motifs, group them, write notes, reopen them.

The store (:class:`~batikstudio.io.favourites.FavouritesStore`, ``session.favourites``) is
the model; this widget is its view. Two background jobs, both Qt-free functions:

* :func:`favourite_thumbnails_job` renders 96 px thumbnails of the open model's favourites,
  one ``partial`` per favourite, so they appear one by one. Thumbnails are cached by the
  favourite's key (model hash + state), so a stale result can never show the wrong motif.
* :func:`locate_model_job` finds the model file of a favourite of another model by hash.

Reopening a favourite of the open model is an undoable edit of the view-model; one of
another model opens that model first and applies the state when ``session.modelChanged``
arrives.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QInputDialog, QLabel, QLineEdit, QListWidget, QListWidgetItem, QMenu,
    QPushButton, QToolButton, QVBoxLayout, QWidget,
)

from batikstudio.app.imageutil import to_pixmap
from batikstudio.app.qtjobs import TaskRunner
from batikstudio.errors import BatikError
from batikstudio.io.favourites import DEFAULT_COLLECTION, Favourite
from batikstudio.render.motif import MotifState

log = logging.getLogger(__name__)

THUMB = 96
KEY_ROLE = Qt.ItemDataRole.UserRole + 1
ALL = "All"
_REFUSED = object()  # what _guard returns when the store refused a change


# -- jobs (no Qt) --------------------------------------------------------------------------


@dataclass(frozen=True)
class ThumbnailsRequest:
    """Favourites of one open model to render: ``(key, state dict)`` pairs."""

    model: Any
    states: tuple[tuple[tuple[str, str], dict], ...]
    directions: Any = None
    size: int = THUMB


def favourite_thumbnails_job(req: ThumbnailsRequest, ctx) -> int:
    """Job: render each favourite; ``ctx.partial((key, image))`` per favourite.

    ``image`` is HWC uint8 of ``req.size`` pixels, or None when the state does not fit the
    model (a class or layer range it lacks). Returns how many were rendered.
    """
    from batikstudio.render.engine import render

    count = 0
    n_dirs = req.directions.count if req.directions is not None else 16
    for i, (key, state) in enumerate(req.states):
        ctx.check()
        image: np.ndarray | None = None
        try:
            request = MotifState.from_dict(state).request(out_size=req.size, directions_count=n_dirs)
            image = render(req.model, request, directions=req.directions).images[0]
            count += 1
        except (ValueError, TypeError, KeyError) as exc:
            log.info("favourite thumbnail not rendered: %s", exc)
        ctx.partial((key, image))
        ctx.progress(i + 1, len(req.states))
    return count


@dataclass(frozen=True)
class LocateRequest:
    """Where to look for the model with SHA-256 ``sha256``: stored path first, then the library."""

    sha256: str
    candidates: tuple[str, ...]


def locate_model_job(req: LocateRequest, ctx) -> str | None:
    """Job: path of the first candidate file whose hash is ``req.sha256``, or None."""
    from batikstudio.io.favourites import find_model_path

    ctx.status("looking for the favourite's model")
    found = find_model_path(req.sha256, req.candidates)
    return None if found is None else str(found)


# -- the panel ------------------------------------------------------------------------------


def _placeholder(colour: str, text: str = "") -> QPixmap:
    pixmap = QPixmap(THUMB, THUMB)
    pixmap.fill(QColor(colour))
    if text:
        painter = QPainter(pixmap)
        painter.setPen(QColor("#5b4a32"))
        painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
        painter.end()
    return pixmap


def state_lines(state: dict) -> list[str]:
    """Two short lines for a motif state (they fit beside a thumbnail in a narrow dock):
    ``seed N``, then ``class · ψ · mixed · edited``."""
    second = []
    cls = state.get("class", state.get("class_index"))  # MotifState.to_dict names it "class"
    if cls is not None:
        second.append(f"class {cls}")
    if isinstance(state.get("psi"), (int, float)):
        second.append(f"ψ {state['psi']:.2f}")
    if state.get("mix"):
        second.append("mixed")
    if state.get("directions"):
        second.append("edited")
    return [f"seed {state.get('seed', '?')}"] + ([" · ".join(second)] if second else [])


def describe_state(state: dict) -> str:
    """One line for a motif state, e.g. ``seed 4 · class 2 · ψ 0.50 · mixed``."""
    return " · ".join(state_lines(state))


class FavouritesPanel(QWidget):
    """Collections selector, thumbnail list, note, move/remove; double-click reopens a motif.

    Signals: ``favouritesChanged()`` after this panel changed the store; ``motifOpened()``
    when a favourite's state was applied; ``errorOccurred(str)`` with a one-line message.
    """

    favouritesChanged = Signal()
    motifOpened = Signal()
    errorOccurred = Signal(str)

    def __init__(self, session: Any, vm: Any, model_paths: Callable[[], Iterable[str]] = tuple,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.vm, self._model_paths = session, vm, model_paths
        self._thumbs: dict[tuple[str, str], QPixmap] = {}
        self._unrenderable: set[tuple[str, str]] = set()
        self._in_flight: frozenset = frozenset()
        self._pending: Favourite | None = None
        self._waiting = _placeholder("#d8cfbd")
        self._elsewhere = _placeholder("#e9e3d6", "other\nmodel")
        self._thumb_runner = TaskRunner(self)
        self._locator = TaskRunner(self)
        self._build()
        session.modelChanged.connect(self._on_model_changed)
        session.directionsReady.connect(self._on_directions)
        session.error.connect(self._on_session_error)
        self.refresh()

    # -- layout ----------------------------------------------------------------------------

    def _button(self, text: str, tip: str, slot: Callable) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    def _build(self) -> None:
        self.collection_box = QComboBox(self)
        self.collection_box.setObjectName("collectionBox")
        self.collection_box.currentIndexChanged.connect(self._on_collection)
        self.new_button = self._button("New…", "New empty collection", self._on_new)
        self.rename_button = self._button("Rename…", "Rename this collection", self._on_rename)
        self.delete_button = self._button("Delete", "Delete this collection (its motifs go back to "
                                          f"{DEFAULT_COLLECTION!r})", self.delete_collection)
        top = QHBoxLayout()
        top.addWidget(self.collection_box, 1)
        bar = QHBoxLayout()
        for b in (self.new_button, self.rename_button, self.delete_button):
            bar.addWidget(b)
        bar.addStretch(1)
        self.list = QListWidget(self)
        self.list.setObjectName("favouritesList")
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setWordWrap(True)
        self.list.setSpacing(2)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.currentItemChanged.connect(self._on_current)
        self.list.itemActivated.connect(self._on_activated)
        self.note = QLineEdit(self)
        self.note.setPlaceholderText("Note (Enter to keep)")
        self.note.editingFinished.connect(self._on_note)
        self.move_button = QPushButton("Move to…", self)
        self.move_button.setToolTip("Move this motif to another collection")
        self.move_menu = QMenu(self.move_button)
        self.move_menu.aboutToShow.connect(self._fill_move_menu)
        self.move_menu.triggered.connect(self._on_move_action)
        self.move_button.setMenu(self.move_menu)
        self.remove_button = self._button("Remove", "Forget this favourite", self.remove_selected)
        actions = QHBoxLayout()
        actions.addWidget(self.move_button)
        actions.addWidget(self.remove_button)
        actions.addStretch(1)
        self.info = QLabel("Double-click a motif to open it.", self)
        self.info.setWordWrap(True)
        self.setMinimumWidth(220)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addLayout(bar)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.note)
        layout.addLayout(actions)
        layout.addWidget(self.info)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        # wide enough for a thumbnail and two short lines beside it; may shrink to the minimum
        return QSize(280, super().sizeHint().height())

    # -- reading the store -----------------------------------------------------------------

    @property
    def store(self):
        return self.session.favourites

    def current_collection(self) -> str | None:
        """The collection shown (None: all of them)."""
        return self.collection_box.currentData()

    def selected(self) -> Favourite | None:
        item = self.list.currentItem()
        return None if item is None else self.store.get(item.data(KEY_ROLE))

    def select(self, fav: Favourite) -> bool:
        """Make ``fav`` the current item; False when it is not shown."""
        for i in range(self.list.count()):
            if self.list.item(i).data(KEY_ROLE) == fav.key:
                self.list.setCurrentRow(i)
                return True
        return False

    def select_collection(self, name: str | None) -> None:
        index = self.collection_box.findData(name)
        self.collection_box.setCurrentIndex(max(index, 0))

    def thumbnail(self, fav: Favourite) -> QPixmap | None:
        """The rendered thumbnail of ``fav`` (None until it is ready, or for other models)."""
        return self._thumbs.get(fav.key)

    def _open_sha(self) -> str | None:
        model = self.session.model
        return None if model is None else model.sha256

    # -- refresh ---------------------------------------------------------------------------

    @Slot()
    def refresh(self) -> None:
        """Rebuild the selector and the list from the store; keeps the selection."""
        self._fill_collections()
        keep = self.list.currentItem().data(KEY_ROLE) if self.list.currentItem() else None
        self.list.blockSignals(True)
        self.list.clear()
        for fav in self.store.in_collection(self.current_collection()):
            self.list.addItem(self._make_item(fav))
            if fav.key == keep:
                self.list.setCurrentRow(self.list.count() - 1)
        self.list.blockSignals(False)
        self._on_current(self.list.currentItem(), None)
        self._update_buttons()
        self._render_thumbnails()

    def _fill_collections(self) -> None:
        current = self.current_collection()
        box = self.collection_box
        box.blockSignals(True)
        box.clear()
        box.addItem(f"{ALL} ({len(self.store.items)})", None)
        for name in self.store.collections():
            box.addItem(f"{name} ({len(self.store.in_collection(name))})", name)
        index = box.findData(current)
        box.setCurrentIndex(max(index, 0))
        box.blockSignals(False)

    def _make_item(self, fav: Favourite) -> QListWidgetItem:
        mine = fav.model_sha256 == self._open_sha()
        lines = state_lines(fav.state)
        if not mine:
            lines.append(f"model: {fav.model_name}")
        if self.current_collection() is None and fav.collection != DEFAULT_COLLECTION:
            lines.append(f"[{fav.collection}]")
        if fav.note:
            lines.append(f"“{fav.note}”")
        item = QListWidgetItem("\n".join(lines))
        item.setData(KEY_ROLE, fav.key)
        pixmap = self._thumbs.get(fav.key) if mine else None
        item.setIcon(QIcon(pixmap or (self._waiting if mine else self._elsewhere)))
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(fav.created))
        item.setToolTip(f"{fav.model_name}  (sha256 {fav.model_sha256[:12]}…)\n{fav.model_path}\n"
                        f"collection: {fav.collection} · kept {created}\n"
                        f"{json.dumps(fav.state, sort_keys=True)}")
        return item

    def _update_buttons(self) -> None:
        name = self.current_collection()
        editable = name is not None and name != DEFAULT_COLLECTION
        self.rename_button.setEnabled(editable)
        self.delete_button.setEnabled(editable)
        has = self.list.currentItem() is not None
        for w in (self.note, self.move_button, self.remove_button):
            w.setEnabled(has)

    # -- thumbnails ------------------------------------------------------------------------

    def _render_thumbnails(self) -> None:
        model = self.session.model
        if model is None:
            return
        directions = self.session.directions
        todo = []
        for fav in self.store.in_collection(self.current_collection()):
            if fav.model_sha256 != model.sha256 or fav.key in self._thumbs or fav.key in self._unrenderable:
                continue
            if fav.state.get("directions") and directions is None:
                continue  # rendered once the model's directions are ready
            todo.append((fav.key, fav.state))
        keys = frozenset(k for k, _ in todo)
        if not todo or (keys == self._in_flight and self._thumb_runner.running):
            return
        self._in_flight = keys
        signals = self._thumb_runner.start(favourite_thumbnails_job,
                                           ThumbnailsRequest(model, tuple(todo), directions))
        signals.partial.connect(self._on_thumbnail)
        signals.finished.connect(self._on_thumbnails_done)
        signals.failed.connect(self._on_thumbnails_failed)

    @Slot(object)
    def _on_thumbnail(self, payload: Any) -> None:
        key, image = payload
        if image is None:
            self._unrenderable.add(key)
            return
        self._thumbs[key] = to_pixmap(image)
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(KEY_ROLE) == key:
                item.setIcon(QIcon(self._thumbs[key]))

    @Slot(object)
    def _on_thumbnails_done(self, _count: Any) -> None:
        self._in_flight = frozenset()
        self._render_thumbnails()  # favourites added while it ran

    @Slot(object)
    def _on_thumbnails_failed(self, exc: object) -> None:
        self._in_flight = frozenset()
        self.info.setText(f"Thumbnails failed: {exc}")

    @Slot(object)
    def _on_directions(self, _directions: Any) -> None:
        self._render_thumbnails()

    # -- collections -----------------------------------------------------------------------

    def ask_name(self, title: str, label: str, default: str = "") -> str | None:
        """Ask for a collection name (modal); None if cancelled. Tests replace this."""
        text, ok = QInputDialog.getText(self, title, label, QLineEdit.EchoMode.Normal, default)
        return text if ok else None

    def _changed(self, message: str) -> None:
        self.info.setText(message)
        self.refresh()
        self.favouritesChanged.emit()

    def _guard(self, action: Callable[[], Any]) -> Any:
        """Run a store change; a refusal (BatikError) becomes ``errorOccurred`` and _REFUSED."""
        try:
            return action()
        except BatikError as exc:
            self.errorOccurred.emit(str(exc))
            return _REFUSED

    @Slot(int)
    def _on_collection(self, _index: int) -> None:
        self.refresh()

    @Slot()
    def _on_new(self) -> None:
        name = self.ask_name("New collection", "Name of the new collection:")
        if name is not None:
            self.new_collection(name)

    def new_collection(self, name: str) -> str | None:
        """Create an empty collection and show it; returns its name (None if refused)."""
        created = self._guard(lambda: self.store.add_collection(name))
        if created is _REFUSED:
            return None
        self._fill_collections()
        self.select_collection(created)
        self._changed(f"Collection {created!r} created.")
        return created

    @Slot()
    def _on_rename(self) -> None:
        old = self.current_collection()
        if old is None:
            return
        name = self.ask_name("Rename collection", f"New name for {old!r}:", old)
        if name is not None:
            self.rename_collection(name)

    def rename_collection(self, new: str) -> str | None:
        """Rename the collection shown; returns the new name (None if refused)."""
        old = self.current_collection()
        if old is None:
            return None
        renamed = self._guard(lambda: self.store.rename_collection(old, new))
        if renamed is _REFUSED:
            return None
        self._fill_collections()
        self.select_collection(renamed)
        self._changed(f"Collection {old!r} is now {renamed!r}.")
        return renamed

    @Slot()
    def delete_collection(self) -> None:
        """Delete the collection shown; its favourites go back to the default collection."""
        name = self.current_collection()
        if name is None:
            return
        moved = self._guard(lambda: self.store.delete_collection(name))
        if moved is not _REFUSED:
            self.select_collection(DEFAULT_COLLECTION)
            self._changed(f"Collection {name!r} deleted; {moved} motif(s) moved back to {DEFAULT_COLLECTION!r}.")

    # -- the selected favourite ------------------------------------------------------------

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_current(self, item: QListWidgetItem | None, _previous: Any) -> None:
        fav = None if item is None else self.store.get(item.data(KEY_ROLE))
        self.note.blockSignals(True)
        self.note.setText("" if fav is None else fav.note)
        self.note.blockSignals(False)
        self._update_buttons()

    @Slot()
    def _on_note(self) -> None:
        fav = self.selected()
        if fav is not None and self.note.text().strip() != fav.note:
            self.set_note(self.note.text())

    def set_note(self, text: str) -> None:
        """Keep ``text`` as the note of the selected favourite."""
        fav = self.selected()
        if fav is not None and self._guard(lambda: self.store.set_note(fav, text)) is not _REFUSED:
            self._changed("Note kept.")

    @Slot()
    def _fill_move_menu(self) -> None:
        self.move_menu.clear()
        fav = self.selected()
        for name in self.store.collections():
            action = self.move_menu.addAction(name)
            action.setData(name)
            action.setEnabled(fav is not None and name != fav.collection)
        self.move_menu.addSeparator()
        self.move_menu.addAction("New collection…").setData(None)

    @Slot(QAction)
    def _on_move_action(self, action: QAction) -> None:
        name = action.data()
        if name is None:
            name = self.ask_name("New collection", "Move to a new collection called:")
        if name:
            self.move_selected(name)

    def move_selected(self, collection: str) -> None:
        """Move the selected favourite to ``collection`` (created if new)."""
        fav = self.selected()
        if fav is None:
            return
        moved = self._guard(lambda: self.store.move(fav, collection))
        if moved is not _REFUSED:
            self._changed(f"Moved to {moved.collection!r}.")

    @Slot()
    def remove_selected(self) -> None:
        """Forget the selected favourite."""
        fav = self.selected()
        if fav is not None and self._guard(lambda: self.store.remove(fav)) is not _REFUSED:
            self._thumbs.pop(fav.key, None)
            self._changed("Removed from favourites.")

    # -- reopening -------------------------------------------------------------------------

    @Slot(QListWidgetItem)
    def _on_activated(self, item: QListWidgetItem) -> None:
        fav = self.store.get(item.data(KEY_ROLE))
        if fav is not None:
            self.open_favourite(fav)

    def open_favourite(self, fav: Favourite) -> None:
        """Show ``fav``: apply its state now (open model) or after opening its model file."""
        if fav.model_sha256 == self._open_sha():
            self._pending = None
            self._apply(fav)
            return
        self._pending = fav
        self.info.setText(f"Looking for {fav.model_name}…")
        candidates = (fav.model_path,) + tuple(str(p) for p in self._model_paths())
        signals = self._locator.start(locate_model_job, LocateRequest(fav.model_sha256, candidates))
        signals.finished.connect(self._on_located)
        signals.failed.connect(self._on_locate_failed)

    @Slot(object)
    def _on_located(self, path: str | None) -> None:
        fav = self._pending
        if fav is None:
            return
        if path is None:
            self._pending = None
            self.info.setText("")
            self.errorOccurred.emit(
                f"The model of this favourite ({fav.model_name}, sha256 {fav.model_sha256[:12]}…) was not "
                f"found: it is no longer at {fav.model_path} nor in the model library. Put the file back "
                "in your models folder and try again.")
            return
        self.info.setText(f"Opening {Path(path).name}…")
        self.session.open(path)

    @Slot(object)
    def _on_locate_failed(self, exc: object) -> None:
        self._pending = None
        self.errorOccurred.emit(f"Could not look for the favourite's model: {exc}")

    @Slot(object)
    def _on_model_changed(self, model: Any) -> None:
        fav = self._pending
        if fav is not None and fav.model_sha256 != model.sha256:
            self._pending = None  # another model was opened meanwhile
        elif fav is not None:
            # after every other receiver of modelChanged (the motif view resets the state)
            QTimer.singleShot(0, self._apply_pending)

    @Slot()
    def _apply_pending(self) -> None:
        fav, self._pending = self._pending, None
        if fav is not None and fav.model_sha256 == self._open_sha():
            self._apply(fav)

    @Slot(str)
    def _on_session_error(self, _text: str) -> None:
        self._pending = None  # the model did not open; the window shows the error

    def _apply(self, fav: Favourite) -> None:
        try:
            state = MotifState.from_dict(fav.state)
        except (ValueError, TypeError, KeyError) as exc:
            self.errorOccurred.emit(f"This favourite cannot be opened: {exc}")
            return
        self.vm.edit(state, "open favourite")
        self.info.setText(f"Opened {describe_state(fav.state)}.")
        self.motifOpened.emit()

    def shutdown(self) -> bool:
        """Stop the background jobs; True when they ended."""
        self._pending = None
        ok = self._locator.shutdown()
        return self._thumb_runner.shutdown() and ok
