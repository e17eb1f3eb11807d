"""Questions (yes or no, a file to open) that never block the event loop."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

YES = QMessageBox.StandardButton.Yes


def ask_yes_no(parent: QWidget, name: str, title: str, text: str) -> QMessageBox:
    """Show a window-modal question named `name` and return it at once; connect its
    `finished(int)` (compare with `YES`) for the answer.

    `open()`, not `exec()`: a nested event loop inside qasync breaks running tasks
    ("Cannot enter into task"), and runs must go on while the question is on screen.
    """
    box = QMessageBox(
        QMessageBox.Icon.Question,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        parent,
    )
    box.setObjectName(name)
    box.open()
    return box


def ask_graph_file(parent: QWidget, start_in: str, chosen: Callable[[str], object]) -> QFileDialog:
    """File ▸ Open: `chosen(path)` once a graph file is picked. open(), not exec(): a
    nested modal loop inside qasync breaks running tasks."""
    dialog = QFileDialog(parent, "Open graph file", start_in, "Graph files (*.py)")
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    dialog.fileSelected.connect(chosen)
    dialog.open()
    return dialog
