"""Helpers for driving the main window in tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(qtbot, win, path, graph: str | None = None) -> None:
    win.open_file(path)
    qtbot.waitUntil(lambda: not win.document.busy, timeout=10000)
    if graph is not None:
        win.graph_combo.setCurrentText(graph)


def set_inputs(win, **texts: str) -> None:
    for name, text in texts.items():
        win.inputs_form.fields[name].setText(text)


def run_and_wait(qtbot, win, timeout: int = 20000):
    handle = win.start_run()
    assert handle is not None, win.error_label.text()
    qtbot.waitUntil(lambda: handle.done and win.current.finished, timeout=timeout)
    qtbot.waitUntil(lambda: win.current.index >= handle.event_count, timeout=timeout)
    return handle


PIPELINE = """
from graphdeck import graphify, tool

calls = []

@tool(outputs=["v"])
async def step(name: str, x: int):
    calls.append(name)
    if x == {broken}:
        raise ValueError(f"step {{name}} cannot take {{x}}")
    return {{"v": x + {add}}}

@tool(outputs=["v"])
async def merge(xs: list):
    calls.append("merge")
    return {{"v": sum(xs)}}

@graphify(name="pipeline", outputs=["v"])
def pipeline(start=0):
    a = step(name="a", x=start)
    b = step(name="b", x=a.v)
    c = step(name="c", x=b.v)
    d = step(name="d", x=a.v)
    return {{"v": merge(xs=[c.v, d.v]).v}}
"""


def write_pipeline(path, broken: int = -1, add: int = 1) -> None:
    """a -> b -> c, a -> d, merge(c, d); the step given x == `broken` raises. Tools log
    their calls in the module's `calls` list."""
    path.write_text(textwrap.dedent(PIPELINE.format(broken=broken, add=add)))
