"""The state machine of one run: every state change of its nodes and of the run itself,
and what follows from each one (readiness, propagation, the failure policy, map expansion,
occupancy). Where any node or run changes state, and what happens then, is here.

Tables say which changes are legal and which handler does each: `NODE_TRANSITIONS` and
`BATCH_TRANSITIONS` here, `RUN_TRANSITIONS` (the run's own states) in `_run_transitions`.
Every change goes through `RunMachine._node` / `_run`, which look the handler up; an
impossible change raises `IllegalTransition` with the node's recent history. Handlers
are the only code that assigns `node.state` (a test checks both).

No asyncio here: the machine only decides. Its outputs are the ready queue (`ready`: the
nodes the scheduler should start, in order) and calls to its owner (`MachineOwner`, the
Run) for what it cannot do itself: interrupt a running attempt, wake an agent awaiting a
node, wind the run down. So its decisions are tested synchronously (tests/core/
test_machine.py), and the scheduler (`_scheduler`) is a thin loop of workers around it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from ._gates import Gates
from ._graph import TaskGraph
from ._maps import MapNodes
from ._node import Attempt, Node, NodeKind
from ._refs import resolve_inputs
from ._run_transitions import RUN_TRANSITIONS, RunHandler, run_illegal
from ._states import TERMINAL_NODE_STATES, IllegalTransition, NodeState, RunState
from .eventlog import EventLog

PENDING, READY, RUNNING, RETRYING = (
    NodeState.PENDING,
    NodeState.READY,
    NodeState.RUNNING,
    NodeState.RETRYING,
)
SUCCEEDED, FAILED, TIMED_OUT = NodeState.SUCCEEDED, NodeState.FAILED, NodeState.TIMED_OUT
CANCELLED, SKIPPED = NodeState.CANCELLED, NodeState.SKIPPED
TOOL = NodeKind.TOOL
_READY_CODE = READY.code


class MachineOwner(Protocol):
    """What the machine asks of the run that owns it."""

    def _interrupt(self, node: Node) -> None:
        """Stop `node`'s running (or slot-waiting) attempt: cancel its worker."""

    def _settle(self, node: Node) -> None:
        """`node` ended and an agent awaits it (`node._waiter` is set): wake it."""

    def _wind_down(self, reason: str) -> None:
        """The run should end: "idle" (no node left unfinished) or "stop" (a node failed
        under the stop policy)."""


Handler = Callable[["RunMachine", Node, NodeState, Any, Any], None]


