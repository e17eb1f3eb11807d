"""graphdeck.values: reprs bounded by the size kept, and secrets kept out of sight."""

from __future__ import annotations

import tracemalloc

import pytest

from graphdeck import Secret, graph_fn, graphify, run, tool
from graphdeck.events import NodeAdded, NodeStateChanged
from graphdeck.values import reveal, short_repr, show_value


class Counted:
    """An item whose repr counts how often it was asked for."""

    calls = 0

    def __repr__(self) -> str:
        Counted.calls += 1
        return "C"


def test_short_repr_of_a_huge_container_reprs_only_what_it_keeps() -> None:
    Counted.calls = 0
    text = short_repr([Counted() for _ in range(200_000)], limit=1000)
    assert len(text) <= 1001
    assert Counted.calls <= 1000


@pytest.mark.parametrize("value", ["x" * 50_000_000, b"y" * 50_000_000])
def test_short_repr_of_a_huge_string_allocates_about_what_it_keeps(value) -> None:
    tracemalloc.start()
    try:
        text = short_repr(value, limit=2000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert 1990 <= len(text) <= 2001
    assert peak < 1_000_000  # a full repr would take 50 MB


def test_a_broken_repr_does_not_raise() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("nope")

    assert "repr failed" in short_repr(Broken())


def test_show_value_is_indented_json_for_small_plain_data_and_bounded_otherwise() -> None:
    assert show_value({"a": [1, 2]}) == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    Counted.calls = 0
    shown = show_value({"items": [Counted() for _ in range(100_000)]}, limit=500)
    assert len(shown) <= 501 and Counted.calls <= 500
    assert len(show_value(list(range(1_000_000)), limit=300)) <= 301


def test_secret_is_shown_masked_and_revealed_only_on_demand() -> None:
    secret = Secret("hunter2")
    assert repr(secret) == str(secret) == "Secret('***')"
    assert "hunter2" not in show_value({"key": secret})
    assert reveal({"a": [secret, 1], "b": (secret,)}) == {"a": ["hunter2", 1], "b": ("hunter2",)}
    plain = {"a": [1]}
    assert reveal(plain) is plain  # nothing copied without a secret


@tool(outputs=["used"])
async def login(key: str, extra: list) -> dict:
    return {"used": key == "hunter2" and extra == ["hunter2"]}


@tool(outputs=["used"])
def login_in_thread(key: str) -> dict:
    return {"used": key == "hunter2"}


@graphify(outputs=["a", "b"])
def logs_in(key):
    return {"a": login(key=key, extra=[key]).used, "b": login_in_thread(key=key).used}


def test_tools_get_the_real_value_and_the_event_stream_only_the_mask() -> None:
    secret = Secret("hunter2")
    assert run(logs_in, {"key": secret}) == {"a": True, "b": True}


async def test_no_event_of_a_run_holds_the_revealed_value() -> None:
    from graphdeck import start

    handle = start(logs_in, {"key": Secret("hunter2")})
    await handle.result()
    for event in handle.events_since(0):
        assert "hunter2" not in repr(event)
        if isinstance(event, NodeAdded | NodeStateChanged) and event.inputs:
            assert "hunter2" not in show_value(event.inputs)


@graph_fn(name="secret_agent")
async def secret_agent(key, *, context):
    return await login(key=key, extra=[key])


def test_an_agents_tool_call_gets_the_real_value() -> None:
    assert run(secret_agent, {"key": Secret("hunter2")}) == {"used": True}


def test_a_tool_called_outside_any_graph_gets_the_real_value() -> None:
    assert login_in_thread(key=Secret("hunter2")) == {"used": True}
