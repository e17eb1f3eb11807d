"""A group box shows what ended badly among its members however few they are: 20 failed
of 20,000 drew an all-green bar (20/20,000 of the bar is under a pixel) and no count, so
only the group's inspector told. Painted as the canvas and `graphdeck draw` paint it."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

from PySide6.QtGui import QColor, QImage, QPainter

from graphdeck import NodeState
from graphdeck.gui.canvas import Marks, counts_of, paint_boxes
from graphdeck.gui.drawing import GROUP_H, GROUP_W, Drawing, DrawnNode
from graphdeck.gui.group_bar import MIN_SEGMENT, problem_text, segments
from graphdeck.gui.theme import NODE_COLOURS


def _group(failed: int, total: int = 20_000) -> Drawing:
    states = [NodeState.FAILED] * failed + [NodeState.SUCCEEDED] * (total - failed)
    members = [SimpleNamespace(state=state) for state in states]
    box = DrawnNode("item", f"item ×{total:,}", "group", members, GROUP_W, GROUP_H, group="g")
    return Drawing(nodes=[box])


def _painted(drawing: Drawing, scale: float, detail: bool) -> QImage:
    image = QImage(int(GROUP_W * scale) + 4, int(GROUP_H * scale) + 4, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.translate(2, 2)
    painter.scale(scale, scale)
    counts = {0: counts_of(drawing.nodes[0])}
    paint_boxes(painter, drawing, [0], counts, Marks(), detail=detail)
    painter.end()
    return image


def _has_colour(image: QImage, colour: str) -> bool:
    wanted = QColor(colour).rgb()
    return any(
        image.pixel(x, y) == wanted for y in range(image.height()) for x in range(image.width())
    )


def test_a_few_failed_members_of_a_huge_group_show_on_its_box(qapp) -> None:
    drawing = _group(failed=20)
    failed = NODE_COLOURS[NodeState.FAILED]
    assert _has_colour(_painted(drawing, scale=1.0, detail=True), failed)  # close in: the bar
    assert _has_colour(_painted(drawing, scale=0.2, detail=False), failed)  # far out: a strip
    assert problem_text(counts_of(drawing.nodes[0])) == "20 failed"
    # a group where all went well is drawn as before: no red, nothing said
    fine = _group(failed=0)
    assert not _has_colour(_painted(fine, scale=1.0, detail=True), failed)
    assert not _has_colour(_painted(fine, scale=0.2, detail=False), failed)
    assert problem_text(counts_of(fine.nodes[0])) == ""


def test_every_state_with_members_gets_a_visible_segment_and_the_bar_keeps_its_width() -> None:
    counts = Counter(
        {
            NodeState.SUCCEEDED: 19_000,
            NodeState.FAILED: 20,
            NodeState.TIMED_OUT: 3,
            NodeState.CANCELLED: 977,
        }
    )
    drawn = dict(segments(counts, 174.0))
    assert list(drawn) == [
        NodeState.SUCCEEDED,
        NodeState.FAILED,
        NodeState.TIMED_OUT,
        NodeState.CANCELLED,
    ]
    assert drawn[NodeState.FAILED] == drawn[NodeState.TIMED_OUT] == MIN_SEGMENT
    assert drawn[NodeState.CANCELLED] >= MIN_SEGMENT
    assert abs(sum(drawn.values()) - 174.0) < 1e-6
    assert drawn[NodeState.SUCCEEDED] > 150  # the big state stays the big one
    assert problem_text(counts) == "20 failed · 3 timed out · 977 cancelled"
