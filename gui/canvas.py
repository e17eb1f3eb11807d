"""Painting a `Drawing`: every box by one graphics item, every edge by one path item.

Never one graphics item per node (docs/design.md §6.4): `BoxesItem` paints the boxes in the
exposed rectangle from arrays, at a level of detail chosen by the zoom (§9.3): far out,
plain rectangles batched by colour and no text; close in, rounded boxes with labels and
the per-state bars of groups. `paint_boxes` is also what `graphdeck draw` paints a PNG with.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import attrgetter

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from graphdeck import NodeState

from .drawing import Drawing, DrawnNode, elide
from .group_bar import problem_colour, problem_text, segments, text_colour
from .theme import CANVAS_COLOURS, NODE_COLOURS

#: a group with more members than this is recounted whole at most every BIG_RECOUNT_S
#: while they change: counting each changed member instead cost 2 to 4 µs per member
#: state change, a third of the window's work for a 100k-node run (docs/design.md §9.3)
BIG_GROUP, BIG_RECOUNT_S = 2_000, 0.2
#: below this zoom, boxes are drawn without text or bars (cheap at 100k)
DETAIL_ZOOM = 0.4
_STATE_OF = attrgetter("state")
#: how much a box filtered out shows (alpha, 0–255)
FADED_ALPHA = 40
ARROW = 6.0
BADGE = 16.0  # the diameter of a node's "blocked the loop" badge


@dataclass
class Marks:
    """What is marked on the boxes (indices into `Drawing.nodes`)."""

    selected: int | None = None
    path: set[int] = field(default_factory=set)  # upstream and downstream of the selection
    matches: set[int] = field(default_factory=set)  # found by Find
    rerun: set[int] = field(default_factory=set)  # about to re-run
    held: set[int] = field(default_factory=set)  # held at a breakpoint
    faded: set[int] = field(default_factory=set)  # filtered out by state
    critical: set[int] = field(default_factory=set)  # the critical path, when shown
    blocked: set[int] = field(default_factory=set)  # blocked the event loop: a badge


def counts_of(node: DrawnNode) -> Counter[NodeState]:
    """Members by state (C-level: 100k members in about 5 ms)."""
    return Counter(map(_STATE_OF, node.members))


def box_colour(node: DrawnNode, counts: Counter[NodeState] | None) -> str:
    """A node's state colour; a group's most common state's (for the cheap drawing)."""
    if counts:
        return NODE_COLOURS[counts.most_common(1)[0][0]]
    if node.kind == "agent" or not node.members:
        return CANVAS_COLOURS["agent"]
    return NODE_COLOURS[node.members[0].state]


def paint_boxes(
    painter: QPainter,
    drawing: Drawing,
    indices: Iterable[int],
    counts: dict[int, Counter[NodeState]],
    marks: Marks,
    detail: bool,
) -> None:
    """Paint the boxes `indices` of `drawing` (`counts`: each group's members by state)."""
    indices = list(indices)
    if detail:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(painter.font())
        font.setPointSizeF(8.5)
        painter.setFont(font)
        for i in indices:
            _paint_box(painter, drawing.nodes[i], counts.get(i), i in marks.faded)
    else:
        by_colour: dict[tuple[str, bool], list[QRectF]] = {}
        for i in indices:
            node = drawing.nodes[i]
            key = (box_colour(node, counts.get(i)), i in marks.faded)
            by_colour.setdefault(key, []).append(QRectF(node.x, node.y, node.w, node.h))
            bad = problem_colour(counts.get(i))  # members that ended badly: a strip
            if bad is not None:
                strip = QRectF(node.x, node.y + node.h * 2 / 3, node.w, node.h / 3)
                by_colour.setdefault((bad, i in marks.faded), []).append(strip)
        painter.setPen(Qt.PenStyle.NoPen)
        for (colour, faded), rects in by_colour.items():
            painter.setBrush(_colour(colour, faded))
            painter.drawRects(rects)
    shown = set(indices)
    _outline(painter, drawing, marks.rerun & shown, "rerun", 3.0, Qt.PenStyle.DashLine)
    _outline(painter, drawing, marks.matches & shown, "match", 3.0, Qt.PenStyle.SolidLine)
    _outline(painter, drawing, marks.path & shown, "path", 2.0, Qt.PenStyle.SolidLine)
    _outline(painter, drawing, marks.critical & shown, "critical", 4.0, Qt.PenStyle.SolidLine)
    if marks.selected is not None and marks.selected in shown:
        _outline(painter, drawing, {marks.selected}, "selected", 3.0, Qt.PenStyle.SolidLine)
    # last: a held node stays marked when selected
    _outline(painter, drawing, marks.held & shown, "held", 4.0, Qt.PenStyle.DotLine)
    _badges(painter, drawing, marks.blocked & shown)  # (after every outline: none hides it)


