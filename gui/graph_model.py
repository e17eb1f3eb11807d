"""A static graph (a graphify run, or a preview) as a `Drawing`: which nodes form groups,
which boxes are drawn for the groups the user opened, and where everything goes.

Qt-free: it runs in a worker thread. The grouping rule (docs/design.md §9.2) is decided by
the graph's structure alone, never by how many siblings there happen to be:

- a map's items are one group (`map:<map id>`; an agent's `tool.map(...)` too);
- nodes that are interchangeable (same tool, same subgraph, same upstream nodes, same
  dependents: a fan-out written as a loop) are one group (`set:<first member>`) when
  there are at least `SET_MIN` of them;
- the nodes of a nested subgraph (`inner/…`) are framed, and the frame collapses into one
  box.

A group is drawn as one box until opened; an opened group shows one page of `PAGE` members
inside a frame that says which ("1–400 of 10,000"). A page of more than `COLUMN_MAX` is
a grid about as wide for its height as the view (a column of 400 boxes could not be read
at any zoom that showed it): the layout places it as one block, and its edges meet the
frame's sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from graphdeck import Node, NodeKind

from .drawing import GROUP_H, GROUP_W, NODE_H, NODE_W, Drawing, DrawnEdge, DrawnFrame, DrawnNode
from .layout import (
    COLUMN_PITCH,
    COLUMN_W,
    ROW_GAP,
    curve,
    grid_shape,
    layered_layout,
    longest_path_layers,
)

#: members shown at once by an opened group
PAGE = 400
#: the fewest interchangeable nodes drawn as a group (two side by side read fine)
SET_MIN = 3
FRAME_PAD, FRAME_HEADER = 10.0, 24.0
#: between two columns of an opened page's grid
GRID_GAP = 16.0
#: an opened page's grid is this much wider than high unless the view says otherwise
ASPECT = 1.6
#: a page of this many members or fewer stays a column (it reads fine; so do its edges)
COLUMN_MAX = 12


@dataclass
class Group:
    """Nodes drawn as one box. `kind`: "map", "set" or "subgraph"."""

    key: str
    name: str
    kind: str
    members: list[Node] = field(default_factory=list)


@dataclass
class ViewState:
    """What the user opened. Invariant: `expanded[key]` is the first member shown of an
    opened group, a multiple of `PAGE`."""

    expanded: dict[str, int] = field(default_factory=dict)
    collapsed: set[str] = field(default_factory=set)  # subgraph frames folded into a box
    expand_all: bool = False  # every node drawn, no group (graphdeck draw --expand all)
    aspect: float = ASPECT  # the view's width over height: an opened page's grid's shape

    def copy(self) -> ViewState:
        return ViewState(dict(self.expanded), set(self.collapsed), self.expand_all, self.aspect)


class Structure:
    """The groups and layers of a node snapshot (`nodes` in graph order)."""

    def __init__(self, nodes: Sequence[Node]) -> None:
        self.nodes = list(nodes)
        self.by_id = {n.id: n for n in self.nodes}
        self.layer: dict[str, int] = {}
        self.groups: dict[str, Group] = {}
        self.group_of: dict[str, str] = {}  # node id -> its group's key
        self.position: dict[str, int] = {}  # node id -> its index among its group's members
        self.subgraph_of: dict[str, str] = {}  # node id -> its subgraph's key
        self._find_groups()
        self._find_layers()

    def _map_of(self, node: Node) -> str | None:
        group = node.group
        if not group or node.id.startswith(group + "/"):
            return None
        parent = self.by_id.get(group)
        if parent is None or parent.kind == NodeKind.MAP:
            return group  # a map's item (an agent's map has no node of its own)
        return None

    def _find_groups(self) -> None:
        classes: dict[tuple, list[Node]] = {}
        for node in self.nodes:
            group = node.group
            if group and node.id.startswith(group + "/"):
                self._join(f"sub:{group}", group, "subgraph", node, self.subgraph_of)
            mapped = self._map_of(node)
            if mapped is not None:
                self._join(f"map:{mapped}", mapped, "map", node, self.group_of)
            elif node.kind == NodeKind.TOOL:
                dependents = tuple(sorted(d.id for d in node.dependents))
                signature = (node.tool.name, group, tuple(sorted(node.upstream)), dependents)
                classes.setdefault(signature, []).append(node)
        for members in classes.values():
            if len(members) >= SET_MIN:
                key = f"set:{members[0].id}"
                for node in members:
                    self._join(key, members[0].tool.name, "set", node, self.group_of)

    def _join(self, key: str, name: str, kind: str, node: Node, index: dict[str, str]) -> None:
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(key, name, kind)
        if index is self.group_of:
            self.position[node.id] = len(group.members)
        group.members.append(node)
        index[node.id] = key

    def _find_layers(self) -> None:
        """Longest path from a root; a map sits two layers after its upstream, leaving
        the one between to its items (so nothing moves when it expands)."""
        layer = self.layer
        items: list[Node] = []
        for node in self.nodes:
            if node.group and node.group in self.by_id and self._map_of(node) is not None:
                items.append(node)
                continue
            depth = max((layer.get(u, 0) + 1 for u in node.upstream), default=0)
            layer[node.id] = depth + 1 if node.kind == NodeKind.MAP else depth
        for node in items:
            layer[node.id] = max(0, layer.get(node.group or "", 1) - 1)


def build_drawing(
    structure: Structure, state: ViewState, previous: Drawing | None = None
) -> Drawing:
    """Lay out `structure` as the user opened it. With `previous` (the same graph, grown),
    boxes already drawn keep their places and new ones are fitted in around them."""
    drawing, box_of, least = _boxes(structure, state)
    pairs = _edges(structure, box_of)
    pages = _pages(structure, state, drawing)
    # (an opened page's grid is placed as one block: laid out afresh)
    if pages or previous is None or not _extend(drawing, pairs, least, previous):
        _place(drawing, pairs, least, pages, state.aspect)
    drawing.frames = _frames(structure, state, drawing)
    if not state.expand_all:
        drawing.groups = {key: group.members for key, group in structure.groups.items()}
    return drawing


def _boxes(structure: Structure, state: ViewState) -> tuple[Drawing, dict[str, int], list[int]]:
    """The boxes drawn, in graph order; `box_of[node id]` (absent: paged out); the least
    layer of each box."""
    drawing = Drawing()
    box_of: dict[str, int] = {}
    least: list[int] = []
    by_key: dict[str, int] = {}
    groups = structure.groups
    for node in structure.nodes:
        key, kind = node.id, "node"
        if not state.expand_all:
            sub = structure.subgraph_of.get(node.id)
            group = structure.group_of.get(node.id)
            if sub is not None and sub in state.collapsed:
                key, kind = sub, "subgraph"
            elif group is not None and group not in state.expanded:
                key, kind = group, "group"
            elif group is not None:
                start = state.expanded[group]
                if not start <= structure.position[node.id] < start + PAGE:
                    continue
        index = by_key.get(key)
        if index is None:
            index = by_key[key] = len(drawing.nodes)
            drawing.nodes.append(_box(key, kind, node, groups))
            least.append(structure.layer.get(node.id, 0))
        else:
            least[index] = min(least[index], structure.layer.get(node.id, 0))
        box_of[node.id] = index
    drawing.where = box_of
    return drawing, box_of, least


def _pages(structure: Structure, state: ViewState, drawing: Drawing) -> list[list[int]]:
    """The boxes of each opened group's page drawn as a grid, in member order."""
    pages = []
    where, boxes = drawing.where, drawing.nodes
    for key, start in state.expanded.items():
        group = structure.groups.get(key)
        if group is None or group.kind == "subgraph":
            continue
        shown = [where.get(n.id) for n in group.members[start : start + PAGE]]
        page = [i for i in shown if i is not None and boxes[i].kind == "node"]
        if len(page) > COLUMN_MAX:
            pages.append(page)
    return pages


