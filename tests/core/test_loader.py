"""Loading graph files: every unusable file gives one clear error with file and line."""

from __future__ import annotations

import textwrap

import pytest

from graphdeck import GraphLoadError
from graphdeck.loader import load_graph_file


def write(tmp_path, text: str, name: str = "g.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_loads_every_graph_of_a_module(tmp_path) -> None:
    path = write(
        tmp_path,
        """
        from graphdeck import graph_fn, graphify, tool

        @tool(outputs=["v"])
        async def t(x): return {"v": x}

        @graphify(name="static", outputs=["v"])
        def static(x=1): return {"v": t(x=x).v}

        @graph_fn(name="agent")
        async def agent(*, context): return {}

        alias = static
        """,
    )
    loaded = load_graph_file(path)
    assert sorted(loaded.graphs) == ["agent", "static"]
    assert loaded.pick("static") is loaded.graphs["static"]
    assert loaded.pick("alias") is loaded.graphs["static"]  # by module attribute too
    with pytest.raises(LookupError, match=r"2 graphs.*static, agent"):
        loaded.pick()
    with pytest.raises(LookupError, match="no graph named 'nope'"):
        loaded.pick("nope")


def test_syntax_error_gives_file_and_line(tmp_path) -> None:
    path = write(tmp_path, "x = 1\ndef broken(:\n    pass\n")
    with pytest.raises(GraphLoadError) as info:
        load_graph_file(path)
    assert info.value.file == str(path) and info.value.line == 2
    assert "syntax error" in info.value.reason
    assert str(info.value).startswith(f"{path}:2: syntax error")


def test_import_error_gives_the_line_in_the_file(tmp_path) -> None:
    path = write(tmp_path, "import os\nimport no_such_module_here\n")
    with pytest.raises(GraphLoadError) as info:
        load_graph_file(path)
    assert info.value.line == 2
    assert "ModuleNotFoundError" in info.value.reason and "no_such_module_here" in info.value.reason


def test_exception_at_import_time(tmp_path) -> None:
    path = write(tmp_path, "def f():\n    return 1 / 0\n\nf()\n")
    with pytest.raises(GraphLoadError) as info:
        load_graph_file(path)
    assert info.value.line == 2 and "ZeroDivisionError" in info.value.reason


def test_module_without_graphs(tmp_path) -> None:
    path = write(tmp_path, "x = 1\n")
    with pytest.raises(GraphLoadError, match="no graphs found"):
        load_graph_file(path)


def test_missing_file_and_wrong_suffix(tmp_path) -> None:
    with pytest.raises(GraphLoadError, match="no such file"):
        load_graph_file(tmp_path / "absent.py")
    other = tmp_path / "g.txt"
    other.write_text("x = 1")
    with pytest.raises(GraphLoadError, match=r"\*\.py"):
        load_graph_file(other)


def test_reloading_gives_a_fresh_module(tmp_path) -> None:
    path = write(
        tmp_path,
        """
        from graphdeck import graph_fn
        @graph_fn(name="a")
        async def a(*, context): return {"v": 1}
        """,
    )
    first = load_graph_file(path)
    path.write_text(path.read_text().replace('"v": 1', '"v": 2'))
    second = load_graph_file(path)
    assert first.module is not second.module


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("import sys\nsys.exit(3)\n", ":2: error while importing: SystemExit: 3"),
        (
            "import argparse\nargparse.ArgumentParser().parse_args(['--nope'])\n",
            ":2: error while importing: SystemExit: 2",
        ),
        ("raise KeyboardInterrupt\n", ":1: error while importing: KeyboardInterrupt"),
    ],
)
def test_a_file_that_exits_while_imported_is_a_load_error(tmp_path, source, reason) -> None:
    path = tmp_path / "exits.py"
    path.write_text(source)
    with pytest.raises(GraphLoadError) as caught:
        load_graph_file(path)
    assert str(caught.value) == f"{path}{reason}"
