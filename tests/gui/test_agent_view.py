"""Agents drawn as what they do: calls in the order made, concurrent calls side by side,
loops and gathers as groups, child runs inline as frames, their messages in the parent's
log, and the picker offering the top-level agent."""

from __future__ import annotations

from graphdeck import NodeState, RunState
from guisupport import EXAMPLES, load, run_and_wait
from layout_support import overlaps

AGENT = EXAMPLES / "research_agent.py"


def ran_agent(qtbot, window):
    load(qtbot, window, AGENT)
    assert window.controls.selected_graph_name() == "survey"  # not the nested `research`
    handle = run_and_wait(qtbot, window)
    assert handle.state is RunState.SUCCEEDED
    view = window.graph_view
    qtbot.waitUntil(lambda: "research#2/summarise_0" in view.drawing.where, timeout=5000)
    return handle, view


def box(view, key):
    return view.drawing.nodes[view.drawing.where[key]]


def test_calls_in_order_with_children_inline(qtbot, window) -> None:
    handle, view = ran_agent(qtbot, window)
    agent = view.drawing.nodes[0]
    assert agent.kind == "agent" and agent.label == "survey (agent)"
    plan, write = box(view, "plan_0"), box(view, "write_0")
    loop = box(view, "summarise_0")  # the loop over the reports: one group of 3 calls
    assert loop.kind == "group" and [m.id for m in loop.members] == [
        "summarise_0",
        "summarise_1",
        "summarise_2",
    ]
    frames = [f for f in view.drawing.frames if f.kind == "run"]
    assert [f.label for f in frames] == [
        f"research_{k} (topic='graph layout part {k}') · succeeded" for k in range(3)
    ]
    # left to right in the order the calls were made; the three children side by side
    assert agent.x < plan.x < frames[0].x < loop.x < write.x
    assert len({f.x for f in frames}) == 1 and frames[0].y < frames[1].y < frames[2].y
    fetches = box(view, "research#2/fetch_3")  # a child's gather: one group of 6
    assert fetches.kind == "group" and len(fetches.members) == 6
    assert frames[2].x < fetches.x < frames[2].x + frames[2].w
    # edges where a call used another's output (found by identity), order edges elsewhere
    kinds = {
        (view.drawing.nodes[e.source].key, view.drawing.nodes[e.target].key): e.kind
        for e in view.drawing.edges
    }
    assert {k for (s, k), kind in kinds.items() if kind == "data"} >= {"write_0"}
    assert kinds[("research#0/summarise_0", "calls:summarise_0")] == "data"
    assert kinds[("@agent", "plan_0")] == "order"
    # the inspector shows a child's call
    view.select_node("research#1/summarise_0")
    assert window.details.inspector.node is handle.children[1].nodes["summarise_0"]


def test_gather_opens_side_by_side_and_child_frames_fold(qtbot, window) -> None:
    _handle, view = ran_agent(qtbot, window)
    key = box(view, "research#0/fetch_0").group
    view.expand_group(key)
    qtbot.waitUntil(lambda: box(view, "research#0/fetch_0").kind == "node")
    calls = [box(view, f"research#0/fetch_{i}") for i in range(6)]
    assert len({c.x for c in calls}) == 1  # concurrent: one step, stacked
    assert [c.y for c in calls] == sorted(c.y for c in calls)
    view.collapse_group("run:research#1/")
    qtbot.waitUntil(lambda: box(view, "research#1/summarise_0").kind == "subgraph")
    folded = box(view, "research#1/fetch_0")
    assert folded.label == "research_1 (topic='graph layout part 1') ×7"
    assert len(folded.members) == 7
    assert all(f.key != "run:research#1/" for f in view.drawing.frames)
    view.expand_group("run:research#1/")
    qtbot.waitUntil(lambda: box(view, "research#1/summarise_0").kind == "node")


def test_parent_log_holds_the_childrens_messages(qtbot, window) -> None:
    handle, _view = ran_agent(qtbot, window)
    log = window.details.log
    qtbot.waitUntil(lambda: log.toPlainText().count("of 6 pages") == 3, timeout=5000)
    text = log.toPlainText()
    assert "[default]  planned 3 topics" in text
    child = handle.children[2]
    assert f"[research {child.id[:6]} › default]  graph layout part 2: 5 of 6 pages" in text


NESTED_THREE = """
import asyncio

from graphdeck import graph_fn, tool

@tool(outputs=["text"])
async def fetch(topic: str, page: int):
    await asyncio.sleep(0.01)
    return {"text": f"{topic}: page {page}"}

@graph_fn(name="research")
async def research(topic: str, depth: int = 2, *, context):
    pages = await asyncio.gather(*(fetch(topic=topic, page=p) for p in range(depth)))
    return {"pages": [p["text"] for p in pages]}

@graph_fn(name="survey")
async def survey(question="layout", *, context):
    for topic in ("crossings", "layers", "routing"):  # one child run after another
        await research(topic=f"{question}: {topic}", depth=3)
    return {"done": True}
"""


