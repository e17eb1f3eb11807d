"""The real main window, driven offscreen: load, run, watch, inspect, cancel, close."""

from __future__ import annotations

import asyncio
import textwrap

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QDockWidget, QMessageBox

from graphdeck import NodeState, RunState
from guisupport import EXAMPLES, load, run_and_wait, run_rows, set_inputs


def test_load_example_run_and_read_results(qtbot, window) -> None:
    load(qtbot, window, EXAMPLES / "map_reduce.py")
    assert [
        window.controls.graph_combo.itemText(i) for i in range(window.controls.graph_combo.count())
    ] == ["map_reduce"]
    assert window.controls.inputs_form.fields["vals"].text() == "[1, 2, 3, 4, 5, 6, 7]"  # default
    # Before running, the static graph is previewed.
    assert len(window.graph_view.nodes) == 8
    set_inputs(window, vals="[1, 2, 3]")
    handle = run_and_wait(qtbot, window)
    assert handle.state is RunState.SUCCEEDED
    assert window.current.counts[NodeState.SUCCEEDED] == 4
    assert {n.state for n in handle.nodes.values()} == {NodeState.SUCCEEDED}
    qtbot.waitUntil(lambda: '"sum": 12' in window.details.results.outputs.toPlainText())
    assert "succeeded 4" in window.progress_label.text()
    view = window.graph_view
    box = view.drawing.nodes[view.drawing.where["reduce_sum_0"]]
    assert box.kind == "node" and box.members[0].state is NodeState.SUCCEEDED
    assert "map_reduce" in run_rows(window)[0]
    assert "succeeded" in run_rows(window)[0]


def test_wide_fan_out_is_a_group_and_peak_equals_the_cap(qtbot, window) -> None:
    load(qtbot, window, EXAMPLES / "fanout_10k.py")
    set_inputs(window, n="2000")
    window.controls.cap_spin.setValue(16)
    handle = run_and_wait(qtbot, window)
    assert handle.occupancy.peak == 16
    qtbot.waitUntil(lambda: "peak 16 · cap 16" in window.details.occupancy.numbers.text())
    view = window.graph_view

    def group_of_square_0():  # (the drawing before it, of 10,000, shows until it is laid out)
        index = view.drawing.where.get("square_0")
        return None if index is None else view.drawing.nodes[index]

    qtbot.waitUntil(lambda: len(getattr(group_of_square_0(), "members", ())) == 2000)
    group, index = group_of_square_0(), view.drawing.where["square_0"]
    assert group.kind == "group"
    qtbot.waitUntil(lambda: view._boxes.counts[index][NodeState.SUCCEEDED] == 2000)
    assert len(view.scene().items()) < 10  # not one item per node
    assert window.details.results.branches.rowCount() == 2000
    view.toggle_group(group.group)  # expand on demand: a page of members
    qtbot.waitUntil(lambda: view.drawing.nodes[view.drawing.where["square_0"]].kind == "node")


def test_cancel_run_mid_flight_propagates(qtbot, window) -> None:
    load(qtbot, window, EXAMPLES / "slow_graph.py")
    set_inputs(window, seconds="30")
    handle = window.start_run()
    qtbot.waitUntil(lambda: handle.occupancy.active == 4, timeout=5000)
    assert window.cancel_action.isEnabled()
    window.cancel_action.trigger()
    qtbot.waitUntil(lambda: handle.done, timeout=10000)
    assert handle.state is RunState.CANCELLED
    assert {n.state for n in handle.nodes.values()} == {NodeState.CANCELLED}
    qtbot.waitUntil(lambda: "cancelled" in run_rows(window)[0])


def test_cancel_one_node_other_branches_go_on(qtbot, window) -> None:
    load(qtbot, window, EXAMPLES / "slow_graph.py")
    set_inputs(window, seconds="0.4")
    handle = window.start_run()
    qtbot.waitUntil(lambda: handle.nodes["step_0"].state is NodeState.RUNNING, timeout=5000)
    window.graph_view.select_node("step_0")
    assert window.details.inspector.node is handle.nodes["step_0"]
    assert window.details.inspector.cancel_button.isEnabled()
    window.details.inspector.cancel_button.click()
    qtbot.waitUntil(lambda: handle.done, timeout=10000)
    assert handle.nodes["step_0"].state is NodeState.CANCELLED
    assert handle.nodes["join_0"].state is NodeState.CANCELLED  # its dependent
    assert handle.nodes["step_1"].state is NodeState.SUCCEEDED  # independent branch
    assert handle.nodes["step_7"].state is NodeState.SUCCEEDED


