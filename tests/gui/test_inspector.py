"""The inspector tells the truth about a node: why it was cancelled or skipped, that it
never ran (no "attempt 0", no place it ran), how long it has been running (live), and
where its inputs come from (`← step_0.v`, not `Ref('step_0', 'v')`)."""

from __future__ import annotations

import re
import textwrap

from graphdeck import NodeState
from guisupport import load, load_source, run_and_wait, write_pipeline

SLOW_AND_FAILING = """
import asyncio, os
from graphdeck import graphify, tool

@tool(outputs=["v"])
async def fails():
    raise ValueError("no")

@tool(outputs=["v"])
async def slow(x):
    await asyncio.sleep(x)
    return {"v": x}

@tool(outputs=["v"])
async def after(v):
    return {"v": v}

@graphify(name="g", outputs=["a", "b", "c"])
def g(fail=True, wait=30):
    first = slow(x=wait)
    return {
        "a": fails().v if fail else slow(x=0).v,
        "b": after(v=first.v).v,
        "c": after(v=slow(x=0.01).v).v,
    }
"""


def _open(qtbot, window, tmp_path, **inputs):
    load_source(qtbot, window, tmp_path / "g.py", SLOW_AND_FAILING, **inputs)


def _text(window, node_id: str) -> str:
    window.graph_view.select_node(node_id)
    assert window.details.inspector.node is window.current.run.nodes[node_id]
    return window.details.inspector.text.toPlainText()


def test_cancelled_nodes_say_why(qtbot, window, tmp_path) -> None:
    _open(qtbot, window, tmp_path, fail="False")
    handle = window.start_run()
    qtbot.waitUntil(lambda: handle.nodes["slow_0"].state is NodeState.RUNNING, timeout=10000)
    window.cancel_node("slow_0")
    qtbot.waitUntil(lambda: handle.nodes["after_0"].state is NodeState.CANCELLED, timeout=10000)
    assert "cancelled by you" in _text(window, "slow_0")
    assert "upstream slow_0 was cancelled by you" in _text(window, "after_0")
    qtbot.waitUntil(lambda: handle.done and window.current.caught_up, timeout=10000)

    _open(qtbot, window, tmp_path, fail="True")  # it fails at once; the stop policy stops the rest
    stopped = run_and_wait(qtbot, window)
    assert stopped.nodes["slow_0"].state is NodeState.CANCELLED
    assert "stopped by the run's stop policy after fails_0 failed" in _text(window, "slow_0")

    _open(qtbot, window, tmp_path, fail="False")
    cancelled = window.start_run()
    qtbot.waitUntil(lambda: cancelled.nodes["slow_0"].state is NodeState.RUNNING, timeout=10000)
    window.cancel_current_run()
    qtbot.waitUntil(lambda: cancelled.done and window.current.caught_up, timeout=10000)
    assert "cancelled when you cancelled the run" in _text(window, "slow_0")


def test_a_node_that_never_ran_says_so_and_a_running_one_counts_its_time(
    qtbot, window, tmp_path
) -> None:
    _open(qtbot, window, tmp_path, fail="False", wait="3")
    handle = window.start_run()
    qtbot.waitUntil(lambda: handle.nodes["slow_0"].state is NodeState.RUNNING, timeout=10000)
    waiting = _text(window, "after_0")
    assert "not run yet" in waiting and "waiting for upstream slow_0 (running)" in waiting
    assert "attempt 0" not in waiting and "ran on" not in waiting and "started" not in waiting
    inspector = window.details.inspector.text
    window.graph_view.select_node("slow_0")

    def seconds() -> float:
        found = re.search(r"running for (\d+\.\d) s", inspector.toPlainText())
        return float(found.group(1)) if found else -1.0

    qtbot.waitUntil(lambda: seconds() >= 0, timeout=5000)
    first = seconds()
    qtbot.waitUntil(lambda: seconds() >= first + 0.5, timeout=5000)  # live, no event needed
    assert "awaiting asyncio.sleep at g.py:11 for" in inspector.toPlainText()
    window.cancel_current_run()
    qtbot.waitUntil(lambda: handle.done and window.current.caught_up, timeout=10000)


def test_inputs_say_where_they_come_from(qtbot, window, tmp_path) -> None:
    path = tmp_path / "pipeline.py"
    write_pipeline(path)
    load(qtbot, window, path)
    window.graph_view.select_node("step_1")  # the preview, before any run
    before = window.details.inspector.text.toPlainText()
    assert "← step_0.v" in before and "not known yet" in before and "Ref(" not in before
    run_and_wait(qtbot, window)
    text = _text(window, "merge_0")
    assert "← step_2.v, step_3.v" in text and "[3, 2]" in text and "Ref(" not in text


RETRIED = """
from graphdeck import graphify, tool

@tool(outputs=["v"], retries=1)
async def flaky():
    raise ValueError("row 3 is not a date")

@graphify(name="g", outputs=["v"])
def g():
    return {"v": flaky().v}
"""


def test_an_error_reads_as_the_users_not_the_runtimes(qtbot, window, tmp_path) -> None:
    """A retried tool's traceback showed its error twice ("during handling of the above")
    and the runtime's worker frames before the user's line."""
    path = tmp_path / "retried.py"
    path.write_text(textwrap.dedent(RETRIED))
    load(qtbot, window, path)
    run_and_wait(qtbot, window)
    text = _text(window, "flaky_0")
    assert 'raise ValueError("row 3 is not a date")' in text
    assert text.count("ValueError: row 3 is not a date") == 1
    assert "During handling" not in text and "_scheduler.py" not in text
    assert "graphdeck's runtime not shown" in text


def test_a_node_of_a_finished_run_that_never_ran_says_what_happened(
    qtbot, window, tmp_path
) -> None:
    """A skipped or cancelled node of a finished run said "not run yet" and its inputs "not
    known yet", as if it might still run."""
    path = tmp_path / "pipeline.py"
    write_pipeline(path, broken=1)  # step_1 fails; step_2 and merge_0 after it are skipped
    load(qtbot, window, path)
    window.controls.policy_combo.setCurrentText("continue")
    handle = run_and_wait(qtbot, window)
    assert handle.nodes["step_2"].state is NodeState.SKIPPED
    _says_it_did_not_run(_text(window, "step_2"), "skipped", "upstream step_1 failed")

    _open(qtbot, window, tmp_path, fail="True")  # fails at once: the stop policy cancels
    window.controls.policy_combo.setCurrentText("stop")
    stopped = run_and_wait(qtbot, window)
    assert stopped.nodes["after_0"].state is NodeState.CANCELLED
    _says_it_did_not_run(
        _text(window, "after_0"), "cancelled", "stopped by the run's stop policy after fails_0"
    )


def _says_it_did_not_run(text: str, state: str, why: str) -> None:
    assert f"state {state} · did not run" in text and why in text
    assert "never resolved (the node did not run)" in text
    assert "not run yet" not in text and "not known yet" not in text
