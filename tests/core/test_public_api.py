"""The public surface: fixed names, one explicit `__all__`, and no Qt in the core."""

from __future__ import annotations

import subprocess
import sys
import types

import graphdeck


def test_fixed_public_names_import() -> None:
    from graphdeck import (  # noqa: F401
        NodeCancelled,
        NodeState,
        RunCancelled,
        RunFailed,
        RunState,
        TaskGraph,
        graph_fn,
        graphify,
        run,
        run_async,
        start,
        tool,
    )
    from graphdeck.runner import run as runner_run
    from graphdeck.runner import run_async as runner_run_async

    assert runner_run is run and runner_run_async is run_async


def test_all_is_explicit_sorted_and_complete() -> None:
    assert graphdeck.__all__ == sorted(graphdeck.__all__)
    for name in graphdeck.__all__:
        assert hasattr(graphdeck, name), name
    extra = {n for n in vars(graphdeck) if not n.startswith("_")} - set(graphdeck.__all__)
    # Beyond __all__ only submodules (graphdeck.events, graphdeck.parallel, …) are visible.
    assert all(isinstance(getattr(graphdeck, n), types.ModuleType) for n in extra), extra


def test_states_are_the_documented_closed_sets() -> None:
    assert [s.name for s in graphdeck.NodeState] == [
        "PENDING",
        "READY",
        "RUNNING",
        "RETRYING",
        "SUCCEEDED",
        "FAILED",
        "TIMED_OUT",
        "CANCELLED",
        "SKIPPED",
    ]
    assert [s.name for s in graphdeck.RunState] == [
        "PENDING",
        "RUNNING",
        "SUCCEEDED",
        "FAILED",
        "CANCELLED",
    ]


def test_core_never_imports_qt() -> None:
    code = (
        "import sys, graphdeck, graphdeck.cli, graphdeck.loader, graphdeck.events, "
        "graphdeck.limits\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'shiboken6', 'qasync', 'pyqtgraph', 'graphdeck.gui')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
