"""An agent run (graph_fn) as a `Drawing`: its calls in the order it made them, in a lane.

An agent's tool calls have no static graph: the lane is its timeline of steps (docs/design.md
§9.4). A step is what the agent had in flight at once (a call joins the current step if
some call of that step had not finished when it was made: `asyncio.gather`); steps go left
to right after the agent's own box, the calls of a step side by side (stacked). Calls of
one tool in a step (a gather), or in consecutive steps of that tool alone (a loop), are one
group; `tool.map(...)` items too. A child run (a graph_fn awaited inside) is drawn inline
as a frame holding its own lane, where it was started; it folds into one box.

Edges: "data" where a call's inputs hold an object another call returned (found by
identity, so values that Python shares, such as small ints, short names, None, never
count), else light "order" edges from each step to the next.

Qt-free: `AgentTrace` is fed on the GUI thread (it reads the run's log rows, public
`Run.visit`); `build_agent_drawing` runs in a worker thread on a snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from graphdeck import Node
from graphdeck.events import ChildRunStarted, Event
from graphdeck.values import short_repr

from .drawing import GROUP_H, GROUP_W, NODE_H, NODE_W, Drawing, DrawnEdge, DrawnFrame, DrawnNode
from .graph_model import ASPECT, FRAME_HEADER, FRAME_PAD, PAGE, PageGrid
from .layout import ROW_GAP, curve

#: the agent's own box
AGENT_W, AGENT_H = NODE_W, NODE_H
#: between two steps of a lane
STEP_GAP = 48.0
#: order edges between two steps, at most (more: first box to first box only)
ORDER_FAN = 16
#: how deep the inputs are searched for another call's outputs, and how many values
SEARCH_DEPTH, SEARCH_VALUES = 3, 64
#: a child run's title shows its inputs in this many characters at most, each this many
TITLE_INPUTS, INPUT_REPR = 60, 32


class AgentTrace:
    """When each call and child run of one run began, in order (a `RowVisitor`)."""

    def __init__(self, run: Any) -> None:
        self.run = run
        self.index = 0
        # Invariant: entries in the order they were made: (time, node id or None, child run
        # id or None).
        self.entries: list[tuple[float, str | None, str | None]] = []

    def poll(self) -> bool:
        end = self.run.event_count
        if end == self.index:
            return False
        self.index = self.run.visit(self, self.index, end)
        return True

    def node_added(self, time: float, node: Node, inputs: dict) -> None:
        self.entries.append((time, node.id, None))

    def node_state(self, *_args: object) -> None:
        """(States are read from the nodes when drawn.)"""

    def node_output(self, *_args: object) -> None:
        """(Outputs are read from the nodes.)"""

    def event(self, event: Event) -> None:
        if type(event) is ChildRunStarted:
            self.entries.append((event.time, None, event.child_run_id))


@dataclass
class RunSnapshot:
    """What the worker thread reads of one run: its calls and children in order."""

    run: Any
    prefix: str  # "" for the run shown; `name#k/` for its k-th child, and so on
    entries: list[tuple[float, Node | None, RunSnapshot | None]] = field(default_factory=list)
    #: what its frame is called: `research_1 (topic='b')`, numbered and told apart as calls are
    title: str = ""


def snapshot(run: Any, traces: dict[str, AgentTrace], prefix: str = "") -> RunSnapshot:
    """Poll each run's trace (GUI thread) and copy what the drawing needs."""
    trace = traces.get(run.id)
    if trace is None:
        trace = traces[run.id] = AgentTrace(run)
    trace.poll()
    children = {child.id: (k, child) for k, child in enumerate(run.children)}
    titles = child_titles(run.children)
    nodes = run.nodes
    shot = RunSnapshot(run, prefix, title=run.name)
    for time, node_id, child_id in list(trace.entries):
        if node_id is not None and node_id in nodes:
            shot.entries.append((time, nodes[node_id], None))
        elif child_id in children:
            k, child = children[child_id]
            inner = snapshot(child, traces, f"{prefix}{child.name}#{k}/")
            inner.title = titles[k]
            shot.entries.append((time, None, inner))
    return shot


