"""View-model of the current motif: its state plus undo/redo (QUndoStack)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from batikstudio.render.motif import MotifState


class _SetState(QUndoCommand):
    """One edit; consecutive edits of the same control (a slider drag) merge into one."""

    def __init__(self, vm: "MotifViewModel", old: MotifState, new: MotifState, text: str, merge_id: int) -> None:
        super().__init__(text)
        self.vm, self.old, self.new, self._merge = vm, old, new, merge_id

    def id(self) -> int:  # noqa: A003 - Qt API
        return self._merge

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt API
        if self._merge < 0 or other.id() != self._merge:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.vm._apply(self.new)

    def undo(self) -> None:
        self.vm._apply(self.old)


class MotifViewModel(QObject):
    """Holds the :class:`MotifState`; every edit goes through :meth:`edit` and is undoable."""

    stateChanged = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = MotifState()
        self.undo_stack = QUndoStack(self)
        self._merge_ids: dict[str, int] = {}

    def edit(self, new: MotifState, text: str, merge_key: str | None = None) -> None:
        """Apply ``new`` as an undoable edit. Edits with the same ``merge_key`` in a row merge."""
        if new == self.state:
            return
        merge_id = -1 if merge_key is None else self._merge_ids.setdefault(merge_key, len(self._merge_ids) + 1)
        self.undo_stack.push(_SetState(self, self.state, new, text, merge_id))

    def end_merge(self) -> None:
        """Close the current merge run (slider released): the next drag is a new undo step."""
        self._merge_ids = {k: v + 1000 for k, v in self._merge_ids.items()}

    def reset(self, state: MotifState) -> None:
        """Replace the state without undo history (a new model was opened)."""
        self.undo_stack.clear()
        self._apply(state)

    def _apply(self, state: MotifState) -> None:
        self.state = state
        self.stateChanged.emit(state)
