"""The asyncio half of the scheduler: worker tasks that run what the state machine queues.

Design (measured, docs/design.md §4.1): at most `cap` long-lived worker tasks drain the
machine's FIFO ready queue and run each tool inline. There is no Task, Future or semaphore
per node; a node costs one object plus its events. Workers are started when work is
queued and exit when the queue is empty, so an idle run holds no tasks.

Every decision (what is ready, what a failure means, what follows a cancel) is the
machine's (`_machine.RunMachine`); this module only does what needs the event loop:
awaiting tool bodies, timeouts, backoff sleeps, pools, cancelling workers, the grace
period after which a worker that ignores cancellation is abandoned.

Cancelling one node cancels the worker while it is inside that node; the worker reports
the node cancelled, calls `Task.uncancel()` and goes on with the next node. Cancelling
the run cancels every worker; those that do not stop within the grace period (user code
that swallows CancelledError) are abandoned and reported by name.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from . import _context, limits
from ._machine import RunMachine
from ._node import Node
from ._states import NodeState
from ._tool import Tool
from .errors import CancellationIgnored, NodeCancelled
from .events import Event, NodePlaced, OccupancyChanged, RunWarning
from .executors import Executor
from .limits import Pool
from .values import Secret, reveal

READY, RUNNING, SUCCEEDED = NodeState.READY, NodeState.RUNNING, NodeState.SUCCEEDED
CANCELLED = NodeState.CANCELLED


class Scheduler:
    """Runs the ready nodes of one run's machine on at most `cap` worker tasks."""

    def __init__(
        self,
        machine: RunMachine,
        run_id: str,
        *,
        pools: tuple[Pool, ...],
        executor: Executor | None,
        grace: float,
        emit: Callable[[Event], None],
        keep: Callable[[asyncio.Task[Any]], None],
    ) -> None:
        self.machine = machine
        self.run_id = run_id
        self.pools = pools
        self.executor = executor
        self.grace = grace
        self._emit = emit  # appends a (rare) event to the run's log
        self._keep = keep  # holds an abandoned task until it ends
        self.workers: set[asyncio.Task[None]] = set()
        # Invariant: an abandoned worker is in `abandoned`, not in `workers`; its node was
        # already ended (CANCELLED) for it and no longer counts in `claimed`.
        self.abandoned: set[asyncio.Task[None]] = set()
        # Invariant: `claimed` == nodes whose `_worker` is set (executing, or waiting for
        # a pool slot). A worker lets go before it reports the node's end, so the nodes
        # that end makes ready see it free: `len(workers) - claimed` workers are free.
        self.claimed = 0
        # Invariant: `inline` == nodes run by the agent task awaiting them (`run_in_caller`),
        # counted in `claimed` too. Workers + inline <= cap: that is the run's cap.
        self.inline = 0
        self._occupancy_sent = (0, 0)
        self._occupancy_flush: asyncio.Handle | None = None
        # While `cancel_workers` waits: set when the last worker has exited (one future
        # for all of them, not a done callback per worker: a run at a cap of 10k has 10k).
        self._drained: asyncio.Future[None] | None = None
        # Invariant: RUNNING nodes whose workers have exited on the run's cancel, not yet
        # ended; a `_settle_unwound` is scheduled exactly when this is not empty.
        self._unwound: list[Node] = []

    def fill(self) -> None:
        """Start workers for queued nodes, up to the cap."""
        workers, ready, machine = self.workers, self.machine.ready, self.machine
        while (
            len(workers) + self.inline < machine.cap
            and len(workers) + self.inline - self.claimed < len(ready)
            and not (machine.stopping or machine.paused)
        ):
            task = asyncio.get_running_loop().create_task(
                self._worker(), name=f"graphdeck-worker-{self.run_id}"
            )
            workers.add(task)

    # -- workers ----------------------------------------------------------------------------

    async def _worker(self) -> None:
        """Drain the ready queue, running each node here: no Task or coroutine of our own
        per node, only the tool's. (That is why the common path is written out in this
        one function: a helper coroutine per node measured ~8 % of a node's cost.)"""
        task = asyncio.current_task()
        assert task is not None
        # Tools called from a tool body run inline: a new node would wait for the slot
        # its caller holds. (This task's context is its own copy: nothing leaks out.)
        _context.inside_node.set(True)
        machine = self.machine
        ready, workers, cap = machine.ready, self.workers, machine.cap
        # The handlers of the two changes every node makes here, from the machine's
        # tables, called directly (`machine.start` / `succeed` would add a call each).
        into_running, into_succeeded = machine.into[RUNNING.code], machine.into[SUCCEEDED.code]
        yield_after = limits.YIELD_AFTER
        yielded = time.monotonic()
        try:
            while ready and not (machine.stopping or machine.paused) and task not in self.abandoned:
                if time.monotonic() - yielded > yield_after:
                    await asyncio.sleep(0)  # tools that never suspend must not starve the loop
                    yielded = time.monotonic()
                    continue
                node = ready.popleft()
                if node.state is not READY:  # cancelled or skipped while queued
                    continue
                if machine.gated and not machine.admit(node):
                    continue  # held at a breakpoint
                self.claimed += 1
                node._worker = task
                tool = node.tool
                try:
                    if self.pools or tool.pool or self.executor or not tool.awaits_directly:
                        await self._run_node(node, task)  # (a coroutine of its own: rarer)
                        continue
                    # The hot path: the body awaited right here.
                    into_running[node.state.code](machine, node, RUNNING, None, None)
                    if self._occupancy_flush is None:
                        self._flush_occupancy_soon()
                    inputs = node.resolved_inputs
                    if Secret.made:  # (False until the process makes its first Secret)
                        inputs = reveal(inputs)
                    try:
                        outputs = tool.normalize(await tool.fn(**inputs))
                    except Exception as exc:
                        failed: Exception | None = exc
                    else:
                        failed = None
                    if failed is not None:
                        # Retried out of the except block: a retry's error must not read
                        # as raised "during handling of" this one.
                        await self._attempts(node, task, inputs, failed)
                        continue
                    if node._worker is task and not (node.cancel_requested or machine.stopping):
                        self._release(node)
                        into_succeeded[RUNNING.code](machine, node, SUCCEEDED, None, outputs)
                    else:
                        self._succeeded(node, task, outputs)
                except BaseException as exc:
                    if not self._settle_raised(node, task, exc):
                        raise
                finally:
                    if node._worker is task:
                        self._release(node)
                    busy = len(workers) + self.inline
                    if busy < cap and len(ready) > busy - self.claimed:
                        self.fill()
        finally:
            workers.discard(task)
            self.abandoned.discard(task)
            if not workers and self._drained is not None and not self._drained.done():
                self._drained.set_result(None)

    def may_run_in_caller(self, tool: Tool) -> bool:
        """Whether an agent's call of `tool` may run in the awaiting task itself: an async
        body with no timeout, no pool, no remote executor, a slot free, nothing queued,
        nothing holding starts back (pause, breakpoints, a stop)."""
        machine = self.machine
        return (
            tool.awaits_directly
            and len(self.workers) + self.inline < machine.cap
            and not machine.ready
            and not (machine.stopping or machine.paused or machine.gated)
            and self.executor is None
            and not self.pools
            and tool.pool is None
        )

    async def run_in_caller(self, node: Node) -> dict[str, Any]:
        """Run a READY agent call in the task that awaits it, holding a slot like a
        worker would; return its outputs or raise what the agent should see (its error,
        or `NodeCancelled`)."""
        task = asyncio.current_task()
        assert task is not None
        machine = self.machine
        self.claimed += 1
        self.inline += 1
        node._worker = task
        inside = _context.inside_node.set(True)  # (tools it calls run inline)
        try:
            # (the handlers from the machine's tables, called directly: as in `_worker`)
            machine.into[RUNNING.code][node.state.code](machine, node, RUNNING, None, None)
            if self._occupancy_flush is None:
                self._flush_occupancy_soon()
            inputs = node.resolved_inputs
            assert inputs is not None
            if Secret.made:
                inputs = reveal(inputs)
            tool = node.tool
            try:
                outputs = tool.normalize(await tool.fn(**inputs))
            except Exception as exc:
                failed: Exception | None = exc
            else:
                failed = None
            if failed is not None:  # retried out of the except block, as in `_worker`
                await self._attempts(node, task, inputs, failed)
            else:
                if node._worker is task and not (node.cancel_requested or machine.stopping):
                    self._release(node)
                    machine.into[SUCCEEDED.code][RUNNING.code](
                        machine, node, SUCCEEDED, None, outputs
                    )
                else:
                    self._succeeded(node, task, outputs)
        except BaseException as exc:
            if not self._settle_raised(node, task, exc):
                raise
        finally:
            _context.inside_node.reset(inside)
            if node._worker is task:
                self._release(node)
            self.inline -= 1
            if machine.ready:
                self.fill()
        return outcome_of(node)

    async def _run_node(self, node: Node, task: asyncio.Task[None]) -> None:
        """A node off the hot path: pools to hold, a timeout, a thread, a remote executor."""
        held = await self._acquire_pools(node.tool) if self.pools or node.tool.pool else None
        try:
            self.machine.start(node)
            if self._occupancy_flush is None:
                self._flush_occupancy_soon()
            inputs = node.resolved_inputs
            assert inputs is not None
            await self._attempts(node, task, reveal(inputs) if Secret.made else inputs, None)
        finally:
            for pool in held or ():
                pool.release()

    def _succeeded(self, node: Node, task: asyncio.Task[None], outputs: dict[str, Any]) -> None:
        if node._worker is not task:  # abandoned meanwhile: already ended for it
            return
        self._release(node)
        if node.cancel_requested:
            # The body swallowed our CancelledError and returned: the node is still
            # cancelled, and the worker's pending cancellation is consumed.
            task.uncancel()
            self.machine.cancelled(node)
        elif self.machine.stopping and task.cancelling():
            # The same under the run's cancel (stop policy, timeout, cancel): the cancel
            # wins, and it goes on to the worker.
            self.machine.cancelled(node)
            raise asyncio.CancelledError
        else:
            self.machine.succeed(node, outputs)

    async def _attempts(
        self,
        node: Node,
        task: asyncio.Task[None],
        inputs: dict[str, Any],
        failed: Exception | None,
    ) -> None:
        """Attempts of a node that is not on the hot path (a timeout, a thread, a remote
        executor, or a first attempt that `failed`): retries with backoff."""
        tool = node.tool
        failures = 0
        while True:
            if failed is None:
                try:
                    if self.executor is not None and tool.executor != "local":
                        outputs = await self._attempt_remote(self.executor, node, inputs)
                    else:
                        outputs = await tool.attempt(inputs, node)
                except Exception as exc:
                    failed = exc
                else:
                    self._succeeded(node, task, outputs)
                    return
            if node._worker is not task:
                return  # abandoned meanwhile
            if node.cancel_requested:
                raise asyncio.CancelledError from failed
            if failures >= tool.retries or self.machine.stopping:
                self._release(node)
                self.machine.fail(node, failed)
                return
            self.machine.retry_later(node, failed)
            delay = tool.backoff * (2**failures)
            if delay:
                await asyncio.sleep(delay)
            failures += 1
            failed = None
            self.machine.start(node)

    def _settle_raised(self, node: Node, task: asyncio.Task[None], exc: BaseException) -> bool:
        """Settle `node` after `exc` escaped its attempt; False when `exc` must go on out of
        the worker.

        - CancelledError: the node is cancelled. One aimed only at this node is consumed;
          one aimed at the worker (the run's cancel) or a second one goes on.
        - SystemExit / KeyboardInterrupt: user code asked the process to exit (`sys.exit`,
          argparse). Out of a worker Task asyncio would re-raise it from the loop and take
          the process (the monitor, every other run) down: the node fails with it instead,
          never retried. A second Ctrl-C of the user's goes on.
        - anything else is a bug in graphdeck: the node fails, the worker goes on, and the
          loop's exception handler reports it.
        """
        held = node._worker is task
        if held:
            self._release(node)
        if isinstance(exc, asyncio.CancelledError):
            machine = self.machine
            if held and machine.stopping and not node.cancel_requested and task.cancelling():
                self._end_unwound(node)  # (the run's cancel: it goes on out of the task)
            elif held:  # (`machine.cancelled(node)`, its handler called directly)
                machine.into[CANCELLED.code][node.state.code](machine, node, CANCELLED, None, None)
            return not task.cancelling() or (node.cancel_requested and task.uncancel() == 0)
        if not isinstance(exc, Exception) and _context.exit_requested():
            return False
        if held:
            self.machine.fail(node, exc)
        if isinstance(exc, Exception):
            report_internal_error(f"worker failed while running {node.id!r}", exc)
        return True

    def _end_unwound(self, node: Node) -> None:
        """`node`'s worker unwound from the run's cancel: it ends with the others that do
        in the same turn of the loop (a full cap of 10k unwinds in one), in one batch."""
        unwound = self._unwound
        unwound.append(node)
        if len(unwound) == 1:
            asyncio.get_running_loop().call_soon(self.settle_unwound)

    def settle_unwound(self) -> None:
        """End the nodes whose workers unwound from the run's cancel (CANCELLED)."""
        nodes, self._unwound = self._unwound, []
        if nodes:
            self.machine.cancelled_many(nodes)
            if self._occupancy_flush is None:
                self._flush_occupancy_soon()  # (their slots were counted till now)

    def _release(self, node: Node) -> None:
        """The worker holding `node` lets go of it (it is about to end, or was abandoned:
        its slot is given back, so occupancy is sampled again)."""
        node._worker = None
        self.claimed -= 1
        if self._occupancy_flush is None:
            self._flush_occupancy_soon()

    async def _attempt_remote(
        self, executor: Executor, node: Node, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        """One attempt on the remote executor, under the tool's timeout (which cancels
        the remote task too); records the worker it ran on."""
        tool = node.tool
        async with asyncio.timeout(tool.timeout):
            outcome = await executor.call(tool, inputs)
        node._side().where = outcome.where
        self._emit(NodePlaced(time.time(), self.run_id, node.id, node.attempt, outcome.where))
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

    # -- cancellation -------------------------------------------------------------------------

    def interrupt(self, node: Node) -> None:
        """Cancel the worker while it is inside `node`; abandon it after the grace period
        if it does not stop."""
        worker = node._worker
        if worker is None or node.cancel_requested:
            return
        node._side().cancel_requested = True
        worker.cancel()
        loop = asyncio.get_running_loop()
        loop.call_later(self.grace, self._abandon_if_stuck, node, worker, node.attempt)

    def _abandon_if_stuck(self, node: Node, worker: asyncio.Task[None], attempt: int) -> None:
        if node._worker is not worker or node.attempt != attempt or node.state.is_terminal:
            return
        self.abandon(worker, node)

    def abandon(self, worker: asyncio.Task[None], node: Node | None) -> None:
        """Stop waiting for a worker whose node ignored cancellation; report it by name.
        (An agent's own task running its call is not a worker: only its node is given up.)"""
        if worker in self.workers:
            self.workers.discard(worker)
            self.abandoned.add(worker)
            self._keep(worker)
        if node is None or node._worker is not worker:
            return
        self._release(node)
        message = (
            f"node {node.id!r} (tool {node.tool.name!r}) ignored cancellation for "
            f"{self.grace:g}s and was abandoned; it may still be running"
        )
        self._emit(RunWarning(time.time(), self.run_id, message, node.id, kind="abandoned"))
        self.machine.cancelled(node, CancellationIgnored(message))
        self.fill()

    async def cancel_workers(self, also: list[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
        """Cancel every worker (and the tasks in `also`), wait up to the grace period, and
        abandon the workers still going. Returns the tasks of `also` still going."""
        for task in also:
            task.cancel()
        for task in self.workers:
            task.cancel()
        waits: list[asyncio.Future[Any]] = [*also]
        if self.workers:  # (a worker leaves `workers` as it exits: the last one sets it)
            self._drained = asyncio.get_running_loop().create_future()
            waits.append(self._drained)
        if not waits:
            return set()
        try:
            await asyncio.wait(waits, timeout=self.grace)
        finally:
            self._drained = None
            self.settle_unwound()  # (already done unless the wait ended first)
        if self.workers:
            owners = {n._worker: n for n in self.machine.graph._nodes.values() if n._worker}
            for task in list(self.workers):
                self.abandon(task, owners.get(task))
        return {task for task in also if not task.done()}

    # -- occupancy ----------------------------------------------------------------------------

    def _flush_occupancy_soon(self) -> None:
        # One OccupancyChanged per loop iteration at most: a saturated run would otherwise
        # emit two per node.
        self._occupancy_flush = asyncio.get_running_loop().call_soon(self.flush_occupancy)

    def flush_occupancy(self) -> None:
        self._occupancy_flush = None
        machine = self.machine
        sample = (machine.active, machine.peak)
        if sample != self._occupancy_sent:
            self._occupancy_sent = sample
            self._emit(
                OccupancyChanged(
                    time.time(), self.run_id, machine.active, machine.peak, machine.cap
                )
            )

    def close(self) -> None:
        if self._occupancy_flush is not None:
            self._occupancy_flush.cancel()
        self.flush_occupancy()


def outcome_of(node: Node) -> dict[str, Any]:
    """What an agent awaiting an ended node gets: its outputs, or the reason it has none."""
    if node.state is NodeState.SUCCEEDED:
        return node.outputs  # type: ignore[return-value]
    if node.state is NodeState.CANCELLED or node.state is NodeState.SKIPPED:
        raise NodeCancelled(node.id)
    raise node.error or RuntimeError(f"node {node.id!r} {node.state}")


def report_internal_error(message: str, exc: BaseException) -> None:
    """Make an internal error loud (the loop's exception handler logs it; the test suite
    fails on it) without taking the run down with it."""
    asyncio.get_running_loop().call_exception_handler(
        {"message": f"graphdeck internal error: {message}", "exception": exc}
    )
