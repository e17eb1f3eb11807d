"""What may start: pausing, breakpoints and stepping (a part of the run's state machine).

None of this changes a node's state. A paused run starts nothing new (its running nodes go
on, its state stays RUNNING). A node at a breakpoint is held before it starts: READY, its
inputs resolved, out of the ready queue, and the run pauses. Resuming puts the held nodes
back at the front of the queue, let past their breakpoints; a step lets exactly one held
or ready node start and pauses again.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ._node import Node
from ._states import NodeState
from .eventlog import EventLog
from .events import NodeInputsEdited, RunPaused, RunResumed

READY = NodeState.READY


class Gates:
    """Pause, breakpoints, step (mixed into `RunMachine`)."""

    # The machine's.
    log: EventLog
    ready: deque[Node]
    _wake: Callable[[], None]

    def _init_gates(self) -> None:
        self.paused = False
        #: node ids and tool names: a node matching one is held before it starts
        self.breakpoints: set[str] = set()
        # Invariant: held nodes are READY and in no queue; `held` keeps them in the order
        # they were held (resume re-queues them so, at the front).
        self.held: dict[str, Node] = {}
        #: nodes a step or a resume let past their breakpoint (this attempt)
        self._passed: set[Node] = set()
        #: while stepping: how many more nodes may start before the run pauses again
        self.step_budget: int | None = None
        # Invariant: `gated` == bool(breakpoints) or stepping: the worker asks `admit` for
        # every node only then (one attribute read per node otherwise).
        self.gated = False

    def _regate(self) -> None:
        self.gated = bool(self.breakpoints) or self.step_budget is not None

    def pause(self, reason: str = "pause") -> None:
        if self.paused:
            return
        self.paused = True
        held = tuple(n.id for n in self.held.values() if n.state is READY)
        self.log.append(RunPaused(time.time(), self.log.run_id, reason, held))
        self._wake()

    def resume(self, step: bool = False) -> None:
        """Start nodes again, the held ones first (let past their breakpoints)."""
        waiting = [n for n in self.held.values() if n.state is READY]
        if step:
            waiting = waiting[:1]
        for node in reversed(waiting):
            del self.held[node.id]
            self._passed.add(node)
            self.ready.appendleft(node)
        self.step_budget = 1 if step else None
        self._regate()
        if self.paused or step:
            self.paused = False
            self.log.append(RunResumed(time.time(), self.log.run_id, step))
            self._wake()

    def set_breakpoint(self, spec: str) -> None:
        self.breakpoints.add(spec)
        self._regate()

    def clear_breakpoint(self, spec: str) -> None:
        self.breakpoints.discard(spec)
        self._regate()

    def admit(self, node: Node) -> bool:
        """May `node` (just taken from the queue) start? False: it is held, and the run
        pauses. While stepping, the node that uses up the step pauses the run after it."""
        if node in self._passed:
            self._passed.discard(node)
        elif node.id in self.breakpoints or node.tool.name in self.breakpoints:
            self.held[node.id] = node
            self.pause("breakpoint")
            return False
        if self.step_budget is not None:
            self.step_budget -= 1
            if self.step_budget <= 0:
                self.step_budget = None
                self._regate()
                self.pause("step")
        return True

    def edit_inputs(self, node: Node, inputs: dict[str, Any]) -> None:
        """New inputs for a held node, before it starts (recorded as edited)."""
        if self.held.get(node.id) is not node or node.state is not READY:
            raise ValueError(f"node {node.id!r} is not held at a breakpoint")
        node.resolved_inputs = inputs
        node._side().edited = True
        self.log.append(NodeInputsEdited(time.time(), self.log.run_id, node.id, inputs))
        self._wake()