def test_failed_node_shows_error_with_traceback(qtbot, window) -> None:
    load(qtbot, window, EXAMPLES / "failing_branch.py")
    window.controls.policy_combo.setCurrentText("continue")
    handle = run_and_wait(qtbot, window)
    assert handle.state is RunState.FAILED
    window.graph_view.select_node("flaky_2")
    text = window.details.inspector.text.toPlainText()
    assert "ValueError: cannot process 2" in text and "Traceback" in text
    assert "failed" in window.details.results.summary.text()


def test_agent_grows_nodes_and_logs_channel_messages(qtbot, window) -> None:
    load(qtbot, window, EXAMPLES / "batch_agent.py")
    set_inputs(window, items='["a", "b", "c"]')
    handle = run_and_wait(qtbot, window)
    assert sorted(handle.nodes) == ["upper_0", "upper_1", "upper_2"]
    qtbot.waitUntil(lambda: len(window.graph_view.nodes) == 3)
    qtbot.waitUntil(lambda: "processing c" in window.details.log.toPlainText())
    assert '"ys"' in window.details.results.outputs.toPlainText()


def test_several_runs_live_at_once_are_listed(qtbot, window) -> None:
    load(qtbot, window, EXAMPLES / "slow_graph.py")
    set_inputs(window, seconds="0.2")
    first = window.start_run()
    qtbot.waitUntil(window.run_action.isEnabled)  # the next graph is built meanwhile
    second = window.start_run()
    assert len(run_rows(window)) == 2
    qtbot.waitUntil(lambda: first.done and second.done, timeout=10000)
    qtbot.waitUntil(lambda: all("succeeded" in run_rows(window)[i] for i in (0, 1)))
    window.controls.runs_list.select_row(0)
    assert window.current.run is first


def test_invalid_input_disables_run_and_names_the_field(qtbot, window) -> None:
    load(qtbot, window, EXAMPLES / "map_reduce.py")
    set_inputs(window, vals="[1, 2,")
    assert not window.controls.run_button.isEnabled()
    assert "vals" in window.controls.inputs_form.problem.text()
    set_inputs(window, vals="(1, 2)")  # a Python literal is fine too
    qtbot.waitUntil(window.controls.run_button.isEnabled)  # once built with these inputs


def test_inputs_are_remembered_per_graph(qtbot, gui_loop, settings, window) -> None:
    load(qtbot, window, EXAMPLES / "map_reduce.py")
    set_inputs(window, vals="[5, 5]")
    run_and_wait(qtbot, window)
    from graphdeck.gui.main_window import MainWindow

    again = MainWindow(settings)
    qtbot.addWidget(again)
    load(qtbot, again, EXAMPLES / "map_reduce.py")
    assert again.controls.inputs_form.fields["vals"].text() == "[5, 5]"
    assert str((EXAMPLES / "map_reduce.py").resolve()) in again.remembered.recent_files()


BAD_FILES = {
    "syntax.py": ("def broken(:\n    pass\n", ":1: syntax error"),
    "imports.py": ("import os\nimport no_such_module_abc\n", ":2: error while importing"),
    "empty.py": ("x = 1\n", "no graphs found"),
}


def test_bad_files_are_shown_with_file_line_reason(qtbot, window, tmp_path) -> None:
    for name, (source, expected) in BAD_FILES.items():
        path = tmp_path / name
        path.write_text(source)
        load(qtbot, window, path)
        assert expected in window.controls.error_label.text(), name
        assert str(path) in window.controls.error_label.text()
        assert not window.controls.run_button.isEnabled()


def test_build_error_is_shown_with_its_line(qtbot, window, tmp_path) -> None:
    path = tmp_path / "bad_ref.py"
    path.write_text(
        textwrap.dedent(
            """
            from graphdeck import graphify, tool

            @tool(outputs=["out"])
            async def work(x): return {"out": x}

            @graphify(name="bad", outputs=["y"])
            def bad(x=1):
                return {"y": work(x=x).nope}
            """
        )
    )
    load(qtbot, window, path)
    text = window.controls.error_label.text()
    assert f"{path}:9" in text and "no output 'nope'" in text
    assert window.start_run() is None  # refused with the same message, no crash


def test_file_changes_reload_automatically(qtbot, window, tmp_path) -> None:
    path = tmp_path / "live.py"
    body = (
        "from graphdeck import graph_fn\n\n"
        "@graph_fn(name='one')\nasync def one(*, context):\n    return {}\n"
    )
    path.write_text(body)
    load(qtbot, window, path)
    assert window.controls.graph_combo.count() == 1
    path.write_text(body + "\n@graph_fn(name='two')\nasync def two(*, context):\n    return {}\n")
    qtbot.waitUntil(lambda: window.controls.graph_combo.count() == 2, timeout=5000)


def test_drop_a_graph_file_opens_it(qtbot, window) -> None:
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(EXAMPLES / "map_reduce_pick.py"))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    qtbot.waitUntil(
        lambda: window.controls.graph_combo.currentText() == "map_reduce_pick", timeout=5000
    )


