"""What the views say about a run: Ctrl+R says it reloaded; the Log has the retries,
failures and cancels, each naming its node as a link; the occupancy plot ends where the
run ended; the timeline's slots are whole numbers and a hovered bar names its node."""

from __future__ import annotations

from PySide6.QtCore import QUrl

from graphdeck import NodeState
from graphdeck.gui.log_entries import NODE_LINES_PER_BATCH
from guisupport import load, load_source, run_and_wait, write_pipeline

EVENTFUL = """
import asyncio
from graphdeck import graphify, tool

tries = []

@tool(outputs=["v"], retries=1)
async def flaky(x):
    tries.append(x)
    if len(tries) == 1:
        raise RuntimeError("first try fails")
    return {"v": x}

@tool(outputs=["v"])
async def fails(x):
    await asyncio.sleep(0.05)
    raise ValueError("never works")

@tool(outputs=["v"])
async def wait(x):
    await asyncio.sleep(x)
    return {"v": x}

@graphify(name="eventful", outputs=["a", "b", "c"])
def eventful(n=60, seconds=0.3):
    return {
        "a": flaky(x=1).v,
        "b": fails(x=2).v,
        "c": [wait(x=seconds).v for _ in range(n)],
    }
"""


def _eventful(qtbot, window, tmp_path, **inputs):
    load_source(qtbot, window, tmp_path / "eventful.py", EVENTFUL, **inputs)


def test_ctrl_r_says_it_reloads_and_when(qtbot, window, tmp_path) -> None:
    path = tmp_path / "pipeline.py"
    write_pipeline(path)
    load(qtbot, window, path)
    status = window.statusBar()
    with qtbot.waitSignal(window.document.loading, timeout=5000):
        window.reload_action.trigger()
    assert status.currentMessage() == "loading pipeline.py …"
    qtbot.waitUntil(lambda: status.currentMessage() == "loaded pipeline.py: 1 graph", timeout=10000)
    assert "loaded at" in window.controls.file_label.text()


def test_the_log_names_retries_failures_and_cancels_as_links(qtbot, window, tmp_path) -> None:
    _eventful(qtbot, window, tmp_path)  # fails_0 stops the run: 60 waits are cancelled
    window.controls.cap_spin.setValue(64)
    handle = run_and_wait(qtbot, window)
    log = window.details.log
    text = log.toPlainText()
    assert "[node]  flaky_0 attempt 1 failed, retrying: RuntimeError: first try fails" in text
    assert "[node]  fails_0 failed: ValueError: never works" in text
    assert "[node]  wait_0 cancelled" in text or "more cancelled" in text
    lines = [line for line in text.splitlines() if "[node]" in line]
    assert len(lines) <= 3 * (NODE_LINES_PER_BATCH + 2)  # a mass cancel is summed up
    assert sum(1 for n in handle.nodes.values() if n.state is NodeState.CANCELLED) == 60
    assert 'href="node:fails_0"' in log.toHtml()
    log.anchorClicked.emit(QUrl("node:fails_0"))  # a click on the link
    assert window.details.inspector.node is handle.nodes["fails_0"]
    assert window.details.currentWidget() is window.details.inspector


def test_the_occupancy_plot_ends_where_the_run_ended(qtbot, window, tmp_path) -> None:
    _eventful(qtbot, window, tmp_path, n="8", seconds="0.6")
    window.controls.policy_combo.setCurrentText("continue")
    handle = run_and_wait(qtbot, window)
    window.details.setCurrentWidget(window.details.occupancy)
    lasted = handle.finished_at - handle.started_at
    (start, end), _ = window.details.occupancy.plot.viewRange()
    assert start == 0 and lasted * 0.95 <= end <= lasted * 1.05, (end, lasted)


def test_timeline_slots_are_whole_numbers_and_a_hovered_bar_is_named(
    qtbot, window, tmp_path
) -> None:
    _eventful(qtbot, window, tmp_path, n="5", seconds="0.05")
    window.controls.policy_combo.setCurrentText("continue")
    handle = run_and_wait(qtbot, window)
    timeline = window.details.timeline
    window.details.setCurrentWidget(timeline)
    lanes = window.current.lanes
    assert lanes >= 3
    for _spacing, values in timeline.plot.getAxis("left").tickValues(-0.5, lanes - 0.5, 300):
        assert all(float(v).is_integer() for v in values), values
    for plot in (timeline.plot, window.details.occupancy.plot):  # never "slot (x0.001)"
        assert not plot.getAxis("left").autoSIPrefix
    # time in a unit ("(ms)" for a short run), never "seconds … (x0.001)"
    for plot in (timeline.plot, window.details.occupancy.plot):
        label = plot.getAxis("bottom").labelString()
        assert ("(ms)" in label or "(s)" in label) and "x0.001" not in label, label
    bar = next(b for b in window.current.bars if b[0] == "wait_2")
    said = timeline.hover_at(bar[1] - handle.started_at + 0.01, bar[4])
    assert said.startswith("wait_2: succeeded, ") and timeline.plot.toolTip() == said
    assert timeline.hover_at(-5, 0) == "" and timeline.plot.toolTip() == ""
