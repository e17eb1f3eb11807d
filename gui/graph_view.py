"""The graph view: a run's graph (or a preview's) laid out in layers, live.

What it shows comes from `graph_model` (a static graph) or `agent_model` (an agent's
calls), laid out off the GUI thread by a `LayoutRunner` (docs/design.md §9.1) and painted
by `canvas` in three items whatever the size (§6.4). The view keeps what the user chose
(groups opened and their pages, frames folded, the selection, Find's matches, the state
filter) and re-applies it to each new layout. Navigation (find, next failed, keys, zoom)
is in `graph_navigation.GraphNavigation`, a part of this class.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QWidget,
)

from graphdeck import Node

from .agent_model import AgentTrace, build_agent_drawing, snapshot
from .canvas import BoxesItem, FramesItem, Marks, edge_path
from .drawing import Drawing
from .graph_model import PAGE, Structure, ViewState, build_drawing, page_of
from .graph_navigation import GraphNavigation
from .graph_search import FAILED, FILTERS, failed_keys, filtered_out, reach
from .layout_runner import LayoutRunner
from .theme import CANVAS_COLOURS, NODE_COLOURS

EMPTY_HINT = (
    "No graph to show.\nOpen a graph file (File ▸ Open, or drop a .py file here),\nthen press Run."
)
SCENE_MARGIN = 40.0
#: graphs up to this many nodes are laid out at once, on the GUI thread (a few ms: no
#: empty canvas flashes between a graph and its drawing); bigger ones in a worker thread
INLINE_LAYOUT_NODES = 300


@dataclass
class _Result:
    """A finished layout job: the drawing, and what it was made from."""

    drawing: Drawing
    nodes: Mapping[str, Node]  # drawn key -> node
    structure: Structure | None  # (static graphs)
    source: object  # the nodes mapping or run it was made for


class Legend(QWidget):
    """The state colours, as drawn, and the mark of a node held at a breakpoint."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        for state, colour in NODE_COLOURS.items():
            swatch = QLabel(f"<span style='color:{colour}'>■</span> {state.value}")
            swatch.setObjectName(f"legend-{state.value}")
            layout.addWidget(swatch)
        held = QLabel(f"<span style='color:{CANVAS_COLOURS['held']}'>⬚</span> held")
        held.setObjectName("legend-held")
        held.setToolTip("held at a breakpoint: Resume (F5) or Step (F10)")
        layout.addWidget(held)
        layout.addStretch(1)


