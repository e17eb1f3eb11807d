"""A form built from a graph's declared inputs. Each value is JSON or a Python literal;
bad values are marked and named, and Run stays disabled until all parse."""

from __future__ import annotations

import ast
import json
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QWidget


class InputError(ValueError):
    """An input's text is neither JSON nor a Python literal."""


def parse_value(text: str) -> Any:
    text = text.strip()
    if not text:
        raise InputError("empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise InputError(f"not JSON or a Python literal ({exc.__class__.__name__})") from None


def show_default(value: Any) -> str:
    if isinstance(value, tuple):
        value = list(value)
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


class InputsForm(QWidget):
    """Signals: `validity_changed(bool)`."""

    validity_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_ = QFormLayout(self)
        self.fields: dict[str, QLineEdit] = {}
        self.problem = QLabel("")
        self.problem.setObjectName("inputs-problem")
        self.problem.setWordWrap(True)
        self._valid = True

    def set_inputs(self, names: tuple[str, ...], values: dict[str, str]) -> None:
        """One field per declared input, filled with `values` (text) where given."""
        while self.layout_.rowCount():
            self.layout_.removeRow(0)
        self.fields = {}
        for name in names:
            field = QLineEdit(values.get(name, ""))
            field.setObjectName(f"input-{name}")
            field.setPlaceholderText("JSON or Python literal, e.g. [1, 2, 3]")
            field.textChanged.connect(self._on_field_text_changed)
            self.fields[name] = field
            self.layout_.addRow(name, field)
        self.problem = QLabel("")
        self.problem.setObjectName("inputs-problem")
        self.problem.setWordWrap(True)
        self.layout_.addRow(self.problem)
        self._on_field_text_changed()

    def texts(self) -> dict[str, str]:
        return {name: field.text() for name, field in self.fields.items()}

    def values(self) -> dict[str, Any]:
        """The parsed inputs; raises InputError naming the first bad one."""
        result = {}
        for name, field in self.fields.items():
            try:
                result[name] = parse_value(field.text())
            except InputError as exc:
                raise InputError(f"input {name!r}: {exc}") from None
        return result

    @property
    def valid(self) -> bool:
        return self._valid

    def _on_field_text_changed(self) -> None:
        problems = []
        for name, field in self.fields.items():
            try:
                parse_value(field.text())
                field.setProperty("invalid", False)
            except InputError as exc:
                problems.append(f"{name}: {exc}")
                field.setProperty("invalid", True)
            field.style().unpolish(field)
            field.style().polish(field)
        self.problem.setText("; ".join(problems))
        valid = not problems
        if valid != self._valid:
            self._valid = valid
        self.validity_changed.emit(valid)
