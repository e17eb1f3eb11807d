"""The one bridge from runs to Qt: it reads each run's event log ("what is new since N")
on a timer and turns it into batched view updates.

The scheduler never waits for the GUI: the log is append-only and read by index, so a busy
GUI only reads bigger batches (docs/design.md §2.1). Views refresh at most `REFRESH_HZ` times a
second from what the trackers accumulated.
"""

from __future__ import annotations

import heapq
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from graphdeck import Node, NodeKind, NodeState, Run
from graphdeck.events import (
    ChannelMessage,
    Event,
    GroupOccupancyChanged,
    NodePlaced,
    OccupancyChanged,
    RunFinished,
    RunStarted,
    RunWarning,
)

from .log_entries import LOGGED, LogEntry, NodeLines
from .loop_blocks import is_block
from .run_options import RunOptions

REFRESH_HZ = 30
#: the logs are read this often, each time for at most POLL_BUDGET_S (in chunks of
#: POLL_CHUNK rows): a run that announced 100k nodes at once, or whose rows come faster
#: than the monitor reads them, is read over many short ticks, each a few ms, so the
#: loop (the runs, the window) turns in between (docs/design.md §9.3). Half a million
#: rows (a 100k-node run) take about 0.5 to 1 s to read, so reading 6 ms of every 16
#: takes a second or two of such a run behind it at worst.
POLL_HZ = 60
POLL_CHUNK, POLL_BUDGET_S = 500, 0.006

PENDING, RUNNING, RETRYING = NodeState.PENDING, NodeState.RUNNING, NodeState.RETRYING
MAP = NodeKind.MAP
TERMINAL = frozenset(state for state in NodeState if state.is_terminal)
#: the states that end an attempt's bar on the timeline
CLOSES_BAR = TERMINAL | {RETRYING}
UNSUCCESSFUL = (NodeState.FAILED, NodeState.TIMED_OUT, NodeState.CANCELLED, NodeState.SKIPPED)


@dataclass
class CancelAsked:
    """The cancels this window asked of a run: the core records that a node was cancelled,
    not by whom, so the monitor remembers what it asked itself."""

    nodes: set[str] = field(default_factory=set)  # `cancel_node` asked for these
    run_at: float | None = None  # when the whole run was asked to cancel


