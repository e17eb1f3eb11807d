"""Find and filter over the graph: a field that finds nodes by id or tool as you type, the
matches counted and stepped through, and a filter by state."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

from .graph_search import FILTERS
from .graph_view import GraphView


class FindBar(QWidget):
    """Drives a `GraphView`'s `find`, `find_next` and `set_state_filter`."""

    #: the bar was closed (Escape or ✕): the canvas takes the focus back
    closed = Signal()

    def __init__(self, view: GraphView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.field = QLineEdit()
        self.field.setObjectName("find-field")
        self.field.setPlaceholderText("Find a node by id or tool  (Enter: next, Shift+Enter: back)")
        self.field.setClearButtonEnabled(True)
        self.count_label = QLabel("")
        self.count_label.setObjectName("find-count")
        self.previous_button = QToolButton(text="▲")
        self.next_button = QToolButton(text="▼")
        self.filter_combo = QComboBox()
        self.filter_combo.setObjectName("state-filter")
        self.filter_combo.addItems(list(FILTERS))
        self.filter_combo.setToolTip("show only nodes in these states (the others are faded)")
        self.close_button = QToolButton(text="✕")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        for widget in (self.field, self.count_label, self.previous_button, self.next_button):
            layout.addWidget(widget)
        layout.addWidget(QLabel("show"))
        layout.addWidget(self.filter_combo)
        layout.addWidget(self.close_button)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.field.textChanged.connect(self._on_field_text_changed)
        self.field.returnPressed.connect(self._on_field_return_pressed)
        self.previous_button.clicked.connect(self._on_previous_button_clicked)
        self.next_button.clicked.connect(self._on_field_return_pressed)
        self.filter_combo.currentTextChanged.connect(self._on_filter_combo_current_text_changed)
        self.close_button.clicked.connect(self._on_close_button_clicked)

    def open(self) -> None:
        """Show the bar with the field focused and its text selected (Ctrl+F)."""
        self.show()
        self.field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.field.selectAll()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self._on_close_button_clicked()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and (
            event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            self._step(backwards=True)
            return
        super().keyPressEvent(event)

    def _step(self, backwards: bool) -> None:
        self.view.find_next(backwards)
        self._show_count()

    def _show_count(self) -> None:
        matches = self.view.matches
        if not self.field.text().strip():
            self.count_label.setText("")
        elif not matches:
            self.count_label.setText("no match")
        else:
            key = self.view.selected_key
            position = matches.index(key) + 1 if key in matches else 0
            self.count_label.setText(f"{position:,} of {len(matches):,}")

    @Slot(str)
    def _on_field_text_changed(self, text: str) -> None:
        self.view.find(text)
        self._show_count()

    @Slot()
    def _on_field_return_pressed(self) -> None:
        self._step(backwards=False)

    @Slot()
    def _on_previous_button_clicked(self) -> None:
        self._step(backwards=True)

    @Slot(str)
    def _on_filter_combo_current_text_changed(self, name: str) -> None:
        self.view.set_state_filter(name)

    @Slot()
    def _on_close_button_clicked(self) -> None:
        self.field.clear()
        self.filter_combo.setCurrentIndex(0)  # nothing hidden by a bar no longer shown
        self.hide()
        self.closed.emit()