def child_titles(children: list[Any]) -> list[str]:
    """What each child run is called: its agent's name numbered as tool calls are (the
    k-th call of `research` is `research_k`), and the inputs that tell it from the other
    calls of that agent (all of them if none differ), short."""
    by_name: dict[str, list[int]] = {}
    for k, child in enumerate(children):
        by_name.setdefault(child.name, []).append(k)
    titles = [""] * len(children)
    for name, calls in by_name.items():
        inputs = [dict(getattr(children[k], "inputs", None) or {}) for k in calls]
        names = list(dict.fromkeys(key for given in inputs for key in given))
        differ = [key for key in names if len({_brief(given.get(key)) for given in inputs}) > 1]
        for number, (k, given) in enumerate(zip(calls, inputs, strict=True)):
            shown = ", ".join(
                f"{key}={_brief(given[key])}" for key in differ or names if key in given
            )
            if len(shown) > TITLE_INPUTS:
                shown = shown[: TITLE_INPUTS - 1] + "…"
            titles[k] = f"{name}_{number} ({shown})" if shown else f"{name}_{number}"
    return titles


def _brief(value: Any) -> str:
    return short_repr(value, INPUT_REPR)


@dataclass
class _Step:
    calls: list[Node | RunSnapshot] = field(default_factory=list)

    def open_at(self, time: float) -> bool:
        """Some call of the step had not finished at `time`."""
        for call in self.calls:
            end = call.finished_at if isinstance(call, Node) else call.run.finished_at
            if end is None or end > time:
                return True
        return False


def _steps(shot: RunSnapshot) -> list[_Step]:
    steps: list[_Step] = []
    for time, node, child in shot.entries:
        call = node if node is not None else child
        if not steps or not steps[-1].open_at(time):
            steps.append(_Step())
        steps[-1].calls.append(call)  # type: ignore[arg-type]
    return steps


def _tool(call: Node | RunSnapshot) -> str | None:
    return call.tool.name if isinstance(call, Node) else None


def _step_tool(step: _Step) -> str | None:
    """The one tool (and map) every call of the step is to, if there is one."""
    keys = {(c.tool.name, c.group) if isinstance(c, Node) else None for c in step.calls}
    if len(keys) != 1 or None in keys:
        return None
    return str(keys.pop())


def _units(steps: list[_Step]) -> list[list[Node | RunSnapshot | list[Node]]]:
    """Each step's boxes: a call, a child run, or a group (a list of calls). Calls of one
    tool in a step are a group (a gather); so are the calls of consecutive steps that are
    each to that tool alone (a loop): they join the group of its first step."""
    units: list[list[Node | RunSnapshot | list[Node]]] = []
    loop: tuple[str, list[Node]] | None = None
    for step in steps:
        tool = _step_tool(step)
        if tool is not None and loop is not None and loop[0] == tool:
            loop[1].extend(step.calls)  # type: ignore[arg-type]
            continue
        boxes: list[Node | RunSnapshot | list[Node]] = []
        by_key: dict[tuple[str, str | None], list[Node]] = {}
        for call in step.calls:
            if isinstance(call, RunSnapshot):
                boxes.append(call)
                continue
            key = (call.tool.name, call.group)
            if key not in by_key:
                by_key[key] = []
                boxes.append(by_key[key])
            by_key[key].append(call)
        loop = (tool, boxes[0]) if tool is not None else None  # type: ignore[assignment]
        units.append(boxes)
    return [[b[0] if isinstance(b, list) and len(b) == 1 else b for b in u] for u in units]


