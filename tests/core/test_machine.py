"""The run's state machine, decision by decision, with no event loop: readiness, failure,
cancel and skip propagation, maps, re-run rounds, occupancy, and the transition tables."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import graphdeck._machine as machine_module
from graphdeck import IllegalTransition, NodeKind, NodeState, Ref, RunState, TaskGraph, tool
from graphdeck._machine import RunMachine
from graphdeck._planning import rerun_targets
from graphdeck.eventlog import EventLog
from graphdeck.events import NodeStateChanged, RunFinished, RunStarted

S = NodeState
CORE = Path(__file__).resolve().parents[2] / "core"


@tool(outputs=["out"])
async def step(x: int = 0) -> dict:  # never executed here: the machine only decides
    return {"out": x}


@tool(outputs=["out"])
async def items(n: int) -> dict:
    return {"out": list(range(n))}


class Owner:
    """Records what the machine asks of its run."""

    def __init__(self) -> None:
        self.interrupted: list[str] = []
        self.settled: list[str] = []
        self.wind_downs: list[str] = []

    def _interrupt(self, node) -> None:
        self.interrupted.append(node.id)

    def _settle(self, node) -> None:
        self.settled.append(node.id)

    def _wind_down(self, reason: str) -> None:
        self.wind_downs.append(reason)


def diamond() -> TaskGraph:
    """a -> b, a -> c, (b, c) -> d; e alone."""
    graph = TaskGraph("diamond")
    graph.add_node("a", step, {"x": 1})
    graph.add_node("b", step, {"x": Ref("a", "out")})
    graph.add_node("c", step, {"x": Ref("a", "out")})
    graph.add_node("d", step, {"x": [Ref("b", "out"), Ref("c", "out")]})
    graph.add_node("e", step, {"x": 5})
    return graph.finalize()


def opened(graph: TaskGraph, on_error: str = "stop", cap: int = 2) -> tuple[RunMachine, Owner]:
    owner = Owner()
    machine = RunMachine(graph, EventLog("r1"), owner, cap=cap, on_error=on_error)
    machine.open_run({}, graph.name, "r1")
    machine.open_fresh()
    return machine, owner


def states(machine: RunMachine) -> dict[str, NodeState]:
    return {node.id: node.state for node in machine.graph.nodes}


def run_next(machine: RunMachine, outputs: dict | None = None) -> str:
    """Pop the next ready node, start it and let it succeed; returns its id."""
    node = machine.ready.popleft()
    machine.start(node)
    machine.succeed(node, outputs if outputs is not None else {"out": 1})
    return node.id


def test_roots_are_queued_in_order_and_dependents_when_all_upstream_succeeded() -> None:
    machine, owner = opened(diamond())
    assert [n.id for n in machine.ready] == ["a", "e"]
    assert states(machine)["b"] is S.PENDING
    assert run_next(machine) == "a"
    assert [n.id for n in machine.ready] == ["e", "b", "c"]
    assert machine.graph.nodes["b"].inputs == {"x": 1}  # resolved when it became ready
    run_next(machine), run_next(machine)
    assert "d" not in [n.id for n in machine.ready]  # still waits for c
    run_next(machine)
    assert [n.id for n in machine.ready] == ["d"]
    assert machine.graph.nodes["d"].inputs == {"x": [1, 1]}
    run_next(machine)
    assert set(states(machine).values()) == {S.SUCCEEDED}
    assert owner.wind_downs == ["idle"]


def test_occupancy_counts_slots_held_and_the_peak() -> None:
    machine, _ = opened(diamond())
    a, e = machine.ready.popleft(), machine.ready.popleft()
    machine.start(a)
    machine.start(e)
    assert (machine.active, machine.peak) == (2, 2)
    machine.retry_later(a, ValueError("again"))  # a retrying node keeps its slot
    assert machine.active == 2
    machine.start(a)
    machine.succeed(a, {"out": 1})
    machine.fail(e, ValueError("no"))
    assert (machine.active, machine.peak) == (0, 2)


def test_a_failure_skips_dependents_and_under_stop_winds_the_run_down() -> None:
    machine, owner = opened(diamond())
    a = machine.ready.popleft()
    machine.start(a)
    machine.fail(a, ValueError("boom"))
    assert states(machine) == {
        "a": S.FAILED,
        "b": S.SKIPPED,
        "c": S.SKIPPED,
        "d": S.SKIPPED,
        "e": S.READY,
    }
    assert owner.wind_downs == ["stop"]


def test_under_continue_independent_branches_go_on() -> None:
    machine, owner = opened(diamond(), on_error="continue")
    a = machine.ready.popleft()
    machine.start(a)
    machine.fail(a, TimeoutError())
    assert a.state is S.TIMED_OUT
    assert owner.wind_downs == []
    assert run_next(machine) == "e"
    assert owner.wind_downs == ["idle"]


def test_cancelling_a_pending_node_cancels_its_dependents_only() -> None:
    machine, owner = opened(diamond())
    machine.cancel_node(machine.graph.nodes["b"])
    assert states(machine)["b"] is S.CANCELLED and states(machine)["d"] is S.CANCELLED
    assert run_next(machine) == "a"
    assert [n.id for n in machine.ready] == ["e", "c"]
    assert owner.interrupted == []


def test_cancelling_a_running_node_asks_the_owner_to_interrupt_it() -> None:
    machine, owner = opened(diamond())
    a = machine.ready.popleft()
    machine.start(a)
    machine.cancel_node(a)
    assert owner.interrupted == ["a"] and a.state is S.RUNNING  # the worker reports back
    machine.cancelled(a)
    assert states(machine)["d"] is S.CANCELLED


def test_propagation_through_a_long_chain_does_not_recurse() -> None:
    graph = TaskGraph("chain")
    graph.add_node("n0", step, {"x": 0})
    for i in range(1, 5000):
        graph.add_node(f"n{i}", step, {"x": Ref(f"n{i - 1}", "out")})
    machine, _ = opened(graph.finalize())
    machine.cancel_node(machine.graph.nodes["n0"])
    assert {node.state for node in machine.graph.nodes} == {S.CANCELLED}
    assert machine.unfinished == 0


def test_stop_cancels_what_no_worker_holds() -> None:
    machine, _owner = opened(diamond())
    a = machine.ready.popleft()
    machine.start(a)
    machine.stop()
    assert states(machine)["e"] is S.CANCELLED and states(machine)["b"] is S.CANCELLED
    assert a.state is S.RUNNING  # its worker is the owner's to cancel
    machine.succeed(a, {"out": 1})  # it finished anyway: nothing new starts
    assert not [n for n in machine.ready if n.state is S.READY] and machine.unfinished == 0


def test_stop_cancels_the_queued_and_the_waiting_in_bulk(monkeypatch) -> None:
    """One failure under the stop policy cancels every queued node at once: node by node,
    100k of them held the loop 0.2 s (the watchdog named `_machine.py`)."""
    graph = TaskGraph("wide")
    for i in range(50):
        graph.add_node(f"w{i}", step, {"x": i})
    graph.add_node("total", step, {"x": [Ref(f"w{i}", "out") for i in range(50)]})
    graph.add_node("after_w1", step, {"x": Ref("w1", "out")})
    machine, owner = opened(graph.finalize())
    batches: list[tuple[NodeState, int]] = []
    many_ended = machine_module.BATCH_TRANSITIONS[(S.READY, S.CANCELLED)]

    def counted(m, nodes, new) -> None:
        batches.append((nodes[0].state, len(nodes)))
        many_ended(m, nodes, new)

    for old in (S.PENDING, S.READY):
        monkeypatch.setitem(machine_module.BATCH_TRANSITIONS, (old, S.CANCELLED), counted)
    first, second = machine.ready.popleft(), machine.ready.popleft()
    machine.start(first)
    machine.start(second)
    machine.fail(first, ValueError("boom"))
    assert owner.wind_downs == ["stop"]
    machine.stop()  # (what the owner does then)
    assert batches == [(S.READY, 48), (S.PENDING, 1)]
    got = states(machine)
    assert got["total"] is S.SKIPPED and got["after_w1"] is S.CANCELLED
    assert all(got[f"w{i}"] is S.CANCELLED for i in range(2, 50)) and machine.active == 1
    cancels = [e for e in machine.log.since(0) if isinstance(e, NodeStateChanged)]
    assert sum(e.state is S.CANCELLED for e in cancels) == 49


def test_a_missing_output_key_fails_the_node_when_it_would_become_ready() -> None:
    machine, _ = opened(diamond())
    a = machine.ready.popleft()
    machine.start(a)
    machine.succeed(a, {"other": 1})
    b = machine.graph.nodes["b"]
    assert b.state is S.FAILED and "did not return" in str(b.error)


def mapped() -> TaskGraph:
    graph = TaskGraph("mapped")
    graph.add_node("src", items, {"n": 3})
    graph.add_node("m", step, {"x": Ref("src", "out")}, kind=NodeKind.MAP)
    graph.add_node("after", step, {"x": Ref("m", "out")})
    return graph.finalize()


def test_a_map_expands_when_its_list_resolves_and_aggregates_its_items() -> None:
    machine, _owner = opened(mapped())
    assert run_next(machine, {"out": [10, 20, 30]}) == "src"
    m = machine.graph.nodes["m"]
    assert m.state is S.RUNNING and machine.active == 0  # a map holds no slot
    assert [n.id for n in machine.ready] == ["m[0]", "m[1]", "m[2]"]
    assert [n.inputs for n in machine.ready] == [{"x": 10}, {"x": 20}, {"x": 30}]
    for value in (1, 2, 3):
        run_next(machine, {"out": value})
    assert m.state is S.SUCCEEDED and m.outputs == {"out": [1, 2, 3]}
    assert [n.id for n in machine.ready] == ["after"]


def test_a_failed_item_fails_its_map_and_skips_what_follows() -> None:
    machine, _ = opened(mapped(), on_error="continue")
    run_next(machine, {"out": [1, 2]})
    first, second = machine.ready.popleft(), machine.ready.popleft()
    machine.start(first)
    machine.fail(first, ValueError("bad item"))
    machine.start(second)
    machine.succeed(second, {"out": 2})
    m = machine.graph.nodes["m"]
    assert m.state is S.FAILED and "1 of 2 items" in str(m.error)
    assert machine.graph.nodes["after"].state is S.SKIPPED


def test_rerun_of_failed_nodes_reopens_them_and_reuses_upstream_outputs() -> None:
    machine, _ = opened(diamond(), on_error="continue")
    run_next(machine)  # a
    run_next(machine)  # e
    b, c = machine.ready.popleft(), machine.ready.popleft()
    machine.start(b)
    machine.fail(b, ValueError("flaky"))
    machine.start(c)
    machine.succeed(c, {"out": 2})
    machine.close_run(RunState.FAILED, {}, None)
    targets, reexpand = rerun_targets(machine.graph, None, "failed")
    assert [n.id for n in targets] == ["b", "d"] and reexpand == []
    machine.open_run({}, "diamond", "r1")
    machine.open_round(targets)
    assert [n.id for n in machine.ready] == ["b"] and b.inputs == {"x": 1}
    run_next(machine, {"out": 7})
    assert machine.graph.nodes["d"].inputs == {"x": [7, 2]}
    run_next(machine)
    assert [a.state for a in b.attempts] == [S.FAILED, S.SUCCEEDED]
    assert machine.graph.nodes["a"].attempts == 1  # upstream never recomputed


def test_rerun_of_a_node_whose_upstream_failed_skips_it() -> None:
    machine, _ = opened(diamond(), on_error="continue")
    a = machine.ready.popleft()
    machine.start(a)
    machine.fail(a, ValueError("x"))
    run_next(machine)  # e
    machine.close_run(RunState.FAILED, {}, None)
    targets, _ = rerun_targets(machine.graph, ["b"], "node")
    machine.open_run({}, "diamond", "r1")
    machine.open_round(targets)
    assert machine.graph.nodes["b"].state is S.SKIPPED


def test_an_illegal_transition_raises_with_the_nodes_recent_history() -> None:
    machine, _ = opened(diamond())
    a = machine.ready.popleft()
    machine.start(a)
    machine.succeed(a, {"out": 1})
    with pytest.raises(IllegalTransition, match=r"succeeded -> running.*ready.*running.*succ"):
        machine.start(a)
    with pytest.raises(IllegalTransition, match="run r1: illegal transition running -> pending"):
        machine._run(RunState.PENDING)


def test_every_node_and_run_state_change_goes_through_the_tables(monkeypatch) -> None:
    import asyncio

    from graphdeck import graph_fn, graphify, start

    counted = {"node": 0, "run": 0}

    def counting(table: dict, kind: str, per_node: bool = False) -> dict:
        def wrap(handler):
            def counted_handler(m, first, *args):
                counted[kind] += len(first) if per_node else 1
                return handler(m, first, *args)

            return counted_handler

        return {key: wrap(handler) for key, handler in table.items()}

    monkeypatch.setattr(
        machine_module, "NODE_TRANSITIONS", counting(machine_module.NODE_TRANSITIONS, "node")
    )
    monkeypatch.setattr(
        machine_module,
        "BATCH_TRANSITIONS",
        counting(machine_module.BATCH_TRANSITIONS, "node", per_node=True),
    )
    monkeypatch.setattr(
        machine_module, "RUN_TRANSITIONS", counting(machine_module.RUN_TRANSITIONS, "run")
    )

    @tool(outputs=["out"])
    async def fails_on_two(x: int) -> dict:
        if x == 2:
            raise ValueError("two")
        return {"out": x}

    @graphify(outputs=["out"])
    def g():
        outs = [fails_on_two(x=i) for i in range(5)]
        return {"out": step(x=[o.out for o in outs]).out}

    @graph_fn(name="agent")
    async def agent(*, context):
        await asyncio.gather(*(step(x=i) for i in range(3)))
        return {}

    events = []
    for target in (g, agent):

        async def main(target=target) -> None:
            handle = start(target, on_error="continue")
            await handle.wait()
            events.extend(handle.events_since(0))

        asyncio.run(main())
    node_changes = sum(isinstance(e, NodeStateChanged) for e in events)
    run_changes = sum(isinstance(e, RunStarted | RunFinished) for e in events)
    assert node_changes > 10
    assert counted == {"node": node_changes, "run": run_changes}


def test_only_the_machine_assigns_a_node_or_run_state() -> None:
    """No other module of the core writes `.state` (a static check of the source). A Node
    sets its first state itself, and a stored run's record is restored whole
    (`Node.restore`): neither is a transition."""
    offenders = []
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "state":
                    owner = target.value
                    if not (isinstance(owner, ast.Name) and owner.id in {"self", "stored"}):
                        offenders.append(f"{path.name}:{node.lineno}")
    allowed = {"_machine.py", "_run_transitions.py", "_graph.py"}
    assert {o.split(":")[0] for o in offenders} <= allowed, offenders