class RunTracker:
    """What the views need of one run, kept up to date from its events."""

    def __init__(self, run: Run, depth: int = 0, parent: RunTracker | None = None) -> None:
        self.run = run
        #: the tracker of the run that started this one (a nested agent's parent)
        self.parent = parent
        self.target: object = None  # the graph definition it ran ("Run again")
        self.options = RunOptions()  # the start() options it ran with
        self.file: Path | None = None  # the graph file it came from (None: no file)
        self.loaded_at: float | None = None  # when that file's code was loaded
        self.cancel_asked = CancelAsked()
        #: the breakpoints this window set on the run (node ids, tool names): `Run` does
        #: not list them, the graph's menu offers to clear them
        self.breakpoints: set[str] = set()
        # Invariant: (paused, held) as the runs list last showed them (`pause_changed`).
        self._pause_shown: tuple[bool, tuple[str, ...]] = (False, ())
        self.depth = depth  # 0 for a top-level run, 1 for its child runs, …
        self.index = 0
        # Invariant: nodes by the state their last row read says (every state a key: a
        # plain dict with no missing key is the cheapest to update, twice per row).
        self._by_state: dict[NodeState, int] = dict.fromkeys(NodeState, 0)
        # Invariant: the nodes RUNNING now, by `NodeKind`: only tool nodes hold a slot of
        # the cap; a map node runs while its items do, a parallel item under its own limit.
        self.running_kinds: Counter[str] = Counter()
        self.states: dict[str, NodeState] = {}
        self.occupancy_times: list[float] = []
        self.occupancy_active: list[int] = []
        self.group_occupancy: dict[str, tuple[int, int, int | None]] = {}
        self.messages: list[LogEntry] = []  # the run's log
        self.blocks: list[RunWarning] = []  # its "loop_blocked" warnings, in order
        self._node_lines = NodeLines(self.messages)
        self.changed_nodes: set[str] = set()
        self._changed = self.changed_nodes.add  # (bound once: called for every row)
        # Timeline: one bar per attempt, [node_id, start, end or None, state, lane]. A
        # running attempt takes the lowest free lane, so lanes are the slots in use (with
        # child runs: the calls in flight in the family). A child's call is keyed
        # `research#1/fetch_0`.
        self.bars: list[list] = []
        self.workers: dict[str, str | None] = {}  # node id -> remote worker it ran on
        self._open_bars: dict[str, int] = {}
        self._free_lanes: list[int] = []
        self.lanes = 0
        self._prefix: str | None = None  # (see `_child_prefix`)
        self.added_nodes = 0
        # Occupancy times are seconds from here: the run's start (a stored run started
        # long ago), or now for a run about to start.
        self.started_wall = run.started_at or time.time()
        self.finished = False
        self.rounds = 0  # the first round, then one per re-run
        self.done_listed = False  # the runs list was told this round ended

    def poll(self) -> bool:
        """Take the new events; True if anything changed.

        Node events (five per node) are read as rows (`Run.visit`), not as event objects:
        building those was a third of the monitor's cost of showing a large run live."""
        began, deadline = self.index, time.perf_counter() + POLL_BUDGET_S
        while True:
            end = min(self.run.event_count, self.index + POLL_CHUNK)
            if end == self.index:
                break
            self.index = self.run.visit(self, self.index, end)
            if time.perf_counter() > deadline:
                break
        self._node_lines.end_batch()
        return self.index != began

    # -- graphdeck.eventlog.RowVisitor ---------------------------------------------------

    # Each method runs once per row (half a million rows for a 100k-node run), so they
    # touch plain dicts and lists only, with every lookup bound once (docs/design.md §9.3).

    def node_added(self, time: float, node: Node, inputs: dict) -> None:
        node_id = node.id
        self.states[node_id] = PENDING
        self._by_state[PENDING] += 1
        self.added_nodes += 1
        self._changed(node_id)

    def node_state(
        self,
        time: float,
        node: Node,
        state: NodeState,
        attempt: int,
        error: BaseException | None,
        inputs: dict | None,
    ) -> None:
        node_id, states, by_state = node.id, self.states, self._by_state
        was = states[node_id]
        by_state[was] -= 1
        states[node_id] = state
        by_state[state] += 1
        self._changed(node_id)
        if state is RUNNING:
            self.running_kinds[node.kind] += 1
            if node.kind is not MAP:  # a map only groups its items: no slot, no bar
                self._track_bar(node_id, state, time)
            return
        if was is RUNNING:
            self.running_kinds[node.kind] -= 1
        if state in LOGGED:
            self._node_lines.add(time, node_id, state, attempt, error)
        if state in CLOSES_BAR and node.kind is not MAP:
            self._track_bar(node_id, state, time)

    def node_output(self, time: float, node: Node, attempt: int, outputs: dict) -> None:
        """(Outputs are read from the node when shown.)"""

    def event(self, event: Event) -> None:
        self._take_event(event)

    def _take_event(self, event: Event) -> None:
        """The run's other (rarer) events."""
        if type(event) is OccupancyChanged:
            self.occupancy_times.append(event.time - self.started_wall)
            self.occupancy_active.append(event.active)
        elif type(event) is GroupOccupancyChanged:
            self.group_occupancy[event.group] = (event.active, event.peak, event.limit)
        elif type(event) is NodePlaced:
            self.workers[event.node_id] = event.worker
        elif type(event) is ChannelMessage:
            self.messages.append(LogEntry(event.time, event.channel, event.text))
            self._tell_ancestors(event.time, event.channel, event.text)
        elif type(event) is RunWarning:
            self.messages.append(LogEntry(event.time, "warning", event.message, event.node_id))
            if is_block(event):
                self.blocks.append(event)
        elif type(event) is RunStarted:
            self.finished = self.done_listed = False
            self.rounds += 1
        elif type(event) is RunFinished:
            self.finished = True
            if event.error is not None:
                self.messages.append(LogEntry(event.time, "run", str(event.error)))

    def _tell_ancestors(self, time: float, channel: str, text: str) -> None:
        """A child run's messages are in its parent's log too (and its parent's), marked
        with the child they came from."""
        source = f"{self.run.name} {self.run.id[:6]} › {channel}"
        parent = self.parent
        while parent is not None:
            parent.messages.append(LogEntry(time, source, text))
            parent = parent.parent

    def descends_from(self, other: RunTracker) -> bool:
        """This run was started (directly or further down) by `other`'s run."""
        parent = self.parent
        while parent is not None:
            if parent is other:
                return True
            parent = parent.parent
        return False

    def _track_bar(self, node_id: str, state: NodeState, at: float) -> None:
        """The attempt's bar on this run's timeline, and on its ancestors' (a child run's
        calls are on its parent's timeline too, keyed as the graph view keys them,
        `research#1/fetch_0`: a click on one selects it there)."""
        self._bar(node_id, state, at)
        tracker, key = self, node_id
        while tracker.parent is not None:
            key = tracker._child_prefix() + key
            tracker = tracker.parent
            tracker._bar(key, state, at)

    def _child_prefix(self) -> str:
        """`name#k/`: this child run is its parent's k-th (as `agent_model` names it)."""
        if self._prefix is None:
            assert self.parent is not None
            children = self.parent.run.children
            k = next((k for k, child in enumerate(children) if child is self.run), 0)
            self._prefix = f"{self.run.name}#{k}/"
        return self._prefix

    def _bar(self, node_id: str, state: NodeState, at: float) -> None:
        if state is RUNNING:
            free = self._free_lanes
            lane = heapq.heappop(free) if free else self._new_lane()
            self._open_bars[node_id] = len(self.bars)
            self.bars.append([node_id, at, None, state, lane])
            return
        opened = self._open_bars.pop(node_id, None)  # (RETRYING or an end: CLOSES_BAR)
        if opened is not None:
            bar = self.bars[opened]
            bar[2], bar[3] = at, state
            heapq.heappush(self._free_lanes, bar[4])

    def _new_lane(self) -> int:
        self.lanes += 1
        return self.lanes - 1

    @property
    def counts(self) -> Counter[NodeState]:
        """Nodes by state (states no node is in are left out)."""
        return Counter({state: n for state, n in self._by_state.items() if n})

    @property
    def something_failed(self) -> bool:
        """A node failed, timed out, was cancelled or skipped: "Re-run failed" has work."""
        return any(self._by_state[state] for state in UNSUCCESSFUL)

    def pause_changed(self) -> bool:
        """The run was paused or resumed, or holds other nodes, since last asked: its row
        reads differently (pausing changes no state, so no other change tells)."""
        run = self.run
        now = (getattr(run, "paused", False), tuple(getattr(run, "held", ())))
        changed, self._pause_shown = now != self._pause_shown, now
        return changed

    @property
    def caught_up(self) -> bool:
        """The run ended and every one of its events has been read."""
        return self.run.done and self.index >= self.run.event_count

    def take_changed(self) -> set[str]:
        changed, self.changed_nodes = self.changed_nodes, set()
        self._changed = self.changed_nodes.add
        return changed

    def elapsed(self) -> float:
        run = self.run
        if run.started_at is None:
            return 0.0
        return (run.finished_at or time.time()) - run.started_at