def _colour(name: str, faded: bool) -> QColor:
    colour = QColor(name)
    if faded:
        colour.setAlpha(FADED_ALPHA)
    return colour


def _paint_box(
    painter: QPainter, node: DrawnNode, counts: Counter[NodeState] | None, faded: bool
) -> None:
    rect = QRectF(node.x, node.y, node.w, node.h)
    outline = _colour(CANVAS_COLOURS["outline"], faded)
    text = _colour(CANVAS_COLOURS["text"], faded)
    if node.members and node.kind == "node":
        painter.setPen(QPen(outline, 1))
        painter.setBrush(_colour(NODE_COLOURS[node.members[0].state], faded))
        painter.drawRoundedRect(rect, 6, 6)
        painter.setPen(text)
        painter.drawText(
            rect.adjusted(8, 0, -6, 0),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            elide(node.label, 24),
        )
        return
    painter.setPen(QPen(outline, 1.2))
    painter.setBrush(_colour(CANVAS_COLOURS["agent" if node.kind == "agent" else "group"], faded))
    painter.drawRoundedRect(rect, 8, 8)
    painter.setPen(text)
    painter.drawText(
        QRectF(node.x + 8, node.y + 3, node.w - 16, 20),
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        elide(node.label, 28),
    )
    problems = problem_text(counts)
    if problems and counts:  # a thinner bar, and under it what ended badly
        _paint_bar(
            painter, QRectF(node.x + 8, node.y + 24, node.w - 16, node.h - 45), counts, faded
        )
        line = QRectF(node.x + 8, node.y + node.h - 19, node.w - 16, 17)
        painter.setPen(_colour(text_colour(counts), faded))
        painter.drawText(
            line,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            painter.fontMetrics().elidedText(
                problems, Qt.TextElideMode.ElideRight, int(line.width())
            ),
        )
    elif counts:
        _paint_bar(painter, QRectF(node.x + 8, node.y + 28, node.w - 16, 16), counts, faded)


def _paint_bar(painter: QPainter, bar: QRectF, counts: Counter[NodeState], faded: bool) -> None:
    """Per-state counts as one stacked bar, in the states' order, no state thinner than
    `group_bar.MIN_SEGMENT` (20 failed of 20,000 stay visible)."""
    x = bar.left()
    painter.setPen(Qt.PenStyle.NoPen)
    for state, width in segments(counts, bar.width()):
        painter.setBrush(_colour(NODE_COLOURS[state], faded))
        painter.drawRect(QRectF(x, bar.top(), width, bar.height()))
        x += width


def _outline(
    painter: QPainter,
    drawing: Drawing,
    indices: set[int],
    colour: str,
    width: float,
    style: Qt.PenStyle,
) -> None:
    if not indices:
        return
    painter.setPen(QPen(QColor(CANVAS_COLOURS[colour]), width, style))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for i in indices:
        node = drawing.nodes[i]
        painter.drawRoundedRect(QRectF(node.x, node.y, node.w, node.h).adjusted(-2, -2, 2, 2), 7, 7)


def _badges(painter: QPainter, drawing: Drawing, indices: set[int]) -> None:
    """A red disc with "!" on the top right corner of each box: seen at any zoom."""
    if not indices:
        return
    painter.setPen(QPen(QColor("white"), 1.5))
    painter.setBrush(QColor(CANVAS_COLOURS["blocked"]))
    font = QFont(painter.font())
    font.setBold(True)
    painter.setFont(font)
    for i in indices:
        node = drawing.nodes[i]
        disc = QRectF(node.x + node.w - BADGE / 2, node.y - BADGE / 2, BADGE, BADGE)
        painter.drawEllipse(disc)
        painter.drawText(disc, Qt.AlignmentFlag.AlignCenter, "!")


def edge_path(drawing: Drawing, edges: Iterable[int] | None = None) -> QPainterPath:
    """The polylines of `edges` (default: all) with an arrowhead at each target."""
    path = QPainterPath()
    chosen = range(len(drawing.edges)) if edges is None else edges
    for j in chosen:
        points = drawing.edges[j].points
        path.addPolygon(QPolygonF([QPointF(x, y) for x, y in points]))
        x, y = points[-1]
        path.moveTo(x - ARROW, y - ARROW / 2)
        path.lineTo(x, y)
        path.lineTo(x - ARROW, y + ARROW / 2)
    return path


