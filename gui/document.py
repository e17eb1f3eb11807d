"""The open graph file: loaded off the GUI thread (a slow or hanging import never freezes
the window), watched for changes, and its problems turned into one readable line."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, Signal, Slot
from superqt.utils import QSignalDebouncer

from graphdeck import GraphLoadError, Tool
from graphdeck.loader import GraphDef, load_graph_file

from .daemon_thread import in_daemon_thread

RELOAD_DEBOUNCE_MS = 250


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
        #: editors write a file in bursts (truncate, write, rename): reload once after them
        self._reload_debounce = QSignalDebouncer(parent=self)
        self._reload_debounce.setTimeout(RELOAD_DEBOUNCE_MS)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self._watcher.fileChanged.connect(self._on_watcher_file_changed)
        self._reload_debounce.triggered.connect(self.reload)

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

    def close(self) -> None:
        """Stop loading and watching: the window is closing, nobody would see the result."""
        self._reload_debounce.cancel()
        if self._watcher.files():
            self._watcher.removePaths(self._watcher.files())
        if self._task is not None:
            self._task.cancel()

    def reload(self) -> asyncio.Task[None] | None:
        return self.open(self.path) if self.path is not None else None

    async def _load(self, path: Path) -> None:
        try:
            loaded = await in_daemon_thread(load_graph_file, path, name="graphdeck-load")
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

    @Slot(str)
    def _on_watcher_file_changed(self, path: str) -> None:
        # Editors often replace the file: watch the new one, and merge bursts of saves.
        if Path(path).exists() and path not in self._watcher.files():
            self._watcher.addPath(path)
        self._reload_debounce.throttle()
