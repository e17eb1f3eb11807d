"""Pause, Resume and Step in the monitor; breakpoints from the node menu; a held node's
inputs edited in the inspector, then Continue or Step (issue 16)."""

from __future__ import annotations

import textwrap

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication, QMenu

from graphdeck import NodeState, RunState
from guisupport import load, run_rows

#: a slow first node (paused while it runs), then b and c after it, then their sum
SLOW = """
import asyncio
from graphdeck import graphify, tool

@tool(outputs=["v"])
async def slow(x: int):
    await asyncio.sleep({delay})
    return {{"v": x + 1}}

@tool(outputs=["v"])
async def add(x: int, y: int = 1):
    return {{"v": x + y}}

@graphify(name="chain", outputs=["v"])
def chain(start=0):
    a = slow(x=start)
    b = add(x=a.v)
    c = add(x=a.v, y=10)
    return {{"v": add(x=b.v, y=c.v).v}}
"""


def chain_run(qtbot, window, tmp_path, node_id: str):
    """The slow chain started, `node_id` drawn and its menu ready: (run, graph view)."""
    path = tmp_path / "chain.py"
    write_slow(path)
    load(qtbot, window, path, "chain")
    run = window.start_run()
    view = window.graph_view
    qtbot.waitUntil(lambda: node_id in view.drawing.where and view.breakpoints is not None)
    return run, view


def choose(view, node_id: str, text: str) -> None:
    """Pick `text` in `node_id`'s context menu."""
    menu = view.open_node_menu(node_id, QPoint(0, 0))
    menu_action(menu, text).trigger()
    menu.close()


def trigger(qtbot, action) -> None:
    """As a user does: once the action is enabled (it follows the run on refresh ticks)."""
    qtbot.waitUntil(action.isEnabled, timeout=5000)
    action.trigger()


def write_slow(path, delay: float = 0.4) -> None:
    path.write_text(textwrap.dedent(SLOW.format(delay=delay)))


def started(run, node_id: str) -> bool:
    return run.nodes[node_id].state is not NodeState.PENDING and (
        run.nodes[node_id].state is not NodeState.READY
    )


def menu_action(menu: QMenu, text: str):
    (action,) = [a for a in menu.actions() if a.text() == text]
    return action


def test_pause_resume_step_act_on_the_selected_run(qtbot, window, tmp_path):
    path = tmp_path / "chain.py"
    write_slow(path)
    load(qtbot, window, path, "chain")
    actions = window.pause_actions
    assert not actions.pause_action.isEnabled()  # no run yet
    run = window.start_run()
    qtbot.waitUntil(lambda: run.nodes["slow_0"].state is NodeState.RUNNING, timeout=5000)
    assert actions.pause_action.isEnabled()
    assert not actions.resume_action.isEnabled() and not actions.step_action.isEnabled()
    actions.pause_action.trigger()
    assert run.paused
    # the running node finishes, none starts after it; the row and status bar say so
    qtbot.waitUntil(lambda: run.nodes["slow_0"].state is NodeState.SUCCEEDED, timeout=5000)
    qtbot.waitUntil(lambda: "paused" in run_rows(window)[0], timeout=5000)
    assert run.state is RunState.RUNNING
    assert not any(started(run, i) for i in ("add_0", "add_1", "add_2"))
    assert "running, paused" in window.progress_label.text()
    assert actions.resume_action.isEnabled() and actions.step_action.isEnabled()
    assert not actions.pause_action.isEnabled()
    # Step: exactly one node starts, then the run is paused again
    actions.step_action.trigger()
    qtbot.waitUntil(lambda: sum(started(run, i) for i in ("add_0", "add_1")) == 1, timeout=5000)
    qtbot.waitUntil(lambda: run.paused and actions.resume_action.isEnabled(), timeout=5000)
    assert not started(run, "add_2")
    actions.resume_action.trigger()
    qtbot.waitUntil(lambda: run.done, timeout=5000)
    assert run.state is RunState.SUCCEEDED and run.outputs == {"v": 13}
    qtbot.waitUntil(lambda: "paused" not in run_rows(window)[0], timeout=5000)
    enabled = (actions.pause_action.isEnabled, actions.resume_action.isEnabled)
    qtbot.waitUntil(lambda: not any(is_enabled() for is_enabled in enabled), timeout=5000)


def test_shortcuts_and_menu(window):
    actions = window.pause_actions
    keys = [a.shortcut().toString() for a in (actions.pause_action, actions.resume_action)]
    assert keys == ["F6", "F5"] and actions.step_action.shortcut().toString() == "F10"
    (run_menu,) = [m for m in window.menuBar().findChildren(QMenu) if m.title() == "&Run"]
    assert {"&Pause", "Res&ume", "&Step"} <= {a.text() for a in run_menu.actions()}


def test_break_here_holds_the_node_and_marks_it(qtbot, window, tmp_path):
    run, view = chain_run(qtbot, window, tmp_path, "add_2")
    choose(view, "add_2", "Break here")
    assert window.current.breakpoints == {"add_2"}
    qtbot.waitUntil(lambda: run.held == ["add_2"], timeout=5000)
    # held: READY, the run paused, the box marked; the row counts it
    assert run.nodes["add_2"].state is NodeState.READY and run.paused
    qtbot.waitUntil(lambda: view.marks.held == {view.drawing.where["add_2"]}, timeout=5000)
    qtbot.waitUntil(lambda: "paused (1 held)" in run_rows(window)[0], timeout=5000)
    choose(view, "add_2", "Clear break here")
    assert window.current.breakpoints == set()
    trigger(qtbot, window.pause_actions.resume_action)
    qtbot.waitUntil(lambda: run.done, timeout=5000)
    assert run.state is RunState.SUCCEEDED
    qtbot.waitUntil(lambda: not view.marks.held, timeout=5000)