class _Lane:
    """Lays out one run's lane at an origin; appends to a shared drawing."""

    def __init__(
        self,
        drawing: Drawing,
        expanded: dict[str, int],
        collapsed: set[str],
        aspect: float = ASPECT,
    ) -> None:
        self.drawing = drawing
        self.expanded = expanded
        self.collapsed = collapsed
        self.aspect = aspect
        self.nodes: dict[str, Node] = {}  # drawn key -> node (for the inspector)

    def add(self, node: DrawnNode, keys: list[str]) -> int:
        index = len(self.drawing.nodes)
        self.drawing.nodes.append(node)
        for key in keys:
            self.drawing.where[key] = index
        return index

    def lay_out(self, shot: RunSnapshot, x0: float, y0: float) -> tuple[int, int, float, float]:
        """Draw `shot`'s lane with its agent box at (x0, y0): (its agent box, the first box
        of its last step, right, bottom)."""
        run = shot.run
        agent = self.add(
            DrawnNode(
                f"{shot.prefix}@agent", f"{run.name} (agent)", "agent", [], AGENT_W, AGENT_H, x0, y0
            ),
            [],
        )
        right, bottom = x0 + AGENT_W, y0 + AGENT_H
        x = right + STEP_GAP
        previous = [agent]
        for boxes in _units(_steps(shot)):
            y, width, entries, exits = y0, NODE_W, [], []
            for box in boxes:
                entry, exit_, w, h = self._box(box, shot.prefix, x, y)
                entries.append(entry)
                exits.append(exit_)
                width, y = max(width, w), y + h + ROW_GAP
            self._order_edges(previous, entries)
            previous = exits
            right, bottom = max(right, x + width), max(bottom, y - ROW_GAP)
            x += width + STEP_GAP
        return agent, previous[0], right, bottom

    def _box(
        self, box: Node | RunSnapshot | list[Node], prefix: str, x: float, y: float
    ) -> tuple[int, int, float, float]:
        """Draw one box of a step at (x, y): (the box edges go into, the box they leave
        from, width, height); a child run is entered at its agent box and left from its
        last step."""
        if isinstance(box, Node):
            key = prefix + box.id
            self.nodes[key] = box
            index = self.add(DrawnNode(key, box.id, "node", [box], NODE_W, NODE_H, x, y), [key])
            return index, index, NODE_W, NODE_H
        if isinstance(box, RunSnapshot):
            return self._child(box, x, y)
        index, w, h = self._group(box, prefix, x, y)
        return index, index, w, h

    def _group(
        self, members: list[Node], prefix: str, x: float, y: float
    ) -> tuple[int, float, float]:
        key = f"{prefix}calls:{members[0].id}"
        keys = [prefix + m.id for m in members]
        self.drawing.groups[key] = members
        for k, m in zip(keys, members, strict=True):
            self.nodes[k] = m
        start = self.expanded.get(key)
        if start is None:
            label = f"{members[0].tool.name} ×{len(members):,}"
            node = DrawnNode(key, label, "group", members, GROUP_W, GROUP_H, x, y, group=key)
            return self.add(node, keys), GROUP_W, GROUP_H
        first = None
        shown = members[start : start + PAGE]
        grid = PageGrid.of(len(shown), self.aspect)  # (as a static graph's page)
        for i, (k, m) in enumerate(zip(keys[start : start + PAGE], shown, strict=True)):
            dx, dy = grid.offset(i)
            index = self.add(DrawnNode(k, m.id, "node", [m], NODE_W, NODE_H, x + dx, y + dy), [k])
            first = index if first is None else first
        w, h = grid.w, grid.h
        total = len(members)
        label = (
            f"{members[0].tool.name} ×{total:,}: {start + 1:,}–{start + len(shown):,} of {total:,}"
        )
        self.drawing.frames.append(DrawnFrame(key, label, "group", x, y, w, h))
        return (first if first is not None else 0), w, h

    def _child(self, shot: RunSnapshot, x: float, y: float) -> tuple[int, int, float, float]:
        key = f"run:{shot.prefix}"
        self.drawing.groups[key] = list(_calls(shot))
        if key in self.collapsed:
            members = list(_calls(shot))
            label = f"{shot.title} ×{len(members):,}"
            node = DrawnNode(key, label, "subgraph", members, GROUP_W, GROUP_H, x, y, group=key)
            index = self.add(node, [k for k, _ in _keyed(shot)])
            return index, index, GROUP_W, GROUP_H
        agent, last, right, bottom = self.lay_out(shot, x + FRAME_PAD, y + FRAME_HEADER)
        w, h = right - x + FRAME_PAD, bottom - y + FRAME_PAD
        label = f"{shot.title} · {shot.run.state.value}"
        self.drawing.frames.append(DrawnFrame(key, label, "run", x, y, w, h))
        return agent, last, w, h

    def _order_edges(self, previous: list[int], column: list[int]) -> None:
        pairs = [(a, b) for a in previous for b in column]
        if len(pairs) > ORDER_FAN:
            pairs = [(previous[0], column[0])]
        for a, b in pairs:
            self.drawing.edges.append(DrawnEdge(a, b, [], "order"))


