"""`Run`: one execution of a graph, its records, its event log, and the commands on it.

A run owns a TaskGraph (whose Node objects are its records), a Scheduler and an append-only
event log. Readers never slow it down: `events()` and `events_since()` read the log by
index ("what is new since N"), and appending wakes waiting readers at most once per loop
iteration.

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
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from . import _context
from ._eventlog import EventLog, LogReader
from ._graph import Node, NodeKind, TaskGraph, collect_refs, count_states, resolve_refs
from ._scheduler import Scheduler, report_internal_error
from ._states import UNSUCCESSFUL_NODE_STATES, NodeState, RunState
from .errors import NodeCancelled, RunCancelled, RunError, RunFailed, RunTimedOut
from .events import ChildRunStarted, Event, RunFinished, RunStarted, RunWarning
from .executors import ExecutorError

if TYPE_CHECKING:
    from ._graph_fn import GraphFn
    from ._tool import Tool
    from .executors import Executor
    from .limits import Pool

#: Tasks some run abandoned after they ignored cancellation for its grace period. The run
#: has reported each by name; closing the loop need not wait for them a second time.
ABANDONED: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()

RerunMode = Literal["node", "downstream", "failed"]
_RERUN_MODES = ("node", "downstream", "failed")


class Occupancy(NamedTuple):
    """Slots of the run's cap in use now, the most ever in use, and the cap."""

    active: int
    peak: int
    cap: int


