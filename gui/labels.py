"""Labels that never widen their window.

A QLabel asks its layout for the width of its longest line (with word wrap: of its longest
word). In a dock that request reaches the main window: one error message of 300 words
without a newline made the window 2,054 px wide (19,000 with a long path in it), and the
window kept that width in its settings. Text here wraps or elides instead, and the whole
of it is in the tooltip when it does not fit.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

#: text past this many characters is cut from a wrapping label (the tooltip has it all)
LONGEST_WRAPPED = 600
#: a tooltip this long is already more than anyone reads
LONGEST_TIP = 4000


def wrapping(label: QLabel) -> QLabel:
    """Make `label` wrap at whatever width its layout gives it, and never ask for more:
    a word longer than that is clipped, never a reason to grow. Returns it."""
    policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    policy.setHeightForWidth(True)
    label.setSizePolicy(policy)
    label.setWordWrap(True)
    return label


def set_wrapped_text(label: QLabel, text: str) -> None:
    """Show `text` in a `wrapping` label: at most `LONGEST_WRAPPED` characters of it,
    and all of it (up to `LONGEST_TIP`) in the tooltip when cut."""
    if len(text) > LONGEST_WRAPPED:
        label.setText(text[:LONGEST_WRAPPED] + " …")
        label.setToolTip(text[:LONGEST_TIP])
    else:
        label.setText(text)
        label.setToolTip("")


class ElidedLabel(QLabel):
    """One line that ends in "…" when it does not fit (the whole line in its tooltip).

    `text()` is the whole line, as set."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Invariant: `_full` is the text as set; QLabel's own text is its elided form.
        self._full = ""
        self.setText(text)

    def setText(self, text: str) -> None:
        if text == self._full:
            return
        self._full = text
        self._elide()
        # The size hint follows the whole line; QLabel's setText asks the layout again
        # only when its own (elided) text changes, and "" stays "" while the label is
        # too narrow: without this it never grew (the status bar's line stayed 8 px wide).
        self.updateGeometry()

    def text(self) -> str:
        return self._full

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        frame = self.width() - self.contentsRect().width()  # margins, style sheet padding
        return QSize(self.fontMetrics().horizontalAdvance(self._full) + frame + 8, hint.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        line = self._full.replace("\n", " ")
        room = self.contentsRect().width()  # not width(): padding would clip the end unelided
        shown = self.fontMetrics().elidedText(line, Qt.TextElideMode.ElideRight, room)
        super().setText(shown)
        self.setToolTip(self._full[:LONGEST_TIP] if shown != line else "")
