"""The open graph file: loaded first in a child process that can be killed, then in the
monitor; watched for changes; its problems turned into one readable line.

Loading runs the file's code, which may hang, spin or end the process. So a `LoadProcess`
imports it first: while it does, `waiting` says for how long and where it is (the user
may stop waiting, which kills the child); a file that ends the process while imported
ends only the child. The monitor imports the file itself (in a daemon thread, so the
window never freezes) only once the child has shown that the import returns. The same
child then builds the graphs before the monitor does (`prove_build`). One load of a file
at a time: a new one kills the child of the previous, and waits for an import already
going on in the monitor (which no one can stop) before starting its own.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QFileSystemWatcher, QObject, Signal, Slot
from superqt.utils import QSignalDebouncer

from graphdeck import GraphLoadError, Tool
from graphdeck.loader import GraphDef, GraphFile, load_graph_file

from .daemon_thread import start_daemon_thread
from .load_process import ChildEnded, LoadProcess
from .waiting import Waiting

RELOAD_DEBOUNCE_MS = 250


class GraphDocument(QObject):
    """Signals: `loading(path)`, `loaded()` (graphs changed), `failed(message)`,
    `waiting(line)` ("" once nothing is waited for)."""

    loading = Signal(str)
    loaded = Signal()
    failed = Signal(str)
    waiting = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path: Path | None = None
        # Invariant: `graphs` and `tools` come from the newest load of `path` that
        # succeeded after its last failure: both are empty while `error` is set, so no
        # stale code is ever handed out as the file's.
        self.graphs: dict[str, GraphDef] = {}
        #: the module's tools by name: a re-run after a reload picks up their new code
        self.tools: dict[str, Tool] = {}
        self.error: str | None = None
        self.loaded_at: float | None = None  # when the graphs were loaded (time.time())
        self._task: asyncio.Task[None] | None = None
        self._child: LoadProcess | None = None
        # Invariant: the import of the file running in this process, until it returns
        # (it may never): the next load waits for it rather than start a second one.
        self._importing: asyncio.Future[GraphFile] | None = None
        self._wait = Waiting(self)
        self._stopping = False  # the user stopped waiting for the load under way
        # Invariant: the builds (graph name, inputs repr) the child has shown to return
        # since the file was last loaded: they need no second proof.
        self._proven: set[tuple[str, str]] = set()
        self._watcher = QFileSystemWatcher(self)
        #: editors write a file in bursts (truncate, write, rename): reload once after them
        self._reload_debounce = QSignalDebouncer(parent=self)
        self._reload_debounce.setTimeout(RELOAD_DEBOUNCE_MS)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self._watcher.fileChanged.connect(self._on_watcher_file_changed)
        self._reload_debounce.triggered.connect(self.reload)
        self._wait.changed.connect(self.waiting)

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def waiting_text(self) -> str:
        return self._wait.text()

    def open(self, path: str | Path) -> asyncio.Task[None]:
        """Start loading `path` (replacing any load in progress); returns the task."""
        self.path = Path(path)
        if self._watcher.files():
            self._watcher.removePaths(self._watcher.files())
        if self.path.is_file():
            self._watcher.addPath(str(self.path))
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._replace_child(None)
        self.error, self._stopping = None, False
        self._proven.clear()
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
        self._replace_child(None)
        self._wait.end()

    def reload(self) -> asyncio.Task[None] | None:
        return self.open(self.path) if self.path is not None else None

    def stop_waiting(self) -> None:
        """The user gave up on the import or build under way: kill the child running it
        (an import already in this process cannot be stopped: only no longer waited for)."""
        if self._child is not None and self._child.busy:
            self._child.kill()  # the load or build waiting for it says it stopped
        elif self.busy and self._task is not None:
            self._stopping = True
            self._task.cancel()

    # -- loading ------------------------------------------------------------------------

    async def _load(self, path: Path) -> None:
        try:
            problem = await self._load_in_child(path)
            if problem is None:
                problem = await self._load_here(path)
        except asyncio.CancelledError:
            if self._stopping:  # the user stopped waiting (else: a newer load replaced it)
                self._fail(
                    self._given_up(path) + "; it runs on in the monitor, where it cannot be stopped"
                )
            raise
        finally:
            self._wait.end()
        if problem is not None:
            self._fail(problem)

    async def _load_in_child(self, path: Path) -> str | None:
        """Import in a child first; the problem, or None if the import returned there."""
        child = self._replace_child(LoadProcess(path, self))
        self._wait.begin(f"importing {path.name}", path)
        try:
            reply = await child.load()
        except ChildEnded as ended:
            if str(ended) == "stopped":
                return self._given_up(path)
            return f"{path}: the module ended the process while imported ({ended})"
        return reply.get("error")

    async def _load_here(self, path: Path) -> str | None:
        """Import in this process (the child showed it returns); None once loaded."""
        if self._importing is not None and not self._importing.done():
            self._wait.begin(f"waiting for the previous import of {path.name}", path)
            with contextlib.suppress(Exception):
                await asyncio.shield(self._importing)
        future, thread = start_daemon_thread(load_graph_file, path, name="graphdeck-load")
        self._importing = future
        self._wait.begin(f"importing {path.name} in the monitor", path, thread.ident)
        try:
            loaded = await asyncio.shield(future)
        except GraphLoadError as exc:
            return str(exc)
        except Exception as exc:  # anything else a user module can do at import time
            return f"{path}: {type(exc).__name__}: {exc}"
        self.graphs, self.error, self.loaded_at = loaded.graphs, None, time.time()
        self.tools = {t.name: t for t in vars(loaded.module).values() if isinstance(t, Tool)}
        self.loaded.emit()
        return None

    def _given_up(self, path: Path) -> str:
        what = self._wait.what or f"loading {path.name}"
        return f"{path}: stopped waiting ({what} had taken {self._wait.summary()})"

    def _fail(self, message: str) -> None:
        self.graphs, self.tools, self.error = {}, {}, message
        self.failed.emit(message)

    def _replace_child(self, child: LoadProcess | None) -> LoadProcess | None:
        """Kill the current child (never two at once) and take `child` in its place."""
        if self._child is not None:
            self._child.position.disconnect(self._wait.set_position)
            self._child.dispose()
        self._child = child
        if child is not None:
            child.position.connect(self._wait.set_position)
        return child

    # -- building -----------------------------------------------------------------------

    async def prove_build(self, name: str, inputs: dict[str, Any]) -> str | None:
        """Build graph `name` with `inputs` in the child first: the problem (one line), or
        None when it returned there (or cannot be tried there: inputs that are not
        literals). A build that hangs waits until the user stops waiting."""
        path = self.path
        if path is None or not _literal(inputs) or (name, repr(inputs)) in self._proven:
            return None
        child = self._child
        if child is None or not child.alive:
            child = self._replace_child(LoadProcess(path, self))
            self._wait.begin(f"importing {path.name} to build {name!r}", path)
            try:
                loaded = await child.load()
            except ChildEnded as ended:
                return self._build_ended(path, name, str(ended))
            finally:
                self._wait.end()
            if "error" in loaded:
                return loaded["error"]
        self._wait.begin(f"building graph {name!r}", path)
        try:
            reply = await child.build(name, repr(inputs))
        except ChildEnded as ended:
            return self._build_ended(path, name, str(ended))
        finally:
            self._wait.end()
        if "error" not in reply:
            self._proven.add((name, repr(inputs)))
        return reply.get("error")

    def _build_ended(self, path: Path, name: str, why: str) -> str:
        if why == "stopped":
            given_up = f"building graph {name!r} had taken {self._wait.summary()}"
            return f"{path}: stopped waiting ({given_up})"
        return f"{path}: building graph {name!r} ended the process ({why})"

    @Slot(str)
    def _on_watcher_file_changed(self, path: str) -> None:
        # Editors often replace the file: watch the new one, and merge bursts of saves.
        if Path(path).exists() and path not in self._watcher.files():
            self._watcher.addPath(path)
        self._reload_debounce.throttle()


def _literal(inputs: dict[str, Any]) -> bool:
    """The inputs survive `repr` and `ast.literal_eval` unchanged (so the child can have
    them)."""
    try:
        return ast.literal_eval(repr(inputs)) == inputs
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
