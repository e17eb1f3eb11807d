"""The scheduler: node transitions, dependency tracking, a ready queue and a pool of workers.

Design (measured, docs/design.md §4.1): at most `cap` long-lived worker tasks drain a FIFO ready
queue and run each tool inline. There is no Task, Future or semaphore per node; a node
costs one object plus its events. Workers are started when work is queued and exit when
the queue is empty, so an idle run holds no tasks.

Cancelling one node cancels the worker while it is inside that node; the worker marks the
node cancelled, calls `Task.uncancel()` and goes on with the next node. Cancelling the run
cancels every worker; those that do not stop within the grace period (user code that
swallows CancelledError) are abandoned and reported by name.

Invariants:
- `active` == number of nodes in RUNNING or RETRYING that are owned by a worker.
- `claimed` == number of nodes held by a worker (`node._worker` set: executing, or waiting
  for a pool slot). A worker lets go when its node finishes, before dependents are queued,
  so `len(workers) - claimed` workers are free to take queued nodes.
- every node state change goes through `set_state` (or `set_states`, its batch form for
  a run's roots), which emits the event.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from . import _context
from ._context import exit_requested
from ._graph import Node, NodeKind, resolve_refs
from ._states import (
    _TRANSITIONS,
    TERMINAL_NODE_STATES,
    IllegalTransition,
    NodeState,
)
from .errors import CancellationIgnored, NodeCancelled
from .events import NodePlaced, OccupancyChanged, RunWarning
from .values import Secret, reveal

if TYPE_CHECKING:
    from ._run import Run
    from ._tool import Tool
    from .executors import Executor
    from .limits import Pool

PENDING = NodeState.PENDING
READY = NodeState.READY
RUNNING = NodeState.RUNNING
RETRYING = NodeState.RETRYING
SUCCEEDED = NodeState.SUCCEEDED
FAILED = NodeState.FAILED
TIMED_OUT = NodeState.TIMED_OUT
CANCELLED = NodeState.CANCELLED
SKIPPED = NodeState.SKIPPED
_HOLDING_SLOT = (RUNNING, RETRYING)
TOOL_KIND = NodeKind.TOOL
#: seconds a worker may run nodes back to back before it yields to the event loop
YIELD_AFTER = 0.005


class Scheduler:
    def __init__(
        self, run: Run, cap: int, pools: tuple[Pool, ...], executor: Executor | None = None
    ) -> None:
        self.run = run
        self.log = run._log
        self.cap = cap
        self.pools = pools
        self.executor = executor
        self.ready: deque[Node] = deque()
        self.workers: set[asyncio.Task[None]] = set()
        # Invariant: an abandoned worker is in `abandoned`, not in `workers`; its node was
        # already finished (CANCELLED) for it and it no longer counts in `claimed`.
        self.abandoned: set[asyncio.Task[None]] = set()
        self.claimed = 0
        self.active = 0
        self.peak = 0
        self.unfinished = 0  # nodes not in a terminal state
        self.stopping = False  # no node may start any more (stop policy, cancel, timeout)
        self._occupancy_sent = (0, 0)
        self._occupancy_flush: asyncio.Handle | None = None

    # -- transitions ------------------------------------------------------------------------

    def set_state(
        self,
        node: Node,
        state: NodeState,
        error: BaseException | None = None,
        inputs: dict[str, Any] | None = None,
        outputs: dict[str, Any] | None = None,
    ) -> None:
        """The only place a node changes state; emits `NodeStateChanged` (after the
        `NodeOutput` of `outputs`, given with SUCCEEDED)."""
        old = node.state
        if state not in _TRANSITIONS[old]:
            raise IllegalTransition(
                f"node {node.id!r}: illegal transition {old.value} -> {state.value} "
                f"(attempt {node.attempt}, error {node.error!r})"
            )
        now = time.time()
        if state is RUNNING:
            if old is RETRYING:
                node.archive_attempt(TIMED_OUT if _is_timeout(node.error) else FAILED)
            node.attempt += 1
            node.started_at = now
            node.finished_at = None
        elif state in TERMINAL_NODE_STATES:
            node.finished_at = now
            if old not in TERMINAL_NODE_STATES:
                self.unfinished -= 1
        elif old in TERMINAL_NODE_STATES:  # re-opened by a re-run or a map re-expansion
            node.archive_attempt(old)
            node.started_at = node.finished_at = None
            node.outputs = None
            node._cancel_requested = False
            if node.upstream:
                node.resolved_inputs = None
            self.unfinished += 1
        node.state = state
        node.error = error
        if outputs is not None:
            node.outputs = outputs
            self.log.node_succeeded(now, node, node.attempt, outputs)
        else:
            self.log.node_state(now, node, state, node.attempt, error, inputs)
        run = self.run
        if run._log_waiter is not None:
            run._wake_readers()

    def add_node(self, node: Node) -> None:
        """Count a node the run will execute and announce it (`NodeAdded`)."""
        self.unfinished += 1
        self.log.node_added(time.time(), node)
        if self.run._log_waiter is not None:
            self.run._wake_readers()

    def open_fresh(self, nodes: list[Node]) -> None:
        """Announce every node of a new run (one `NodeAdded` each, all before any state
        change), then queue those without upstream. The whole graph is in `nodes`."""
        self.log.nodes_added(time.time(), nodes)
        self.unfinished += len(nodes)
        plain = []  # roots that need nothing but queueing: most of them
        for node in nodes:
            upstream = node.upstream
            if upstream:
                node._waiting = len(upstream)
                continue
            if node.kind is TOOL_KIND and node._rare is None:
                plain.append(node)
            else:
                self.make_ready(node)
        self.set_states(plain, READY)
        self.ready.extend(plain)
        if self.run._log_waiter is not None:
            self.run._wake_readers()
        self.fill_workers()

    def set_states(self, nodes: list[Node], state: NodeState) -> None:
        """`set_state(node, state)` for many nodes at one instant (a run's roots becoming
        READY at once): one call instead of one per node. Only for a change between two
        non-terminal states other than RUNNING, which carry no bookkeeping."""
        assert state is not RUNNING and state not in TERMINAL_NODE_STATES
        allowed = {
            old
            for old, targets in _TRANSITIONS.items()
            if state in targets and old not in TERMINAL_NODE_STATES
        }
        illegal = [node for node in nodes if node.state not in allowed]
        if illegal:
            raise IllegalTransition(
                f"node {illegal[0].id!r}: illegal transition {illegal[0].state.value} -> "
                f"{state.value}"
            )
        for node in nodes:
            node.state = state
            node.error = None
        self.log.nodes_state(time.time(), nodes, state)
        if nodes and self.run._log_waiter is not None:
            self.run._wake_readers()

    # -- readiness --------------------------------------------------------------------------

    def make_ready(self, node: Node) -> None:
        """All of `node`'s upstream succeeded: resolve its inputs and queue it. The caller
        then calls `fill_workers()`."""
        if self.stopping:
            return
        resolved = None
        if node._rare is not None and node._override is not None:  # edited for this re-run
            resolved, node._override = node._override, None
            node.resolved_inputs = resolved
        elif node.upstream:
            try:
                resolved = resolve_refs(node.declared_inputs, self.run.graph._nodes)
            except KeyError as exc:
                self.set_state(node, READY)
                self.finish(
                    node,
                    FAILED,
                    KeyError(
                        f"node {node.id!r}: an input refers to output {exc.args[0]!r}, "
                        "which its upstream node did not return"
                    ),
                )
                return
            node.resolved_inputs = resolved
        if node.kind is NodeKind.MAP:
            self._expand_or_aggregate(node, resolved)
            return
        self.set_state(node, READY, inputs=resolved)
        self.ready.append(node)

    def fill_workers(self) -> None:
        """Start workers for queued nodes, up to the cap. Called once after a burst of
        `make_ready` calls rather than per node."""
        workers = self.workers
        while (
            len(workers) < self.cap
            and len(workers) - self.claimed < len(self.ready)
            and not self.stopping
        ):
            task = asyncio.get_running_loop().create_task(
                self._worker(), name=f"graphdeck-worker-{self.run.id}"
            )
            workers.add(task)

    # -- workers ----------------------------------------------------------------------------

    async def _worker(self) -> None:
        """Drain the ready queue, running each node inline: no Task or coroutine of our
        own per node, only the tool's."""
        task = asyncio.current_task()
        assert task is not None
        # Tools called from a tool body run inline: a new node would wait for the slot
        # its caller holds. (This task's context is its own copy: nothing leaks out.)
        _context.inside_node.set(True)
        ready = self.ready
        pools = self.pools
        abandoned = self.abandoned
        yielded = time.monotonic()
        try:
            while ready and not self.stopping:
                if time.monotonic() - yielded > YIELD_AFTER:
                    # Tools that never suspend would otherwise run back to back and starve
                    # the loop (the monitor, other runs): let it breathe every few ms.
                    await asyncio.sleep(0)
                    yielded = time.monotonic()
                    continue
                node = ready.popleft()
                if node.state is not READY:  # cancelled or skipped while queued
                    continue
                self.claimed += 1
                node._worker = task
                tool = node.tool
                held: list[Pool] | None = None
                try:
                    if pools or tool.pool is not None:
                        held = await self._acquire_pools(tool)
                    self.set_state(node, RUNNING)
                    active = self.active = self.active + 1  # it holds a slot now
                    if active > self.peak:
                        self.peak = active
                    if self._occupancy_flush is None:
                        self._flush_occupancy_soon()
                    inputs = node.resolved_inputs
                    assert inputs is not None
                    if Secret.made:  # (False until the process makes its first Secret)
                        inputs = reveal(inputs)
                    remote = self.executor
                    if remote is not None and tool.executor == "local":
                        remote = None
                    direct = remote is None and tool.awaits_directly
                    failures = 0
                    while True:  # one pass per attempt
                        try:
                            if direct:  # the hot path: await the body right here
                                outputs = tool.normalize(await tool.fn(**inputs))
                            elif remote is not None:
                                outputs = await self._attempt_remote(remote, node, inputs)
                            else:
                                outputs = await tool.attempt(inputs)
                        except Exception as exc:
                            delay = self._after_failure(node, task, exc, failures)
                            if delay is None:
                                break
                            if delay:
                                await asyncio.sleep(delay)
                            failures += 1
                            self.set_state(node, RUNNING)
                        except (SystemExit, KeyboardInterrupt) as exc:
                            # User code asked the process to exit (`sys.exit`, argparse, a
                            # raised KeyboardInterrupt): out of a worker Task asyncio would
                            # re-raise it from the loop and take the process (the monitor,
                            # every other run) down. The node fails with it; never retried.
                            if exit_requested():
                                raise
                            if node._worker is task:
                                self.finish(node, FAILED, exc)
                            break
                        else:
                            if node._worker is task:  # (else: abandoned, already settled)
                                if node._rare is not None and node._cancel_requested:
                                    # The body swallowed our CancelledError and returned:
                                    # the node is still cancelled, and the worker's pending
                                    # cancellation is consumed.
                                    task.uncancel()
                                    self.finish(node, CANCELLED)
                                elif self.stopping and task.cancelling():
                                    # The same under the run's cancel (stop policy, timeout,
                                    # cancel): the cancel wins, and it goes on to the worker.
                                    self.finish(node, CANCELLED)
                                    raise asyncio.CancelledError
                                else:
                                    self.finish(node, SUCCEEDED, outputs=outputs)
                            break
                except asyncio.CancelledError:
                    if node._worker is task:
                        self.finish(node, CANCELLED)
                    # A cancellation aimed only at this node is consumed here; one aimed at
                    # the worker (run cancelled) or a second one propagates.
                    if task.cancelling() and not (node._cancel_requested and task.uncancel() == 0):
                        raise
                except Exception as exc:  # a bug in graphdeck: fail the node, keep going
                    if node._worker is task:
                        self.finish(node, FAILED, exc)
                    report_internal_error(f"worker failed while running {node.id!r}", exc)
                finally:
                    if held:
                        for pool in held:
                            pool.release()
                    if node._worker is task:  # not finished (`finish` lets go of it)
                        self._release(node)
                if task in abandoned:
                    return
        finally:
            self.workers.discard(task)
            self.abandoned.discard(task)

    async def _attempt_remote(
        self, executor: Executor, node: Node, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        """One attempt on the remote executor, under the tool's timeout (which cancels
        the remote task too); records the worker it ran on."""
        tool = node.tool
        async with asyncio.timeout(tool.timeout):
            outcome = await executor.call(tool, inputs)
        node.where = outcome.where
        self.run._emit(NodePlaced(time.time(), self.run.id, node.id, node.attempt, outcome.where))
        if not outcome.ok:
            raise outcome.value
        return tool.normalize(outcome.value)

    async def _acquire_pools(self, tool: Tool) -> list[Pool]:
        """Hold a slot of every pool the node needs, in a fixed order (no deadlock)."""
        pools = (*self.pools, tool.pool) if tool.pool is not None else self.pools
        held: list[Pool] = []
        try:
            for pool in pools:
                await pool.acquire()
                held.append(pool)
        except BaseException:
            for pool in held:
                pool.release()
            raise
        return held

    def _after_failure(
        self, node: Node, task: asyncio.Task[None], error: Exception, failures: int
    ) -> float | None:
        """Settle a failed attempt. Returns the delay before retrying, or None when the
        node is finished (failed, timed out, or no longer this worker's)."""
        if node._worker is not task:
            return None
        if node._cancel_requested:
            raise asyncio.CancelledError from error
        tool = node.tool
        if failures < tool.retries and not self.stopping:
            self.set_state(node, RETRYING, error)
            return tool.backoff * (2**failures)
        self.finish(node, TIMED_OUT if _is_timeout(error) else FAILED, error)
        return None

    def _release(self, node: Node) -> None:
        """The worker holding `node` lets go of it."""
        node._worker = None
        self.claimed -= 1

    # -- completion ---------------------------------------------------------------------------

    def finish(
        self,
        node: Node,
        state: NodeState,
        error: BaseException | None = None,
        outputs: dict[str, Any] | None = None,
    ) -> None:
        """Move a node to a terminal state and let the graph react to it."""
        if node._worker is not None:
            # Its worker is free from now on: the dependents made ready below count it as
            # free (no extra worker is started for them). `_release`, inlined: this runs
            # once per node.
            node._worker = None
            self.claimed -= 1
        if node.state in _HOLDING_SLOT and node.kind is TOOL_KIND:
            self.active -= 1  # the slot is given back (inline: this runs once per node)
            if self._occupancy_flush is None:
                self._flush_occupancy_soon()
        self.set_state(node, state, error, outputs=outputs)
        waiter = node._waiter
        if waiter is not None and not waiter.done():
            if state is SUCCEEDED:
                waiter.set_result(node.outputs)
            elif state is CANCELLED or state is SKIPPED:
                waiter.set_exception(NodeCancelled(node.id))
            else:
                waiter.set_exception(error or RuntimeError(f"node {node.id!r} {state}"))
        if state is SUCCEEDED:
            for dependent in node.dependents or ():
                waiting = dependent._waiting = dependent._waiting - 1
                if waiting:
                    continue
                if dependent.state is PENDING:
                    self.make_ready(dependent)
                    self.fill_workers()
                elif dependent.state is RUNNING:
                    self._aggregate(dependent)  # the last child of a map finished
        else:
            self._propagate_unsuccessful(node, CANCELLED if state is CANCELLED else SKIPPED)
            if state is FAILED or state is TIMED_OUT:
                self.run._on_node_failed(node)
        if self.unfinished == 0:
            self.run._on_idle()

    def _propagate_unsuccessful(self, origin: Node, state: NodeState) -> None:
        """Dependents of a node that will never succeed can never run: mark them (and
        theirs) `state`. A map waiting for its children is told one of them ended."""
        stack = list(origin.dependents or ())
        while stack:
            node = stack.pop()
            if node.state is PENDING or node.state is READY:
                self.set_state(node, state)
                if node._waiter is not None and not node._waiter.done():
                    node._waiter.set_exception(NodeCancelled(node.id))
                stack.extend(node.dependents or ())
            elif node.state is RUNNING and node.kind is NodeKind.MAP:
                node._waiting -= 1
                if node._waiting == 0:
                    self._aggregate(node)

    # -- map nodes ----------------------------------------------------------------------------

    def _expand_or_aggregate(self, node: Node, resolved: dict[str, Any] | None) -> None:
        from ._tool import map_items

        if node.children is not None and node.state is PENDING:
            # Re-run with unchanged inputs: only the re-opened children run again.
            self.set_state(node, READY)
            self.set_state(node, RUNNING)
            node._waiting = sum(1 for c in node.children if not c.state.is_terminal)
            if node._waiting == 0:
                self._aggregate(node)
            return
        self.set_state(node, READY, inputs=resolved)
        self.set_state(node, RUNNING)
        try:
            items = map_items(node.tool, node.resolved_inputs or {})
        except Exception as exc:
            self.finish(node, FAILED, exc)
            return
        children = []
        existing = self.run.nodes
        for index, item in enumerate(items):
            child_id = f"{node.id}[{index}]"
            child = existing.get(child_id)
            if child is None:
                child = Node(child_id, node.tool, item, group=node.id)
                child.dependents = (node,)
                self.run.graph._append_node(child)
                self.add_node(child)
            else:
                self.set_state(child, PENDING)
                child.declared_inputs = child.resolved_inputs = item
            children.append(child)
        node.children = children
        node._waiting = len(children)
        if not children:
            self._aggregate(node)
            return
        for child in children:
            self.set_state(child, READY)
            self.ready.append(child)
        self.fill_workers()

    def _aggregate(self, node: Node) -> None:
        """All children of a map ended: its outputs are per-key lists in item order."""
        children = node.children or []
        states = {c.state for c in children}
        if states <= {SUCCEEDED}:
            keys = node.tool.outputs or (tuple(children[0].outputs or ()) if children else ())
            outputs = {k: [(c.outputs or {}).get(k) for c in children] for k in keys}
            self.finish(node, SUCCEEDED, outputs=outputs)
            return
        failed = [c for c in children if c.state in (FAILED, TIMED_OUT)]
        if failed:
            first = failed[0]
            error = RuntimeError(
                f"{len(failed)} of {len(children)} items of {node.id!r} failed; "
                f"first: {first.id}: {first.error!r}"
            )
            error.__cause__ = first.error
            self.finish(node, FAILED, error)
        else:
            self.finish(node, CANCELLED)

    # -- cancellation -------------------------------------------------------------------------

    def cancel_node(self, node: Node, grace: float) -> None:
        """Cancel one node; its dependents are marked cancelled, other branches go on."""
        state = node.state
        if state.is_terminal:
            return
        if node.kind is NodeKind.MAP and state is RUNNING:
            for child in node.children or ():
                self.cancel_node(child, grace)
            return
        if state is PENDING or (state is READY and node._worker is None):
            self.finish(node, CANCELLED)
            return
        worker = node._worker
        if worker is None or node._cancel_requested:
            return
        node._cancel_requested = True
        worker.cancel()
        loop = asyncio.get_running_loop()
        loop.call_later(grace, self._abandon_if_stuck, node, worker, node.attempt, grace)

    def _abandon_if_stuck(
        self, node: Node, worker: asyncio.Task[None], attempt: int, grace: float
    ) -> None:
        if node._worker is not worker or node.attempt != attempt or node.state.is_terminal:
            return
        self.abandon(worker, node, grace)

    def abandon(self, worker: asyncio.Task[None], node: Node | None, grace: float) -> None:
        """Stop waiting for a worker whose node ignored cancellation; report it by name."""
        self.workers.discard(worker)
        self.abandoned.add(worker)
        self.run._keep_abandoned(worker)
        if node is None or node._worker is not worker:
            return
        self._release(node)
        message = (
            f"node {node.id!r} (tool {node.tool.name!r}) ignored cancellation for "
            f"{grace:g}s and was abandoned; it may still be running"
        )
        self.run._emit(RunWarning(time.time(), self.run.id, message, node.id))
        self.finish(node, CANCELLED, CancellationIgnored(message))
        self.fill_workers()

    # -- occupancy ----------------------------------------------------------------------------

    def _flush_occupancy_soon(self) -> None:
        # One OccupancyChanged per loop iteration at most: a saturated run would otherwise
        # emit two per node.
        self._occupancy_flush = asyncio.get_running_loop().call_soon(self.flush_occupancy)

    def flush_occupancy(self) -> None:
        self._occupancy_flush = None
        sample = (self.active, self.peak)
        if sample != self._occupancy_sent:
            self._occupancy_sent = sample
            self.run._emit(
                OccupancyChanged(time.time(), self.run.id, self.active, self.peak, self.cap)
            )

    def close(self) -> None:
        if self._occupancy_flush is not None:
            self._occupancy_flush.cancel()
        self.flush_occupancy()


def report_internal_error(message: str, exc: BaseException) -> None:
    """Make an internal error loud (the loop's exception handler logs it; the test suite
    fails on it) without taking the run down with it."""
    asyncio.get_running_loop().call_exception_handler(
        {"message": f"graphdeck internal error: {message}", "exception": exc}
    )


def _is_timeout(error: BaseException | None) -> bool:
    return isinstance(error, TimeoutError)
