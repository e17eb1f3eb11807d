"""Moving about the graph view: clicks, menus, keys, zoom, Find and "next failed".

A part of `GraphView` (a mixin: it reads the view's drawing, marks and selection, and
calls its selection and group methods), kept apart so each file has one job. It does not
import `graph_view` (no import cycle between the monitor's modules, docs/design.md §8.1):
`self` is the `GraphView`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Slot
from PySide6.QtGui import QAction, QKeyEvent, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QGraphicsView, QMenu

from .drawing import DrawnFrame
from .graph_model import FRAME_HEADER
from .graph_search import SearchIndex, after, failed_keys

#: a press and release closer than this (pixels) is a click, not a drag
CLICK_SLOP = 4
#: zoom to selection: the selection and its neighbours at this scale at most
SELECTION_ZOOM = 1.2
#: the least zoom at which a box's label reads comfortably (about 9 px text); labels are
#: drawn from DETAIL_ZOOM on, but are small until here
READABLE_ZOOM = 0.8
#: a graph of this many boxes or fewer opens readable (its start), not whole and unreadable
READABLE_FIT_BOXES = 150


class GraphNavigation:
    """Clicks, menus, keys, zoom, find and next-failed for `GraphView`."""

    def _init_navigation(self) -> None:
        # Invariant: `_index` is None or the search index of `nodes` as they are now.
        self._index: SearchIndex | None = None
        self.matches: list[str] = []
        self._press: QPoint | None = None

    def _reset_navigation(self) -> None:
        self._index = None
        self.matches = []
        self.marks.matches = set()
        self.marks.selected = None
        self.marks.path = set()

    # -- zoom -----------------------------------------------------------------------------

    def fit(self) -> None:
        """Show the whole graph, never magnified past 100 %, centred; a small graph that
        would then be unreadable opens readable at its start instead (unless the user
        asked for the whole, F). Re-done on resize until the user zooms."""
        if not self.drawing.nodes:
            return
        box = self.sceneRect()  # the drawing and a margin: no scroll bar at fit
        self.fitInView(box, Qt.AspectRatioMode.KeepAspectRatio)
        scale = self.transform().m11()
        if scale > 1.0:
            self.resetTransform()
        elif (
            scale < READABLE_ZOOM
            and not self._whole_asked
            and len(self.drawing.nodes) <= READABLE_FIT_BOXES
        ):
            self.resetTransform()
            self.scale(READABLE_ZOOM, READABLE_ZOOM)
            rect = self.mapToScene(self.viewport().rect()).boundingRect()
            self.centerOn(QPointF(box.left() + rect.width() / 2, box.top() + rect.height() / 2))
            return
        self.centerOn(box.center())

    def zoom_to_fit(self) -> None:
        """The user asked for the whole graph: all of it, and kept on resize."""
        self._fitted, self._whole_asked = False, True
        self.fit()

    def zoom_to_selection(self) -> None:
        """The selected box and the boxes next to it, readable."""
        index = self.marks.selected
        if index is None:
            return
        near = self.drawing.nodes[index]
        next_to = {e.source for e in self.drawing.edges if e.target == index}
        next_to |= {e.target for e in self.drawing.edges if e.source == index}
        boxes = [self.drawing.nodes[i] for i in {index, *next_to}]
        rect = QRectF()
        for b in boxes:
            rect = rect.united(QRectF(b.x, b.y, b.w, b.h))
        self.fitInView(rect.adjusted(-40, -40, 40, 40), Qt.AspectRatioMode.KeepAspectRatio)
        # Readable above all: neighbours far apart are scrolled to, not shrunk into view.
        scale = min(max(self.transform().m11(), READABLE_ZOOM), SELECTION_ZOOM)
        self.resetTransform()
        self.scale(scale, scale)
        self.centerOn(QPointF(near.x + near.w / 2, near.y + near.h / 2))
        self._fitted = True

    def resizeEvent(self, event: Any) -> None:
        QGraphicsView.resizeEvent(self, event)
        if not self._fitted:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        factor = 1.15 ** (event.angleDelta().y() / 120)
        self.scale(factor, factor)
        self._fitted = True  # the user chose a zoom: keep it

    # -- find, next failed ------------------------------------------------------------------

    def find(self, text: str) -> list[str]:
        """Mark and return the nodes whose id or tool contains `text`; select the first."""
        if self._index is None or len(self._index.keys) != len(self.nodes):
            self._index = SearchIndex(self.nodes)
        self.matches = self._index.find(text)
        self._mark_matches()
        if self.matches:
            self.select_node(self.matches[0])
        if self._boxes is not None:
            self._boxes.update()
        return self.matches

    def _mark_matches(self) -> None:
        where = self.drawing.where
        self.marks.matches = {where[k] for k in self.matches if k in where}

    def find_next(self, backwards: bool = False) -> str | None:
        """Select the next (or previous) match of the last `find`."""
        key = after(self.matches, self.selected_key, backwards)
        if key is not None:
            self.select_node(key)
        return key

    def next_failed(self, backwards: bool = False) -> str | None:
        """Select the next failed or timed-out node after the selection (wrapping round)."""
        key = after(failed_keys(self.nodes), self.selected_key, backwards)
        if key is not None:
            self.select_node(key)
        return key

    # -- mouse ------------------------------------------------------------------------------

    def _frame_at(self, point: QPointF) -> DrawnFrame | None:
        """The innermost frame whose header is at `point`."""
        for frame in reversed(self.drawing.frames):
            header = QRectF(frame.x, frame.y, frame.w, FRAME_HEADER)
            if header.contains(point):
                return frame
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._press = event.position().toPoint()
        QGraphicsView.mousePressEvent(self, event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        QGraphicsView.mouseReleaseEvent(self, event)
        press, self._press = self._press, None
        moved = press is None or (event.position().toPoint() - press).manhattanLength()
        if (
            event.button() == Qt.MouseButton.LeftButton
            and moved is not True
            and moved <= CLICK_SLOP
        ):
            self.click_at(self.mapToScene(event.position().toPoint()))

    def click_at(self, point: QPointF) -> None:
        """Select what is at scene `point`: a box, an opened group (its frame's header), or
        nothing."""
        index = self._boxes.at(point) if self._boxes is not None else None
        if index is not None:
            self.selected_key = self.drawing.nodes[index].key
            self._select_box(index)
            return
        frame = self._frame_at(point)
        self._select_box(None)
        if frame is not None:
            self.selected_key = frame.key
            self.group_selected.emit(frame.key)
        else:
            self.selected_key = None
            self.selection_cleared.emit()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        point = self.mapToScene(event.position().toPoint())
        index = self._boxes.at(point) if self._boxes is not None else None
        if index is not None and self.drawing.nodes[index].group is not None:
            self.toggle_group(self.drawing.nodes[index].group)
            return
        frame = self._frame_at(point)
        if frame is not None:
            self.collapse_group(frame.key)
            return
        QGraphicsView.mouseDoubleClickEvent(self, event)

    def contextMenuEvent(self, event: Any) -> None:
        point = self.mapToScene(event.pos())
        index = self._boxes.at(point) if self._boxes is not None else None
        box = self.drawing.nodes[index] if index is not None else None
        frame = self._frame_at(point) if box is None else None
        if box is not None and box.kind == "node":
            self.open_node_menu(box.key, event.globalPos())
        elif box is not None and box.group is not None:
            self._open_group_menu(box.group, event.globalPos())
        elif frame is not None:
            self._open_group_menu(frame.key, event.globalPos())

    def open_node_menu(self, node_id: str, screen_pos: Any) -> QMenu | None:
        node = self.nodes.get(node_id)
        if node is None:
            return None
        menu = QMenu(self)
        cancel = menu.addAction("Cancel node")
        live = self.breakpoints is not None  # (set only while a live run is shown)
        cancel.setEnabled(live and not node.state.is_terminal)
        cancel.setData(("cancel", node_id))
        for label, mode in (("Re-run node", "node"), ("Re-run from here", "downstream")):
            action = menu.addAction(label)
            action.setEnabled(self.rerun_allowed)
            action.setData((mode, node_id))
        self._add_breakpoint_actions(menu, node_id, node.tool.name)
        menu.triggered.connect(self._on_menu_triggered)
        menu.popup(screen_pos)
        return menu

    def _add_breakpoint_actions(self, menu: QMenu, node_id: str, tool: str) -> None:
        """ "Break here" (the node) and "Break on every <tool>", or clearing them; only for
        a live run (`breakpoints` is None otherwise)."""
        menu.addSeparator()
        for spec, label in ((node_id, "here"), (tool, f"on every {tool}")):
            is_set = self.breakpoints is not None and spec in self.breakpoints
            text = f"Clear break {label}" if is_set else f"Break {label}"
            action = menu.addAction(text)
            action.setEnabled(self.breakpoints is not None)
            action.setData(("unbreak" if is_set else "break", spec))

    def _open_group_menu(self, key: str, screen_pos: Any) -> QMenu:
        menu = QMenu(self)
        collapsed = self.is_collapsed(key)
        menu.addAction("Open group" if collapsed else "Collapse group").setData(("toggle", key))
        if self.group_page(key) is not None:
            menu.addAction("Next page").setData(("next", key))
            menu.addAction("Previous page").setData(("previous", key))
            menu.addAction("Page with the first failed").setData(("failed", key))
        menu.triggered.connect(self._on_menu_triggered)
        menu.popup(screen_pos)
        return menu

    @Slot(QAction)
    def _on_menu_triggered(self, action: QAction) -> None:
        what, key = action.data()
        if what == "cancel":
            self.cancel_node_requested.emit(key)
        elif what in ("break", "unbreak"):
            self.breakpoint_requested.emit(key, what == "break")
        elif what in ("node", "downstream"):
            self.rerun_requested.emit(key, what)
        elif what == "toggle":
            self.toggle_group(key)
        elif what in ("next", "previous"):
            self.turn_page(key, 1 if what == "next" else -1)
        elif what == "failed":
            self.page_to_failed(key)

    # -- keys -------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        moves = {
            Qt.Key.Key_Right: self._downstream,
            Qt.Key.Key_Left: self._upstream,
            Qt.Key.Key_Down: lambda i: self._in_column(i, 1),
            Qt.Key.Key_Up: lambda i: self._in_column(i, -1),
        }
        if key in moves and self.drawing.nodes:
            current = self.marks.selected
            target = 0 if current is None else moves[key](current)
            if target is not None:
                self.selected_key = self.drawing.nodes[target].key
                self._select_box(target)
                box = self.drawing.nodes[target]
                self.ensureVisible(QRectF(box.x, box.y, box.w, box.h), 40, 40)
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.marks.selected is not None:
            group = self.drawing.nodes[self.marks.selected].group
            if group is not None:
                self.toggle_group(group)
            return
        if key == Qt.Key.Key_Escape:
            self._select_box(None)
            return
        QGraphicsView.keyPressEvent(self, event)

    def _neighbour(self, index: int, downstream: bool) -> int | None:
        here = self.drawing.nodes[index]
        others = [
            (e.target if downstream else e.source)
            for e in self.drawing.edges
            if (e.source if downstream else e.target) == index
        ]
        if not others:
            return None
        return min(others, key=lambda i: abs(self.drawing.nodes[i].y - here.y))

    def _downstream(self, index: int) -> int | None:
        return self._neighbour(index, True)

    def _upstream(self, index: int) -> int | None:
        return self._neighbour(index, False)

    def _in_column(self, index: int, step: int) -> int | None:
        here = self.drawing.nodes[index]
        middle = here.x + here.w / 2
        column = sorted(
            (b.y, i) for i, b in enumerate(self.drawing.nodes) if abs(b.x + b.w / 2 - middle) < 1.0
        )
        position = column.index((here.y, index)) + step
        return column[position][1] if 0 <= position < len(column) else None
