"""`graphdeck run`: outputs, exit codes, clear errors, Ctrl-C through a real terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def graphdeck(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "graphdeck", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


def assert_no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


@pytest.mark.parametrize(
    ("example", "args", "expected"),
    [
        ("map_reduce.py", ["--inputs", '{"vals": [1, 2, 3, 4, 5, 6, 7, 8, 9]}'], {"sum": 90}),
        ("map_reduce_pick.py", ["--inputs", '{"vals": [10, 20, 30, 40]}'], {"sum": 200}),
        ("batch_agent.py", ["--inputs", '{"items": ["a", "b"]}'], {"ys": ["A", "B"]}),
        ("nested_agents.py", ["--graph", "survey"], {"pages": 12, "peak_api_calls": 3}),
        ("fanout_10k.py", ["--max-concurrency", "64"], {"total": 333283335000, "count": 10000}),
        ("slow_graph.py", ["--inputs", '{"seconds": 0.01}'], {"count": 8}),
    ],
)
def test_examples_run_and_print_outputs(example, args, expected) -> None:
    result = graphdeck("run", str(EXAMPLES / example), "--json", *args)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["outputs"] == expected
    assert document["state"] == "succeeded"


@pytest.mark.parametrize(("policy", "succeeded"), [("stop", None), ("continue", 10)])
def test_failing_branch_exits_1_under_both_policies(policy, succeeded) -> None:
    result = graphdeck("run", str(EXAMPLES / "failing_branch.py"), "--on-error", policy, "--json")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["state"] == "failed"
    assert "flaky_2" in document["errors"] and "cannot process 2" in document["errors"]["flaky_2"]
    if succeeded is not None:
        assert document["counts"]["succeeded"] == succeeded
        assert document["counts"]["skipped"] == 1
    else:
        assert document["counts"].get("cancelled", 0) >= 1
    assert "flaky_2: ValueError: cannot process 2" in result.stderr


def test_human_output_and_python_dash_m_equivalence() -> None:
    result = graphdeck("run", str(EXAMPLES / "map_reduce.py"))
    assert result.returncode == 0 and result.stdout == "sum: 56\n"
    script = Path(sys.executable).with_name("graphdeck")
    if script.exists():
        direct = subprocess.run(
            [str(script), "run", str(EXAMPLES / "map_reduce.py")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert direct.stdout == result.stdout


def test_inputs_from_file(tmp_path) -> None:
    inputs = tmp_path / "in.json"
    inputs.write_text('{"vals": [1, 1]}')
    result = graphdeck("run", str(EXAMPLES / "map_reduce.py"), "--inputs", f"@{inputs}")
    assert result.stdout == "sum: 4\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--inputs", "{not json"], "not valid JSON"),
        (["--inputs", "[1, 2]"], "must be a JSON object"),
        (["--inputs", "@/no/such/file.json"], "cannot read inputs file"),
        (["--inputs", '{"wrong": 1}'], "unknown input(s) ['wrong']"),
        (["--graph", "nope"], "no graph named 'nope'"),
    ],
)
def test_usage_errors_exit_2_with_one_clear_line(args, message) -> None:
    result = graphdeck("run", str(EXAMPLES / "map_reduce.py"), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert_no_traceback(result)


def test_missing_inputs_and_ambiguous_graph(tmp_path) -> None:
    path = tmp_path / "two.py"
    path.write_text(
        textwrap.dedent(
            """
            from graphdeck import graph_fn
            @graph_fn(name="first")
            async def first(x, *, context): return {"x": x}
            @graph_fn(name="second")
            async def second(*, context): return {}
            """
        )
    )
    result = graphdeck("run", str(path))
    assert result.returncode == 2 and "first" in result.stderr and "second" in result.stderr
    result = graphdeck("run", str(path), "--graph", "first")
    assert result.returncode == 2 and "missing input(s) ['x']" in result.stderr
    assert_no_traceback(result)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def broken(:\n    pass\n", ":1: syntax error"),
        ("import os\nimport not_a_real_module_xyz\n", ":2: error while importing"),
        ("x = 1\n", "no graphs found"),
    ],
)
def test_bad_graph_files_exit_2_with_file_line_reason(tmp_path, source, expected) -> None:
    path = tmp_path / "bad.py"
    path.write_text(source)
    result = graphdeck("run", str(path))
    assert result.returncode == 2
    assert str(path) in result.stderr and expected in result.stderr
    assert_no_traceback(result)


def test_graphs_command_lists_graphs_and_inputs() -> None:
    result = graphdeck("graphs", str(EXAMPLES / "nested_agents.py"))
    assert result.returncode == 0
    assert "research  (graph_fn)  inputs: topic" in result.stdout
    assert "survey" in result.stdout


def _spawn_on_terminal(*args: str) -> tuple[subprocess.Popen, int]:
    """Start graphdeck with stderr on a pseudo-terminal (so it draws its progress bar)."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "graphdeck", *args],
        stdout=subprocess.PIPE,
        stderr=slave,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        text=True,
    )
    os.close(slave)
    return process, master