@dataclass
class PageGrid:
    """Where an opened page's boxes go inside its frame: `columns` of them a row (one
    for a page of `COLUMN_MAX` or fewer), the frame `w` by `h`."""

    columns: int
    w: float
    h: float

    @classmethod
    def of(cls, count: int, aspect: float) -> PageGrid:
        if count <= COLUMN_MAX:
            columns, rows = 1, max(count, 1)
        else:
            columns, rows = grid_shape(count, NODE_W + GRID_GAP, NODE_H + ROW_GAP, aspect)
        return cls(
            columns,
            columns * (NODE_W + GRID_GAP) - GRID_GAP + 2 * FRAME_PAD,
            FRAME_HEADER + rows * (NODE_H + ROW_GAP) - ROW_GAP + FRAME_PAD,
        )

    def offset(self, k: int) -> tuple[float, float]:
        """The `k`-th box's top-left corner from the frame's."""
        row, column = divmod(k, self.columns)
        return FRAME_PAD + column * (NODE_W + GRID_GAP), FRAME_HEADER + row * (NODE_H + ROW_GAP)


def _place(
    drawing: Drawing,
    pairs: list[tuple[int, int]],
    least: list[int],
    pages: list[list[int]],
    aspect: float,
) -> None:
    """Lay out afresh: each page as one block (its frame) holding its boxes in a grid, the
    rest as boxes; a page's edges meet its frame's sides."""
    page_of = {i: p for p, page in enumerate(pages) for i in page}
    vertex = [0] * len(drawing.nodes)  # box -> its vertex in the layout
    sizes: list[tuple[float, float]] = []
    layers_least: list[int] = []
    blocks: dict[int, int] = {}  # page -> its vertex
    grids: dict[int, tuple[list[int], PageGrid]] = {}  # vertex -> (the page's boxes, grid)
    for i, node in enumerate(drawing.nodes):
        p = page_of.get(i)
        if p is not None and p in blocks:
            vertex[i] = blocks[p]
            layers_least[vertex[i]] = min(layers_least[vertex[i]], least[i])
            continue
        vertex[i] = len(sizes)
        layers_least.append(least[i])
        if p is None:
            sizes.append((node.w, node.h))
            continue
        blocks[p] = vertex[i]
        grid = PageGrid.of(len(pages[p]), aspect)
        grids[vertex[i]] = (pages[p], grid)
        sizes.append((grid.w, grid.h))
    links = list(dict.fromkeys((vertex[a], vertex[b]) for a, b in pairs if vertex[a] != vertex[b]))
    layers = longest_path_layers(len(sizes), links, layers_least)
    placement = layered_layout(sizes, links, layers)
    for i, node in enumerate(drawing.nodes):
        node.x, node.y = placement.xs[vertex[i]], placement.ys[vertex[i]]
    for boxes, grid in grids.values():
        for k, i in enumerate(boxes):
            node = drawing.nodes[i]
            dx, dy = grid.offset(k)
            node.x += dx
            node.y += dy
    routes = dict(zip(links, placement.edge_points, strict=True))
    drawing.edges = [
        DrawnEdge(a, b, routes[(vertex[a], vertex[b])]) for a, b in pairs if vertex[a] != vertex[b]
    ]


