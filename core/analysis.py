"""Reading a run after the fact (or while it goes): its critical path.

    from graphdeck.analysis import critical_path
    path = critical_path(run)        # a live Run, or a stored one (graphdeck.store)
    path.nodes, path.length, path.wall, path.waiting

The critical path is the chain of nodes that decided the run's wall time: from the node
that ended last, back through the upstream node whose output arrived last, to a node with
no upstream. Time along it is either running (a node's attempt) or waiting (inputs there,
no slot of the cap free yet, or the scheduler not yet at it). A live run's path is the
longest chain so far, running nodes counted up to now.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["CriticalPath", "critical_path"]


class _Record(Protocol):
    id: str
    kind: str
    group: str | None
    upstream: tuple[str, ...]
    started_at: float | None
    finished_at: float | None


@dataclass(frozen=True)
class CriticalPath:
    """The chain that decided a run's wall time."""

    nodes: list[str]  # first to last
    length: float  # seconds from the run's start to the chain's end
    running: float  # of which its nodes were running
    wall: float  # the run's wall time (so far)

    @property
    def waiting(self) -> float:
        """Seconds along the chain with inputs ready but not running (a slot, a pool)."""
        return max(self.length - self.running, 0.0)

    @property
    def waiting_share(self) -> float:
        return self.waiting / self.length if self.length > 0 else 0.0


def critical_path(run: Any, now: float | None = None) -> CriticalPath:
    """The critical path of `run` (anything with `nodes`, `started_at`, `finished_at`)."""
    nodes: Mapping[str, _Record] = run.nodes
    now = time.time() if now is None else now
    began = run.started_at if run.started_at is not None else now
    wall = (run.finished_at if run.finished_at is not None else now) - began
    ran = [n for n in nodes.values() if n.started_at is not None]
    if not ran:
        return CriticalPath([], 0.0, 0.0, wall)

    def end(node: _Record) -> float:
        return node.finished_at if node.finished_at is not None else now

    last = max(ran, key=end)
    chain = [last]
    seen = {last.id}
    while True:
        before = [
            p
            for p in _predecessors(chain[-1], nodes)
            if p.started_at is not None and p.id not in seen
        ]
        if not before:
            break
        previous = max(before, key=end)
        chain.append(previous)
        seen.add(previous.id)
    chain.reverse()
    running = sum(end(n) - (n.started_at or 0.0) for n in chain if n.kind != "map")
    return CriticalPath([n.id for n in chain], end(last) - began, running, wall)


def _predecessors(node: _Record, nodes: Mapping[str, _Record]) -> list[_Record]:
    """The nodes whose end let `node` start: its upstream; a map's items (it ends with
    them); for an item of a map, what the map waited for."""
    found = [nodes[u] for u in node.upstream if u in nodes]
    if node.kind == "map":
        found += [n for n in nodes.values() if n.group == node.id]
    elif node.group is not None and node.group in nodes and nodes[node.group].kind == "map":
        parent = nodes[node.group]
        found += [nodes[u] for u in parent.upstream if u in nodes]
    return found
