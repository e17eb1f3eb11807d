"""Choosing what to run: a graph of the open file, its inputs (its defaults, or those it
last ran with), and whether Run can start it now.

A graphify can run once its preview was built for exactly the inputs in the form (off the
GUI thread, see `GraphPreview`); an agent (graph_fn) has no static graph to build, so
valid inputs are enough.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from graphdeck import TaskGraph
from graphdeck.loader import GraphDef

from .controls import ControlsPanel
from .document import GraphDocument
from .graph_roots import default_graph
from .inputs_form import show_default
from .preview import GraphPreview
from .remembered import Remembered


class GraphSetup(QObject):
    """Keeps the controls, the preview and the open file in step."""

    #: whether Run can start the chosen graph now (said after every change)
    ready_changed = Signal(bool)
    #: the preview's nodes, for the canvas while no run is shown ({}: nothing to show)
    preview_changed = Signal(object)
    #: a line over the canvas while the preview builds ("" hides it)
    note_changed = Signal(str)

    def __init__(
        self,
        document: GraphDocument,
        controls: ControlsPanel,
        preview: GraphPreview,
        remembered: Remembered,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._document = document
        self._controls = controls
        self._preview = preview
        self._remembered = remembered
        # Invariant: True between the document's `loading` and its `loaded` or `failed`
        # (its graphs are the previous file's meanwhile).
        self._file_loading = False
        # Invariant: (file, graph name, its declared max_concurrency) whose options the
        # controls show; None when they show none. A reload of that same graph (the file
        # was saved) keeps what the user set in the form.
        self._shown: tuple[Path | None, str, int | None] | None = None
        self._typed: dict[str, str] = {}  # the form's texts when a reload failed (cleared)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self._document.loading.connect(self._on_document_loading)
        self._document.loaded.connect(self._on_document_loaded)
        self._document.failed.connect(self._on_document_failed)
        self._document.waiting.connect(self._on_document_waiting)
        self._controls.stop_button.clicked.connect(self._on_stop_button_clicked)
        self._controls.graph_changed.connect(self._on_controls_graph_changed)
        self._controls.inputs_form.validity_changed.connect(self._on_inputs_form_validity_changed)
        self._preview.building.connect(self._on_preview_building)
        self._preview.built.connect(self._on_preview_built)
        self._preview.failed.connect(self._on_preview_failed)

    def selected_graph(self) -> GraphDef | None:
        return self._document.graphs.get(self._controls.selected_graph_name())

    def inputs_key(self) -> Hashable:
        """The form's inputs exactly as typed: what a preview is built for."""
        return tuple(sorted(self._controls.inputs_form.texts().items()))

    @property
    def ready(self) -> bool:
        graph = self.selected_graph()
        return (
            graph is not None
            and not self._file_loading
            and self._controls.inputs_form.valid
            and (graph.kind != "graphify" or self._preview.ready)
        )

    def remember_inputs(self, graph: GraphDef) -> None:
        """The form's inputs ran: offer them for this graph next time."""
        texts = self._controls.inputs_form.texts()
        self._remembered.remember_inputs(self._document.path, graph.name, texts)

    def _request_preview(self) -> None:
        """Build the chosen graphify for the form's inputs; an agent, or inputs that do
        not parse, have nothing to preview."""
        graph, form = self.selected_graph(), self._controls.inputs_form
        if graph is None or graph.kind != "graphify" or not form.valid:
            self._preview.clear()
            self.note_changed.emit("")
            self.preview_changed.emit({})
        else:
            inputs = form.values()
            self._preview.request(graph, inputs, self.inputs_key(), self._document.path)  # type: ignore[arg-type]
        self.ready_changed.emit(self.ready)

    @Slot(str)
    def _on_document_loading(self, path: str) -> None:
        self._file_loading = True
        self._controls.show_loading(path)
        self._preview.clear()
        self.note_changed.emit("")
        self.ready_changed.emit(False)

    @Slot()
    def _on_document_loaded(self) -> None:
        self._file_loading = False
        graphs = self._document.graphs
        self._controls.show_graphs(str(self._document.path), list(graphs), default_graph(graphs))

    @Slot(str)
    def _on_document_failed(self, message: str) -> None:
        self._file_loading = False
        self._typed = self._typed or self._controls.inputs_form.texts()
        self._controls.show_load_failed(str(self._document.path), message)
        self._request_preview()

    @Slot(str)
    def _on_document_waiting(self, text: str) -> None:
        self._controls.show_waiting(text)
        if self._preview.busy:  # a build: the canvas says it too
            name = self._controls.selected_graph_name()
            self.note_changed.emit(text or f"building graph {name!r} …")

    @Slot()
    def _on_stop_button_clicked(self) -> None:
        self._document.stop_waiting()

    @Slot()
    def _on_controls_graph_changed(self) -> None:
        graph = self.selected_graph()
        if graph is None:
            self._shown = None
            self._controls.set_graph_inputs((), {}, None)
            return
        texts = {name: show_default(value) for name, value in graph.defaults.items()}
        texts.update(self._remembered.inputs(self._document.path, graph.name))
        cap = graph.max_concurrency
        shown, self._shown = self._shown, (self._document.path, graph.name, cap)
        typed, self._typed = self._typed, {}
        if shown is not None and shown[:2] == self._shown[:2]:
            # The same graph, reloaded: the user's typed inputs and cap stay (a cap the
            # file now declares differently is the file's new word).
            texts.update(typed or self._controls.inputs_form.texts())
            if cap == shown[2]:
                cap = self._controls.cap_spin.value()
        # The form says whether the new inputs are valid: that asks for the preview.
        self._controls.set_graph_inputs(graph.inputs, texts, cap)

    @Slot(bool)
    def _on_inputs_form_validity_changed(self, _valid: bool) -> None:
        self._request_preview()

    @Slot(str)
    def _on_preview_building(self, name: str) -> None:
        self.note_changed.emit(f"building graph {name!r} …")
        self.ready_changed.emit(False)

    @Slot(object)
    def _on_preview_built(self, graph: TaskGraph) -> None:
        self.note_changed.emit("")
        self._controls.show_error("")
        self.preview_changed.emit(graph._nodes)
        self.ready_changed.emit(self.ready)

    @Slot(str)
    def _on_preview_failed(self, message: str) -> None:
        self.note_changed.emit("")
        self._controls.show_error(message)
        self.preview_changed.emit({})  # not the graph of other inputs
        self.ready_changed.emit(False)