def _box(key: str, kind: str, node: Node, groups: dict[str, Group]) -> DrawnNode:
    if kind == "node":
        return DrawnNode(key, node.id, kind, [node], NODE_W, NODE_H)
    group = groups[key]
    name = group.name if group.kind != "map" else node.tool.name
    label = f"{name} ×{len(group.members):,}" if kind == "group" else f"subgraph {group.name}"
    return DrawnNode(key, label, kind, group.members, GROUP_W, GROUP_H, group=key)


def _edges(structure: Structure, box_of: dict[str, int]) -> list[tuple[int, int]]:
    """Edges between drawn boxes, once each. A map's upstream feeds its items, which feed
    the map (its aggregate); before it expands, the upstream feeds the map itself."""
    pairs: dict[tuple[int, int], None] = {}
    get = box_of.get
    for node in structure.nodes:
        target = get(node.id)
        if target is None:
            continue
        children = node.children
        if children:
            for child in children:
                source = get(child.id)
                if source is not None and source != target:
                    pairs[(source, target)] = None
            continue
        upstream = node.upstream
        if node.group and not upstream and structure.by_id.get(node.group) is not None:
            parent = structure.by_id[node.group]
            if parent.kind == NodeKind.MAP:
                upstream = parent.upstream
        for up in upstream:
            source = get(up)
            if source is not None and source != target:
                pairs[(source, target)] = None
    return list(pairs)


