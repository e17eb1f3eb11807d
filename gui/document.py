"""The open graph file: loaded off the GUI thread (a slow or hanging import never freezes
the window), watched for changes, and its problems turned into one readable line."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from graphdeck import GraphLoadError, Tool
from graphdeck.loader import GraphDef, load_graph_file

RELOAD_DEBOUNCE_MS = 250
T = TypeVar("T")


def _in_daemon_thread(fn: Callable[..., T], *args: object) -> asyncio.Future[T]:
    """Run `fn` in a daemon thread: a graph module that hangs while importing keeps the
    window responsive and can never stop the app from exiting."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(setter: Callable[[Any], None], value: Any) -> None:
        if not future.done():  # the awaiting task may have been cancelled meanwhile
            setter(value)

    def work() -> None:
        try:
            value = fn(*args)
        except BaseException as exc:  # handed to the awaiting coroutine
            loop.call_soon_threadsafe(settle, future.set_exception, exc)
        else:
            loop.call_soon_threadsafe(settle, future.set_result, value)

    threading.Thread(target=work, name="graphdeck-load", daemon=True).start()
    return future


class GraphDocument(QObject):
    """Signals: `loading(path)`, `loaded()` (graphs changed), `failed(message)`."""

    loading = Signal(str)
    loaded = Signal()
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path: Path | None = None
        self.graphs: dict[str, GraphDef] = {}
        #: the module's tools by name: a re-run after a reload picks up their new code
        self.tools: dict[str, Tool] = {}
        self.error: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._on_watcher_file_changed)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(RELOAD_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.reload)

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def open(self, path: str | Path) -> asyncio.Task[None]:
        """Start loading `path` (replacing any load in progress); returns the task."""
        self.path = Path(path)
        if self._watcher.files():
            self._watcher.removePaths(self._watcher.files())
        if self.path.is_file():
            self._watcher.addPath(str(self.path))
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self.loading.emit(str(self.path))
        self._task = asyncio.get_running_loop().create_task(self._load(self.path))
        return self._task

    def reload(self) -> asyncio.Task[None] | None:
        return self.open(self.path) if self.path is not None else None

    async def _load(self, path: Path) -> None:
        try:
            loaded = await _in_daemon_thread(load_graph_file, path)
        except GraphLoadError as exc:
            self.graphs, self.error = {}, str(exc)
            self.failed.emit(self.error)
            return
        except Exception as exc:  # anything else a user module can do at import time
            self.graphs, self.error = {}, f"{path}: {type(exc).__name__}: {exc}"
            self.failed.emit(self.error)
            return
        self.graphs, self.error = loaded.graphs, None
        self.tools = {t.name: t for t in vars(loaded.module).values() if isinstance(t, Tool)}
        self.loaded.emit()

    def _on_watcher_file_changed(self, path: str) -> None:
        # Editors often replace the file: watch the new one, and merge bursts of saves.
        if Path(path).exists() and path not in self._watcher.files():
            self._watcher.addPath(path)
        self._debounce.start()
