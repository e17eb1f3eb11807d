"""`Run`: one execution of a graph, its records, its event log, and the commands on it.

A run owns a TaskGraph (whose Node objects are its records), a state machine that makes
every state change (`_machine`), the workers that run what it queues (`_scheduler`) and an
append-only event log. It drives one round at a time (the first, then each re-run): open
the nodes, wait until the round is idle or must stop, wind it down, record the outcome.

Readers never slow it down: `events()` and `events_since()` read the log by index ("what
is new since N"), and appending wakes waiting readers at most once per loop iteration.
Commands (`cancel`, `cancel_node`, `rerun`) only request: they return at once, and the
outcome shows in `state`, the node records, the events and `await result()`.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Coroutine, Iterable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

from . import _collector, _context
from ._agent_calls import AgentCalls, AgentExited, consume_exception, exits_as_errors
from ._diagnostics import DEFAULT, Diagnostics
from ._graph import TaskGraph
from ._machine import RunMachine
from ._node import Node, NodeKind, count_states
from ._planning import RerunMode, agent_outputs, graph_outputs, judge_round, rerun_targets
from ._planning import node_of as _node_of
from ._planning import run_error as _run_error
from ._scheduler import Scheduler, outcome_of, report_internal_error
from ._states import NodeState, RunState
from ._tool import Tool
from .errors import NodeCancelled, RunError
from .eventlog import EventLog, LogReader
from .events import ChildRunStarted, Event, RunWarning
from .executors import Executor, ExecutorError
from .limits import Pool

#: Tasks some run abandoned after they ignored cancellation for its grace period. The run
#: has reported each by name; closing the loop need not wait for them a second time.
ABANDONED: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()


class Occupancy(NamedTuple):
    """Slots of the run's cap in use now, the most ever in use, and the cap."""

    active: int
    peak: int
    cap: int


class Agent(Protocol):
    """A graph_fn definition, as a run needs it (`_graph_fn.GraphFn`)."""

    name: str

    def body(self, run: Run) -> Coroutine[Any, Any, Any]:
        """The agent's body for this run (with its inputs and a `context`)."""
        ...