def _calls(shot: RunSnapshot) -> Iterator[Node]:
    for _time, node, child in shot.entries:
        if node is not None:
            yield node
        elif child is not None:
            yield from _calls(child)


def _keyed(shot: RunSnapshot) -> Iterator[tuple[str, Node]]:
    for _time, node, child in shot.entries:
        if node is not None:
            yield shot.prefix + node.id, node
        elif child is not None:
            yield from _keyed(child)


def build_agent_drawing(
    shot: RunSnapshot, expanded: dict[str, int], collapsed: set[str], aspect: float = ASPECT
) -> tuple[Drawing, dict[str, Node]]:
    """The lane of `shot` (and its children, inline), with its data edges; and every drawn
    key's node (`aspect`: the view's width over height, an opened page's grid's shape)."""
    drawing = Drawing()
    lane = _Lane(drawing, expanded, collapsed, aspect)
    lane.lay_out(shot, 0.0, 0.0)
    _data_edges(drawing, shot)
    _route(drawing)
    return drawing, lane.nodes


def _data_edges(drawing: Drawing, shot: RunSnapshot) -> dict[int, str]:
    """A data edge wherever a call's inputs hold an object an earlier call returned (in
    this run or in a child run it awaited); order edges into a box that has one are
    dropped. Returns what the run's calls made (id of object -> call key)."""
    made_by: dict[int, str] = {}
    pairs: dict[tuple[int, int], None] = {}
    for _time, node, child in shot.entries:
        if child is not None:
            for made, key in _data_edges(drawing, child).items():
                made_by.setdefault(made, key)
            continue
        assert node is not None
        key = shot.prefix + node.id
        target = drawing.where.get(key)
        for value in _values(node.inputs):
            source = made_by.get(id(value))
            if source is not None and target is not None:
                source_box = drawing.where.get(source)
                if source_box is not None and source_box != target:
                    pairs[(source_box, target)] = None
        for value in _values(node.outputs):
            made_by.setdefault(id(value), key)
    if pairs:
        fed = {b for _a, b in pairs}
        drawing.edges = [e for e in drawing.edges if e.kind != "order" or e.target not in fed]
        drawing.edges += [DrawnEdge(a, b, []) for a, b in pairs]
    return made_by


def _values(value: Any, depth: int = 0) -> Iterator[Any]:
    """The objects in a call's inputs or outputs that identify where they came from."""
    if depth > SEARCH_DEPTH or value is None:
        return
    if isinstance(value, dict):
        for item in list(value.values())[:SEARCH_VALUES]:
            yield from _values(item, depth + 1)
        return
    if isinstance(value, list | tuple):
        for item in value[:SEARCH_VALUES]:
            yield from _values(item, depth + 1)
        return
    if _shared(value):
        return
    yield value


def _shared(value: Any) -> bool:
    """Objects Python may hand out to many places (so identity says nothing)."""
    if isinstance(value, bool | float) or value is Ellipsis:
        return isinstance(value, bool)
    if isinstance(value, int):
        return -5 <= value <= 256
    if isinstance(value, str | bytes):
        return len(value) <= 1 or (isinstance(value, str) and value.isidentifier())
    return False


def _route(drawing: Drawing) -> None:
    nodes = drawing.nodes
    for edge in drawing.edges:
        a, b = nodes[edge.source], nodes[edge.target]
        edge.points = curve((a.x + a.w, a.y + a.h / 2), (b.x, b.y + b.h / 2))
