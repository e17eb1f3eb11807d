"""The events a run emits: typed, immutable, timestamped, in order.

Every consumer (the monitor, the history store, the CLI, tests) sees a run only through
these, plus read-only snapshots. They are `NamedTuple`s because a run of 100k nodes emits
about half a million of them: a tuple is the cheapest immutable record Python has, and it
still supports `isinstance`, attribute access and `match`.

Ordering is the position in the run's log (`Run.events_since(index)`); `time` is
`time.time()` taken at the transition and is also the value written into the node record,
so a record can be rebuilt exactly from its events.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ._states import NodeState, RunState


class RunStarted(NamedTuple):
    """A run started, or a finished run was re-opened by `rerun` (`rerun` > 0)."""

    time: float
    run_id: str
    graph: str
    inputs: dict[str, Any]
    max_concurrency: int
    on_error: str
    parent_run_id: str | None = None
    rerun: int = 0


class RunFinished(NamedTuple):
    time: float
    run_id: str
    state: RunState
    error: BaseException | None = None


class NodeAdded(NamedTuple):
    """A node joined the run's graph: at start (graphify), on a tool call (graph_fn) or on
    a map expansion. `group` names the map or nested subgraph it belongs to."""

    time: float
    run_id: str
    node_id: str
    tool: str
    inputs: dict[str, Any]
    group: str | None = None


class NodeStateChanged(NamedTuple):
    """A node changed state. `inputs` is set when the node became READY and its inputs
    held references: it is then the concrete values they resolved to."""

    time: float
    run_id: str
    node_id: str
    state: NodeState
    attempt: int
    error: BaseException | None = None
    inputs: dict[str, Any] | None = None


class NodeOutput(NamedTuple):
    time: float
    run_id: str
    node_id: str
    attempt: int
    outputs: dict[str, Any]


class NodePlaced(NamedTuple):
    """An attempt of the node ran on a remote executor's worker (e.g. a Dask worker)."""

    time: float
    run_id: str
    node_id: str
    attempt: int
    worker: str | None


class ChannelMessage(NamedTuple):
    """Text an agent sent with `context.channel().send_text(...)`."""

    time: float
    run_id: str
    channel: str
    text: str
    node_id: str | None = None


class OccupancyChanged(NamedTuple):
    """Slots of the run's cap in use. Sampled once per event-loop iteration in which it
    changed, so a saturated run does not emit two events per node."""

    time: float
    run_id: str
    active: int
    peak: int
    cap: int


class GroupOccupancyChanged(NamedTuple):
    """Items of a `graphdeck.parallel` primitive running inside an agent: how many run at
    once (their own limit, not the run's cap). Sampled once per loop iteration."""

    time: float
    run_id: str
    group: str
    active: int
    peak: int
    limit: int | None


class ChildRunStarted(NamedTuple):
    """A nested agent (graph_fn called inside a running graph_fn) started a child run."""

    time: float
    run_id: str
    child_run_id: str
    graph: str


class RunWarning(NamedTuple):
    """Something the user should know that is not a failure. `kind` says what:

    - "abandoned": a node (or agent) ignored cancellation and was abandoned;
    - "agent_returned": an agent returned while tool calls it started were unfinished;
    - "loop_blocked": code blocked the event loop; `details` has "node" (or None),
      "agent" (the agent, for a block in its body), "seconds", "where" (file:line of the
      innermost user code), "code" (that line) and "stack" ([file, line, function, code]
      entries, outermost first).
    """

    time: float
    run_id: str
    message: str
    node_id: str | None = None
    kind: str = "note"
    details: dict[str, Any] | None = None


class RunPaused(NamedTuple):
    """No new node starts until the run is resumed or stepped; running ones go on.
    `reason`: "pause" (`Run.pause`), "breakpoint" (a node was held at one) or "step" (a
    step let its one node start). `held`: the nodes held at breakpoints."""

    time: float
    run_id: str
    reason: str
    held: tuple[str, ...] = ()


class RunResumed(NamedTuple):
    """Nodes start again (`step`: only one, then the run pauses again)."""

    time: float
    run_id: str
    step: bool = False


class NodeInputsEdited(NamedTuple):
    """A node held at a breakpoint got new inputs (`Run.set_inputs`) before it started."""

    time: float
    run_id: str
    node_id: str
    inputs: dict[str, Any]


Event = (
    RunStarted
    | RunFinished
    | NodeAdded
    | NodeStateChanged
    | NodeOutput
    | NodePlaced
    | ChannelMessage
    | OccupancyChanged
    | GroupOccupancyChanged
    | ChildRunStarted
    | RunWarning
    | RunPaused
    | RunResumed
    | NodeInputsEdited
)

__all__ = [
    "ChannelMessage",
    "ChildRunStarted",
    "Event",
    "GroupOccupancyChanged",
    "NodeAdded",
    "NodeInputsEdited",
    "NodeOutput",
    "NodePlaced",
    "NodeStateChanged",
    "OccupancyChanged",
    "RunFinished",
    "RunPaused",
    "RunResumed",
    "RunStarted",
    "RunWarning",
]