class RunMachine(MapNodes, Gates):
    """Node and run states of one run, and every decision that follows a change."""

    def __init__(
        self,
        graph: TaskGraph,
        log: EventLog,
        owner: MachineOwner,
        *,
        cap: int,
        on_error: str,
        agent: bool = False,
        parent_id: str | None = None,
    ) -> None:
        self.graph = graph
        self.log = log
        self.owner = owner
        self.cap = cap
        self.on_error = on_error
        self.agent = agent  # an agent's body decides about failures, not the policy
        self.parent_id = parent_id
        self.state = RunState.PENDING
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.outputs: dict[str, Any] | None = None
        self.error: BaseException | None = None
        self.rounds = 0  # times the run was opened (1 + re-runs)
        #: nodes to start, in order (the scheduler pops them; a node no longer READY when
        #: popped was cancelled or skipped meanwhile and is passed over)
        self.ready: deque[Node] = deque()
        # Invariant: `unfinished` == nodes of the graph not in a terminal state.
        self.unfinished = 0
        # Invariant: `active` == TOOL nodes in RUNNING or RETRYING (they hold a slot).
        self.active = 0
        self.peak = 0
        self.stopping = False  # no node may start any more (stop policy, cancel, timeout)
        #: called after a row is written while a reader awaits new events (else None)
        self.wake_readers: Callable[[], None] | None = None
        #: `into[new.code][old.code]`: the handler of a change from `old` to `new` (from
        #: the tables below). The scheduler's hot path calls a handler from here itself;
        #: everything else goes through `_node`.
        self.into: list[list[Handler]] = _compile(NODE_TRANSITIONS, NodeState, _illegal)
        self._run_into: list[list[RunHandler]] = _compile(RUN_TRANSITIONS, RunState, run_illegal)
        # Nodes that ended unsuccessfully and whose dependents must follow (drained by
        # `_propagate`; a list, not recursion: a 10k chain would overflow the stack).
        self._fallout: list[Node] = []
        self._propagating = False
        self._init_gates()

    # -- the one way a state changes ---------------------------------------------------

    def _node(self, node: Node, new: NodeState, error: Any = None, data: Any = None) -> None:
        self.into[new.code][node.state.code](self, node, new, error, data)

    def _run(self, new: RunState, data: Any = None) -> None:
        self._run_into[new.code][self.state.code](self, new, data)

    # -- the run ---------------------------------------------------------------------------

    def open_run(self, inputs: dict[str, Any], name: str, run_id: str) -> None:
        """Start the run, or re-open it for a re-run round."""
        self._run(RunState.RUNNING, (inputs, name, run_id))

    def close_run(
        self, state: RunState, outputs: dict[str, Any], error: BaseException | None
    ) -> None:
        self._run(state, (outputs, error))

    # -- opening nodes ---------------------------------------------------------------------

    def open_fresh(self) -> None:
        """Announce every node of a new static run (all before any state change), then
        queue those without upstream."""
        nodes = list(self.graph._nodes.values())
        self.log.nodes_added(time.time(), nodes)
        self.unfinished += len(nodes)
        plain = []  # roots that need nothing but queueing: most of them
        for node in nodes:
            if node.upstream:
                node._waiting = len(node.upstream)
            elif node.kind is TOOL and node._rare is None:
                plain.append(node)
            else:
                self.make_ready(node)
        if plain:
            self._nodes_queued(plain)
        self._wake()

    def _nodes_queued(self, nodes: list[Node]) -> None:
        """PENDING -> READY for many nodes at one instant, with the batch form of that
        change's handler (`BATCH_TRANSITIONS`): C-level extends instead of a call per node
        (a 100k-node fan-out has 100k roots)."""
        if any(node.state is not PENDING for node in nodes):
            for node in nodes:
                self._node(node, READY)
        else:
            self._many(nodes, PENDING, READY)

    def cancelled_many(self, nodes: list[Node]) -> None:
        """RUNNING -> CANCELLED for the tool nodes whose workers unwound from the run's
        cancel (10k at once at a full cap of 10k), with the batch form of the handler."""
        if any(n.state is not RUNNING or n.kind is not TOOL for n in nodes):
            for node in nodes:
                self._node(node, CANCELLED)
        else:
            self._many(nodes, RUNNING, CANCELLED)

    def _many(self, nodes: list[Node], old: NodeState, new: NodeState) -> None:
        """`old` -> `new` for `nodes` (all in `old`), by the batch handler of that change
        (`BATCH_TRANSITIONS`), or node by node where the table has none."""
        batch = BATCH_TRANSITIONS.get((old, new))
        if batch is None:
            for node in nodes:
                self._node(node, new)
        elif nodes:
            batch(self, nodes, new)

    def open_round(self, targets: list[Node]) -> None:
        """Re-open `targets` (topological order) for a re-run round and queue those whose
        inputs are there. Nodes outside the round keep their outcome; a target reading a
        node outside the round that did not succeed is skipped."""
        ids = {node.id for node in targets}
        for node in targets:
            if node.state.is_terminal:
                self._node(node, PENDING)
        for node in targets:
            node._waiting = sum(1 for u in node.upstream if u in ids) + sum(
                1 for c in node.children or () if c.id in ids
            )
        nodes = self.graph._nodes
        for node in targets:
            if node.state is not PENDING or node._waiting:
                continue
            outside = (nodes[u] for u in node.upstream if u not in ids)
            if any(source.state is not SUCCEEDED for source in outside):
                self._node(node, SKIPPED)
            else:
                self.make_ready(node)

    def add(self, node: Node) -> None:
        """A node joins the running graph (an agent's call, a map's item, an external
        item): count it and announce it."""
        self.graph.append(node)
        self.unfinished += 1
        self.log.node_added(time.time(), node)
        self._wake()

    def add_call(self, node: Node, queue: bool = True) -> None:
        """An agent's tool call: add it and make it ready (or cancel it while stopping).
        With `queue` False the caller runs it itself: it stays out of the ready queue."""
        self.add(node)
        if self.stopping:
            self._node(node, CANCELLED)
            return
        self.make_ready(node)
        if not queue and self.ready and self.ready[-1] is node:
            self.ready.pop()

    def make_ready(self, node: Node) -> None:
        """Every upstream node of `node` succeeded: resolve its inputs and queue it (a map
        expands instead). Nothing starts once the run is stopping."""
        if self.stopping:
            return
        rare = node._rare
        resolved = None
        if rare is not None and rare.override is not None:  # inputs edited for this re-run
            resolved, rare.override = rare.override, None
            rare.edited = True
        elif node.upstream:
            try:
                resolved = resolve_inputs(node.declared_inputs, self.graph._nodes)
            except KeyError as exc:
                self._node(node, READY)
                missing = KeyError(
                    f"node {node.id!r}: an input refers to output {exc.args[0]!r}, "
                    "which its upstream node did not return"
                )
                self._node(node, FAILED, missing)
                return
        if node.kind is NodeKind.MAP:
            self._expand(node, resolved)
        else:  # `_node(node, READY, None, resolved)`, one call less: once per node
            self.into[_READY_CODE][node.state.code](self, node, READY, None, resolved)

    # -- what the scheduler reports --------------------------------------------------------

    def start(self, node: Node) -> None:
        """A worker starts an attempt of `node` (READY, or RETRYING after a backoff)."""
        self._node(node, RUNNING)

    def succeed(self, node: Node, outputs: dict[str, Any]) -> None:
        self._node(node, SUCCEEDED, None, outputs)

    def fail(self, node: Node, error: BaseException) -> None:
        """The attempt raised (TIMED_OUT when it was a timeout)."""
        self._node(node, TIMED_OUT if isinstance(error, TimeoutError) else FAILED, error)

    def retry_later(self, node: Node, error: BaseException) -> None:
        """The attempt failed and another will follow (the slot stays held)."""
        self._node(node, RETRYING, error)

    def cancelled(self, node: Node, error: BaseException | None = None) -> None:
        """The node was stopped (its worker cancelled, or it never started)."""
        self._node(node, CANCELLED, error)

    def external_started(self, node: Node) -> None:
        """An item run elsewhere (graphdeck.parallel) started: no slot of the cap."""
        self._node(node, READY)
        self._node(node, RUNNING)

    def external_finished(
        self,
        node: Node,
        state: NodeState,
        error: BaseException | None,
        outputs: dict[str, Any] | None,
    ) -> None:
        if not node.state.is_terminal:
            self._node(node, state, error, outputs)

    # -- cancelling ------------------------------------------------------------------------

    def cancel_node(self, node: Node) -> None:
        """Cancel one node; its dependents follow as cancelled, other branches go on."""
        state = node.state
        if state.is_terminal:
            return
        if node.kind is NodeKind.MAP and state is RUNNING:
            for child in node.children or ():
                self.cancel_node(child)
        elif state is PENDING or (state is READY and node._worker is None):
            self._node(node, CANCELLED)
        else:  # running, retrying, or held by a worker waiting for a pool slot
            self.owner._interrupt(node)

    def stop(self) -> None:
        """Start nothing more and cancel every node not yet held by a worker (the run is
        winding down: cancel, timeout, stop policy). Running ones are the owner's."""
        self.stopping = True
        pending, ready = [], []
        for node in self.graph._nodes.values():
            if node.state is PENDING:
                pending.append(node)
            elif node.state is READY and node._worker is None:
                ready.append(node)
        # In bulk: one failure under the stop policy cancels 100k queued nodes at once
        # (node by node, 0.2 s in one step of the loop).
        self._many(ready, READY, CANCELLED)
        self._many([n for n in pending if n.state is PENDING], PENDING, CANCELLED)

    def close_open(self, error: BaseException) -> None:
        """Last resort after an internal error: cancel whatever is still open."""
        self.stopping = True
        for node in list(self.graph._nodes.values()):
            if not node.state.is_terminal:
                self._node(node, CANCELLED, error)

    # -- what follows a node's end -------------------------------------------------------

    def _propagate(self) -> None:
        """Dependents of nodes that will never succeed can never run: cancelled after a
        cancel, skipped after a failure or skip (and theirs, transitively). A map waiting
        for its items is told one of them ended."""
        if self._propagating:
            return  # the outer call drains what this one queued
        self._propagating = True
        fallout = self._fallout
        try:
            while fallout:
                origin = fallout.pop()
                follow = CANCELLED if origin.state is CANCELLED else SKIPPED
                for node in origin.dependents:
                    if node.state is PENDING or node.state is READY:
                        self._node(node, follow)
                    elif node.state is RUNNING and node.kind is NodeKind.MAP:
                        node._waiting -= 1
                        if node._waiting == 0:
                            self._aggregate(node)
        finally:
            self._propagating = False

    def _wake(self) -> None:
        wake = self.wake_readers
        if wake is not None:
            wake()


