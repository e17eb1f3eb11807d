"""The graph view driven offscreen: find, filter, next failed, the paths through a node,
groups opened page by page, the group inspector, keys, the View menu, the empty canvas."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QDockWidget, QToolBar

from graphdeck import NodeState, RunState
from guisupport import EXAMPLES, load, run_and_wait, set_inputs
from layout_support import SHUFFLED_TREE, overlaps, write

FAILING_FANOUT = """
from graphdeck import graphify, tool

@tool(outputs=["y"])
async def square(x: int):
    if x % 1000 == 777:
        raise ValueError(f"cannot square {x}")
    return {"y": x * x}

@tool(outputs=["total"])
async def total(ys: list):
    return {"total": sum(ys)}

@graphify(name="failing_fanout", outputs=["total"])
def failing_fanout(n=10000):
    return {"total": total(ys=[square(x=i).y for i in range(n)]).total}
"""


def laid_out(qtbot, view) -> None:
    qtbot.waitUntil(lambda: not view.layouts.busy and bool(view.drawing.nodes), timeout=15000)


def failed_fanout_run(qtbot, window, tmp_path: Path):
    load(qtbot, window, write(tmp_path / "failing_fanout.py", FAILING_FANOUT))
    window.controls.policy_combo.setCurrentText("continue")
    window.controls.cap_spin.setValue(64)
    handle = run_and_wait(qtbot, window, timeout=60000)
    assert handle.state is RunState.FAILED
    laid_out(qtbot, window.graph_view)
    return handle


def test_a_failed_run_opens_on_its_first_failed_node(qtbot, window, tmp_path) -> None:
    handle = failed_fanout_run(qtbot, window, tmp_path)
    view, groups = window.graph_view, window.details.group_inspector
    # On the group holding it, closed: a page of 400 of 10,000 opened by itself was a
    # column too tall to read at any zoom that shows it; the group lists its failed.
    qtbot.waitUntil(lambda: view.selected_key in view.drawing.groups, timeout=10000)
    group = view.selected_key
    assert handle.nodes["square_777"] in view.group_members(group) and view.is_collapsed(group)
    assert window.details.currentWidget() is groups
    failed = [groups.failed_list.item(i).text() for i in range(groups.failed_list.count())]
    assert failed and failed[0].startswith("square_777")


def test_group_pages_collapse_and_inspector(qtbot, window, tmp_path) -> None:
    handle = failed_fanout_run(qtbot, window, tmp_path)
    view, inspector = window.graph_view, window.details.group_inspector
    key = next(k for k, members in view.drawing.groups.items() if len(members) == 10000)
    view.collapse_group(key)
    laid_out(qtbot, view)
    assert view.is_collapsed(key) and "square_0" in view.drawing.where
    box = view.drawing.nodes[view.drawing.where["square_0"]]
    assert box.kind == "group" and len(box.members) == 10000
    view.click_at(QPointF(box.x + 5, box.y + 5))  # select the group: the inspector shows it
    assert window.details.currentWidget() is inspector and inspector.key == key
    summary = inspector.summary.text()
    assert "10,000 members" in summary and "failed" in summary and "p50" in summary
    assert inspector.failed_list.count() == 10
    assert inspector.failed_list.item(0).text().startswith("square_777: ValueError")
    inspector.toggle_button.click()  # open: the first page, said so
    qtbot.waitUntil(lambda: view.group_page(key) == (0, 10000))
    laid_out(qtbot, view)
    assert sum(1 for b in view.drawing.nodes if b.kind == "node") == 400 + 1
    assert any(f.label.endswith("1–400 of 10,000") for f in view.drawing.frames)
    assert "square_500" not in view.drawing.where  # paged out, not drawn
    inspector.next_button.click()
    qtbot.waitUntil(lambda: view.group_page(key) == (400, 10000))
    qtbot.waitUntil(lambda: "square_500" in view.drawing.where)
    assert any(f.label.endswith("401–800 of 10,000") for f in view.drawing.frames)
    # a failed member: click it in the inspector, its page opens and it is selected
    failed = inspector.failed_list
    failed.scrollToItem(failed.item(3))
    where = failed.visualItemRect(failed.item(3)).center()
    qtbot.mouseClick(failed.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.waitUntil(lambda: view.selected_key == "square_3777")
    assert view.group_page(key) == (3600, 10000)
    assert window.details.inspector.node is handle.nodes["square_3777"]
    view.collapse_group(key)
    qtbot.waitUntil(lambda: view.is_collapsed(key) and not view.layouts.busy)
    assert view.drawing.nodes[view.drawing.where["square_5"]].kind == "group"


def test_an_opened_page_is_a_grid_readable_at_fit(qtbot, window, tmp_path) -> None:
    """A page of 400 members was one column 19,000 units tall: at F (fit) a zoom of 0.04,
    nothing legible. It is a grid shaped like the view, its frame a block of the layout."""
    window.resize(1400, 860)
    load(qtbot, window, write(tmp_path / "failing_fanout.py", FAILING_FANOUT))
    view = window.graph_view
    laid_out(qtbot, view)
    key = next(k for k, members in view.drawing.groups.items() if len(members) == 10000)
    view.expand_group(key, 400)
    qtbot.waitUntil(lambda: "square_400" in view.drawing.where and not view.layouts.busy)
    page = [b for b in view.drawing.nodes if b.kind == "node" and b.key.startswith("square_")]
    assert len(page) == 400 and page[0].key == "square_400"
    assert overlaps(view.drawing.to_json()) == 0  # no box over another
    columns, rows = len({b.x for b in page}), len({b.y for b in page})
    assert columns > 4 and rows < 100 and columns * rows >= 400
    left, top = min(b.x for b in page), min(b.y for b in page)
    right, bottom = max(b.x + b.w for b in page), max(b.y + b.h for b in page)
    viewport = view.viewport().size()
    ratio = ((right - left) / (bottom - top)) / (viewport.width() / viewport.height())
    assert 0.5 < ratio < 2  # about the view's shape
    assert (page[1].x, page[1].y) == (page[0].x + page[0].w + 16, page[0].y)  # row by row
    (frame,) = [f for f in view.drawing.frames if f.key == key]
    assert frame.label.endswith("401–800 of 10,000")
    assert frame.x < left and frame.y < top and frame.x + frame.w > right
    assert frame.y + frame.h > bottom
    total = view.drawing.nodes[view.drawing.where["total_0"]]
    assert total.x > frame.x + frame.w  # the next layer starts after the grid
    into = [e for e in view.drawing.edges if view.drawing.nodes[e.target].key == "total_0"]
    assert len(into) == 400 and {e.points[0] for e in into} == {into[0].points[0]}
    assert into[0].points[0][0] == frame.x + frame.w  # out of the frame's side
    window.graph_actions.fit_action.trigger()
    assert view.transform().m11() > 0.2  # F: the page whole, boxes still boxes


def test_find_as_you_type_and_next_failed(qtbot, window, tmp_path) -> None:
    failed_fanout_run(qtbot, window, tmp_path)
    view, bar = window.graph_view, window.find_bar
    window.graph_actions.find_action.trigger()
    assert bar.isVisible() and bar.field.hasFocus()
    began = time.perf_counter()
    found = view.find("square_12")
    assert time.perf_counter() - began < 0.1  # 10,000 nodes, as you type
    assert found[0] == "square_12" and len(found) == 111  # 12, 120–129, 1200–1299
    qtbot.keyClicks(bar.field, "")
    bar.field.setText("total")
    assert view.matches == ["total_0"] and view.selected_key == "total_0"
    assert bar.count_label.text() == "1 of 1"
    bar.field.setText("no such node")
    assert bar.count_label.text() == "no match"
    window.graph_actions.next_failed_action.trigger()
    qtbot.waitUntil(lambda: view.selected_key == "square_777")
    window.graph_actions.next_failed_action.trigger()
    qtbot.waitUntil(lambda: view.selected_key == "square_1777")
    window.graph_actions.previous_failed_action.trigger()
    qtbot.waitUntil(lambda: view.selected_key == "square_777")


TWO_FANOUTS = """
from graphdeck import graphify, tool