#: finished runs kept in memory (and listed) by default; older ones are released and stay
#: reachable through History. A 1,000-node run holds about 1 MB (bench/soak.py).
KEEP_FINISHED = 50


class RunController(QObject):
    """Owns the trackers of every run the window started and polls the live ones.

    A long session stays small: beyond `keep_finished` finished runs, the oldest are
    released (taken off the list, nothing here refers to them any more), except the one
    the window shows (`shown`)."""

    #: the runs list changed (a run was added or removed, or one changed state)
    runs_changed = Signal()
    #: new events arrived for this run (emitted at most REFRESH_HZ times a second, and
    #: when it finished)
    run_updated = Signal(object)
    #: a refresh tick while some run is live (for clocks that move without events)
    ticked = Signal()
    #: a top-level run finished (its tracker)
    run_finished = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Invariant: each child run's tracker follows its parent's, after the parent's
        # other descendants: a run's family is the run and the deeper trackers after it.
        self.trackers: list[RunTracker] = []
        self.keep_finished = KEEP_FINISHED
        self.shown: RunTracker | None = None  # the run the window shows: never released
        # Invariant: the trackers that read rows the views were not told of yet (with
        # whether each had finished when last shown), and when the views were last told.
        self._unshown: dict[RunTracker, bool] = {}
        self._shown_at = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(int(1000 / POLL_HZ))
        self._timer.timeout.connect(self._on_timer_timeout)

    def track(self, run: Run, depth: int = 0) -> RunTracker:
        tracker = RunTracker(run, depth)
        self.trackers.append(tracker)
        tracker.poll()
        self._timer.start()
        self.runs_changed.emit()
        self.run_updated.emit(tracker)
        return tracker

    # -- releasing runs ------------------------------------------------------------------

    def family(self, tracker: RunTracker) -> list[RunTracker]:
        """`tracker` and the trackers of the runs it started, however deep."""
        start = self.trackers.index(tracker)
        end = start + 1
        while end < len(self.trackers) and self.trackers[end].depth > tracker.depth:
            end += 1
        return self.trackers[start:end]

    def releasable(self, tracker: RunTracker) -> bool:
        """The run and every run it started are over (it can be released)."""
        return all(t.run.done for t in self.family(tracker))

    def remove(self, tracker: RunTracker) -> bool:
        """Take a finished top-level run (with its child runs) off the list and out of
        memory. False, and nothing done, if it is a child run or any of them still runs."""
        if tracker.depth != 0 or tracker not in self.trackers or not self.releasable(tracker):
            return False
        self._drop([tracker])
        return True

    def remove_finished(self) -> int:
        """Remove every finished top-level run; how many."""
        done = [t for t in self.trackers if t.depth == 0 and self.releasable(t)]
        self._drop(done)
        return len(done)

    def _release_beyond_limit(self) -> None:
        done = [t for t in self.trackers if t.depth == 0 and self.releasable(t)]
        excess = len(done) - self.keep_finished
        if excess > 0:
            self._drop([t for t in done if t is not self.shown][:excess])

    def _drop(self, tops: list[RunTracker]) -> None:
        if not tops:
            return
        gone = {id(t) for top in tops for t in self.family(top)}
        self.trackers = [t for t in self.trackers if id(t) not in gone]
        self._unshown = {t: was for t, was in self._unshown.items() if id(t) not in gone}
        if self.shown is not None and id(self.shown) in gone:
            self.shown = None
        self.runs_changed.emit()

    def follow(self, tracker: RunTracker) -> None:
        """Poll a run again after a re-run re-opened it."""
        self._timer.start()
        self.runs_changed.emit()

    def _track_children(self) -> bool:
        """Nested agents are child runs: list each under its parent, followed like it."""
        known = {id(t.run) for t in self.trackers}
        added = False
        for tracker in list(self.trackers):
            for child in tracker.run.children:
                if id(child) not in known:
                    position = self.trackers.index(tracker) + len(self.family(tracker))
                    child_tracker = RunTracker(child, tracker.depth + 1, parent=tracker)
                    child_tracker.poll()
                    self.trackers.insert(position, child_tracker)
                    known.add(id(child))
                    added = True
        return added

    def live(self) -> list[RunTracker]:
        return [t for t in self.trackers if not t.run.done]

    def _on_timer_timeout(self) -> None:
        """Read every live run's new rows (a short slice each); show what was read at
        most REFRESH_HZ times a second, and at once when a run ended."""
        list_changed = self._track_children()
        unshown = self._unshown
        for tracker in self.trackers:
            if tracker.caught_up:
                continue
            if tracker.run.done and not tracker.done_listed:
                # The run's row says its state at once, while its events are still read
                # (a 100k-node run is read over seconds).
                tracker.done_listed = list_changed = True
            was_finished = tracker.finished
            if tracker.poll():
                unshown.setdefault(tracker, was_finished)
            list_changed |= tracker.pause_changed()
        caught_up = all(tracker.caught_up for tracker in self.trackers)
        now = time.monotonic()
        due = now - self._shown_at >= 1 / REFRESH_HZ - 0.002  # (timers wake a little early)
        if due or caught_up or any(t.finished and not was for t, was in unshown.items()):
            self._show(list_changed)
            self._shown_at = now
        elif list_changed:
            self.runs_changed.emit()
        if caught_up:
            self._timer.stop()
            self.runs_changed.emit()

    def _show(self, list_changed: bool) -> None:
        """Tell the views what the runs read since the last time did."""
        unshown, self._unshown = self._unshown, {}
        ended: list[RunTracker] = []
        for tracker, was_finished in unshown.items():
            self.run_updated.emit(tracker)
            list_changed |= tracker.finished != was_finished
            if tracker.finished and not was_finished and tracker.depth == 0:
                ended.append(tracker)
        for tracker in ended:
            self.run_finished.emit(tracker)
        if ended:
            self._release_beyond_limit()
        if list_changed:
            self.runs_changed.emit()
        self.ticked.emit()