def test_closing_with_a_live_run_asks_then_cancels_and_closes(qtbot, window) -> None:
    load(qtbot, window, EXAMPLES / "slow_graph.py")
    set_inputs(window, seconds="30")
    handle = window.start_run()
    qtbot.waitUntil(lambda: handle.occupancy.active == 4, timeout=5000)
    with qtbot.waitSignal(window.closed, timeout=10000):
        window.close()
        box = window.findChild(QMessageBox, "confirm-quit")
        assert box is not None and box.isVisible()
        box.button(QMessageBox.StandardButton.Yes).click()
    assert handle.state is RunState.CANCELLED
    assert not window.isVisible()


def test_closing_and_answering_no_keeps_the_run(qtbot, window) -> None:
    load(qtbot, window, EXAMPLES / "slow_graph.py")
    set_inputs(window, seconds="30")
    handle = window.start_run()
    window.close()
    box = window.findChild(QMessageBox, "confirm-quit")
    box.button(QMessageBox.StandardButton.No).click()
    assert window.isVisible() and not handle.done


def test_shutdown_without_asking_like_ctrl_c(qtbot, window) -> None:
    load(qtbot, window, EXAMPLES / "slow_graph.py")
    set_inputs(window, seconds="30")
    handle = window.start_run()
    with qtbot.waitSignal(window.closed, timeout=10000):
        window.shutdown()
    assert handle.state is RunState.CANCELLED
    assert window.findChild(QMessageBox, "confirm-quit") is None


def test_qasync_survives_20000_timers(qtbot, gui_loop) -> None:
    # docs/design.md §6.1: PySide6 6.12 + Python 3.11 crashed (none_dealloc) after a few thousand
    # qasync timer callbacks. This must keep passing on the pinned version.
    async def many_timers() -> int:
        await asyncio.gather(*(asyncio.sleep(0.0005 * (i % 20)) for i in range(20_000)))
        return 20_000

    task = asyncio.ensure_future(many_timers())
    qtbot.waitUntil(task.done, timeout=60000)
    assert task.result() == 20_000


def test_nested_agents_are_listed_under_their_parent(qtbot, window) -> None:
    load(qtbot, window, EXAMPLES / "nested_agents.py", graph="survey")
    handle = run_and_wait(qtbot, window)
    assert handle.outputs["pages"] == 12
    qtbot.waitUntil(lambda: len(run_rows(window)) == 4, timeout=5000)
    texts = run_rows(window)
    assert texts[0].startswith("survey")
    assert all("↳ research" in text for text in texts[1:])
    window.controls.runs_list.select_row(1)
    assert window.current.run.parent is handle


def test_nested_graphify_is_drawn_as_a_framed_subgraph(qtbot, window, tmp_path) -> None:
    path = tmp_path / "nested.py"
    path.write_text(
        textwrap.dedent(
            """
            from graphdeck import graphify, tool

            @tool(outputs=["out"])
            async def work(x): return {"out": x}

            @tool(outputs=["sum"])
            async def add(xs): return {"sum": sum(xs)}

            @graphify(name="inner", inputs=["vals"], outputs=["sum"])
            def inner(vals):
                return {"sum": add(xs=[work(x=v).out for v in vals]).sum}

            @graphify(name="outer", outputs=["total"])
            def outer(a=(1, 2), b=(3,)):
                return {"total": add(xs=[inner(vals=a).sum, inner(vals=b).sum]).sum}
            """
        )
    )
    load(qtbot, window, path, graph="outer")
    labels = [frame.label for frame in window.graph_view.drawing.frames]
    assert sorted(labels) == ["subgraph inner", "subgraph inner_1"]
    handle = run_and_wait(qtbot, window)
    assert handle.outputs == {"total": 6}


def test_window_layout_is_remembered(qtbot, gui_loop, settings, window) -> None:
    # The offscreen screen is 800 px wide, narrower than the window's minimum width, so
    # restoreGeometry clamps the width; the height and the dock layout round-trip.
    window.resize(window.width(), 583)
    window.findChild(QDockWidget, "dock-details").close()  # the user closed a panel
    with qtbot.waitSignal(window.closed):
        window.close()
    from graphdeck.gui.main_window import MainWindow

    again = MainWindow(settings)
    qtbot.addWidget(again)
    assert again.height() == 583
    assert again.findChild(QDockWidget, "dock-details").isHidden()


def test_the_window_and_its_panels_keep_a_usable_size(qtbot, window) -> None:
    """Shrunk to 640 x 420 the panels overlapped (the runs list over the status bar), and
    a details panel squeezed to its tabs' scroll arrows stayed so once the window grew."""
    window.resize(640, 420)
    assert window.width() >= 1000 and window.height() >= 560
    details = window.findChild(QDockWidget, "dock-details")
    window.resizeDocks([details], [50], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: details.width() >= 380, timeout=5000)


