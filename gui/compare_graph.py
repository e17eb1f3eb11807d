"""The graph of a comparison, each box coloured by what changed (`compare_model.CHANGES`)
instead of by state: the same layout as the graph view (`graph_model`), painted by one
item; a group takes the colour of its most telling change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QWidget,
)

from graphdeck import Node

from .canvas import edge_path
from .compare_model import CHANGES, RANK
from .drawing import Drawing, DrawnNode, elide
from .graph_model import Structure, ViewState, build_drawing
from .theme import CANVAS_COLOURS


def box_change(box: DrawnNode, changed: Mapping[str, str]) -> str:
    """A node's change; a group's most telling member change."""
    found = [changed.get(member.id, "same") for member in box.members]
    return min(found, key=RANK.__getitem__, default="same")


class _ChangeBoxes(QGraphicsItem):
    """Every box of the drawing, filled with its change's colour."""

    def __init__(self, drawing: Drawing, changed: Mapping[str, str]) -> None:
        super().__init__()
        self.drawing = drawing
        # Invariant: colours[i] is the fill of drawing.nodes[i].
        self.colours = [CHANGES[box_change(box, changed)][0] for box in drawing.nodes]
        self.selected: int | None = None
        left, top, right, bottom = drawing.bounds()
        self._bounds = QRectF(left, top, right - left, bottom - top).adjusted(-6, -6, 6, 6)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        outline = QColor(CANVAS_COLOURS["outline"])
        for i, box in enumerate(self.drawing.nodes):
            rect = QRectF(box.x, box.y, box.w, box.h)
            width = 3.0 if i == self.selected else 1.0
            painter.setPen(QPen(outline, width))
            painter.setBrush(QColor(self.colours[i]))
            painter.drawRoundedRect(rect, 6, 6)
            painter.setPen(QColor(CANVAS_COLOURS["text"]))
            painter.drawText(
                rect.adjusted(8, 0, -6, 0),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                elide(box.label, 24),
            )


class CompareGraph(QGraphicsView):
    """Signal `node_clicked(node id)`: a node's box was clicked."""

    node_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setBackgroundBrush(QColor(CANVAS_COLOURS["background"]))
        self.drawing = Drawing()
        self._boxes: _ChangeBoxes | None = None

    def show_nodes(self, nodes: Sequence[Node], changed: Mapping[str, str]) -> None:
        """Lay out `nodes` (both runs' together) and colour each box by `changed`."""
        self.drawing = build_drawing(Structure(nodes), ViewState())
        scene = self.scene()
        scene.clear()
        edges = QGraphicsPathItem(edge_path(self.drawing))
        edges.setPen(QPen(QColor(CANVAS_COLOURS["edge"]), 1.2))
        self._boxes = _ChangeBoxes(self.drawing, changed)
        scene.addItem(edges)
        scene.addItem(self._boxes)
        left, top, right, bottom = self.drawing.bounds()
        scene.setSceneRect(QRectF(left, top, right - left, bottom - top).adjusted(-30, -30, 30, 30))
        self.fitInView(scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def colour_of(self, node_id: str) -> str | None:
        """The fill of the box showing `node_id` (None: not drawn)."""
        index = self.drawing.where.get(node_id)
        return None if index is None or self._boxes is None else self._boxes.colours[index]

    def select(self, node_id: str) -> None:
        """Outline the box showing `node_id` and bring it into view."""
        if self._boxes is None:
            return
        index = self.drawing.where.get(node_id)
        self._boxes.selected = index
        self._boxes.update()
        if index is not None:
            box = self.drawing.nodes[index]
            self.ensureVisible(QRectF(box.x, box.y, box.w, box.h), 30, 30)

    def mousePressEvent(self, event) -> None:
        super().mousePressEvent(event)
        point = self.mapToScene(event.position().toPoint())
        for box in self.drawing.nodes:
            if box.kind == "node" and QRectF(box.x, box.y, box.w, box.h).contains(point):
                self.node_clicked.emit(box.key)
                return
