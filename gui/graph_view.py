"""The graph view: the run's DAG in layers, each node coloured by its state, live.

Scale rules (docs/design.md §6.4): never one item per node of a big fan-out. Siblings that share a
layer and a group (a map, a gather, a nested subgraph, or the same tool) are drawn as one
group node with per-state counts once there are more than `GROUP_THRESHOLD` of them; a
double-click expands it (up to `EXPAND_LIMIT` nodes). All edges are one path item.
"""

from __future__ import annotations

from collections import Counter
from operator import attrgetter

from PySide6.QtCore import QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QPainter,
    QPainterPath,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSceneContextMenuEvent,
    QGraphicsSceneMouseEvent,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QMenu,
    QStyleOptionGraphicsItem,
    QWidget,
)

from graphdeck import Node, NodeKind, NodeState

from .theme import NODE_COLOURS, node_colour

GROUP_THRESHOLD = 24
HIGHLIGHT = "#d946ef"  # nodes about to re-run
EXPAND_LIMIT = 400
NODE_W, NODE_H, GROUP_H = 150.0, 34.0, 54.0
LAYER_GAP, ROW_GAP = 90.0, 14.0

BucketKey = tuple[int, str]
_STATE_OF = attrgetter("state")


class NodeItem(QGraphicsRectItem):
    """One node: a rounded box with its id, filled with its state's colour."""

    def __init__(self, view: GraphView, node: Node) -> None:
        super().__init__(0, 0, NODE_W, NODE_H)
        self.view = view
        self.node_id = node.id
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setPen(QPen(QColor("#334155"), 1))
        label = QGraphicsSimpleTextItem(_elide(node.id, 22), self)
        label.setPos(8, 9)
        self.highlighted = False
        self.update_state(node.state)

    def update_state(self, state: NodeState) -> None:
        self.setBrush(QBrush(node_colour(state)))
        self.setToolTip(f"{self.node_id}\n{state.value}")

    def setHighlighted(self, on: bool) -> None:
        self.highlighted = on
        self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor("#0f172a"), 2.5) if self.isSelected() else self.pen()
        if self.highlighted:
            pen = QPen(QColor(HIGHLIGHT), 3.5, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(self.brush())
        painter.drawRoundedRect(self.rect(), 6, 6)

    def contextMenuEvent(self, event: QGraphicsSceneContextMenuEvent) -> None:
        self.view.open_node_menu(self.node_id, event.screenPos())


class GroupItem(QGraphicsRectItem):
    """Many sibling nodes as one box: name, count, and a bar of per-state counts."""

    def __init__(self, view: GraphView, key: BucketKey, members: list[Node]) -> None:
        super().__init__(0, 0, NODE_W + 40, GROUP_H)
        self.view = view
        self.key = key
        self.members = members
        self.counts: Counter[NodeState] = Counter()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setToolTip(f"{key[1]}: {len(members)} nodes (double-click to expand)")
        self.highlighted = False
        self.recount()

    def setHighlighted(self, on: bool) -> None:
        self.highlighted = on
        self.update()

    @property
    def node_id(self) -> str:
        """The member the inspector should show: a failed one if any, else the first."""
        for node in self.members:
            if node.state in (NodeState.FAILED, NodeState.TIMED_OUT):
                return node.id
        return self.members[0].id

    def recount(self) -> None:
        self.counts = Counter(map(_STATE_OF, self.members))  # C-level: 10k members ~1 ms
        self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self.rect()
        painter.setPen(QPen(QColor("#0f172a"), 2.5 if self.isSelected() else 1.2))
        if self.highlighted:
            painter.setPen(QPen(QColor(HIGHLIGHT), 3.5, Qt.PenStyle.DashLine))
        painter.setBrush(QBrush(QColor("#f8fafc")))
        painter.drawRoundedRect(rect, 8, 8)
        painter.drawText(
            QRectF(8, 4, rect.width() - 16, 20),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            f"{_elide(self.key[1], 18)}  ×{len(self.members)}",
        )
        bar = QRectF(8, 28, rect.width() - 16, 16)
        total = max(1, len(self.members))
        x = bar.left()
        painter.setPen(Qt.PenStyle.NoPen)
        for state in NodeState:
            n = self.counts.get(state, 0)
            if n:
                width = bar.width() * n / total
                painter.setBrush(QBrush(node_colour(state)))
                painter.drawRect(QRectF(x, bar.top(), width, bar.height()))
                x += width

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self.view.toggle_group(self.key)


class Legend(QWidget):
    """The state colours, as drawn."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        for state, colour in NODE_COLOURS.items():
            swatch = QLabel(f"<span style='color:{colour}'>■</span> {state.value}")
            swatch.setObjectName(f"legend-{state.value}")
            layout.addWidget(swatch)
        layout.addStretch(1)


class GraphView(QGraphicsView):
    """Signals: `node_selected(node_id)`, `cancel_node_requested(node_id)`,
    `rerun_requested(node_id, mode)`."""

    node_selected = Signal(str)
    cancel_node_requested = Signal(str)
    #: (node id, mode) — "node" or "downstream"
    rerun_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self.nodes: dict[str, Node] = {}
        self.items_by_node: dict[str, NodeItem | GroupItem] = {}
        self.groups: dict[BucketKey, GroupItem] = {}
        self.expanded: set[BucketKey] = set()
        self.highlighted: set[str] = set()
        self.rerun_allowed = False  # the main window enables it once the run has ended
        self._laid_out = -1
        self._fitted = False
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.scene().selectionChanged.connect(self._on_scene_selection_changed)

    # -- content ------------------------------------------------------------------------

    def show_nodes(self, nodes: dict[str, Node]) -> None:
        """Show another run's (or a preview's) graph."""
        self.nodes = nodes
        self.expanded.clear()
        self._fitted = False
        self._laid_out = -1
        self.refresh(set())

    def refresh(self, changed: set[str]) -> None:
        """Apply new nodes (re-layout) or state changes (recolour only)."""
        if len(self.nodes) != self._laid_out:
            self._relayout()
            return
        touched_groups = set()
        for node_id in changed:
            item = self.items_by_node.get(node_id)
            if isinstance(item, NodeItem):
                item.update_state(self.nodes[node_id].state)
            elif item is not None:
                touched_groups.add(item)
        for group in touched_groups:
            group.recount()

    def toggle_group(self, key: BucketKey) -> None:
        self.expanded.symmetric_difference_update({key})
        self._relayout()

    def select_node(self, node_id: str) -> None:
        item = self.items_by_node.get(node_id)
        if item is not None:
            self.scene().clearSelection()
            item.setSelected(True)
            self.centerOn(item)

    def open_node_menu(self, node_id: str, screen_pos) -> None:
        node = self.nodes.get(node_id)
        if node is None:
            return
        menu = QMenu(self)
        cancel = menu.addAction("Cancel node")
        cancel.setEnabled(not node.state.is_terminal)
        cancel.setData((node_id, None))
        for label, mode in (("Re-run node", "node"), ("Re-run from here", "downstream")):
            action = menu.addAction(label)
            action.setEnabled(self.rerun_allowed)
            action.setData((node_id, mode))  # (node, re-run mode or None: cancel it)
        menu.triggered.connect(self._on_node_menu_triggered)
        menu.popup(screen_pos)

    @Slot(QAction)
    def _on_node_menu_triggered(self, action: QAction) -> None:
        node_id, mode = action.data()
        if mode is None:
            self.cancel_node_requested.emit(node_id)
        else:
            self.rerun_requested.emit(node_id, mode)

    def highlight(self, node_ids: set[str]) -> None:
        """Mark the drawn items holding these nodes (e.g. the ones about to re-run)."""
        self.highlighted = set(node_ids)
        for item in set(self.items_by_node.values()):
            if isinstance(item, NodeItem):
                item.setHighlighted(item.node_id in self.highlighted)
            else:
                item.setHighlighted(any(n.id in self.highlighted for n in item.members))

    # -- layout -------------------------------------------------------------------------

    def _relayout(self) -> None:
        scene = self.scene()
        selected = [i.node_id for i in scene.selectedItems() if hasattr(i, "node_id")]
        scene.blockSignals(True)
        scene.clear()
        self.items_by_node.clear()
        self.groups.clear()
        buckets = _buckets(self.nodes)
        columns: dict[int, list[QGraphicsRectItem]] = {}
        for key, members in buckets.items():
            column = columns.setdefault(key[0], [])
            if len(members) > GROUP_THRESHOLD and key not in self.expanded:
                group = GroupItem(self, key, members)
                self.groups[key] = group
                column.append(group)
                for node in members:
                    self.items_by_node[node.id] = group
                continue
            for node in members[:EXPAND_LIMIT]:
                item = NodeItem(self, node)
                column.append(item)
                self.items_by_node[node.id] = item
        for layer, column in columns.items():
            heights = sum(i.rect().height() + ROW_GAP for i in column)
            y = -heights / 2
            for item in column:
                item.setPos(layer * (NODE_W + 40 + LAYER_GAP), y)
                scene.addItem(item)
                y += item.rect().height() + ROW_GAP
        scene.addItem(self._edges())
        for frame in self._subgraph_frames():
            scene.addItem(frame)
        self._laid_out = len(self.nodes)
        scene.blockSignals(False)
        for node_id in selected:
            item = self.items_by_node.get(node_id)
            if item is not None:
                item.setSelected(True)
        if self.highlighted:
            self.highlight(self.highlighted)
        if not self._fitted:
            self.fit()

    def _edges(self) -> QGraphicsPathItem:
        """Every edge between drawn items, once (a fan-in from a group is one curve)."""
        path = QPainterPath()
        items = self.items_by_node
        for node in self.nodes.values():
            target = items.get(node.id)
            if target is None or not (node.upstream or node.children):
                continue
            sources = {items.get(u) for u in node.upstream}
            sources.update(items.get(c.id) for c in node.children or ())
            sources.discard(None)
            sources.discard(target)
            end = target.mapToScene(QPointF(0, target.rect().center().y()))
            for source in sources:
                box = source.rect()
                start = source.mapToScene(QPointF(box.right(), box.center().y()))
                path.moveTo(start)
                middle = (start.x() + end.x()) / 2
                path.cubicTo(QPointF(middle, start.y()), QPointF(middle, end.y()), end)
        item = QGraphicsPathItem(path)
        item.setPen(QPen(QColor("#94a3b8"), 1.2))
        item.setZValue(-1)
        return item

    def _subgraph_frames(self) -> list[QGraphicsRectItem]:
        """A labelled frame behind the nodes of each nested subgraph (`inner/…` ids)."""
        members: dict[str, list[QGraphicsRectItem]] = {}
        for node in self.nodes.values():
            if node.group and "/" in node.id and node.id.startswith(node.group + "/"):
                item = self.items_by_node.get(node.id)
                if item is not None:
                    members.setdefault(node.group, []).append(item)
        frames = []
        for group, items in members.items():
            box = QRectF()
            for item in items:
                box = box.united(item.sceneBoundingRect())
            frame = QGraphicsRectItem(box.adjusted(-10, -24, 10, 10))
            frame.setBrush(QBrush(QColor(59, 130, 246, 18)))
            frame.setPen(QPen(QColor("#93c5fd"), 1, Qt.PenStyle.DashLine))
            frame.setZValue(-2)
            label = QGraphicsSimpleTextItem(f"subgraph {group}", frame)
            label.setPos(box.left() - 6, box.top() - 22)
            frames.append(frame)
        return frames

    # -- interaction --------------------------------------------------------------------

    def fit(self) -> None:
        """Show the whole graph, never magnified past 100 %. Re-done on resize until the
        user zooms."""
        if not self.nodes:
            return
        self.fitInView(
            self.scene().itemsBoundingRect().adjusted(-20, -30, 20, 20),
            Qt.AspectRatioMode.KeepAspectRatio,
        )
        if self.transform().m11() > 1.0:
            self.resetTransform()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if not self._fitted:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        factor = 1.15 ** (event.angleDelta().y() / 120)
        self.scale(factor, factor)
        self._fitted = True  # the user chose a zoom: keep it

    @Slot()
    def _on_scene_selection_changed(self) -> None:
        for item in self.scene().selectedItems():
            if isinstance(item, NodeItem | GroupItem):
                self.node_selected.emit(item.node_id)
                return


def _buckets(nodes: dict[str, Node]) -> dict[BucketKey, list[Node]]:
    """Nodes by (layer, group): layer = longest path from a root; a map's items sit one
    layer before the map node that aggregates them."""
    layers: dict[str, int] = {}
    buckets: dict[BucketKey, list[Node]] = {}
    for node in nodes.values():
        parent = nodes.get(node.group) if node.group else None
        if parent is not None and parent.children is not None and node.id.startswith(parent.id):
            layer = layers.get(parent.id, 1) - 1
        else:
            layer = max((layers.get(u, 0) + 1 for u in node.upstream), default=0)
            if node.children is not None or node.kind is NodeKind.MAP:
                layer += 1  # leave the layer before it to its items
        layers[node.id] = layer
        name = node.group or node.tool.name
        buckets.setdefault((layer, name), []).append(node)
    return buckets


def _elide(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
