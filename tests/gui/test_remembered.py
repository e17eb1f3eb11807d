"""What the monitor remembers between sessions."""

from __future__ import annotations

from pathlib import Path

from graphdeck.gui.remembered import MAX_RECENT, Remembered


def test_recent_files_newest_first_without_duplicates(settings, tmp_path):
    remembered = Remembered(settings)
    assert remembered.recent_files() == [] and remembered.last_dir() == Path.cwd()
    for name in ("a.py", "b.py", "a.py"):
        remembered.remember_file(tmp_path / name)
    assert remembered.recent_files() == [str(tmp_path / "a.py"), str(tmp_path / "b.py")]
    assert remembered.last_dir() == tmp_path
    for number in range(MAX_RECENT + 3):
        remembered.remember_file(tmp_path / f"{number}.py")
    assert len(remembered.recent_files()) == MAX_RECENT


def test_inputs_per_file_and_graph_survive_hand_edited_settings(settings, tmp_path):
    remembered = Remembered(settings)
    file = tmp_path / "g.py"
    remembered.remember_inputs(file, "g", {"n": "3"})
    assert remembered.inputs(file, "g") == {"n": "3"}
    assert remembered.inputs(file, "other") == {}
    settings.setValue(f"inputs/{file}/g", "[1, 2")  # not JSON
    assert remembered.inputs(file, "g") == {}
    settings.setValue(f"inputs/{file}/g", "[1, 2]")  # JSON, but not a dict
    assert remembered.inputs(file, "g") == {}
