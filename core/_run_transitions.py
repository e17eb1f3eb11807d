"""The run's own states: which changes of a run's state are legal, and the handler that
makes each (a part of the state machine in `_machine`, whose `RunMachine._run` looks the
handler up here). Handlers are the only code that assigns a run's `state`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ._states import IllegalTransition, RunState
from .events import RunFinished, RunStarted

#: `handler(machine, new_state, data)`; the machine is a `_machine.RunMachine` (typed `Any`
#: here: this module sits below it, and imports nothing of it)
RunHandler = Callable[[Any, RunState, Any], None]


def _run_opened(m: Any, new: RunState, data: Any) -> None:
    """PENDING or a terminal state -> RUNNING: a run starts (or a re-run round does)."""
    inputs, name, run_id = data
    m.state = RunState.RUNNING
    m.stopping = False
    m.paused, m.step_budget = False, None  # (a new round; breakpoints stay)
    m.held.clear()
    m._regate()
    m.started_at = time.time()
    m.finished_at = None
    started = RunStarted(
        m.started_at, run_id, name, inputs, m.cap, m.on_error, m.parent_id, m.rounds
    )
    m.rounds += 1
    m.log.append(started)
    if m.wake_readers is not None:
        m.wake_readers()


def _run_closed(m: Any, new: RunState, data: Any) -> None:
    """RUNNING -> SUCCEEDED, FAILED or CANCELLED: outputs (partial ones unless it
    succeeded) and the error are recorded."""
    m.outputs, m.error = data
    m.state = new
    m.finished_at = time.time()
    m.log.append(RunFinished(m.finished_at, m.log.run_id, new, m.error))
    if m.wake_readers is not None:
        m.wake_readers()


def run_illegal(m: Any, new: RunState, data: Any) -> None:
    raise IllegalTransition(f"run {m.log.run_id}: illegal transition {m.state.value} -> {new}")


_R_PENDING, _R_RUNNING = RunState.PENDING, RunState.RUNNING
_RUN_ENDS = (RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED)

#: (from, to) -> the handler that makes that change of the run's state.
RUN_TRANSITIONS: dict[tuple[RunState, RunState], RunHandler] = {
    (_R_PENDING, _R_RUNNING): _run_opened,
    **{(end, _R_RUNNING): _run_opened for end in _RUN_ENDS},  # a re-run round
    **{(_R_RUNNING, end): _run_closed for end in _RUN_ENDS},
}
