"""The event log: rows decoded in one place, the same through `visit` as through the typed
events, and readable from another thread below `event_count`."""

from __future__ import annotations

import pytest

from graphdeck import graphify, run_async, start, tool
from graphdeck.events import NodeAdded, NodeOutput, NodeStateChanged


@tool(outputs=["v"], retries=1)
async def flaky(x: int, seen: dict) -> dict:
    seen[x] = seen.get(x, 0) + 1
    if seen[x] == 1 and x == 1:
        raise ConnectionError("first try fails")
    return {"v": x}


@tool(outputs=["v"])
async def total(xs: list) -> dict:
    return {"v": sum(xs)}


@graphify(outputs=["v"])
def g():
    seen: dict = {}
    return {"v": total(xs=[flaky(x=i, seen=seen).v for i in range(3)]).v}


class Collect:
    """A RowVisitor that turns rows back into the typed events' fields."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.seen: list = []

    def node_added(self, time, node, inputs) -> None:
        self.seen.append(NodeAdded(time, self.run_id, node.id, node.tool.name, inputs, node.group))

    def node_state(self, time, node, state, attempt, error, inputs) -> None:
        self.seen.append(
            NodeStateChanged(time, self.run_id, node.id, state, attempt, error, inputs)
        )

    def node_output(self, time, node, attempt, outputs) -> None:
        self.seen.append(NodeOutput(time, self.run_id, node.id, attempt, outputs))

    def event(self, event) -> None:
        self.seen.append(event)


async def test_visit_hands_over_exactly_the_typed_events_in_order() -> None:
    handle = start(g)
    await handle.result()
    visitor = Collect(handle.id)
    assert handle.visit(visitor) == handle.event_count
    assert visitor.seen == handle.events_since(0)
    assert any(isinstance(e, NodeStateChanged) and e.error for e in visitor.seen)  # a retry


async def test_visit_reads_a_range_and_says_where_to_go_on() -> None:
    handle = start(g)
    await handle.result()
    visitor = Collect(handle.id)
    middle = handle.event_count // 2
    assert handle.visit(visitor, 0, middle) == middle
    assert handle.visit(visitor, middle) == handle.event_count
    assert visitor.seen == handle.events_since(0)


@pytest.mark.parametrize("count", [1, 3])
async def test_recent_lists_a_nodes_last_state_changes(count) -> None:
    handle = start(g)
    await handle.result()
    recent = handle._log.recent(handle.nodes["flaky_1"], count)
    assert len(recent) == count
    assert recent[-1].state.value == "succeeded"


async def test_run_async_of_the_same_graph_gives_its_output() -> None:
    assert await run_async(g) == {"v": 3}
