"""The open graph file: a burst of change notices (an editor saving) reloads it once."""

from __future__ import annotations

from graphdeck.gui.document import RELOAD_DEBOUNCE_MS, GraphDocument

BODY = """
from graphdeck import graph_fn

@graph_fn(name="one")
async def one(*, context):
    return {}
"""


def test_a_burst_of_changes_reloads_once(qtbot, gui_loop, tmp_path):
    path = tmp_path / "graph.py"
    path.write_text(BODY)
    document = GraphDocument()
    with qtbot.waitSignal(document.loaded, timeout=5000):
        document.open(path)
    loads: list[str] = []
    document.loading.connect(loads.append)
    for _ in range(5):  # truncate, write, rename, … as editors do
        document._watcher.fileChanged.emit(str(path))
    qtbot.wait(RELOAD_DEBOUNCE_MS // 2)
    assert loads == []
    with qtbot.waitSignal(document.loaded, timeout=5000):
        pass
    assert loads == [str(path)]
    assert list(document.graphs) == ["one"]
