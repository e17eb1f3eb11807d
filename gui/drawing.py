"""What the canvas draws, as plain data: boxes, edges (polylines) and frames in scene units.

Built off the GUI thread by `graph_model` (static graphs) or `agent_model` (agents), drawn
by `canvas`, exported by `graphdeck draw` (`to_json`). Qt-free, so a worker thread may
make one: worker threads never create Qt objects (docs/design.md §6).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphdeck import Node

from .layout import Point

#: box sizes (scene units)
NODE_W, NODE_H = 150.0, 34.0
GROUP_W, GROUP_H = 190.0, 54.0


@dataclass
class DrawnNode:
    """One box: a node, or a group standing for many (`members`, node ids or keys).

    `kind`: "node", "group" (members collapsed), "subgraph" (a collapsed nested
    subgraph), "agent" (an agent run's own box)."""

    key: str
    label: str
    kind: str
    members: list[Node] = field(repr=False)
    w: float
    h: float
    x: float = 0.0
    y: float = 0.0
    #: what a group of this box is called in `Drawing.groups` (None: not a group)
    group: str | None = None

    @property
    def is_group(self) -> bool:
        return self.kind in ("group", "subgraph")


@dataclass
class DrawnEdge:
    """`kind`: "data" (an output read by the target) or "order" (an agent's next step)."""

    source: int
    target: int
    points: list[Point]
    kind: str = "data"


@dataclass
class DrawnFrame:
    """A box behind others: an expanded group (with its pager), a nested subgraph, or a
    child run drawn inline. `key` names what double-clicking its header collapses."""

    key: str
    label: str
    kind: str
    x: float
    y: float
    w: float
    h: float


@dataclass
class Drawing:
    """A laid-out graph. Invariant: `where[k]` is the index in `nodes` of the box that
    shows node key `k` (a node id; in an agent's child runs, `child/…/id`); keys of
    members paged out of an expanded group are absent."""

    nodes: list[DrawnNode] = field(default_factory=list)
    edges: list[DrawnEdge] = field(default_factory=list)
    frames: list[DrawnFrame] = field(default_factory=list)
    where: dict[str, int] = field(default_factory=dict)
    #: every group, collapsed or opened: its key -> its members
    groups: dict[str, list[Node]] = field(default_factory=dict)

    def bounds(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) of everything drawn; zeros when empty."""
        boxes = [(n.x, n.y, n.x + n.w, n.y + n.h) for n in self.nodes]
        boxes += [(f.x, f.y, f.x + f.w, f.y + f.h) for f in self.frames]
        if not boxes:
            return 0.0, 0.0, 0.0, 0.0
        return (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )

    def to_json(self) -> dict[str, Any]:
        """`graphdeck draw … -o OUT.json`: boxes (top-left corner, size) and edge polylines."""
        return {
            "nodes": [
                {
                    "id": n.key,
                    "label": n.label,
                    "x": round(n.x, 2),
                    "y": round(n.y, 2),
                    "w": n.w,
                    "h": n.h,
                    "group": n.is_group,
                    "members": len(n.members),
                }
                for n in self.nodes
            ],
            "edges": [
                {
                    "source": self.nodes[e.source].key,
                    "target": self.nodes[e.target].key,
                    "points": e.points,  # (x, y) tuples: JSON arrays
                }
                for e in self.edges
            ],
            "frames": [
                {"id": f.key, "label": f.label, "x": f.x, "y": f.y, "w": f.w, "h": f.h}
                for f in self.frames
            ],
        }


def elide(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