@tool(outputs=["y"])
async def square(x: int):
    if x == 7:
        raise ValueError("cannot square 7")
    return {"y": x * x}

@tool(outputs=["y"])
async def cube(x: int):
    return {"y": x ** 3}

@tool(outputs=["total"])
async def total(ys: list):
    return {"total": sum(ys)}

@graphify(name="two_fanouts", outputs=["squares", "cubes"])
def two_fanouts(n=500):
    squares = total(ys=[square(x=i).y for i in range(n)])
    return {"squares": squares.total, "cubes": total(ys=[cube(x=i).y for i in range(n)]).total}
"""


def test_the_group_tab_follows_find_to_the_members_group(qtbot, window, tmp_path) -> None:
    """Find landed on a member and the Group tab still showed another group (or, after a
    click on nothing, no group at all): it shows the group of what is selected."""
    load(qtbot, window, write(tmp_path / "two_fanouts.py", TWO_FANOUTS))
    window.controls.policy_combo.setCurrentText("continue")
    assert run_and_wait(qtbot, window).state is RunState.FAILED
    view, groups, bar = window.graph_view, window.details.group_inspector, window.find_bar
    laid_out(qtbot, view)
    squares = view.group_of("square_7")
    cubes = view.group_of("cube_0")
    assert squares and cubes and squares != cubes
    qtbot.waitUntil(lambda: groups.key == squares)  # the run opened on its failed group
    window.graph_actions.find_action.trigger()
    bar.field.setText("cube_456")  # a member paged out of a closed group
    qtbot.waitUntil(lambda: view.group_page(cubes) == (400, 500) and not view.layouts.busy)
    assert view.selected_key == "cube_456"
    assert window.details.inspector.node is view.nodes["cube_456"]
    assert groups.key == cubes and groups.page == (400, 500)
    assert "showing 401–500 of 500" in groups.summary.text()
    view.click_at(QPointF(-1000, -1000))  # on nothing: no group
    assert groups.key is None
    bar.field.setText("square_3")
    qtbot.waitUntil(lambda: view.selected_key == "square_3")
    assert groups.key == squares
    view.select_node("total_0")  # in no group
    assert groups.key is None


def test_state_filter_fades_what_it_hides(qtbot, window, tmp_path) -> None:
    failed_fanout_run(qtbot, window, tmp_path)
    view = window.graph_view
    total = view.drawing.where["total_0"]
    window.find_bar.filter_combo.setCurrentText("failed")
    assert total in view.marks.faded  # skipped: not failed
    group = view.drawing.where["square_777"]
    assert group not in view.marks.faded
    window.find_bar.filter_combo.setCurrentText("all")
    assert view.marks.faded == set()


def _closure(node, step) -> set[str]:
    seen, todo = set(), [node]
    while todo:
        for other in step(todo.pop()):
            if other.id not in seen:
                seen.add(other.id)
                todo.append(other)
    return seen


def test_selection_lights_its_paths_and_keys_move_along_them(qtbot, window, tmp_path) -> None:
    load(qtbot, window, write(tmp_path / "tree.py", SHUFFLED_TREE))
    view = window.graph_view
    laid_out(qtbot, view)
    nodes = view.nodes
    middle = next(n for n in nodes.values() if n.upstream and n.tool.name == "step")
    up = _closure(middle, lambda n: [nodes[u] for u in n.upstream])
    down = _closure(middle, lambda n: n.dependents)
    view.select_node(middle.id)
    lit = {view.drawing.nodes[i].key for i in view.marks.path}
    assert lit == up | down and len(down) >= 6  # its pipeline and the merges to the root
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.drawing.nodes[view.marks.selected].key == middle.dependents[0].id
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert view.drawing.nodes[view.marks.selected].key == middle.id
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert view.drawing.nodes[view.marks.selected].key == middle.upstream[0]
    here = view.marks.selected
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.marks.selected != here
    assert view.drawing.nodes[view.marks.selected].x == view.drawing.nodes[here].x  # same column


def test_zoom_to_fit_and_to_selection(qtbot, window, tmp_path) -> None:
    load(qtbot, window, write(tmp_path / "tree.py", SHUFFLED_TREE))
    view = window.graph_view
    laid_out(qtbot, view)
    root = next(n for n in view.nodes.values() if not n.dependents)
    view.select_node(root.id)
    window.graph_actions.zoom_selection_action.trigger()
    close = view.transform().m11()
    window.graph_actions.fit_action.trigger()
    assert view.transform().m11() < close / 2
    rect = view.mapToScene(view.viewport().rect()).boundingRect()
    left, top, right, bottom = view.drawing.bounds()
    assert rect.left() <= left and rect.right() >= right  # the whole graph is in view
    assert rect.top() <= top and rect.bottom() >= bottom


def test_small_graph_is_centred_and_empty_canvas_says_what_to_do(qtbot, window, tmp_path) -> None:
    view = window.graph_view
    assert "Open a graph file" in view.empty_hint()
    one = write(
        tmp_path / "one.py",
        """
        from graphdeck import graphify, tool

        @tool(outputs=["y"])
        async def one(x: int):
            return {"y": x}

        @graphify(name="single", outputs=["y"])
        def single(x=1):
            return {"y": one(x=x).y}
        """,
    )
    load(qtbot, window, one)
    laid_out(qtbot, view)
    assert view.empty_hint() is None
    box = view.drawing.nodes[0]
    middle = view.mapFromScene(QPointF(box.x + box.w / 2, box.y + box.h / 2))
    assert abs(middle.x() - view.viewport().width() / 2) < 3
    assert not view.horizontalScrollBar().isVisible()


def test_view_menu_brings_back_closed_panels(qtbot, window) -> None:
    dock = window.findChild(QDockWidget, "dock-details")
    dock.close()
    assert dock.isHidden()
    toggle = next(a for a in window.graph_actions.panels_menu.actions() if a.text() == "Details")
    toggle.trigger()
    assert not dock.isHidden()


def test_the_toolbar_is_not_listed_as_a_panel(qtbot, window) -> None:
    """View ▸ Panels listed the main toolbar as "Main" among the panels: easy to hide by
    mistake, and not what it is. It has its own item, "Toolbar", under View."""
    panels = [a.text() for a in window.graph_actions.panels_menu.actions()]
    assert sorted(panels) == ["Details", "Graph and runs", "History"]
    view_menu = window.graph_actions.menu
    toggle = next(a for a in view_menu.actions() if a.text().replace("&", "") == "Toolbar")
    toolbar = window.findChild(QToolBar, "toolbar-main")
    assert toolbar.windowTitle() == "Toolbar" and toggle.isChecked()
    toggle.trigger()
    qtbot.waitUntil(toolbar.isHidden)
    toggle.trigger()
    qtbot.waitUntil(toolbar.isVisible)


MAPPED = """
from graphdeck import graphify, tool

