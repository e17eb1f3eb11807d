"""Which graph of a file to offer first: a top-level one, not one that another graph of the
file calls (a nested agent, an inlined subgraph)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import CodeType
from typing import Any


def _names(code: CodeType) -> Iterator[str]:
    """The global names a function's code (and the code nested in it) refers to."""
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _names(const)


def called_by_others(graphs: Mapping[str, Any]) -> set[str]:
    """Names of the graphs that another graph of the same file refers to by name."""
    by_identity = {id(graph): name for name, graph in graphs.items()}
    called: set[str] = set()
    for name, graph in graphs.items():
        fn = getattr(graph, "fn", None)
        code = getattr(fn, "__code__", None)
        if code is None:
            continue
        scope = getattr(fn, "__globals__", {})
        for global_name in set(_names(code)):
            other = by_identity.get(id(scope.get(global_name)))
            if other is not None and other != name:
                called.add(other)
    return called


def default_graph(graphs: Mapping[str, Any]) -> str | None:
    """The first top-level graph of the file (in file order); the first graph if every
    one is called by another (a cycle); None if there is none."""
    called = called_by_others(graphs)
    for name in graphs:
        if name not in called:
            return name
    return next(iter(graphs), None)
