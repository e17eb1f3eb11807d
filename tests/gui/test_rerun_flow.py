"""Re-running from the monitor: the nodes are highlighted and counted first, exactly they
re-execute (upstream outputs reused), and a re-run after editing the file uses new code."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMessageBox

from graphdeck import NodeState, RunState
from guisupport import load, run_and_wait, run_rows
from guisupport import write_pipeline as write


def calls(window) -> list:
    return window.document.tools["step"].fn.__globals__["calls"]


def confirm(qtbot, window, expected_count: int) -> None:
    box = window.findChild(QMessageBox, "confirm-rerun")
    assert box is not None and box.isVisible()
    assert f"Re-run {expected_count} node(s)" in box.text()
    box.button(QMessageBox.StandardButton.Yes).click()
    box.setObjectName("answered")  # the next question gets a box of its own


def wait_done(qtbot, window) -> None:
    handle = window.current.run
    qtbot.waitUntil(lambda: handle.done and window.current.caught_up, timeout=10000)


def test_rerun_node_then_from_here_execute_exactly_those(qtbot, window, tmp_path) -> None:
    path = tmp_path / "pipeline.py"
    write(path)
    load(qtbot, window, path)
    handle = run_and_wait(qtbot, window)
    assert handle.outputs == {"v": 5}
    calls(window).clear()

    window.ask_rerun("step_1", "node")
    assert window.graph_view.highlighted == {"step_1"}
    confirm(qtbot, window, 1)
    wait_done(qtbot, window)
    assert calls(window) == ["b"]
    assert window.graph_view.highlighted == set()
    assert handle.nodes["step_1"].attempts == 2

    calls(window).clear()
    window.ask_rerun("step_1", "downstream")
    assert window.graph_view.highlighted == {"step_1", "step_2", "merge_0"}
    confirm(qtbot, window, 3)
    wait_done(qtbot, window)
    assert sorted(calls(window)) == ["b", "c", "merge"]  # a and d reused
    assert handle.state is RunState.SUCCEEDED


def test_edit_file_reload_and_rerun_failed_uses_the_new_code(qtbot, window, tmp_path) -> None:
    path = tmp_path / "pipeline.py"
    write(path, broken=2)  # c gets x == 2 and fails
    load(qtbot, window, path)
    window.controls.policy_combo.setCurrentText("continue")
    handle = run_and_wait(qtbot, window)
    assert handle.nodes["step_2"].state is NodeState.FAILED
    assert window.rerun_failed_action.isEnabled()

    with qtbot.waitSignal(window.document.loaded, timeout=5000):
        write(path, broken=-1, add=10)  # the user fixes the tool and saves
    assert calls(window) == []  # the reloaded module: nothing ran with it yet
    window.rerun_failed_action.trigger()
    assert window.graph_view.highlighted == {"step_2", "merge_0"}
    confirm(qtbot, window, 2)
    wait_done(qtbot, window)
    assert handle.state is RunState.SUCCEEDED
    assert calls(window) == ["c", "merge"]  # a, b, d reused, not recomputed
    assert handle.outputs == {"v": (2 + 10) + 2}  # the new code adds 10
    attempts = handle.nodes["step_2"].attempts
    assert [a.state for a in attempts] == [NodeState.FAILED, NodeState.SUCCEEDED]


def test_edited_inputs_and_run_again(qtbot, window, tmp_path) -> None:
    path = tmp_path / "pipeline.py"
    write(path)
    load(qtbot, window, path)
    first = run_and_wait(qtbot, window)
    window.graph_view.select_node("step_3")
    assert window.details.inspector.edit_button.isEnabled()
    window.details.inspector.edit_button.click()
    dialog = window.findChild(QDialog, "edit-inputs")
    dialog.editor.setPlainText('{"name": "d", "x": 40}')
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    confirm(qtbot, window, 2)  # the node and what depends on it
    wait_done(qtbot, window)
    assert first.nodes["step_3"].inputs == {"name": "d", "x": 40}
    assert first.outputs == {"v": 3 + 41}

    starting = window.run_again()
    qtbot.waitUntil(starting.done, timeout=10000)
    second = starting.result().run
    assert second is not first and window.current.run is second
    qtbot.waitUntil(lambda: second.done, timeout=10000)
    assert second.outputs == {"v": 5}  # the graph's own inputs, not the edit
    assert len(run_rows(window)) == 2


def test_declining_a_rerun_changes_nothing(qtbot, window, tmp_path) -> None:
    path = tmp_path / "pipeline.py"
    write(path)
    load(qtbot, window, path)
    handle = run_and_wait(qtbot, window)
    calls(window).clear()
    box = window.ask_rerun(None, "failed")
    assert box is None  # nothing failed: refused with a message, no question
    window.ask_rerun("step_0", "downstream")
    window.findChild(QMessageBox, "confirm-rerun").button(QMessageBox.StandardButton.No).click()
    assert handle.done and calls(window) == [] and window.graph_view.highlighted == set()
