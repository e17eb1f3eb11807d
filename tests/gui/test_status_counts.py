"""The status bar counts what holds a slot as running, and never more than the cap: map
nodes (which only group their items) are shown as open maps. Before, three maps with
four items running read "running 7" at cap 4."""

from __future__ import annotations

import re
import textwrap

from guisupport import load

MAPS = """
import asyncio
from graphdeck import graphify, tool

@tool(outputs=["items"])
async def listing(n):
    return {"items": list(range(n))}

@tool(outputs=["v"])
async def slow(x, release):
    while not __import__("os").path.exists(release):
        await asyncio.sleep(0.02)
    return {"v": x}

@graphify(name="maps", outputs=["a", "b", "c"])
def maps(release):
    return {
        name: slow.map(x=listing(n=3).items, release=release).v
        for name in ("a", "b", "c")
    }
"""


def test_running_never_exceeds_the_cap_and_maps_are_shown_as_maps(qtbot, window, tmp_path):
    release = tmp_path / "release"
    path = tmp_path / "maps.py"
    path.write_text(textwrap.dedent(MAPS))
    load(qtbot, window, path)
    window.controls.inputs_form.fields["release"].setText(repr(str(release)))
    qtbot.waitUntil(lambda: not window.preview.busy, timeout=10000)
    window.controls.cap_spin.setValue(4)
    handle = window.start_run()
    label = window.progress_label
    try:
        qtbot.waitUntil(lambda: "3 maps open" in label.text(), timeout=10000)
        qtbot.waitUntil(lambda: handle.occupancy.active == 4, timeout=10000)
        qtbot.waitUntil(lambda: "running 4 " in label.text(), timeout=5000)
        running = [int(n) for n in re.findall(r"running (\d+)", label.text())]
        assert running == [4], label.text()
        assert "slots 4/4" in label.text()
    finally:
        release.touch()
    qtbot.waitUntil(lambda: handle.done, timeout=10000)


def test_the_status_line_is_drawn_whole_not_only_set(qtbot, window, tmp_path) -> None:
    """`text()` is the line as set; what QLabel paints is its elided form. Before, the
    label kept the width of its first (empty) text: 8 px, and painted nothing."""
    from PySide6.QtWidgets import QLabel

    from guisupport import run_and_wait, write_pipeline

    window.resize(1400, 860)
    path = tmp_path / "pipeline.py"
    write_pipeline(path)
    load(qtbot, window, path)
    run_and_wait(qtbot, window)
    label = window.progress_label
    qtbot.waitUntil(lambda: "succeeded 5" in label.text())
    qtbot.waitUntil(lambda: QLabel.text(label) == label.text(), timeout=5000)
    assert label.width() >= label.fontMetrics().horizontalAdvance(label.text())
