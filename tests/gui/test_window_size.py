"""Whatever a run says (a long error, long outputs, a long log line), the window keeps its
size: text wraps or elides. Before, the Results tab's error summary did not wrap, and the
window grew up to 2,054 px wide after a failure, and kept that width in its settings."""

from __future__ import annotations

import textwrap

from guisupport import load, run_and_wait

LONG_FAILURE = """
from graphdeck import graphify, tool

@tool(outputs=["v"])
async def fails(x):
    raise ValueError("no good: " + " ".join(f"word{i}" for i in range(300)) + "/" * 300)

@tool(outputs=["v"])
async def fine(x):
    return {"v": "y" * 3000}

@graphify(name="long_failure", outputs=["v", "w"])
def long_failure():
    return {"v": fails(x=1).v, "w": fine(x=2).v}
"""


def test_the_window_keeps_its_size_when_results_and_errors_are_shown(
    qtbot, window, tmp_path
) -> None:
    path = tmp_path / "long_failure.py"
    path.write_text(textwrap.dedent(LONG_FAILURE))
    load(qtbot, window, path)
    window.controls.policy_combo.setCurrentText("continue")
    size = window.size()
    handle = run_and_wait(qtbot, window)
    assert handle.error is not None
    for tab in range(window.details.count()):
        window.details.setCurrentIndex(tab)
        qtbot.wait(50)  # let layouts settle, then look again
        assert window.size() == size, window.details.tabText(tab)
        assert window.minimumSizeHint().width() <= size.width(), window.details.tabText(tab)
    window.graph_view.select_node("fails_0")
    qtbot.wait(50)
    assert window.size() == size
    summary = window.details.results.summary
    assert "no good: word0" in summary.text() or "no good: word0" in summary.toolTip()
