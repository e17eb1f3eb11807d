"""Yes/no questions that never block the event loop."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

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