def _extend(
    drawing: Drawing, pairs: list[tuple[int, int]], least: list[int], previous: Drawing
) -> bool:
    """Keep the boxes of `previous` where they were and fit new ones in; False if that
    cannot be done (a box of `previous` is gone or changed size): lay out afresh."""
    old = {n.key: n for n in previous.nodes}
    if any(n.key in old and (old[n.key].w, old[n.key].h) != (n.w, n.h) for n in drawing.nodes):
        return False
    if len(old) != sum(1 for n in drawing.nodes if n.key in old):
        return False
    columns: dict[float, list[tuple[float, float]]] = {}
    for node in drawing.nodes:
        if node.key in old:
            node.x, node.y = old[node.key].x, old[node.key].y
            columns.setdefault(node.x + node.w / 2, []).append((node.y, node.y + node.h))
    neighbours: dict[int, list[int]] = {}
    for a, b in pairs:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    for i, node in enumerate(drawing.nodes):
        if node.key in old:
            continue
        node.x = least[i] * COLUMN_PITCH + (COLUMN_W - node.w) / 2
        placed = [drawing.nodes[j] for j in neighbours.get(i, ()) if drawing.nodes[j].key in old]
        want = sum(p.y + p.h / 2 for p in placed) / len(placed) - node.h / 2 if placed else 0.0
        column = columns.setdefault(node.x + node.w / 2, [])
        node.y = _free_slot(column, want, node.h)
        column.append((node.y, node.y + node.h))
    old_edges = {
        (previous.nodes[e.source].key, previous.nodes[e.target].key): e.points
        for e in previous.edges
    }
    drawing.edges = []
    for a, b in pairs:
        na, nb = drawing.nodes[a], drawing.nodes[b]
        points = old_edges.get((na.key, nb.key))
        if points is None or na.key not in old or nb.key not in old:
            points = curve((na.x + na.w, na.y + na.h / 2), (nb.x, nb.y + nb.h / 2))
        drawing.edges.append(DrawnEdge(a, b, points))
    return True


def _free_slot(column: list[tuple[float, float]], want: float, h: float) -> float:
    """The top nearest below `want` where a box of height `h` overlaps nothing in `column`."""
    top = want
    for start, end in sorted(column):
        if top + h + ROW_GAP <= start:
            continue
        if top < end + ROW_GAP:
            top = end + ROW_GAP
    return top


def _frames(structure: Structure, state: ViewState, drawing: Drawing) -> list[DrawnFrame]:
    """A frame around each opened group (saying which page it shows) and each subgraph."""
    frames = []
    if state.expand_all:
        return frames
    for key, group in structure.groups.items():
        if group.kind == "subgraph" and key in state.collapsed:
            continue
        if group.kind != "subgraph" and key not in state.expanded:
            continue
        boxes = {drawing.where[n.id] for n in group.members if n.id in drawing.where}
        if not boxes:
            continue
        label = f"subgraph {group.name}" if group.kind == "subgraph" else _page_label(group, state)
        frames.append(_frame_around(key, label, group.kind, [drawing.nodes[i] for i in boxes]))
    return frames


def _page_label(group: Group, state: ViewState) -> str:
    total = len(group.members)
    start = state.expanded[group.key]
    end = min(total, start + PAGE)
    name = group.members[0].tool.name
    return f"{name} ×{total:,}: {start + 1:,}–{end:,} of {total:,}"


def _frame_around(key: str, label: str, kind: str, boxes: list[DrawnNode]) -> DrawnFrame:
    left = min(b.x for b in boxes) - FRAME_PAD
    top = min(b.y for b in boxes) - FRAME_HEADER
    right = max(b.x + b.w for b in boxes) + FRAME_PAD
    bottom = max(b.y + b.h for b in boxes) + FRAME_PAD
    return DrawnFrame(key, label, kind, left, top, right - left, bottom - top)


def page_of(structure: Structure, node_id: str) -> tuple[str, int] | None:
    """(group key, first member of the page) that shows `node_id`, if it is in a group."""
    key = structure.group_of.get(node_id)
    if key is None:
        return None
    return key, structure.position[node_id] // PAGE * PAGE
