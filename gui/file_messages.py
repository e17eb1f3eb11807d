"""What the window says about the open file, in one place so that its parts agree: the
status bar's line, and what the empty canvas says while no graph is drawn.

Before, a file whose builder raised showed "failed to build: KeyError: 'depth'" in the
panel while the status bar said "loaded builder_raises.py: 1 graph(s)" and the canvas
"No graph to show. Open a graph file…", with the file open. Now a load or build error is
said by all three (the file's name and line, the reason), an agent is said to be drawn as
it runs, and inputs that do not parse are said to be why there is no graph.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Slot

#: how long the status bar keeps a line about the file (ms)
STATUS_MS = 8000


def located(message: str, path: Path | None) -> str:
    """A problem (`/a/b/f.py:10: reason`) as `f.py, line 10: reason`: the whole path is
    in the panel already."""
    if path is None or not message.startswith(f"{path}:"):
        return message
    rest = message[len(str(path)) + 1 :]
    line, colon, reason = rest.partition(":")
    if colon and line.strip().isdigit():
        return f"{path.name}, line {line.strip()}: {reason.strip()}"
    return f"{path.name}: {rest.strip()}"


class FileMessages(QObject):
    """Keeps the status bar and the empty canvas of `window` (a `MainWindow`) in step with
    its file: loading, loaded, not loaded, its graph built or not, an agent."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self._window = window
        self._loading = False  # between the document's `loading` and its outcome
        document, preview, setup = window.document, window.preview, window.setup
        document.loading.connect(self._on_document_loading)
        document.loaded.connect(self._on_document_loaded)
        document.failed.connect(self._on_document_failed)
        preview.failed.connect(self._on_preview_failed)
        for signal in (preview.building, preview.built, setup.preview_changed):
            signal.connect(self._show_hint)

    def canvas_hint(self) -> str:
        """What the empty canvas says now ("": how to open a graph file)."""
        window = self._window
        document = window.document
        path: Path | None = document.path
        if path is None:
            return ""
        if self._loading:
            return f"Loading {path.name} …"
        if document.error:
            return (
                f"{path.name} could not be loaded.\n{located(document.error, path)}\n\n"
                "Fix the file and save it: it is loaded again by itself."
            )
        graph = window.setup.selected_graph()
        if graph is None:
            return ""
        if graph.kind != "graphify":
            return (
                f"{graph.name} is an agent: it has no graph before it runs.\n"
                "Press Run: its calls are drawn as it makes them."
            )
        if not window.controls.inputs_form.valid:
            return f"The inputs of {graph.name} do not parse yet:\nits graph is drawn once they do."
        if window.preview.error:
            return (
                f"Graph {graph.name} could not be built.\n"
                f"{located(window.preview.error, path)}\n\n"
                "Fix the file and save it, or change the inputs."
            )
        return f"Building graph {graph.name} …"

    @Slot()
    def _show_hint(self) -> None:
        self._window.graph_view.set_empty_hint(self.canvas_hint())

    def _say(self, text: str, timeout: int = STATUS_MS) -> None:
        self._window.statusBar().showMessage(text, timeout)
        self._show_hint()

    @Slot(str)
    def _on_document_loading(self, path: str) -> None:
        self._loading = True
        self._say(f"loading {Path(path).name} …", 0)  # Ctrl+R says so too

    @Slot()
    def _on_document_loaded(self) -> None:
        self._loading = False
        document = self._window.document
        count = len(document.graphs)
        self._say(f"loaded {document.path.name}: {count} graph{'s' if count != 1 else ''}")

    @Slot(str)
    def _on_document_failed(self, message: str) -> None:
        self._loading = False
        self._say(f"could not load {located(message, self._window.document.path)}")

    @Slot(str)
    def _on_preview_failed(self, message: str) -> None:
        self._say(f"could not build the graph: {located(message, self._window.document.path)}")
