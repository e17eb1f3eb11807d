"""Helpers for driving the main window in tests."""

from __future__ import annotations

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
