"""What the user is waiting for, as one line that moves: `importing slow.py: 12 s, now at
slow.py:8`. A wait on user code may never end; saying how long it has taken and where it
is lets the user decide to stop waiting."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from .positions import position_of

#: how often the line is redrawn (and an in-process thread's position sampled)
TICK_MS = 250
#: a wait shorter than this is not worth a clock
QUIET_S = 1.0


class Waiting(QObject):
    """One wait at a time: `begin`, positions as they come, `end`."""

    #: the line to show ("" once the wait is over)
    changed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Invariant: `what` is "" exactly when nothing is being waited for.
        self.what = ""
        self._file: Path | None = None
        self._thread_id: int | None = None
        self._since = 0.0
        self.position = ""
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self._ticker.timeout.connect(self._on_ticker_timeout)

    def begin(self, what: str, file: Path, thread_id: int | None = None) -> None:
        """Waiting for `what` ("importing slow.py") on code of `file`; `thread_id`: a
        thread of this process running it, whose position is sampled (else positions
        come through `set_position`)."""
        self.what, self._file, self._thread_id = what, file, thread_id
        self._since, self.position = time.monotonic(), ""
        self._ticker.start()
        self.changed.emit(self.text())

    def set_position(self, at: str) -> None:
        if self.what:
            self.position = at

    def end(self) -> None:
        if self.what:
            self.what, self._thread_id = "", None
            self._ticker.stop()
            self.changed.emit("")

    @property
    def seconds(self) -> float:
        return time.monotonic() - self._since if self.what else 0.0

    def text(self) -> str:
        if not self.what:
            return ""
        if self.seconds < QUIET_S:
            return f"{self.what} …"
        where = f", now at {self.position}" if self.position else ""
        return f"{self.what}: {self.seconds:.0f} s{where}"

    def summary(self) -> str:
        """`12 s, at slow.py:8`: for saying what was given up on."""
        where = f", at {self.position}" if self.position else ""
        return f"{self.seconds:.0f} s{where}"

    @Slot()
    def _on_ticker_timeout(self) -> None:
        if self._thread_id is not None and self._file is not None:
            self.position = position_of(self._thread_id, self._file) or self.position
        self.changed.emit(self.text())