# -- node handlers: `handler(machine, node, new_state, error, data)` --------------------------


def _queued(m: RunMachine, node: Node, new: NodeState, error: Any, inputs: Any) -> None:
    """PENDING -> READY: its inputs are resolved (`inputs`: None when it has no refs);
    a tool node joins the ready queue."""
    if inputs is not None:
        node.resolved_inputs = inputs
    node.state = READY
    node.error = None
    m.log.node_state(time.time(), node, READY, node.attempt, None, inputs)
    if node.kind is TOOL:
        m.ready.append(node)
    if m.wake_readers is not None:
        m.wake_readers()


def _many_queued(m: RunMachine, nodes: list[Node], new: NodeState) -> None:
    """PENDING -> READY for many root tool nodes at once (`_queued`, in bulk)."""
    for node in nodes:
        node.state = READY
    m.log.nodes_state(time.time(), nodes, READY)
    m.ready.extend(nodes)


def _started(m: RunMachine, node: Node, new: NodeState, error: Any, data: Any) -> None:
    """READY -> RUNNING: a new attempt; a tool node takes a slot of the cap."""
    now = time.time()
    node.state = RUNNING
    attempt = node.attempt = node.attempt + 1
    node.started_at = now
    node.finished_at = None
    if node.kind is TOOL:
        active = m.active = m.active + 1
        if active > m.peak:
            m.peak = active
    m.log.node_state(now, node, RUNNING, attempt, None, None)
    if m.wake_readers is not None:
        m.wake_readers()


