"""Small widget helpers shared by the views."""

from __future__ import annotations

from PySide6.QtWidgets import QScrollArea, QVBoxLayout, QWidget


def control_column(parent: QWidget, min_width: int) -> tuple[QScrollArea, QVBoxLayout]:
    """A scrollable column for a view's controls: the scroll area and the layout to fill."""
    panel = QScrollArea(parent)
    panel.setWidgetResizable(True)
    panel.setMinimumWidth(min_width)
    inner = QWidget()
    layout = QVBoxLayout(inner)
    panel.setWidget(inner)
    return panel, layout