class GraphView(GraphNavigation, QGraphicsView):
    """Signals: `node_selected(key)` (a node box), `group_selected(key)` (a group box or
    opened group), `selection_cleared()` (a click on nothing), `cancel_node_requested(id)`,
    `rerun_requested(id, mode)`, `breakpoint_requested(spec, on)`, `laid_out()` (a new
    layout is on screen)."""

    node_selected = Signal(str)
    group_selected = Signal(str)
    selection_cleared = Signal()
    cancel_node_requested = Signal(str)
    #: (node id, mode) — "node" or "downstream"
    rerun_requested = Signal(str, str)
    #: (node id or tool name, True to set / False to clear)
    breakpoint_requested = Signal(str, bool)
    laid_out = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setBackgroundBrush(QColor(CANVAS_COLOURS["background"]))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        # Invariant: `nodes` maps every key the view can show to its node (a static graph:
        # node ids; an agent: the ids of its calls, `child#k/id` for its children's).
        self.nodes: Mapping[str, Node] = {}
        self.drawing = Drawing()
        self.marks = Marks()
        self.state = ViewState()
        self.highlighted: set[str] = set()  # about to re-run (RerunFlow)
        self.held: set[str] = set()  # held at a breakpoint (PauseActions)
        # Invariant: the breakpoints set on the live run shown (None: no run that can
        # have any: a preview, a stored or ended run); the node menu offers them.
        self.breakpoints: set[str] | None = None
        self.rerun_allowed = False  # the main window enables it once the run has ended
        self.state_filter = "all"
        self.selected_key: str | None = None
        self._source: object = None  # the nodes mapping or agent run shown
        self._agent: Any = None  # the agent run shown (None: a static graph)
        self._traces: dict[str, AgentTrace] = {}
        self._structure: Structure | None = None
        self._laid_out_count = -1
        self._pending_select: str | None = None
        self._select_failed = False  # select the first failed node once laid out
        self._keys_by_node: dict[int, str] | None = None  # (id of a node) -> its key
        self._fitted = False  # the user chose a zoom (or a selection's): keep it
        self._whole_asked = False  # the user asked for the whole graph (F): no readable start
        self._hint = EMPTY_HINT  # what the empty canvas says (see `set_empty_hint`)
        self._boxes: BoxesItem | None = None
        self._path_item: QGraphicsPathItem | None = None
        self.layouts = LayoutRunner(self)
        # big groups are recounted a few times a second (canvas.BIG_RECOUNT_S): this
        # recounts what the last refresh left waiting
        self._recount_due = QTimer(self)
        self._recount_due.setSingleShot(True)
        self._init_navigation()
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.layouts.finished.connect(self._on_layouts_finished)
        self._recount_due.timeout.connect(self._on_recount_due_timeout)

    # -- content ------------------------------------------------------------------------

    def show_nodes(self, nodes: Mapping[str, Node]) -> None:
        """Show a static graph (a preview's, or a run's) from scratch (the same one again:
        keep what the user opened and selected)."""
        if nodes is self._source and self._agent is None:
            self.refresh(set(nodes))
            return
        self._reset(nodes, None)
        self._request_layout(grow=False)

    def show_run(self, run: Any, select_failed: bool = False) -> None:
        """Show a run: an agent as its lane of calls (and its children inline), anything
        else as its graph. `select_failed`: once drawn, select its first failed node (or the
        closed group holding it)."""
        self._select_failed = select_failed
        if getattr(run, "is_agent", False):
            self._reset(run, run)
        elif self._drawn_from(run.nodes):
            # The preview's graph, now running: its drawing holds (laying out 10k nodes
            # again in a thread took the interpreter from the run's start).
            self._source = self.nodes = run.nodes
            self._recount(range(len(self.drawing.nodes)))  # (by box: 100k ids cost 18 ms)
            if select_failed:
                self.select_first_failed()
            return
        else:
            self._reset(run.nodes, None)
        self._request_layout(grow=False)

    def _drawn_from(self, nodes: Mapping[str, Node]) -> bool:
        """The drawing on screen is of exactly these node records (the same objects)."""
        shown = self._source
        if self._agent is not None or not isinstance(shown, Mapping) or self.layouts.busy:
            return False
        if len(shown) != len(nodes) or self._laid_out_count != len(nodes):
            return False
        # Same keys, the very same records (a Node's equality is its identity): compared
        # in C (a generator over 100k nodes took 30 ms of the run's start).
        return shown == nodes

    def select_first_failed(self) -> None:
        """Select the first failed node, now or once the layout on its way is drawn."""
        if self.layouts.busy:
            self._select_failed = True
            return
        failed = failed_keys(self.nodes)
        if failed:
            self.select_node(self._shown_for(failed[0]))

    def _shown_for(self, key: str) -> str:
        """The closed group holding node `key`, else `key`: a failed run opens on the group
        (its inspector lists the failed members) rather than opening a page of 400 of
        100,000 members, unreadable at any zoom that shows them."""
        index = self.drawing.where.get(key)
        if index is None:
            return key
        box = self.drawing.nodes[index]
        return box.group if box.kind != "node" and box.group is not None else key

    @property
    def is_agent(self) -> bool:
        return self._agent is not None

    def shows_run_of(self, run: Any) -> bool:
        """`run` is drawn here, inline in the agent run shown (a child, a grandchild…)."""
        while run is not None:
            if run is self._agent:
                return True
            run = getattr(run, "parent", None)
        return False

    def _reset(self, source: object, agent: Any) -> None:
        self.layouts.cancel()
        self._source, self._agent = source, agent
        self._traces = {}
        self._structure = None
        self.state = ViewState()
        self.selected_key = self._pending_select = None
        self._fitted = self._whole_asked = False
        self._laid_out_count = -1
        self._reset_navigation()
        if agent is None:
            self.nodes = source  # type: ignore[assignment]
        else:
            self.nodes = {}

    def refresh(self, changed: set[str]) -> None:
        """New nodes (lay out again, keeping what is drawn in place) or new states (only
        recolour and recount)."""
        if self._agent is not None:
            if any(t.index < t.run.event_count for t in self._traces.values()) or any(
                c.id not in self._traces for c in self._agent.children
            ):
                self._request_layout(grow=True)
            self._recount(range(len(self.drawing.nodes)))
            return
        if len(self.nodes) != self._laid_out_count:
            self._request_layout(grow=True)
            return
        where = self.drawing.where
        touched = set(map(where.get, changed))  # (C-level: 100k keys in a few ms)
        touched.discard(None)
        self._recount(touched)

    def _recount(self, boxes: Any) -> None:
        """Recount these boxes' groups, and fade again what the state filter hides."""
        if self._boxes is None:
            return
        wait = self._boxes.recount(boxes)
        if wait is not None and not self._recount_due.isActive():
            self._recount_due.start(math.ceil(wait * 1000))
        self._refade()

    def _refade(self) -> None:
        if self.state_filter != "all":
            self.marks.faded = filtered_out(self.drawing, FILTERS[self.state_filter])
        if self._boxes is not None:
            self._boxes.update()

    @Slot()
    def _on_recount_due_timeout(self) -> None:
        """The big groups the last refreshes left waiting are due (counts end exact)."""
        if self._boxes is not None:
            self._boxes.recount_big()
            self._refade()

    def relayout(self) -> None:
        """Lay out afresh (after the user opened or closed a group)."""
        self._request_layout(grow=False)

    # -- layout ---------------------------------------------------------------------------

    def _request_layout(self, grow: bool) -> None:
        previous = self.drawing if grow and self._laid_out_count >= 0 else None
        size = self.viewport().size()
        if size.width() > 0 and size.height() > 0:  # an opened page's grid: the view's shape
            self.state.aspect = min(max(size.width() / size.height(), 0.5), 4.0)
        state, source = self.state.copy(), self._source
        if self._agent is not None:
            shot = snapshot(self._agent, self._traces)  # GUI thread: reads the runs' logs

            def job() -> _Result:
                drawing, nodes = build_agent_drawing(
                    shot, state.expanded, state.collapsed, state.aspect
                )
                return _Result(drawing, nodes, None, source)

        else:
            nodes = list(self.nodes.values())  # a snapshot: the graph may grow meanwhile
            known = self._structure if self._laid_out_count == len(nodes) else None

            def job() -> _Result:
                structure = known or Structure(nodes)
                drawing = build_drawing(structure, state, previous)
                return _Result(drawing, {n.id: n for n in nodes}, structure, source)

        size = len(self.nodes) if self._agent is None else len(self._agent.nodes)
        self.layouts.request(job, in_place=size <= INLINE_LAYOUT_NODES)

    @Slot(object)
    def _on_layouts_finished(self, result: _Result) -> None:
        if result.source is not self._source:
            return  # made for a graph no longer shown
        self._structure = result.structure
        self._keys_by_node = None
        if self._agent is not None:
            self.nodes = result.nodes
        self._laid_out_count = len(result.nodes)
        self._apply(result.drawing)

    def _apply(self, drawing: Drawing) -> None:
        """Put a new layout on screen (GUI thread: the only place items are made)."""
        self.drawing = drawing
        scene = self.scene()
        scene.clear()
        self._path_item = None
        frames, edges = FramesItem(drawing), QGraphicsPathItem(edge_path(drawing))
        edges.setPen(QPen(QColor(CANVAS_COLOURS["edge"]), 1.2))
        self._boxes = BoxesItem(drawing, self.marks)
        for z, item in enumerate((frames, edges, self._boxes)):
            item.setZValue(z)
            scene.addItem(item)
        left, top, right, bottom = drawing.bounds()
        scene.setSceneRect(
            QRectF(left, top, right - left, bottom - top).adjusted(
                -SCENE_MARGIN, -SCENE_MARGIN, SCENE_MARGIN, SCENE_MARGIN
            )
        )
        self.highlight(self.highlighted)
        self.mark_held(self.held)
        self._remark()
        if self._select_failed:
            self._select_failed = False
            failed = failed_keys(self.nodes)
            if failed and self._pending_select is None:
                self._pending_select = self._shown_for(failed[0])
        if self._pending_select is not None:
            key, self._pending_select = self._pending_select, None
            self.select_node(key)
        elif self.selected_key is not None:
            self._select_box(self._box_of(self.selected_key), emit=False)
        if not self._fitted:
            self.fit()
        self.laid_out.emit()

    # -- marks ------------------------------------------------------------------------------

    def highlight(self, node_ids: set[str]) -> None:
        """Mark the boxes holding these nodes (e.g. the ones about to re-run)."""
        self.highlighted = set(node_ids)
        where = self.drawing.where
        self.marks.rerun = {where[k] for k in self.highlighted if k in where}
        if self._boxes is not None:
            self._boxes.update()

    def mark_held(self, node_ids: set[str]) -> None:
        """Mark the boxes holding nodes held at a breakpoint."""
        self.held = set(node_ids)
        where = self.drawing.where
        held = {where[k] for k in self.held if k in where}
        if held != self.marks.held:
            self.marks.held = held
            if self._boxes is not None:
                self._boxes.update()

    def set_state_filter(self, name: str) -> None:
        """Fade every box with no member in the filter's states ("all": none)."""
        self.state_filter = name
        self._remark()

    def _remark(self) -> None:
        self.marks.faded = filtered_out(self.drawing, FILTERS[self.state_filter])
        self._mark_matches()
        if self._boxes is not None:
            self._boxes.update()

    def _box_of(self, key: str | None) -> int | None:
        """The box showing node `key`, or the box or opened group named `key`."""
        if key is None:
            return None
        index = self.drawing.where.get(key)
        if index is not None:
            return index
        for i, box in enumerate(self.drawing.nodes):
            if box.key == key:
                return i
        return None

    def _select_box(self, index: int | None, emit: bool = True) -> None:
        self.marks.selected = index
        if self._path_item is not None:
            self.scene().removeItem(self._path_item)
            self._path_item = None
        if index is None:
            self.marks.path = set()
        else:
            boxes, edges = reach(self.drawing, index)
            self.marks.path = boxes - {index}
            self._path_item = QGraphicsPathItem(edge_path(self.drawing, edges))
            self._path_item.setPen(QPen(QColor(CANVAS_COLOURS["path"]), 2.2))
            self._path_item.setZValue(1.5)
            self.scene().addItem(self._path_item)
            if emit:
                self._announce(index)
        if self._boxes is not None:
            self._boxes.update()

    def _announce(self, index: int) -> None:
        box = self.drawing.nodes[index]
        if box.kind == "node":
            self.node_selected.emit(box.key)
        elif box.group is not None:
            self.group_selected.emit(box.group)

    # -- selection ---------------------------------------------------------------------------

    def select_node(self, key: str) -> None:
        """Select node `key` (its box, or the group box holding it; a member paged out of
        an opened group brings its page) or a group by its key, and scroll to it. A node
        is announced at once (`node_selected`), even while its layout is on its way."""
        index = self._box_of(key)
        is_node = key in self.nodes
        grouped = index is not None and is_node and self.drawing.nodes[index].kind != "node"
        if (index is None or grouped) and (self._page_to(key) or self.layouts.busy):
            self._pending_select = key  # its page is being laid out
        if is_node:
            self.selected_key = key
            self.node_selected.emit(key)
        if index is None:
            return
        self.selected_key = key
        self._select_box(index, emit=not is_node)
        box = self.drawing.nodes[index]
        self.centerOn(QPointF(box.x + box.w / 2, box.y + box.h / 2))

    def _page_to(self, key: str) -> bool:
        """Open the page of the group that holds `key`; False if none does."""
        if self._structure is None:
            return False
        found = page_of(self._structure, key)
        if found is None:
            return False
        group, start = found
        self.state.expanded[group] = start
        self.relayout()
        return True

    # -- groups -----------------------------------------------------------------------------

    def group_members(self, key: str) -> list[Node]:
        return self.drawing.groups.get(key, [])

    def group_of(self, key: str) -> str | None:
        """The group (map, fan-out, agent's gather or loop) that node `key` is a member of,
        whether it is drawn in its box, on its page or paged out; None if in none."""
        if self._structure is not None:
            return self._structure.group_of.get(key)
        node = self.nodes.get(key)
        if node is None:
            return None
        for group, members in self.drawing.groups.items():
            if not group.startswith("run:") and any(m is node for m in members):
                return group
        return None

    def group_page(self, key: str) -> tuple[int, int] | None:
        """(first member shown, members) of an opened group; None if it is collapsed."""
        if key not in self.state.expanded:
            return None
        return self.state.expanded[key], len(self.group_members(key))

    def is_collapsed(self, key: str) -> bool:
        if key.startswith(("sub:", "run:")):
            return key in self.state.collapsed
        return key not in self.state.expanded

    def expand_group(self, key: str, start: int = 0) -> None:
        if key.startswith(("sub:", "run:")):
            self.state.collapsed.discard(key)
        else:
            total = len(self.group_members(key))
            self.state.expanded[key] = max(0, min(start, (max(total, 1) - 1) // PAGE * PAGE))
        self.selected_key, self._pending_select = key, None
        self.relayout()

    def collapse_group(self, key: str) -> None:
        if key.startswith(("sub:", "run:")):
            self.state.collapsed.add(key)
        else:
            self.state.expanded.pop(key, None)
        self.selected_key, self._pending_select = key, None
        self.relayout()

    def toggle_group(self, key: str) -> None:
        if self.is_collapsed(key):
            self.expand_group(key)
        else:
            self.collapse_group(key)

    def turn_page(self, key: str, pages: int) -> None:
        """Show the page `pages` after (or before) the one shown of an opened group."""
        page = self.group_page(key)
        if page is not None:
            self.expand_group(key, page[0] + pages * PAGE)

    def page_to_failed(self, key: str) -> str | None:
        """Open the group's page holding its first failed member and select that member."""
        members = self.group_members(key)
        for position, node in enumerate(members):
            if node.state in FAILED:
                self.expand_group(key, position // PAGE * PAGE)
                self._pending_select = self.key_of(node)
                return self._pending_select
        return None

    def key_of(self, node: Node) -> str:
        """The key the view knows `node` by (an agent's child runs prefix theirs)."""
        if self.nodes.get(node.id) is node:
            return node.id
        if self._keys_by_node is None:
            self._keys_by_node = {id(known): key for key, known in self.nodes.items()}
        return self._keys_by_node.get(id(node), node.id)

    def group_title(self, key: str) -> str:
        """What a group is called: its box's label, or its frame's."""
        for box in self.drawing.nodes:
            if box.key == key:
                return box.label
        for frame in self.drawing.frames:
            if frame.key == key:
                return frame.label
        return key

    # -- painting ---------------------------------------------------------------------------

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawBackground(painter, rect)
        if self.drawing.nodes or self.layouts.busy:
            return
        painter.save()
        painter.resetTransform()
        painter.setPen(QColor(CANVAS_COLOURS["hint"]))
        room = self.viewport().rect().adjusted(24, 24, -24, -24)
        painter.drawText(room, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._hint)
        painter.restore()

    def empty_hint(self) -> str | None:
        """What the empty canvas says (None: it shows a graph)."""
        return None if self.drawing.nodes else self._hint

    def set_empty_hint(self, text: str) -> None:
        """Say `text` on the canvas while it is empty ("": how to open a graph file)."""
        self._hint = text or EMPTY_HINT
        self.viewport().update()
