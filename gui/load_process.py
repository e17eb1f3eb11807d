"""The loading child as the monitor sees it: a process that imports one graph file and
builds its graphs first, and can be killed when the user stops waiting.

Why a process: Python cannot stop a thread. A module whose import spins, or a builder
that never returns, ran on in a daemon thread for as long as the monitor lived, taking
half a CPU (and the GIL) from every later run. A child holds no lock of the monitor's,
shares no GIL with it, and `kill()` ends it at once. The monitor imports the file (or
builds the graph) itself only once the child has shown that it returns; the price is
doing it twice (README, "Loading").
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, Signal, Slot


class ChildEnded(Exception):
    """The child ended without answering: the file's code ended the process, it
    crashed, or it was stopped."""


#: how long `kill` waits for the killed child to be reaped (it takes a few ms)
KILL_WAIT_MS = 1000


class LoadProcess(QObject):
    """One child for one graph file: `load()` once, then `build()` as often as needed."""

    #: where the child's import or build is now ("slow.py:8")
    position = Signal(str)

    def __init__(self, path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self._process = QProcess(self)
        self._process.setProcessChannelMode(QProcess.ProcessChannelMode.ForwardedErrorChannel)
        # Invariant: the future of the request in flight (at most one), else None.
        self._pending: asyncio.Future[dict[str, Any]] | None = None
        self._lock = asyncio.Lock()
        self._stopped = False
        self._ended: str | None = None  # why the process ended, once it has
        self._connect_signals()

    def _connect_signals(self) -> None:
        self._process.readyReadStandardOutput.connect(self._on_process_ready_read)
        self._process.finished.connect(self._on_process_finished)
        self._process.errorOccurred.connect(self._on_process_error_occurred)

    @property
    def alive(self) -> bool:
        return self._ended is None and not self._stopped

    @property
    def busy(self) -> bool:
        """A request is in flight: the child is importing or building."""
        return self._pending is not None

    async def load(self) -> dict[str, Any]:
        """Start the child and import the file there: `{"loaded": names}` or
        `{"error": line}`. Raises ChildEnded."""
        self._process.start(sys.executable, ["-m", "graphdeck.gui.load_child"])
        hello = {"load": str(self.path), "argv": sys.argv, "sys_path": sys.path, "cwd": os.getcwd()}
        return await self._ask(hello)

    async def build(self, name: str, inputs: str) -> dict[str, Any]:
        """Build graph `name` with `inputs` (the repr of a dict of literals) in the child:
        `{"built": n}` or `{"error": line}`. Raises ChildEnded. Cancelled while the child
        builds, the child is killed: a build nobody waits for must not run on."""
        return await self._ask({"build": name, "inputs": inputs})

    def kill(self) -> None:
        """Stop the child now (whatever it runs); a request in flight raises ChildEnded.
        Once only: after that the QProcess may already be deleted (`dispose`)."""
        if self._stopped:
            return
        self._stopped = True
        if self._process.state() != QProcess.ProcessState.NotRunning:
            self._process.kill()
            # SIGKILL cannot be ignored: the child is gone within milliseconds, and reaping
            # it here means no QProcess is ever deleted (or the app left) while it runs.
            self._process.waitForFinished(KILL_WAIT_MS)
        self._settle_ended("stopped")

    def dispose(self) -> None:
        """Kill the child and delete this object."""
        self.kill()
        self.deleteLater()

    async def _ask(self, message: dict[str, Any]) -> dict[str, Any]:
        async with self._lock:
            if not self.alive:
                raise ChildEnded(self._ended or "stopped")
            loop = asyncio.get_running_loop()
            self._pending = pending = loop.create_future()
            self._process.write((json.dumps(message) + "\n").encode())
            try:
                return await pending
            except asyncio.CancelledError:
                self.kill()
                raise
            finally:
                self._pending = None

    def _settle_ended(self, why: str) -> None:
        if self._ended is None:
            self._ended = why
        pending = self._pending
        if pending is not None and not pending.done():
            pending.set_exception(ChildEnded(self._ended))

    @Slot()
    def _on_process_ready_read(self) -> None:
        while self._process.canReadLine():
            line = bytes(self._process.readLine().data()).decode("utf-8", "replace")
            try:
                message = json.loads(line)
            except ValueError:
                continue  # not ours
            if "at" in message:
                self.position.emit(message["at"])
            elif self._pending is not None and not self._pending.done():
                self._pending.set_result(message)

    @Slot(int, QProcess.ExitStatus)
    def _on_process_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._on_process_ready_read()  # its last words first
        if self._stopped:
            why = "stopped"
        elif status == QProcess.ExitStatus.CrashExit:
            why = "it crashed or was killed"
        else:
            why = f"exit code {code}"
        self._settle_ended(why)

    @Slot(QProcess.ProcessError)
    def _on_process_error_occurred(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._settle_ended(f"could not start {sys.executable}: {self._process.errorString()}")