def _restarted(m: RunMachine, node: Node, new: NodeState, error: Any, data: Any) -> None:
    """RETRYING -> RUNNING: the failed attempt goes to the history; the slot was kept."""
    _archive(node, TIMED_OUT if isinstance(node.error, TimeoutError) else FAILED)
    now = time.time()
    node.state = RUNNING
    attempt = node.attempt = node.attempt + 1
    node.started_at = now
    node.finished_at = None
    node.error = None
    m.log.node_state(now, node, RUNNING, attempt, None, None)
    if m.wake_readers is not None:
        m.wake_readers()


def _retrying(m: RunMachine, node: Node, new: NodeState, error: Any, data: Any) -> None:
    """RUNNING -> RETRYING: the attempt failed; the node keeps its slot for the next."""
    now = time.time()
    node.state = RETRYING
    node.error = error
    node.finished_at = now
    m.log.node_state(now, node, RETRYING, node.attempt, error, None)
    if m.wake_readers is not None:
        m.wake_readers()


def _succeeded(m: RunMachine, node: Node, new: NodeState, error: Any, outputs: Any) -> None:
    """RUNNING -> SUCCEEDED: outputs recorded, the slot given back, dependents counted."""
    now = time.time()
    if node.kind is TOOL:
        m.active -= 1
    node.state = SUCCEEDED
    node.outputs = outputs
    node.error = None
    node.finished_at = now
    m.unfinished -= 1
    m.log.node_succeeded(now, node, node.attempt, outputs)
    if m.wake_readers is not None:
        m.wake_readers()
    if node._waiter is not None:
        m.owner._settle(node)
    for dependent in node.dependents:  # counted off; ready when nothing is left to wait for
        waiting = dependent._waiting = dependent._waiting - 1
        if waiting:
            continue
        if dependent.state is PENDING:
            m.make_ready(dependent)
        elif dependent.state is RUNNING:
            m._aggregate(dependent)  # the last item of a map ended
    if m.unfinished == 0:
        m.owner._wind_down("idle")


def _ended(m: RunMachine, node: Node, new: NodeState, error: Any, data: Any) -> None:
    """Any state -> FAILED, TIMED_OUT, CANCELLED or SKIPPED: a held slot is given back,
    dependents follow (cancelled or skipped), and under the stop policy a failure winds
    the run down."""
    now = time.time()
    if node.kind is TOOL and (node.state is RUNNING or node.state is RETRYING):
        m.active -= 1
    node.state = new
    node.error = error
    node.finished_at = now
    m.unfinished -= 1
    m.log.node_state(now, node, new, node.attempt, error, None)
    if m.wake_readers is not None:
        m.wake_readers()
    if node._waiter is not None:
        m.owner._settle(node)
    if node.dependents:
        m._fallout.append(node)
        m._propagate()
    if (new is FAILED or new is TIMED_OUT) and m.on_error == "stop" and not m.agent:
        m.owner._wind_down("stop")
    if m.unfinished == 0:
        m.owner._wind_down("idle")


