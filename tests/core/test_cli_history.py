"""`graphdeck run --store`, `graphdeck history`, `graphdeck export` (called in-process)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from graphdeck.cli import main
from graphdeck.store import RunStore

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def db(tmp_path):
    return tmp_path / "history.sqlite3"


def _run(db: Path, example: str, *args: str) -> int:
    return main(["run", str(EXAMPLES / example), "--store", str(db), *args])


def test_runs_are_recorded_and_listed_newest_first(db, capsys) -> None:
    assert _run(db, "map_reduce.py") == 0
    assert _run(db, "failing_branch.py", "--on-error", "continue") == 1
    capsys.readouterr()
    assert main(["history", "--store", str(db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["RUN", "STARTED", "TIME", "STATE"]
    assert "failing_branch" in lines[1] and "failed" in lines[1] and "(2✗)" in lines[1]
    assert "map_reduce" in lines[2] and "succeeded" in lines[2]
    assert str(EXAMPLES / "map_reduce.py") in lines[2]


def test_history_filters_and_json(db, capsys) -> None:
    _run(db, "map_reduce.py")
    _run(db, "failing_branch.py")
    capsys.readouterr()
    assert main(["history", "--store", str(db), "--state", "failed", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["graph"] == "failing_branch" and listed["state"] == "failed"
    assert main(["history", "--store", str(db), "--graph", "map_", "--json"]) == 0
    assert [r["graph"] for r in json.loads(capsys.readouterr().out)] == ["map_reduce"]
    assert main(["history", "--store", str(db), "--since", "2999-01-01"]) == 0
    assert "no runs recorded" in capsys.readouterr().err


def test_history_keep_prunes_old_runs(db, capsys) -> None:
    for _ in range(3):
        _run(db, "map_reduce.py")
    capsys.readouterr()
    assert main(["history", "--store", str(db), "--keep", "1", "--json"]) == 0
    captured = capsys.readouterr()
    assert "deleted 2 run(s)" in captured.err
    assert len(json.loads(captured.out)) == 1


def test_export_json_and_trace_by_id_prefix(db, tmp_path, capsys) -> None:
    _run(db, "failing_branch.py", "--on-error", "continue")
    (summary,) = RunStore(db).runs()
    capsys.readouterr()
    assert main(["export", summary.id[:6], "--store", str(db)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["run"]["id"] == summary.id and len(document["nodes"]) == 12
    out = tmp_path / "run.trace.json"
    assert (
        main(["export", summary.id, "--format", "trace", "-o", str(out), "--store", str(db)]) == 0
    )
    trace = json.loads(out.read_text())
    assert {e["ph"] for e in trace["traceEvents"]} >= {"M", "X", "C"}


@pytest.fixture
def exported(db, capsys):
    """`exported(*args)`: (exit code, stderr) of exporting a recorded run."""
    _run(db, "map_reduce.py")
    run_id = RunStore(db).runs()[0].id
    capsys.readouterr()

    def export(*args: str) -> tuple[int, str]:
        code = main(["export", run_id, "--store", str(db), *args])
        return code, capsys.readouterr().err

    return export


def _one_line(err: str) -> str:
    (line,) = err.splitlines()
    assert "Traceback" not in line
    return line


def test_export_into_a_missing_folder_or_onto_a_folder_says_so_in_one_line(
    exported, tmp_path
) -> None:
    code, err = exported("-o", str(tmp_path / "nowhere" / "run.json"))
    assert code == 2
    assert (
        _one_line(err)
        == f"graphdeck: export not written: folder {tmp_path / 'nowhere'} does not exist"
    )
    code, err = exported("-o", str(tmp_path))
    assert code == 2
    assert _one_line(err) == f"graphdeck: export not written: {tmp_path} is a folder"


def test_export_refuses_to_replace_a_file_without_force(exported, tmp_path) -> None:
    out = tmp_path / "run.json"
    out.write_text("keep me")
    code, err = exported("-o", str(out))
    assert code == 2
    assert _one_line(err).endswith(f"{out} exists; pass --force to replace it")
    assert out.read_text() == "keep me"
    assert exported("-o", str(out), "--force")[0] == 0
    assert json.loads(out.read_text())["format"] == "graphdeck-run"


def test_export_never_writes_through_a_symbolic_link(exported, tmp_path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("not an export")
    link = tmp_path / "run.json"
    link.symlink_to(target)
    code, err = exported("-o", str(link))
    assert code == 2 and "(a symbolic link)" in _one_line(err)
    assert exported("-o", str(link), "--force")[0] == 0
    assert target.read_text() == "not an export"  # the link was replaced, not followed
    assert not link.is_symlink() and json.loads(link.read_text())["format"] == "graphdeck-run"
    assert stat.S_IMODE(link.stat().st_mode) == 0o600  # private, like the history


def test_export_of_an_unknown_run_is_a_usage_error(db, capsys) -> None:
    _run(db, "map_reduce.py")
    assert main(["export", "zzzz", "--store", str(db)]) == 2
    assert "no run 'zzzz'" in capsys.readouterr().err


def test_a_damaged_history_never_stops_a_run_but_history_says_why(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"garbage" * 1000)
    assert _run(bad, "map_reduce.py") == 0
    captured = capsys.readouterr()
    assert "history not recorded" in captured.err and "damaged" in captured.err
    assert "sum:" in captured.out
    assert main(["history", "--store", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("graphdeck: the run history") and "Traceback" not in err


def test_the_default_store_comes_from_the_environment_and_no_history_skips_it(
    db, monkeypatch
) -> None:
    monkeypatch.setenv("GRAPHDECK_STORE", str(db))
    assert main(["run", str(EXAMPLES / "map_reduce.py"), "--no-history"]) == 0
    assert not db.exists()
    assert main(["run", str(EXAMPLES / "map_reduce.py")]) == 0
    assert [r.graph for r in RunStore(db).runs()] == ["map_reduce"]


@pytest.mark.parametrize("form", ["--store {db} history", "--store={db} history"])
def test_store_is_accepted_before_the_command_too(db, capsys, form) -> None:
    _run(db, "map_reduce.py")
    capsys.readouterr()
    assert main(form.format(db=db).split()) == 0
    assert "map_reduce" in capsys.readouterr().out