@tool(outputs=["items"])
async def make(n: int):
    return {"items": list(range(n))}

@tool(outputs=["y"])
async def double(x: int):
    return {"y": 2 * x}

@tool(outputs=["total"])
async def total(ys: list):
    return {"total": sum(ys)}

@graphify(name="mapped", outputs=["total"])
def mapped(n=30):
    return {"total": total(ys=double.map(x=make(n=n).items).y).total}
"""


def test_live_map_keeps_boxes_in_place(qtbot, window, tmp_path) -> None:
    load(qtbot, window, write(tmp_path / "mapped.py", MAPPED))
    view = window.graph_view
    laid_out(qtbot, view)
    before = {b.key: (b.x, b.y) for b in view.drawing.nodes}
    handle = run_and_wait(qtbot, window)
    assert handle.state is RunState.SUCCEEDED and handle.outputs == {"total": 870}
    qtbot.waitUntil(lambda: any(b.kind == "group" for b in view.drawing.nodes), timeout=5000)
    (group,) = [b for b in view.drawing.nodes if b.kind == "group"]
    assert len(group.members) == 30  # the map's items: one group
    after = {b.key: (b.x, b.y) for b in view.drawing.nodes}
    assert {k: after[k] for k in before} == before  # items appeared, nothing moved
    assert all(n.state is not NodeState.PENDING for n in handle.nodes.values())


def test_fanout_of_100k_is_one_box_and_few_items(qtbot, window) -> None:
    load(qtbot, window, EXAMPLES / "fanout_10k.py")
    set_inputs(window, n="100000")
    qtbot.waitUntil(lambda: not window.preview.busy, timeout=30000)
    view = window.graph_view
    laid_out(qtbot, view)
    assert [(b.kind, len(b.members)) for b in view.drawing.nodes] == [
        ("group", 100000),
        ("node", 1),
    ]
    assert len(view.scene().items()) <= 4  # frames, edges, boxes: never one item per node


def test_a_small_graph_opens_readable_and_f_still_shows_it_whole(qtbot, window) -> None:
    """120 boxes fitted whole were 4 px labels (zoom 0.4); F did not fit them at all."""
    from graphdeck.gui.graph_navigation import READABLE_ZOOM

    window.resize(1400, 860)
    load(qtbot, window, EXAMPLES / "layered_dag.py")
    view = window.graph_view
    laid_out(qtbot, view)
    assert len(view.drawing.nodes) <= 150
    assert view.transform().m11() >= READABLE_ZOOM  # readable from the start
    window.graph_actions.fit_action.trigger()
    rect = view.mapToScene(view.viewport().rect()).boundingRect()
    left, top, right, bottom = view.drawing.bounds()
    assert rect.left() <= left and rect.right() >= right  # F: the whole graph
    assert rect.top() <= top and rect.bottom() >= bottom
    view.select_node(next(iter(view.nodes)))
    window.graph_actions.zoom_selection_action.trigger()
    assert view.transform().m11() >= READABLE_ZOOM  # Shift+F: readable, whatever is near


def test_a_big_group_is_recounted_whole_a_few_times_a_second_and_ends_exact(
    qtbot, monkeypatch
) -> None:
    """Counting a 100k-member group by each member that changed cost 2 to 4 µs per change,
    a third of the window's work in a 100k-node run; it is recounted whole (C-level) at
    most every BIG_RECOUNT_S instead, by a timer (the last change is counted too)."""
    import random
    from collections import Counter
    from types import SimpleNamespace

    from graphdeck.gui import canvas
    from graphdeck.gui.canvas import BIG_GROUP, BoxesItem, Marks
    from graphdeck.gui.drawing import Drawing, DrawnNode
    from graphdeck.gui.graph_view import GraphView

    big = [SimpleNamespace(state=NodeState.PENDING) for _ in range(BIG_GROUP + 1)]
    small = [SimpleNamespace(state=NodeState.PENDING) for _ in range(30)]
    drawing = Drawing(
        nodes=[
            DrawnNode("work", "work ×big", "group", big, 190, 52, group="set:work"),
            DrawnNode("step", "step ×30", "group", small, 190, 52, group="set:step"),
        ]
    )
    boxes = BoxesItem(drawing, Marks())
    rng = random.Random(7)
    monkeypatch.setattr(canvas, "BIG_RECOUNT_S", 3600.0)
    for member in rng.sample(big, 300) + rng.sample(small, 10):
        member.state = rng.choice(list(NodeState))
    assert boxes.recount([0, 1]) > 0  # the big group waits its turn ...
    assert boxes.counts[0] == Counter({NodeState.PENDING: len(big)})
    assert boxes.counts[1] == Counter(m.state for m in small)  # ... a small one never
    boxes.recount_big()  # when due: recounted whole, and nothing waits
    assert boxes.counts[0] == Counter(m.state for m in big) and boxes.recount(()) is None

    # In the view, a refresh that leaves a big group waiting arms the recount it is owed.
    view = GraphView()
    qtbot.addWidget(view)
    view._apply(drawing)
    monkeypatch.setattr(canvas, "BIG_RECOUNT_S", 0.05)
    for _ in range(3):  # refreshes faster than big groups are recounted
        for member in rng.sample(big, 300):
            member.state = rng.choice(list(NodeState))
        view._recount([0])
    qtbot.waitUntil(lambda: view._boxes.counts[0] == Counter(m.state for m in big))