def _many_ended(m: RunMachine, nodes: list[Node], new: NodeState) -> None:
    """-> CANCELLED for many nodes of one state at once (`_ended`, in bulk: one batch of
    rows, one pass of propagation): a stopping run's unstarted nodes (100k after one
    failure under the stop policy), the workers of a cancelled run once unwound."""
    now = time.time()
    if nodes and nodes[0].state is RUNNING:  # (tool nodes: each gives its slot back)
        m.active -= len(nodes)
    for node in nodes:
        node.state = new
        node.error = None
        node.finished_at = now
    m.unfinished -= len(nodes)
    m.log.nodes_state(now, nodes, new)
    if m.wake_readers is not None:
        m.wake_readers()
    fallout = m._fallout
    for node in nodes:
        if node._waiter is not None:
            m.owner._settle(node)
        if node.dependents:
            fallout.append(node)
    m._propagate()
    if m.unfinished == 0:
        m.owner._wind_down("idle")


def _reopened(m: RunMachine, node: Node, new: NodeState, error: Any, data: Any) -> None:
    """A terminal state -> PENDING: a re-run (or a map's re-expansion) opens a new
    attempt; the last one goes to the history."""
    _archive(node, node.state)
    node.state = PENDING
    node.error = None
    node.started_at = node.finished_at = None
    node.outputs = None
    if node._rare is not None:
        node._rare.cancel_requested = node._rare.edited = False
    if node.upstream:
        node.resolved_inputs = None
    m.unfinished += 1
    m.log.node_state(time.time(), node, PENDING, node.attempt, None, None)
    if m.wake_readers is not None:
        m.wake_readers()


def _illegal(m: RunMachine, node: Node, new: NodeState, error: Any, data: Any) -> None:
    recent = (
        ", ".join(f"{e.state.value} (attempt {e.attempt})" for e in m.log.recent(node))
        or "no state change yet"
    )
    raise IllegalTransition(
        f"node {node.id!r}: illegal transition {node.state.value} -> {new.value} "
        f"(attempt {node.attempt}, error {node.error!r}); its recent states: {recent}"
    )


def _archive(node: Node, outcome: NodeState) -> None:
    """Move the current attempt into the node's history."""
    if not node.attempt:
        return
    history = node._side().history
    if history is None:
        history = node._side().history = []
    elif history[-1].number == node.attempt:
        return
    history.append(Attempt(node.attempt, outcome, node.started_at, node.finished_at, node.error))


# -- the tables ------------------------------------------------------------------------------

_UNSTARTED_ENDS = {(s, e): _ended for s in (PENDING, READY) for e in (CANCELLED, SKIPPED)}

#: (from, to) -> the handler that makes that change. Anything else is illegal. A terminal
#: state is left only through PENDING (a re-run); a retry goes RUNNING -> RETRYING ->
#: RUNNING, holding its slot.
NODE_TRANSITIONS: dict[tuple[NodeState, NodeState], Handler] = {
    (PENDING, READY): _queued,
    **_UNSTARTED_ENDS,
    (READY, FAILED): _ended,  # its inputs could not be prepared (a missing output key)
    (READY, RUNNING): _started,
    (RUNNING, SUCCEEDED): _succeeded,
    (RUNNING, FAILED): _ended,
    (RUNNING, TIMED_OUT): _ended,
    (RUNNING, CANCELLED): _ended,
    (RUNNING, RETRYING): _retrying,
    (RETRYING, RUNNING): _restarted,
    (RETRYING, CANCELLED): _ended,
    **{(terminal, PENDING): _reopened for terminal in TERMINAL_NODE_STATES},
}

#: (from, to) -> the handler that makes that change for many nodes at once; used where a
#: run changes thousands of nodes in one instant (its roots becoming ready, its running
#: nodes cancelled with it).
BATCH_TRANSITIONS: dict[
    tuple[NodeState, NodeState], Callable[[RunMachine, list[Node], NodeState], None]
] = {
    (PENDING, READY): _many_queued,
    (PENDING, CANCELLED): _many_ended,
    (READY, CANCELLED): _many_ended,
    (RUNNING, CANCELLED): _many_ended,
}


def _compile(table: dict[tuple[Any, Any], Any], states: Any, illegal: Any) -> list[list[Any]]:
    """A table as `into[new.code][old.code]` lists (an index is cheaper than hashing two
    enum members, and this runs several times per node)."""
    into = [[illegal] * len(states) for _ in states]
    for (old, new), handler in table.items():
        into[new.code][old.code] = handler
    return into