def paint_frames(painter: QPainter, drawing: Drawing, detail: bool) -> None:
    """Frames behind the boxes: opened groups, subgraphs, and child runs (agents)."""
    for frame in drawing.frames:
        run = frame.kind == "run"
        line = CANVAS_COLOURS["run-frame" if run else "frame"]
        painter.setPen(QPen(QColor(line), 1.2, Qt.PenStyle.DashLine))
        painter.setBrush(QBrush(QColor(CANVAS_COLOURS["run-frame-fill" if run else "frame-fill"])))
        rect = QRectF(frame.x, frame.y, frame.w, frame.h)
        painter.drawRoundedRect(rect, 8, 8)
        if detail:
            painter.setPen(QColor(CANVAS_COLOURS["hint"]))
            room = QRectF(frame.x + 8, frame.y + 3, frame.w - 16, 18)
            painter.drawText(
                room,
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                painter.fontMetrics().elidedText(
                    frame.label, Qt.TextElideMode.ElideRight, int(room.width())
                ),
            )


class BoxesItem(QGraphicsItem):
    """Every box and frame of a drawing, painted from arrays (one item for 100k boxes)."""

    def __init__(self, drawing: Drawing, marks: Marks) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self.drawing = drawing
        self.marks = marks
        # Invariant: counts[i] is set for every group box i (its members by state), as
        # they were when last counted; `_stale` holds the big groups whose members changed
        # since (recounted at most every BIG_RECOUNT_S, last at `_big_counted_at`).
        self.counts: dict[int, Counter[NodeState]] = {
            i: counts_of(n) for i, n in enumerate(drawing.nodes) if n.kind != "node"
        }
        self._stale: set[int] = set()
        self._big_counted_at = time.monotonic()
        nodes = drawing.nodes
        self._x = np.fromiter((n.x for n in nodes), float, len(nodes))
        self._y = np.fromiter((n.y for n in nodes), float, len(nodes))
        self._r = self._x + np.fromiter((n.w for n in nodes), float, len(nodes))
        self._b = self._y + np.fromiter((n.h for n in nodes), float, len(nodes))
        left, top, right, bottom = drawing.bounds()
        margin = BADGE / 2 + 2  # a badge sticks out of its box's corner
        self._bounds = QRectF(left, top, right - left, bottom - top).adjusted(
            -margin, -margin, margin, margin
        )

    def boundingRect(self) -> QRectF:
        return self._bounds

    def recount(self, indices: Iterable[int]) -> float | None:
        """Members of these groups changed state. A group of up to `BIG_GROUP` members is
        recounted now; a bigger one is left for `recount_big`, which may run
        `BIG_RECOUNT_S` after its last time. Returns in how many seconds that is (0: now,
        None: no group waits)."""
        nodes, counts = self.drawing.nodes, self.counts
        for i in indices:
            if i in counts:
                if len(nodes[i].members) > BIG_GROUP:
                    self._stale.add(i)
                else:
                    counts[i] = counts_of(nodes[i])
        self.update()
        if not self._stale:
            return None
        return max(0.0, self._big_counted_at + BIG_RECOUNT_S - time.monotonic())

    def recount_big(self) -> None:
        """Recount the big groups whose members changed, whole (C-level: 100k members in
        5 to 15 ms, done in a callback of its own rather than on top of a refresh)."""
        nodes, counts = self.drawing.nodes, self.counts
        for i in self._stale:
            counts[i] = counts_of(nodes[i])
        self._stale.clear()
        self._big_counted_at = time.monotonic()
        self.update()

    def within(self, rect: QRectF) -> np.ndarray:
        """Indices of the boxes that meet `rect`."""
        hit = (
            (self._x <= rect.right())
            & (self._r >= rect.left())
            & (self._y <= rect.bottom())
            & (self._b >= rect.top())
        )
        return np.flatnonzero(hit)

    def at(self, point: QPointF) -> int | None:
        hits = self.within(QRectF(point, point))
        return int(hits[-1]) if len(hits) else None

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        detail = painter.worldTransform().m11() >= DETAIL_ZOOM
        visible = self.within(option.exposedRect).tolist()
        paint_boxes(painter, self.drawing, visible, self.counts, self.marks, detail)


class FramesItem(QGraphicsItem):
    """The frames of a drawing, behind its edges and boxes."""

    def __init__(self, drawing: Drawing) -> None:
        super().__init__()
        self.drawing = drawing
        left, top, right, bottom = drawing.bounds()
        self._bounds = QRectF(left, top, right - left, bottom - top).adjusted(-4, -4, 4, 4)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        paint_frames(painter, self.drawing, painter.worldTransform().m11() >= DETAIL_ZOOM)