class Run(LogReader):
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
        agent: GraphFn | None = None,
        parent: Run | None = None,
        executor: Executor | None = None,
        owns_executor: bool = False,
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
        self.state = RunState.PENDING
        self.started_at: float | None = None
        self.finished_at: float | None = None
        #: the outputs of the last finished round (partial ones if it did not succeed)
        self.outputs: dict[str, Any] | None = None
        self.error: RunError | None = None
        #: what the user should know that is not a failure (also in the event stream)
        self.warnings: list[RunWarning] = []
        self._agent = agent
        self._agent_outputs: dict[str, Any] | None = None
        self._body_task: asyncio.Task[Any] | None = None
        self._executor = executor
        self._owns_executor = owns_executor
        self._log = EventLog(self.id)
        self._sched = Scheduler(self, cap, pools, executor)
        self._log_waiter: asyncio.Future[None] | None = None
        self._wake: asyncio.Future[str] | None = None
        self._outcome: asyncio.Future[dict[str, Any]] | None = None
        self._driver: asyncio.Task[None] | None = None
        self._abandoned: set[asyncio.Task[Any]] = set()
        self._rounds = 0
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
    def nodes(self) -> Mapping[str, Node]:
        """Node id -> record (`state`, `inputs`, `outputs`, `error`, `attempts`, …)."""
        return MappingProxyType(self.graph._nodes)

    @property
    def occupancy(self) -> Occupancy:
        sched = self._sched
        return Occupancy(sched.active, sched.peak, sched.cap)

    @property
    def max_concurrency(self) -> int:
        return self._sched.cap

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
            await asyncio.shield(self._log_waiter)

    # -- lifecycle ----------------------------------------------------------------------------

    def _open(self, targets: list[Node] | None) -> None:
        """Start (or re-open for a re-run) and launch the driver task."""
        loop = asyncio.get_running_loop()
        self._wake = loop.create_future()
        self._outcome = loop.create_future()
        # Nobody may ever ask for the result of a background run; its exception must
        # not be logged as "never retrieved".
        self._outcome.add_done_callback(_consume_exception)
        self._sched.stopping = False
        self._seeded = False
        self.state = RunState.RUNNING
        self.started_at = time.time()
        self.finished_at = None
        self._emit(
            RunStarted(
                self.started_at,
                self.id,
                self.name,
                self.inputs,
                self._sched.cap,
                self.on_error,
                self.parent.id if self.parent else None,
                self._rounds,
            )
        )
        self._rounds += 1
        self._driver = loop.create_task(self._drive(targets), name=f"graphdeck-run-{self.id}")

    async def _drive(self, targets: list[Node] | None) -> None:
        loop = asyncio.get_running_loop()
        timer = loop.call_later(self.timeout, self._request, "timeout") if self.timeout else None
        self._round_nodes = targets
        try:
            if self._executor is not None:
                try:
                    await self._executor.start()
                except ExecutorError as exc:
                    self._never_started(exc)
                    return
            if self._agent is not None and targets is None:
                self._start_agent_body()
            else:
                self._seed(targets if targets is not None else list(self.graph._nodes.values()))
            self._seeded = True
            for node in self._early_cancels:
                self._sched.cancel_node(node, self.grace)
            self._early_cancels.clear()
            if self._agent is None and self._sched.unfinished == 0:
                self._request("idle")
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
                self._force_close(exc)
        finally:
            if timer is not None:
                timer.cancel()

    async def _release_executor(self) -> None:
        """Close an executor this run started (before the outcome is reported, so nothing
        of the run is still running when `result()` returns)."""
        if self._executor is not None and self._owns_executor:
            await self._executor.close()

    def _never_started(self, error: BaseException) -> None:
        """The executor could not start: nothing ran; every node is cancelled."""
        nodes = list(self.graph._nodes.values())
        if self._rounds == 1:
            for node in nodes:  # announce every node before any cancellation spreads
                self._sched.add_node(node)
        for node in nodes:
            if not node.state.is_terminal:
                self._sched.finish(node, NodeState.CANCELLED)
        self._finish(RunState.FAILED, error)

    def _request(self, reason: str) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(reason)

    def _on_idle(self) -> None:
        if self._agent is None or self._body_task is None or self._body_task.done():
            self._request("idle")

    def _on_node_failed(self, node: Node) -> None:
        if self.on_error == "stop" and self._agent is None:
            self._request("stop")

    def _seed(self, nodes: list[Node]) -> None:
        """Open `nodes` (in topological order) for execution and queue those ready."""
        sched = self._sched
        if self._rounds == 1 and self._agent is None:
            sched.open_fresh(nodes)
            return
        ids = {node.id for node in nodes}
        for node in nodes:
            if node.state.is_terminal:
                sched.set_state(node, NodeState.PENDING)
        all_nodes = self.graph._nodes
        for node in nodes:
            node._waiting = sum(1 for u in node.upstream if u in ids) + sum(
                1 for c in node.children or () if c.id in ids
            )
        for node in nodes:
            if node.state is not NodeState.PENDING or node._waiting:
                continue
            blocked = any(
                all_nodes[u].state is not NodeState.SUCCEEDED for u in node.upstream if u not in ids
            )
            if blocked:
                sched.finish(node, NodeState.SKIPPED)
            else:
                sched.make_ready(node)
        sched.fill_workers()

    def _start_agent_body(self) -> None:
        assert self._agent is not None
        ctx = contextvars.copy_context()
        ctx.run(_context.current_run.set, self)
        ctx.run(_context.inside_node.set, False)
        from ._graph_fn import Context

        coro = _exits_as_errors(self._agent.fn(**self.inputs, context=Context(self)))
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
            body = self._body_task
            assert body is not None
            if self._sched.unfinished:
                self._emit(
                    RunWarning(
                        time.time(),
                        self.id,
                        f"the agent returned while {self._sched.unfinished} tool call(s) "
                        "it started were unfinished; they were cancelled",
                    )
                )
                await self._shutdown()
            if body.cancelled():
                return RunState.CANCELLED, None, False
            error = body.exception()
            if isinstance(error, AgentExited):
                error = error.exit  # the run fails with what the body raised
            if error is None:
                self._agent_outputs = _agent_outputs(body.result())
                return RunState.SUCCEEDED, None, False
            if isinstance(error, NodeCancelled):
                return RunState.CANCELLED, error, False
            return RunState.FAILED, error, False
        # "idle": every node of a static run (or of a re-run round) is terminal. An agent's
        # re-run is judged by the nodes it re-ran: the agent decided about the others.
        judged = self._round_nodes if self._agent is not None else self.graph._nodes.values()
        states = {node.state for node in judged or ()}
        if states <= {NodeState.SUCCEEDED}:
            return RunState.SUCCEEDED, None, False
        if states & {NodeState.FAILED, NodeState.TIMED_OUT}:
            return RunState.FAILED, None, False
        return RunState.CANCELLED, None, False

    async def _shutdown(self) -> None:
        """Cancel everything still going, wait up to the grace period, and abandon (and
        report) whatever ignores cancellation. Leaves every node terminal."""
        sched = self._sched
        sched.stopping = True
        waits: list[asyncio.Task[Any]] = []
        body = self._body_task
        if body is not None and not body.done():
            body.cancel()
            waits.append(body)
        for child in self.children:
            child.cancel()
        for node in list(self.graph._nodes.values()):
            if node.state is NodeState.PENDING or (
                node.state is NodeState.READY and node._worker is None
            ):
                sched.finish(node, NodeState.CANCELLED)
        for worker in list(sched.workers):
            worker.cancel()
            waits.append(worker)
        if waits:
            _, stuck = await asyncio.wait(waits, timeout=self.grace)
            owners = {n._worker: n for n in self.graph._nodes.values() if n._worker}
            for task in stuck:
                if task is body:
                    self._keep_abandoned(task)
                    self._emit(
                        RunWarning(
                            time.time(),
                            self.id,
                            f"agent {self.name!r} ignored cancellation for {self.grace:g}s "
                            "and was abandoned; it may still be running",
                        )
                    )
                else:
                    sched.abandon(task, owners.get(task), self.grace)
        for child in self.children:
            await child.wait()
        for node in self.graph._nodes.values():
            # Items of a parallel primitive whose agent was abandoned: nobody will settle them.
            if node.kind is NodeKind.EXTERNAL and not node.state.is_terminal:
                sched.finish(node, NodeState.CANCELLED)
        leftover = [n.id for n in self.graph._nodes.values() if not n.state.is_terminal]
        if leftover:
            raise RuntimeError(f"nodes left open after shutdown: {leftover[:5]}")

    def _force_close(self, error: BaseException) -> None:
        """Last resort after an internal error: close every open node and fail the run."""
        for node in self.graph._nodes.values():
            if not node.state.is_terminal:
                node.state = NodeState.CANCELLED
                node.error = error
        self._sched.unfinished = 0
        self._finish(RunState.FAILED, error)

    def _finish(
        self,
        state: RunState,
        body_error: BaseException | None = None,
        timed_out: bool = False,
    ) -> None:
        self._sched.close()
        self.state = state
        self.finished_at = time.time()
        outputs = self._collect_outputs()
        self.outputs = outputs
        error: RunError | None = None
        if state is not RunState.SUCCEEDED:
            error = self._make_error(state, outputs, body_error, timed_out)
        self.error = error
        self._emit(RunFinished(self.finished_at, self.id, state, error))
        outcome = self._outcome
        assert outcome is not None
        if error is None:
            outcome.set_result(outputs)
        else:
            outcome.set_exception(error)

    def _collect_outputs(self) -> dict[str, Any]:
        if self._agent is not None:
            return dict(self._agent_outputs or {})
        nodes = self.graph._nodes
        outputs = {}
        for name, value in self.graph.outputs.items():
            found: list[str] = []
            collect_refs(value, found)
            if all(nodes[i].state is NodeState.SUCCEEDED for i in found):
                outputs[name] = resolve_refs(value, nodes)
        return outputs

    def _make_error(
        self,
        state: RunState,
        outputs: dict[str, Any],
        body_error: BaseException | None,
        timed_out: bool,
    ) -> RunError:
        errors: dict[str, BaseException] = {
            node.id: node.error
            for node in self.graph._nodes.values()
            if node.state in (NodeState.FAILED, NodeState.TIMED_OUT) and node.error
        }
        if body_error is not None:
            errors[self.name] = body_error
        counts = {s.value: n for s, n in self.counts().items() if n}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no nodes"
        if state is RunState.CANCELLED:
            message = f"run {self.name!r} ({self.id}) was cancelled ({summary})"
            return RunCancelled(message, run_id=self.id, errors=errors, partial_outputs=outputs)
        if timed_out:
            message = f"run {self.name!r} ({self.id}) timed out after {self.timeout:g}s ({summary})"
            return RunTimedOut(message, run_id=self.id, errors=errors, partial_outputs=outputs)
        shown = list(errors.items())[:5]
        detail = "; ".join(f"{k}: {type(e).__name__}: {e}" for k, e in shown)
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        message = (
            f"run {self.name!r} ({self.id}) failed: {len(errors)} failed "
            f"[{detail}{more}] ({summary})"
        )
        return RunFailed(message, run_id=self.id, errors=errors, partial_outputs=outputs)

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

    # -- public commands ----------------------------------------------------------------------

    async def result(self) -> dict[str, Any]:
        """The run's outputs once it has finished; raises RunFailed / RunCancelled.

        Cancelling the caller does not cancel the run (use `cancel()` for that).
        """
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
            self._sched.cancel_node(node, self.grace)
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
            node.children = None
        for node in targets:
            if tools and node.tool.name in tools:
                node.tool = tools[node.tool.name]
            if inputs and node.id in inputs:
                node._override = node.tool.bind((), dict(inputs[node.id]))
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
        if mode not in _RERUN_MODES:
            raise ValueError(f"mode must be one of {_RERUN_MODES}, got {mode!r}")
        if isinstance(node_ids, str):
            node_ids = [node_ids]
        if self._agent is not None and mode != "node":
            raise ValueError(
                "an agent (graph_fn) run has no static downstream: re-run single nodes "
                "with mode='node', or start the agent again"
            )
        targets, reexpand = self._rerun_targets(None if node_ids is None else list(node_ids), mode)
        if not targets:
            raise ValueError(f"nothing to re-run in run {self.id} (mode={mode!r})")
        return targets, reexpand

    def _node(self, node_id: str) -> Node:
        try:
            return self.graph._nodes[node_id]
        except KeyError:
            raise KeyError(f"run {self.id} has no node {node_id!r}") from None

    def _rerun_targets(
        self, node_ids: list[str] | None, mode: str
    ) -> tuple[list[Node], list[Node]]:
        """(nodes to re-run in topological order, maps to expand afresh)."""
        nodes = self.graph._nodes
        if mode == "failed":
            pool = [self._node(i) for i in node_ids] if node_ids else nodes.values()
            roots = [n for n in pool if n.state in UNSUCCESSFUL_NODE_STATES]
        else:
            if not node_ids:
                raise ValueError(f"mode={mode!r} needs the ids of the nodes to re-run")
            roots = [self._node(i) for i in node_ids]
        chosen = {n.id for n in roots}
        if mode != "node":
            stack = list(roots)
            while stack:
                for dependent in stack.pop().dependents or ():
                    if dependent.id not in chosen:
                        chosen.add(dependent.id)
                        stack.append(dependent)
        for node in roots:  # re-running a map directly re-runs all of its items
            if node.kind is NodeKind.MAP and mode != "failed":
                chosen.update(c.id for c in node.children or ())
        reexpand = []
        for node in list(nodes.values()):
            if (
                node.kind is NodeKind.MAP
                and node.id in chosen
                and node.children
                and any(u in chosen for u in node.upstream)
            ):
                # Its inputs will change: it expands afresh when they resolve.
                chosen.difference_update(c.id for c in node.children)
                reexpand.append(node)
        return [n for n in nodes.values() if n.id in chosen], reexpand

    # -- graph_fn tool calls -------------------------------------------------------------------

    def _new_dynamic_node(
        self, tool: Tool, inputs: dict[str, Any], node_id: str, group: str | None = None
    ) -> Node:
        node = Node(node_id, tool, inputs, group=group)
        node._waiter = asyncio.get_running_loop().create_future()
        self.graph._append_node(node)
        self._sched.add_node(node)
        if self._sched.stopping:
            self._sched.finish(node, NodeState.CANCELLED)
        else:
            self._sched.make_ready(node)
            self._sched.fill_workers()
        return node

    def _dynamic_id(self, base: str) -> str:
        n = self._dynamic_ids.get(base, 0)
        self._dynamic_ids[base] = n + 1
        return f"{base}_{n}"

    async def call_tool(self, tool: Tool, inputs: dict[str, Any]) -> dict[str, Any]:
        """A tool awaited inside the agent: an implicit node under the run's cap."""
        node = self._new_dynamic_node(tool, inputs, self._dynamic_id(tool.name))
        waiter = node._waiter
        assert waiter is not None
        try:
            return await waiter
        except asyncio.CancelledError:
            self._sched.cancel_node(node, self.grace)
            raise

    async def call_map(self, tool: Tool, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`tool.map(...)` inside the agent: one node per item, grouped; results in input
        order. The first failure cancels the items still going and is raised."""
        group = self._dynamic_id(f"{tool.name}.map")
        nodes = [
            self._new_dynamic_node(tool, item, f"{group}[{i}]", group)
            for i, item in enumerate(items)
        ]
        waiters = [n._waiter for n in nodes]
        try:
            if waiters:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_EXCEPTION)  # type: ignore[arg-type]
            for waiter in waiters:
                assert waiter is not None
                if waiter.done() and waiter.exception() is not None:
                    raise waiter.exception()  # type: ignore[misc]
            return [w.result() for w in waiters]  # type: ignore[union-attr]
        except BaseException:
            for node in nodes:
                self._sched.cancel_node(node, self.grace)
            for waiter in waiters:
                if waiter is not None:
                    waiter.add_done_callback(_consume_exception)
            raise

    def _adopt(self, child: Run) -> None:
        self.children.append(child)
        self._emit(ChildRunStarted(time.time(), self.id, child.id, child.name))
        if self._sched.stopping:
            child.cancel()


class AgentExited(Exception):
    """Carries a SystemExit or KeyboardInterrupt an agent body raised out of its Task
    (which would otherwise re-raise it from the event loop and end the process)."""

    def __init__(self, exit: BaseException) -> None:
        super().__init__(exit)
        self.exit = exit


async def _exits_as_errors(body: Coroutine[Any, Any, Any]) -> Any:
    try:
        return await body
    except (SystemExit, KeyboardInterrupt) as exc:
        if _context.exit_requested():
            raise
        raise AgentExited(exc) from exc


def _consume_exception(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _agent_outputs(returned: Any) -> dict[str, Any]:
    if returned is None:
        return {}
    if isinstance(returned, Mapping):
        return dict(returned)
    return {"result": returned}
