"""Runs started from the history: "Re-run failed" reuses the stored outputs that can be
restored, "Run again" runs every node, both with the file's current code."""

from __future__ import annotations

from graphdeck import RunState
from guisupport import ask_from_history, confirm_and_wait


def test_rerun_failed_from_history_reuses_stored_outputs(qtbot, failed_then_fixed) -> None:
    run_id, win = failed_then_fixed
    box = ask_from_history(qtbot, win, run_id, win.rerun_failed_action)
    assert "2 node(s) run; 3 keep their stored outputs" in box.text()
    assert win.graph_view.highlighted == {"step_2", "merge_0"}
    calls = win.document.tools["step"].fn.__globals__["calls"]
    calls.clear()
    confirm_and_wait(qtbot, win, box)
    again = win.current.run
    assert again.state is RunState.SUCCEEDED and again.outputs == {"v": 5}
    assert calls == ["c", "merge"]  # a, b and d kept their stored outputs


def test_run_again_from_history_starts_a_fresh_run(qtbot, failed_then_fixed) -> None:
    run_id, win = failed_then_fixed
    box = ask_from_history(qtbot, win, run_id, win.run_again_action)
    assert "every node runs" in box.text()
    confirm_and_wait(qtbot, win, box)
    assert win.current.run.state is RunState.SUCCEEDED
    assert win.document.tools["step"].fn.__globals__["calls"].count("a") == 1


def test_an_agent_with_a_tuple_default_runs_again_from_history(
    qtbot, agent_in_history, make_window, store
) -> None:
    win = make_window(store=store)
    box = ask_from_history(qtbot, win, agent_in_history, win.run_again_action)
    confirm_and_wait(qtbot, win, box)
    assert win.current.run.state is RunState.SUCCEEDED
    assert win.current.run.inputs["topics"] == ("graphs", "agents", "queues")
