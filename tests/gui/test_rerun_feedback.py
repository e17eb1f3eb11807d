"""Re-running tells the truth: "Re-run failed" only when something failed; editing inputs
keeps the text and says what is wrong; a re-run that fails again as fast visibly
changes (attempt, re-run count); the graph's selection and the inspector agree."""

from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMessageBox

from graphdeck import NodeState
from guisupport import load, run_and_wait, run_rows, write_pipeline


def _selected(window) -> list[str]:
    key = window.graph_view.selected_key
    return [] if key is None else [key]


def _agree(window) -> bool:
    node = window.details.inspector.node
    if node is None:
        return _selected(window) == []
    return _selected(window) == [node.id] and window.current.run.nodes[node.id] is node


def _failing(qtbot, window, tmp_path):
    path = tmp_path / "pipeline.py"
    write_pipeline(path, broken=2)  # step_2 fails every time
    load(qtbot, window, path)
    window.controls.policy_combo.setCurrentText("continue")
    return run_and_wait(qtbot, window)


def test_rerun_failed_is_enabled_only_when_something_failed(qtbot, window, tmp_path) -> None:
    path = tmp_path / "pipeline.py"
    write_pipeline(path)
    load(qtbot, window, path)
    run_and_wait(qtbot, window)
    assert window.run_again_action.isEnabled() and not window.rerun_failed_action.isEnabled()
    _failing(qtbot, window, tmp_path)
    assert window.rerun_failed_action.isEnabled()
    window.controls.runs_list.select_row(0)  # the run that succeeded
    assert not window.rerun_failed_action.isEnabled()


def test_invalid_edited_inputs_keep_the_dialog_and_the_text(qtbot, window, tmp_path) -> None:
    _failing(qtbot, window, tmp_path)
    window.graph_view.select_node("step_2")
    window.details.inspector.edit_button.click()
    dialog = window.findChild(QDialog, "edit-inputs")
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    for text, said in (
        ("{'name': 'c', 'x': ", "not valid"),
        ("[1, 2]", "must be a dict"),
        ("{'name': 'c', 'y': 3}", "step does not take these inputs"),
    ):
        dialog.editor.setPlainText(text)
        ok.click()
        assert dialog.isVisible() and dialog.editor.toPlainText() == text
        assert said in dialog.problem.text(), dialog.problem.text()
    assert window.findChild(QMessageBox, "confirm-rerun") is None
    dialog.editor.setPlainText("{'name': 'c', 'x': 7}")
    ok.click()
    assert not dialog.isVisible()
    box = window.findChild(QMessageBox, "confirm-rerun")
    assert box is not None and "Re-run 2 node(s)" in box.text()
    box.button(QMessageBox.StandardButton.No).click()


def test_a_fast_rerun_that_fails_again_visibly_changes(qtbot, window, tmp_path) -> None:
    handle = _failing(qtbot, window, tmp_path)
    window.graph_view.select_node("step_2")
    text = window.details.inspector.text
    assert "attempt 1" in text.toPlainText() and "re-run" not in run_rows(window)[0]
    window.ask_rerun("step_2", "node")
    window.findChild(QMessageBox, "confirm-rerun").button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: handle.nodes["step_2"].attempt == 2 and handle.done, timeout=10000)
    qtbot.waitUntil(lambda: "attempt 2" in text.toPlainText(), timeout=5000)
    assert handle.nodes["step_2"].state is NodeState.FAILED
    assert text.toPlainText().count("failed") >= 3  # the state, and two attempts that failed
    qtbot.waitUntil(lambda: "failed · re-run 1" in run_rows(window)[0], timeout=5000)
    assert _agree(window)


def test_the_graphs_selection_and_the_inspector_agree(qtbot, window, tmp_path) -> None:
    first = _failing(qtbot, window, tmp_path)
    window.graph_view.select_node("step_1")
    assert _agree(window) and window.details.inspector.node is first.nodes["step_1"]
    window.graph_view.click_at(QPointF(-1e6, -1e6))  # a click on the empty canvas
    assert window.details.inspector.node is None and _agree(window)
    second = run_and_wait(qtbot, window)
    window.graph_view.select_node("step_0")
    window.controls.runs_list.select_row(0)  # back to the first run
    assert window.current.run is first and _agree(window)
    window.details.timeline.show_tracker(window.current)
    bar = next(b for b in window.current.bars if b[0] == "step_3")
    window.details.timeline.select_at(bar[1] - first.started_at + 1e-6, bar[4])
    assert window.details.inspector.node is first.nodes["step_3"] and _agree(window)
    assert second is not first