def test_wheel_zooms_and_reload_on_demand(qtbot, window, tmp_path) -> None:
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QWheelEvent

    load(qtbot, window, EXAMPLES / "map_reduce.py")
    view = window.graph_view
    before = view.transform().m11()
    event = QWheelEvent(
        QPointF(50, 50),
        QPointF(50, 50),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    view.wheelEvent(event)
    assert view.transform().m11() > before * 1.3
    with qtbot.waitSignal(window.document.loaded, timeout=5000):
        window.reload_action.trigger()


def test_run_on_a_dask_cluster_shows_where_nodes_ran(qtbot, window) -> None:
    from graphdeck.executors import DaskExecutor
    from graphdeck.gui.run_options import CLUSTER_CHOICE

    # An in-process cluster keeps the test fast; the window closes it like its own.
    executor = DaskExecutor(processes=False, n_workers=1)
    window.session.executors["dask"] = executor
    load(qtbot, window, EXAMPLES / "map_reduce.py")
    window.controls.executor_combo.setCurrentText(CLUSTER_CHOICE)
    set_inputs(window, vals="[1, 2]")
    handle = run_and_wait(qtbot, window)
    assert handle.outputs == {"sum": 6}, handle.error
    assert handle.nodes["work_0"].where.startswith("inproc://")
    window.graph_view.select_node("work_0")
    assert "ran on inproc://" in window.details.inspector.text.toPlainText()
    window.details.setCurrentWidget(window.details.timeline)
    bar = next(b for b in window.current.bars if b[0] == "work_0")
    window.details.timeline.select_at(bar[1] - window.details.timeline.origin() + 1e-4, bar[4])
    assert "work_0" in window.details.timeline.selection.text()
    assert "ran on inproc://" in window.details.timeline.selection.text()
    with qtbot.waitSignal(window.closed, timeout=10000):
        window.close()  # no question (nothing live) but the cluster is closed first
    assert executor.client is None


def test_bad_executor_address_is_refused_clearly(qtbot, window) -> None:
    load(qtbot, window, EXAMPLES / "map_reduce.py")
    window.controls.executor_combo.setCurrentText("spark://nowhere")
    assert window.start_run() is None
    assert "dask://HOST:PORT" in window.controls.error_label.text()


def test_timeline_shows_attempts_retries_apart_in_slot_lanes(qtbot, window, tmp_path) -> None:
    path = tmp_path / "flaky.py"
    path.write_text(
        textwrap.dedent(
            """
            import asyncio
            from graphdeck import graphify, tool

            seen = set()

            @tool(outputs=["v"], retries=2)
            async def flaky(i: int):
                await asyncio.sleep(0.02)
                if i % 3 == 0 and i not in seen:
                    seen.add(i)
                    raise ConnectionError(f"try again {i}")
                return {"v": i}

            @graphify(name="flaky_fan", outputs=["v"])
            def flaky_fan(n=9):
                return {"v": [flaky(i=i).v for i in range(n)]}
            """
        )
    )
    load(qtbot, window, path)
    window.controls.cap_spin.setValue(3)
    handle = run_and_wait(qtbot, window)
    bars = window.current.bars
    assert len(bars) == 9 + 3  # one bar per attempt: three nodes needed a retry
    retried = [b for b in bars if b[0] == "flaky_0"]
    assert [b[3] for b in retried] == [NodeState.RETRYING, NodeState.SUCCEEDED]
    assert window.current.lanes == 3  # lanes are the slots in use: the cap
    window.details.setCurrentWidget(window.details.timeline)
    items = window.details.timeline.items
    assert len(items[NodeState.SUCCEEDED].opts["x0"]) == 9
    assert len(items[NodeState.RETRYING].opts["x0"]) == 3
    last = bars[-1]
    chosen = window.details.timeline.select_at(
        last[1] - window.details.timeline.origin() + 1e-4, last[4]
    )
    assert chosen == last[0] and window.details.inspector.node is handle.nodes[last[0]]
    assert "ran on this process" in window.details.timeline.selection.text()


def test_closing_while_a_file_still_loads_drops_the_load(qtbot, window, tmp_path) -> None:
    path = tmp_path / "slow_import.py"
    path.write_text(
        textwrap.dedent(
            """
            import threading
            from graphdeck import graph_fn

            threading.Event().wait(0.5)  # importing takes a while

            @graph_fn(name="late")
            async def late(*, context):
                return {}
            """
        )
    )
    load = window.open_file(path)
    with qtbot.waitSignal(window.closed, timeout=5000):
        window.close()
    qtbot.waitUntil(load.done, timeout=5000)
    assert load.cancelled()  # its result would have gone to a window that is gone