class Run(LogReader, AgentCalls):
    """A handle on one run. Created by `graphdeck.start()`; see its docstring."""

    def __init__(
        self,
        graph: TaskGraph,
        *,
        cap: int,
        on_error: str,
        timeout: float | None,
        pools: tuple[Pool, ...],
        grace: float,
        agent: Agent | None = None,
        parent: Run | None = None,
        executor: Executor | None = None,
        owns_executor: bool = False,
        block_threshold: Any = DEFAULT,
    ) -> None:
        self.id: str = uuid.uuid4().hex[:12]
        self.graph = graph
        self.name = graph.name
        self.inputs = graph.inputs
        self.on_error = on_error
        self.timeout = timeout
        self.grace = grace
        self.parent = parent
        self.children: list[Run] = []
        #: what the user should know that is not a failure (also in the event stream)
        self.warnings: list[RunWarning] = []
        self._agent = agent
        self._agent_outputs: dict[str, Any] | None = None
        self._body_task: asyncio.Task[Any] | None = None
        self._executor = executor
        self._owns_executor = owns_executor
        self._log = EventLog(self.id)
        self._machine = RunMachine(
            graph,
            self._log,
            self,
            cap=cap,
            on_error=on_error,
            agent=agent is not None,
            parent_id=parent.id if parent else None,
        )
        self._sched = Scheduler(
            self._machine,
            self.id,
            pools=pools,
            executor=executor,
            grace=grace,
            emit=self._emit,
            keep=self._keep_abandoned,
        )
        self._diagnostics = Diagnostics(self, block_threshold)
        self._log_waiter: asyncio.Future[None] | None = None
        self._wake: asyncio.Future[str] | None = None
        self._outcome: asyncio.Future[dict[str, Any]] | None = None
        self._driver: asyncio.Task[None] | None = None
        self._abandoned: set[asyncio.Task[Any]] = set()
        self._round_nodes: list[Node] | None = None  # what the current re-run executes
        self._dynamic_ids: dict[str, int] = {}
        # Invariant: until the driver has opened the round's nodes (`_seeded`), a
        # `cancel_node` is only recorded here (the node is not announced yet, or still
        # holds the previous round's state) and applied right after they open.
        self._seeded = False
        self._early_cancels: list[Node] = []

    def __repr__(self) -> str:
        return f"<Run {self.id} {self.name!r} {self.state.value}>"

    # -- read-only views ------------------------------------------------------------------

    @property
    def state(self) -> RunState:
        return self._machine.state

    @property
    def started_at(self) -> float | None:
        return self._machine.started_at

    @property
    def finished_at(self) -> float | None:
        return self._machine.finished_at

    @property
    def outputs(self) -> dict[str, Any] | None:
        """The outputs of the last finished round (partial ones if it did not succeed)."""
        return self._machine.outputs

    @property
    def error(self) -> RunError | None:
        return self._machine.error  # type: ignore[return-value]

    @property
    def nodes(self) -> Mapping[str, Node]:
        """Node id -> record (`state`, `inputs`, `outputs`, `error`, `attempts`, …)."""
        return MappingProxyType(self.graph._nodes)

    @property
    def occupancy(self) -> Occupancy:
        machine = self._machine
        return Occupancy(machine.active, machine.peak, machine.cap)

    @property
    def max_concurrency(self) -> int:
        return self._machine.cap

    @property
    def done(self) -> bool:
        return self.state.is_terminal

    @property
    def is_agent(self) -> bool:
        return self._agent is not None

    def counts(self) -> dict[NodeState, int]:
        """How many nodes are in each state (every state present, zeros included)."""
        return count_states(self.graph._nodes.values())

    # -- events -----------------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        if type(event) is RunWarning:
            self.warnings.append(event)
        self._log.append(event)
        if self._log_waiter is not None:
            self._wake_readers()

    def _wake_readers(self) -> None:
        """Called after appending while a reader waits; wakes them once per loop turn."""
        waiter = self._log_waiter
        self._log_waiter = None
        self._machine.wake_readers = None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def events(self) -> AsyncIterator[Event]:
        """Every event from the start, then live ones, ending once the run has finished."""
        index = 0
        log = self._log
        while True:
            while index < len(log):
                event = log.event(index)
                index += 1
                yield event
            if self.state.is_terminal:
                return
            if self._log_waiter is None:
                self._log_waiter = asyncio.get_running_loop().create_future()
                self._machine.wake_readers = self._wake_readers
            await asyncio.shield(self._log_waiter)

    # -- what the state machine asks of its owner -------------------------------------------

    def _interrupt(self, node: Node) -> None:
        self._sched.interrupt(node)

    def _settle(self, node: Node) -> None:
        waiter = node._waiter
        if waiter.done():
            return
        try:
            waiter.set_result(outcome_of(node))
        except Exception as reason:  # the node's error, or NodeCancelled
            waiter.set_exception(reason)

    def _wind_down(self, reason: str) -> None:
        if reason == "idle" and self._agent is not None:
            body = self._body_task
            if body is not None and not body.done():
                return  # the agent may call more tools
        self._request(reason)

    # -- lifecycle ----------------------------------------------------------------------------

    def _open(self, targets: list[Node] | None) -> None:
        """Start (or re-open for a re-run) and launch the driver task."""
        loop = asyncio.get_running_loop()
        self._wake = loop.create_future()
        self._outcome = loop.create_future()
        # Nobody may ever ask for the result of a background run; its exception must
        # not be logged as "never retrieved".
        self._outcome.add_done_callback(consume_exception)
        self._seeded = False
        self._machine.open_run(self.inputs, self.name, self.id)
        self._diagnostics.watch()
        self._driver = loop.create_task(self._drive(targets), name=f"graphdeck-run-{self.id}")

    async def _drive(self, targets: list[Node] | None) -> None:
        loop = asyncio.get_running_loop()
        timer = loop.call_later(self.timeout, self._request, "timeout") if self.timeout else None
        self._round_nodes = targets
        _collector.hold()  # (given back below, however the round ends: §4.6)
        try:
            if self._executor is not None:
                try:
                    await self._executor.start()
                except ExecutorError as exc:
                    self._never_started(exc)
                    return
            self._open_round(targets)
            assert self._wake is not None
            reason = await self._wake
            verdict = await self._conclude(reason)
            await self._release_executor()
            self._finish(*verdict)
        except asyncio.CancelledError:
            # The driver itself was cancelled (e.g. the loop is shutting down): the run is
            # cancelled, and the cancellation goes on.
            if not self.state.is_terminal:
                await self._shutdown()
                await self._release_executor()
                self._finish(RunState.CANCELLED)
            raise
        except Exception as exc:  # a bug in graphdeck: say so, and never leave result() hanging
            report_internal_error(f"run {self.id} driver failed", exc)
            if not self.state.is_terminal:
                self._machine.close_open(exc)
                self._finish(RunState.FAILED, exc)
        finally:
            _collector.release()
            if timer is not None:
                timer.cancel()

    def _open_round(self, targets: list[Node] | None) -> None:
        """Open the round's nodes (or start the agent's body), then apply the node cancels
        requested before they were open."""
        machine = self._machine
        if self._agent is not None and targets is None:
            self._start_agent_body()
        elif targets is None:
            machine.open_fresh()
        else:
            machine.open_round(targets)
        self._seeded = True
        for node in self._early_cancels:
            machine.cancel_node(node)
        self._early_cancels.clear()
        self._sched.fill()
        if self._agent is None and machine.unfinished == 0:
            self._request("idle")

    async def _release_executor(self) -> None:
        """Close an executor this run started (before the outcome is reported, so nothing
        of the run is still running when `result()` returns)."""
        if self._executor is not None and self._owns_executor:
            await self._executor.close()

    def _never_started(self, error: BaseException) -> None:
        """The executor could not start: nothing ran; every node is cancelled."""
        machine = self._machine
        if machine.rounds == 1:  # announce every node before any cancellation spreads
            machine.open_fresh()
        machine.stop()
        self._finish(RunState.FAILED, error)

    def _request(self, reason: str) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(reason)

    def _start_agent_body(self) -> None:
        assert self._agent is not None
        ctx = contextvars.copy_context()
        ctx.run(_context.current_run.set, self)
        ctx.run(_context.inside_node.set, False)
        coro = exits_as_errors(self._agent.body(self))
        self._body_task = asyncio.get_running_loop().create_task(
            coro, name=f"graphdeck-agent-{self.name}-{self.id}", context=ctx
        )
        self._body_task.add_done_callback(lambda _: self._request("body"))

    async def _conclude(self, reason: str) -> tuple[RunState, BaseException | None, bool]:
        """Wind the run down and decide its outcome: (state, body error, timed out)."""
        if reason in ("stop", "cancel", "timeout"):
            await self._shutdown()
            if reason == "cancel":
                return RunState.CANCELLED, None, False
            return RunState.FAILED, None, reason == "timeout"
        if reason == "body":
            return await self._conclude_body()
        # "idle": every node of a static run (or of a re-run round) ended. An agent's
        # re-run is judged by the nodes it re-ran: the agent decided about the others.
        judged = self._round_nodes if self._agent is not None else self.graph._nodes.values()
        return judge_round(list(judged or ())), None, False

    async def _conclude_body(self) -> tuple[RunState, BaseException | None, bool]:
        body = self._body_task
        assert body is not None
        if self._machine.unfinished:
            self._emit(
                RunWarning(
                    time.time(),
                    self.id,
                    f"the agent returned while {self._machine.unfinished} tool call(s) it "
                    "started were unfinished; they were cancelled",
                    kind="agent_returned",
                )
            )
            await self._shutdown()
        if body.cancelled():
            return RunState.CANCELLED, None, False
        error = body.exception()
        if isinstance(error, AgentExited):
            error = error.exit  # the run fails with what the body raised
        if error is None:
            self._agent_outputs = agent_outputs(body.result())
            return RunState.SUCCEEDED, None, False
        if isinstance(error, NodeCancelled):
            return RunState.CANCELLED, error, False
        return RunState.FAILED, error, False

    async def _shutdown(self) -> None:
        """Cancel everything still going, wait up to the grace period, and abandon (and
        report) whatever ignores cancellation. Leaves every node terminal."""
        self._machine.stop()
        body = self._body_task
        also = [body] if body is not None and not body.done() else []
        for child in self.children:
            child.cancel()
        stuck = await self._sched.cancel_workers(also)
        if stuck:
            self._keep_abandoned(body)  # type: ignore[arg-type]
            self._emit(
                RunWarning(
                    time.time(),
                    self.id,
                    f"agent {self.name!r} ignored cancellation for {self.grace:g}s "
                    "and was abandoned; it may still be running",
                    kind="abandoned",
                )
            )
        for child in self.children:
            await child.wait()
        for node in list(self.graph._nodes.values()):
            # Items of a parallel primitive whose agent was abandoned: nobody will settle them.
            if node.kind is NodeKind.EXTERNAL and not node.state.is_terminal:
                self._machine.cancelled(node)
        leftover = [n.id for n in self.graph._nodes.values() if not n.state.is_terminal]
        if leftover:
            raise RuntimeError(f"nodes left open after shutdown: {leftover[:5]}")

    def _finish(
        self,
        state: RunState,
        body_error: BaseException | None = None,
        timed_out: bool = False,
    ) -> None:
        self._sched.close()
        if self._agent is not None:
            outputs = dict(self._agent_outputs or {})
        else:
            outputs = graph_outputs(self.graph)
        error: RunError | None = None
        if state is not RunState.SUCCEEDED:
            timeout = self.timeout if timed_out else None
            error = _run_error(self.id, self.name, self.graph, state, outputs, body_error, timeout)
        self._diagnostics.unwatch()
        self._machine.close_run(state, outputs, error)
        outcome = self._outcome
        assert outcome is not None
        if error is None:
            outcome.set_result(outputs)
        else:
            outcome.set_exception(error)

    def _keep_abandoned(self, task: asyncio.Task[Any]) -> None:
        """Hold a strong reference to a task that ignored cancellation until it ends, so
        it is never garbage-collected while pending."""
        self._abandoned.add(task)
        task.add_done_callback(self._abandoned.discard)
        ABANDONED.add(task)

    async def wait(self) -> None:
        """Wait until the run has finished, without raising its outcome."""
        if self._outcome is not None:
            await asyncio.wait([self._outcome])

    # -- pause, breakpoints, step ---------------------------------------------------------

    @property
    def paused(self) -> bool:
        """No new node starts (running ones go on); the run's state stays RUNNING."""
        return self._machine.paused

    @property
    def held(self) -> list[str]:
        """The ids of the nodes held at breakpoints (READY, inputs resolved)."""
        return [i for i, n in self._machine.held.items() if n.state is NodeState.READY]

    def pause(self) -> None:
        """Start no new node until `resume()` or `step()`; running nodes go on. Child runs
        pause too; a paused run can still be cancelled, and its timeout keeps counting."""
        if self.state is RunState.RUNNING:
            self._machine.pause()
        for child in self.children:
            child.pause()

    def resume(self) -> None:
        """Go on: held nodes start first (past their breakpoints), then the rest."""
        self._machine.resume()
        self._sched.fill()
        for child in self.children:
            child.resume()

    def step(self) -> None:
        """Let exactly one node start (the first held, else the next ready), then pause."""
        self._machine.resume(step=True)
        self._sched.fill()

    def set_breakpoint(self, spec: str) -> None:
        """Hold every node whose id or tool name is `spec` before it starts."""
        self._machine.set_breakpoint(spec)

    def clear_breakpoint(self, spec: str) -> None:
        self._machine.clear_breakpoint(spec)

    def set_inputs(self, node_id: str, inputs: Mapping[str, Any]) -> None:
        """Replace the inputs of a node held at a breakpoint before it runs (checked
        against its tool's parameters; recorded as edited, with a `NodeInputsEdited`)."""
        node = self._node(node_id)
        self._machine.edit_inputs(node, node.tool.bind((), dict(inputs)))

    # -- why is it slow, why is it stuck -------------------------------------------------

    def where(self, node_id: str) -> list[tuple[str, int, str, str]]:
        """Where a running node is now, as (file, line, function, code) entries, outermost
        first: the coroutine chain of an async tool down to what it awaits, or the stack
        of the thread a plain `def` tool runs in. Empty when the node is not running."""
        return self._diagnostics.where(self._node(node_id))

    def waiting_for(self, node_id: str) -> dict[str, Any]:
        """What keeps a pending or ready node from running: "upstream" ([(id, state)]
        not yet succeeded), "slot" ({"cap", "busy": [ids]}) or "pool" ({"name", "size",
        "active", "waiting"}). Empty when it is not waiting."""
        return self._diagnostics.waiting_for(self._node(node_id))

    # -- public commands ----------------------------------------------------------------------

    async def result(self) -> dict[str, Any]:
        """The run's outputs once it has finished; raises RunFailed / RunCancelled.
        Cancelling the caller does not cancel the run (use `cancel()` for that)."""
        if self._outcome is None:
            raise RuntimeError(f"run {self.id} was never started")
        return await asyncio.shield(self._outcome)

    def cancel(self) -> None:
        """Request cancellation of the whole run (and its child runs); returns at once."""
        if self.state is RunState.RUNNING:
            self._request("cancel")

    def cancel_node(self, node_id: str) -> None:
        """Request cancellation of one node; its dependents are marked cancelled, other
        branches go on. Returns at once; no-op if the node already ended."""
        node = self._node(node_id)
        if self.state is not RunState.RUNNING:
            return
        if self._seeded:
            self._machine.cancel_node(node)
        elif node not in self._early_cancels:
            self._early_cancels.append(node)

    def rerun(
        self,
        node_ids: Iterable[str] | str | None = None,
        *,
        mode: RerunMode = "node",
        tools: Mapping[str, Tool] | None = None,
        inputs: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Re-open this finished run and execute again:

        - "node": the given nodes, with their recorded inputs;
        - "downstream": the given nodes and everything downstream of them;
        - "failed": failed, timed-out, cancelled and skipped nodes (all of them, or those
          among `node_ids`) and everything downstream of them.

        Upstream outputs are reused, never recomputed. New attempts are appended to the
        records. `tools` (name -> tool) swaps in new code for the nodes that re-run (a
        reloaded graph file); `inputs` (node id -> inputs) replaces a re-run node's inputs.
        Returns at once; `await result()` gives the new outcome.
        """
        targets, reexpand = self._plan(node_ids, mode)
        chosen = {node.id for node in targets}
        unknown = [node_id for node_id in inputs or {} if node_id not in chosen]
        if unknown:
            raise ValueError(f"node(s) {unknown} are not among the nodes to re-run")
        for node in reexpand:
            node._side().children = None
        for node in targets:
            if tools and node.tool.name in tools:
                node.tool = tools[node.tool.name]
            if inputs and node.id in inputs:
                node._side().override = node.tool.bind((), dict(inputs[node.id]))
        self._open(targets)

    def rerun_plan(
        self, node_ids: Iterable[str] | str | None = None, *, mode: RerunMode = "node"
    ) -> list[str]:
        """The ids of the nodes `rerun` would execute, in order, without doing anything:
        for showing (and counting) them before acting."""
        return [node.id for node in self._plan(node_ids, mode)[0]]

    def _plan(
        self, node_ids: Iterable[str] | str | None, mode: str
    ) -> tuple[list[Node], list[Node]]:
        if not self.state.is_terminal:
            raise RuntimeError(f"run {self.id} is {self.state.value}; re-run it once it ends")
        if isinstance(node_ids, str):
            node_ids = [node_ids]
        if self._agent is not None and mode != "node":
            raise ValueError(
                "an agent (graph_fn) run has no static downstream: re-run single nodes "
                "with mode='node', or start the agent again"
            )
        try:
            targets, reexpand = rerun_targets(
                self.graph, None if node_ids is None else list(node_ids), mode
            )
        except KeyError as exc:
            raise KeyError(f"run {self.id} has no node {exc.args[0]!r}") from None
        if not targets:
            raise ValueError(f"nothing to re-run in run {self.id} (mode={mode!r})")
        return targets, reexpand

    def _node(self, node_id: str) -> Node:
        try:
            return _node_of(self.graph, node_id)
        except KeyError:
            raise KeyError(f"run {self.id} has no node {node_id!r}") from None

    def _adopt(self, child: Run) -> None:
        self.children.append(child)
        self._emit(ChildRunStarted(time.time(), self.id, child.id, child.name))
        if self._machine.stopping:
            child.cancel()