def test_break_on_every_tool_and_clearing_it(qtbot, window, tmp_path):
    run, view = chain_run(qtbot, window, tmp_path, "add_0")
    choose(view, "add_0", "Break on every add")
    # the first add reached is held and the run pauses (the other waits its turn)
    qtbot.waitUntil(lambda: len(run.held) == 1, timeout=5000)
    assert run.held[0] in ("add_0", "add_1")
    qtbot.waitUntil(lambda: len(view.marks.held) == 1, timeout=5000)
    qtbot.waitUntil(lambda: "paused (1 held)" in run_rows(window)[0], timeout=5000)
    trigger(qtbot, window.pause_actions.resume_action)  # the next add is held in turn
    qtbot.waitUntil(lambda: len(run.held) == 1 and run.paused, timeout=5000)
    choose(view, "add_2", "Clear break on every add")
    trigger(qtbot, window.pause_actions.resume_action)
    qtbot.waitUntil(lambda: run.done, timeout=5000)
    assert run.state is RunState.SUCCEEDED and not run.held  # add_2 was not held


def test_no_breakpoints_on_a_preview_or_an_ended_run(qtbot, window, tmp_path):
    path = tmp_path / "chain.py"
    write_slow(path, delay=0.0)
    load(qtbot, window, path, "chain")
    qtbot.waitUntil(lambda: "add_0" in window.graph_view.drawing.where, timeout=5000)
    menu = window.graph_view.open_node_menu("add_0", QPoint(0, 0))
    assert not menu_action(menu, "Break here").isEnabled()
    menu.close()
    run = window.start_run()
    qtbot.waitUntil(lambda: run.done and window.current.finished, timeout=5000)
    qtbot.waitUntil(lambda: window.graph_view.breakpoints is None, timeout=5000)
    assert not window.pause_actions.pause_action.isEnabled()


def test_edit_a_held_nodes_inputs_then_continue(qtbot, window, tmp_path):
    path = tmp_path / "chain.py"
    write_slow(path, delay=0.0)
    load(qtbot, window, path, "chain")
    window.start_run()
    run = window.current.run
    run.set_breakpoint("add_1")  # (as "Break here" does; tested above)
    window.current.breakpoints.add("add_1")
    qtbot.waitUntil(lambda: run.held == ["add_1"], timeout=5000)
    window.graph_view.select_node("add_1")
    inspector = window.details.inspector
    bar = inspector.held_bar
    qtbot.waitUntil(lambda: bar.isVisible(), timeout=5000)
    assert "held at a breakpoint" in bar.label.text()
    window.resize(window.minimumSizeHint())  # as small as it goes: any growth shows
    QApplication.instance().processEvents()
    width = window.width()
    bar.edit_button.click()
    dialog = bar.dialog
    assert dialog is not None and dialog.isVisible()
    dialog.editor.setPlainText("{'x': 1, 'nope': 2}")  # checked as for a re-run
    dialog.buttons.accepted.emit()
    assert dialog.isVisible() and "does not take" in dialog.problem.text()
    dialog.editor.setPlainText("{'x': 100, 'y': 10}")
    dialog.buttons.accepted.emit()
    assert run.nodes["add_1"].resolved_inputs == {"x": 100, "y": 10}
    assert "inputs edited" in bar.label.text()
    QApplication.instance().processEvents()
    assert window.width() == width  # the longer line wraps; it grew the window by 70 px
    bar.continue_button.click()
    qtbot.waitUntil(lambda: run.done, timeout=5000)
    assert run.outputs == {"v": 112}  # b = 2, c = 110
    qtbot.waitUntil(lambda: not bar.isVisible(), timeout=5000)
    window.graph_view.select_node("add_1")
    qtbot.waitUntil(lambda: "(edited)" in inspector.text.toHtml(), timeout=5000)


def test_step_from_the_held_node(qtbot, window, tmp_path):
    path = tmp_path / "chain.py"
    write_slow(path, delay=0.0)
    load(qtbot, window, path, "chain")
    window.start_run()
    run = window.current.run
    run.set_breakpoint("add")
    qtbot.waitUntil(lambda: len(run.held) == 1, timeout=5000)
    window.graph_view.select_node(run.held[0])
    bar = window.details.inspector.held_bar
    qtbot.waitUntil(lambda: bar.isVisible(), timeout=5000)
    first = run.held[0]
    bar.step_button.click()
    qtbot.waitUntil(lambda: run.nodes[first].state is NodeState.SUCCEEDED, timeout=5000)
    qtbot.waitUntil(lambda: run.paused, timeout=5000)
    qtbot.waitUntil(lambda: not bar.isVisible(), timeout=5000)
    run.clear_breakpoint("add")
    trigger(qtbot, window.pause_actions.resume_action)
    qtbot.waitUntil(lambda: run.done, timeout=5000)