def _read_until(master: int, needle: str, timeout: float = 30.0) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"did not see {needle!r}; saw {seen[-500:]!r}"
        ready, _, _ = select.select([master], [], [], remaining)
        if ready:
            try:
                seen += os.read(master, 4096).decode(errors="replace")
            except OSError:
                break
    return seen


def test_first_ctrl_c_cancels_gracefully_and_reports() -> None:
    process, master = _spawn_on_terminal(
        "run", str(EXAMPLES / "slow_graph.py"), "--inputs", '{"seconds": 30}'
    )
    try:
        screen = _read_until(master, "running 4")  # the progress bar shows 4 busy slots
        assert "slots 4/4" in screen
        process.send_signal(signal.SIGINT)
        stdout, _ = process.communicate(timeout=20)
        screen += _read_until(master, "cancelled after")
    finally:
        process.kill()
        process.communicate()
        os.close(master)
    assert process.returncode == 130
    assert "cancelling" in screen and "9 cancelled" in screen
    assert stdout == ""


def test_second_ctrl_c_exits_at_once(tmp_path) -> None:
    path = tmp_path / "stubborn.py"
    path.write_text(
        textwrap.dedent(
            """
            import asyncio
            from graphdeck import graphify, tool

            @tool(outputs=["v"])
            async def stubborn():
                while True:
                    try:
                        await asyncio.sleep(0.05)
                    except asyncio.CancelledError:
                        pass

            @graphify(name="stubborn", outputs=["v"])
            def graph():
                return {"v": stubborn().v}
            """
        )
    )
    process, master = _spawn_on_terminal("run", str(path))
    try:
        _read_until(master, "running 1")
        process.send_signal(signal.SIGINT)
        _read_until(master, "cancelling")
        began = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        elapsed = time.monotonic() - began
        screen = _read_until(master, "exiting now")
    finally:
        process.kill()
        process.communicate()
        os.close(master)
    assert process.returncode == 130
    assert elapsed < 1.5  # not after the 2 s grace period
    assert "interrupted again" in screen


def test_executor_option_runs_tools_on_a_local_dask_cluster() -> None:
    result = graphdeck("run", str(EXAMPLES / "map_reduce.py"), "--executor", "dask", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["outputs"] == {"sum": 56}
    bad = graphdeck("run", str(EXAMPLES / "map_reduce.py"), "--executor", "spark")
    assert bad.returncode == 2 and "--executor" in bad.stderr
    assert_no_traceback(bad)


@pytest.mark.parametrize(
    ("expression", "error"),
    [('{}["missing"]', "KeyError: 'missing'"), ("1 / 0", "ZeroDivisionError: division by zero")],
)
def test_any_builder_error_is_one_line_with_file_and_line_exit_2(tmp_path, expression, error):
    path = tmp_path / "builds.py"
    path.write_text(
        textwrap.dedent(
            f"""
            from graphdeck import graphify, tool

            @tool(outputs=["out"])
            async def work(x: int):
                return x

            @graphify(name="g", outputs=["out"])
            def g():
                return {{"out": work(x={expression}).out}}
            """
        )
    )
    result = graphdeck("run", str(path))
    assert result.returncode == 2
    assert result.stderr == f"graphdeck: {path}:10: graphify 'g' failed to build: {error}\n"


def test_a_blocking_tool_is_named_on_stderr_and_in_the_json(tmp_path) -> None:
    path = tmp_path / "blocker.py"
    path.write_text(
        textwrap.dedent(
            """
            import time
            from graphdeck import graphify, tool

            @tool(outputs=["out"])
            async def rude(x: int):
                time.sleep(0.5)
                return x

            @graphify(name="g", outputs=["out"])
            def g():
                return {"out": rude(x=1).out}
            """
        )
    )
    result = graphdeck("run", str(path), "--json", "--no-history")
    assert result.returncode == 0, result.stderr
    [line] = [x for x in result.stderr.splitlines() if x.startswith("warning:")]
    assert line.startswith("warning: rude_0 blocked the event loop for 0.")
    assert line.endswith(" s at blocker.py:7")
    [warning] = json.loads(result.stdout)["warnings"]
    assert warning["kind"] == "loop_blocked" and warning["node"] == "rude_0"
    assert warning["where"] == f"{path}:7" and 0.3 <= warning["seconds"] <= 1.5
    assert warning["stack"][-1][2:] == ["rude", "time.sleep(0.5)"]
