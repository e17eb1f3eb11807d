"""Building a graphify's graph for the monitor without ever running a hung builder in it:
proven in the loading child first (`GraphDocument.prove_build`), then built here in a
daemon thread (docs/design.md §6: never on the GUI thread)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from graphdeck import Graphify, TaskGraph

from .daemon_thread import in_daemon_thread
from .problems import describe_problem

#: builds graph `name` with `inputs` where a hang costs nothing: the problem, or None
Prover = Callable[[str, dict[str, Any]], Awaitable[str | None]]


class BuildProblem(Exception):
    """The graph cannot be built: one line, `file:line: …`."""


async def build_graph(
    definition: Graphify, inputs: dict[str, Any], file: Path | None, prove: Prover | None
) -> TaskGraph:
    """The graph of `definition` for `inputs`, proven by `prove` first when given.
    Raises BuildProblem."""
    if prove is not None:
        problem = await prove(definition.name, inputs)
        if problem is not None:
            raise BuildProblem(problem)
    build = functools.partial(definition.build, **inputs)
    try:
        return await in_daemon_thread(build, name="graphdeck-build")
    except Exception as exc:  # anything a builder raises, or inputs it does not take
        raise BuildProblem(describe_problem(exc, file)) from exc
