"""The documents tell the truth: each `graphdeck run` command in an example's docstring
works as written, `graphdeck --help` shows the monitor's options, every design citation
names a section of docs/design.md, and the licence and the supported Python versions read
the same in pyproject.toml, LICENSE and README.md."""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def docstring_commands() -> list[tuple[str, int]]:
    """(command, expected exit code) for each `graphdeck run` line of an example's module
    docstring. A trailing comment saying `exit N` gives the code; otherwise it is 0."""
    commands = []
    for path in sorted((ROOT / "examples").glob("*.py")):
        docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
        for line in docstring.splitlines():
            line = line.strip()
            if line.startswith("graphdeck run "):
                expected = re.search(r"#\s*exit (\d+)", line)
                commands.append((line, int(expected.group(1)) if expected else 0))
    return commands


def test_example_docstring_commands_work_as_written(tmp_path) -> None:
    commands = docstring_commands()
    assert len(commands) >= 9  # one or more per example: the parsing found them
    processes = []
    results: list[tuple[int, str]] = []
    try:
        for index, (command, _) in enumerate(commands):
            argv = shlex.split(command, comments=True)
            env = {**os.environ, "GRAPHDECK_STORE": str(tmp_path / f"history-{index}.sqlite3")}
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "graphdeck", *argv[1:]],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        for process in processes:  # they run side by side: wait for each in turn
            _, stderr = process.communicate(timeout=90)
            results.append((process.returncode, stderr))
    finally:
        for process in processes[len(results) :]:  # not waited for: a timeout
            process.kill()
            process.communicate()
    for (command, expected), (code, stderr) in zip(commands, results, strict=True):
        assert code == expected, f"{command}\nexit {code}: {stderr}"


def test_help_lists_the_monitor_options(capsys) -> None:
    from graphdeck.cli import main
    from graphdeck.gui.app import _parse

    with pytest.raises(SystemExit):
        _parse(["--help"])  # the monitor's own parser
    monitor_options = set(re.findall(r"--[a-z][a-z-]*", capsys.readouterr().out)) - {"--help"}
    assert {"--graph", "--run", "--store"} <= monitor_options
    assert main(["--help"]) == 0
    shown = capsys.readouterr().out
    assert all(option in shown for option in monitor_options), shown


def test_design_citations_name_existing_sections() -> None:
    design = (ROOT / "docs" / "design.md").read_text()
    sections = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", design, re.MULTILINE))
    files = [ROOT / "pyproject.toml", ROOT / "README.md", ROOT / ".ci" / "run"]
    for folder in ("core", "gui", "tests", "bench", "examples"):
        files += (ROOT / folder).rglob("*.py")
    old_name = "DESIGN" + ".md"  # the notes that were never in the repository
    cited: dict[str, set[str]] = {}
    for path in files:
        text = path.read_text()
        assert old_name not in text, f"{path} cites {old_name}"
        for section in re.findall(r"docs/design\.md §(\d+(?:\.\d+)?)", text):
            cited.setdefault(section, set()).add(str(path.relative_to(ROOT)))
    assert len(cited) >= 5
    missing = {section: where for section, where in cited.items() if section not in sections}
    assert not missing, f"cited but not in docs/design.md: {missing}"


def test_license_file_matches_pyproject() -> None:
    assert PYPROJECT["license"] == "MIT"
    assert PYPROJECT["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")


def test_readme_and_classifiers_state_the_same_python_versions() -> None:
    prefix = "Programming Language :: Python :: 3."
    classifiers = PYPROJECT["classifiers"]
    minors = sorted(int(c.removeprefix(prefix)) for c in classifiers if c.startswith(prefix))
    versions = [f"3.{minor}" for minor in minors]
    assert PYPROJECT["requires-python"] == f">={versions[0]}"
    assert minors == list(range(minors[0], minors[-1] + 1))  # no gap
    stated = ", ".join(versions[:-1]) + " and " + versions[-1]
    assert f"CPython **{stated}**" in (ROOT / "README.md").read_text()