def test_child_frames_say_which_call_they_are(qtbot, window, tmp_path) -> None:
    """Three calls of one agent were three frames all titled "research · succeeded": each
    is numbered as tool calls are (`research_1`, as `fetch_1`) and shows the inputs that
    tell it from the others (not `depth`, the same in all three)."""
    path = tmp_path / "nested_three.py"
    path.write_text(NESTED_THREE)
    load(qtbot, window, path)
    assert run_and_wait(qtbot, window).state is RunState.SUCCEEDED
    view = window.graph_view
    qtbot.waitUntil(lambda: "research#2/fetch_2" in view.drawing.where, timeout=5000)
    frames = sorted((f for f in view.drawing.frames if f.kind == "run"), key=lambda f: f.x)
    assert [f.label for f in frames] == [
        "research_0 (topic='layout: crossings') · succeeded",
        "research_1 (topic='layout: layers') · succeeded",
        "research_2 (topic='layout: routing') · succeeded",
    ]
    view.collapse_group("run:research#1/")
    qtbot.waitUntil(lambda: box(view, "research#1/fetch_0").kind == "subgraph")
    assert box(view, "research#1/fetch_0").label == "research_1 (topic='layout: layers') ×3"


def test_child_titles_are_short_and_told_apart(qapp) -> None:
    from types import SimpleNamespace

    from graphdeck.gui.agent_model import child_titles

    def run(name, **inputs):
        return SimpleNamespace(name=name, inputs=inputs)

    titles = child_titles(
        [run("a", x=1, text="same"), run("b", q="z" * 200), run("a", x=2, text="same"), run("c")]
    )
    assert titles[0] == "a_0 (x=1)" and titles[2] == "a_1 (x=2)"  # only what differs
    assert titles[1].startswith("b_0 (q='zzz") and "..." in titles[1]  # cut short
    assert len(titles[1]) < 80 and titles[3] == "c_0"


def test_the_timeline_holds_the_childrens_calls_marked_with_the_child(qtbot, window) -> None:
    """The parent's timeline had its own calls only: the research its children did (most
    of the run) was missing. Each child's calls are there, keyed as the graph keys them,
    and a click on one selects that call."""
    handle, view = ran_agent(qtbot, window)
    tracker = window.current
    assert tracker.run is handle
    child_calls = {f"research#{k}/fetch_{p}" for k in range(3) for p in range(6)}
    child_calls |= {f"research#{k}/summarise_0" for k in range(3)}
    qtbot.waitUntil(lambda: child_calls <= {bar[0] for bar in tracker.bars}, timeout=5000)
    own = {"plan_0", "summarise_0", "summarise_1", "summarise_2", "write_0"}
    assert {bar[0] for bar in tracker.bars} == own | child_calls
    failed = next(bar for bar in tracker.bars if bar[0] == "research#2/fetch_3")
    assert failed[3] is NodeState.FAILED and failed[2] is not None
    timeline = window.details.timeline
    window.details.setCurrentWidget(timeline)
    bar = next(bar for bar in tracker.bars if bar[0] == "research#1/fetch_2")
    middle = (bar[1] + bar[2]) / 2 - timeline.origin()
    assert timeline.select_at(middle, bar[4]) == "research#1/fetch_2"
    assert timeline.selection.text().startswith("research#1/fetch_2: succeeded")
    assert timeline.plot.getAxis("left").labelText.startswith("call in flight")
    qtbot.waitUntil(lambda: view.selected_key == "research#1/fetch_2")
    assert window.details.inspector.node is handle.children[1].nodes["fetch_2"]


GATHER_40 = """
import asyncio

from graphdeck import graph_fn, tool

@tool(outputs=["y"])
async def work(x: int):
    return {"y": x}

@graph_fn(name="wide")
async def wide(*, context):
    await asyncio.gather(*(work(x=i) for i in range(40)))
    return {"done": True}
"""


def test_an_agents_opened_gather_is_a_grid(qtbot, window, tmp_path) -> None:
    path = tmp_path / "wide.py"
    path.write_text(GATHER_40)
    load(qtbot, window, path)
    assert run_and_wait(qtbot, window).state is RunState.SUCCEEDED
    view = window.graph_view
    qtbot.waitUntil(lambda: "work_39" in view.drawing.where, timeout=5000)
    view.expand_group(box(view, "work_0").group)
    qtbot.waitUntil(lambda: box(view, "work_39").kind == "node")
    calls = [box(view, f"work_{i}") for i in range(40)]
    assert len({c.x for c in calls}) > 2 and len({c.y for c in calls}) < 40  # not a column
    assert overlaps(view.drawing.to_json()) == 0
    (frame,) = [f for f in view.drawing.frames if f.kind == "group"]
    assert all(frame.x < c.x and c.x + c.w < frame.x + frame.w for c in calls)
    assert all(frame.y < c.y and c.y + c.h < frame.y + frame.h for c in calls)
