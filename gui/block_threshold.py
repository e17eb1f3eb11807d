"""The run option "block threshold": how long the event loop may stand still before the
run names the code that blocked it (`start(block_threshold=...)`, docs/design.md §3.9).

Milliseconds in the form (a threshold is 50 ms to a few seconds: whole ms read better
than 0.100 s); 0 turns the watchdog off for the run.
"""

from __future__ import annotations

from PySide6.QtWidgets import QSpinBox, QWidget

from graphdeck import limits

#: the core's default (100 ms), in the spin box's unit
DEFAULT_MS = round((limits.BLOCK_THRESHOLD or 0.0) * 1000)
MAX_MS = 60_000


class BlockThresholdSpin(QSpinBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("block-threshold")
        self.setRange(0, MAX_MS)
        self.setSingleStep(50)
        self.setSuffix(" ms")
        self.setSpecialValueText("off")  # shown at 0
        self.setValue(DEFAULT_MS)
        self.setToolTip(
            "name the code that blocks the event loop for longer than this "
            "(a warning, a badge on the node, a band on the plots); off: no watchdog"
        )

    def seconds(self) -> float | None:
        """As `start()` takes it (None: off)."""
        return self.value() / 1000 if self.value() else None
