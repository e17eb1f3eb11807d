"""@graphify: static graphs built from concrete inputs; structure, nesting and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphdeck import GraphBuildError, Ref, TaskGraph, graphify, run, tool
from graphdeck.loader import load_graph_file

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
map_reduce = load_graph_file(EXAMPLES / "map_reduce.py").pick()
map_reduce_pick = load_graph_file(EXAMPLES / "map_reduce_pick.py").pick()
work = map_reduce.fn.__globals__["work"]
reduce_sum = map_reduce.fn.__globals__["reduce_sum"]


@pytest.mark.parametrize("graph", [map_reduce, map_reduce_pick])
@pytest.mark.parametrize("length", [0, 1, 2, 3, 4, 7, 50])
def test_both_seed_variants_sum_any_list_length(graph, length) -> None:
    vals = list(range(1, length + 1))
    assert run(graph, {"vals": vals}) == {"sum": 2 * sum(vals)}


def test_build_returns_inspectable_graph_without_running() -> None:
    g = map_reduce.build(vals=[5, 6, 7])
    assert isinstance(g, TaskGraph)
    assert len(g.nodes) == 4 and len(g.edges) == 3
    assert [n.id for n in g.nodes] == ["work_0", "work_1", "work_2", "reduce_sum_0"]
    assert g.topological_order() == ["work_0", "work_1", "work_2", "reduce_sum_0"]
    assert g.nodes["work_1"].tool is work
    assert g.nodes["work_1"].inputs == {"x": 6}
    assert g.nodes["reduce_sum_0"].inputs == {"xs": [Ref(f"work_{i}", "out") for i in range(3)]}
    assert set(g.edges) == {(f"work_{i}", "reduce_sum_0") for i in range(3)}
    assert all(n.state.value == "pending" and n.outputs is None for n in g.nodes)
    assert dict(g.nodes.items()).keys() == {"work_0", "work_1", "work_2", "reduce_sum_0"}


def test_missing_and_unknown_inputs_are_build_errors() -> None:
    @graphify(inputs=["vals"], outputs=["sum"])
    def needs_vals(vals):
        return {"sum": reduce_sum(xs=list(vals)).sum}

    with pytest.raises(GraphBuildError, match=r"missing input.*vals"):
        needs_vals.build()
    with pytest.raises(GraphBuildError, match=r"unknown input.*nope"):
        map_reduce.build(vals=[1], nope=2)


def test_inputs_default_from_builder_signature() -> None:
    @graphify(outputs=["sum"])
    def defaults(vals=(1, 2)):
        return {"sum": reduce_sum(xs=list(vals)).sum}

    assert defaults.inputs == ("vals",)
    assert run(defaults) == {"sum": 3}


def test_bad_output_reference_names_the_node_and_tool() -> None:
    @graphify(outputs=["y"])
    def bad(x=1):
        return {"y": work(x=x).nope}

    with pytest.raises(GraphBuildError, match=r"work_0.*'work'.*no output 'nope'.*out"):
        bad.build()


def test_builder_must_return_declared_outputs() -> None:
    @graphify(outputs=["a", "b"])
    def partial(x=1):
        return {"a": work(x=x).out}

    with pytest.raises(GraphBuildError, match=r"lacks declared output.*\['b'\]"):
        partial.build()


def test_cycle_in_a_hand_built_graph_names_the_nodes() -> None:
    g = TaskGraph("loop")
    g.add_node("a", work, {"x": Ref("c", "out")})
    g.add_node("b", work, {"x": Ref("a", "out")})
    g.add_node("c", work, {"x": Ref("b", "out")})
    with pytest.raises(GraphBuildError, match=r"cycle.*'[abc]'") as info:
        g.finalize()
    assert all(name in str(info.value) for name in "abc")


def test_reference_to_unknown_node_names_it() -> None:
    g = TaskGraph("dangling")
    g.add_node("a", work, {"x": Ref("ghost", "out")})
    with pytest.raises(GraphBuildError, match=r"'a'.*unknown node 'ghost'"):
        g.finalize()


def test_hand_built_graph_out_of_order_is_sorted_and_runs() -> None:
    g = TaskGraph("manual")
    g.add_node("total", reduce_sum, {"xs": [Ref("w1", "out"), Ref("w0", "out")]})
    g.add_node("w0", work, {"x": 1})
    g.add_node("w1", work, {"x": 2})
    g.outputs = {"sum": Ref("total", "sum")}
    g.finalize()
    assert g.topological_order()[-1] == "total"
    assert run(g) == {"sum": 6}
    with pytest.raises(GraphBuildError, match="already run"):
        run(g)


def test_nested_graphify_is_inlined_as_a_named_subgraph() -> None:
    @graphify(name="inner", inputs=["vals"], outputs=["sum"])
    def inner(vals):
        return {"sum": reduce_sum(xs=[work(x=v).out for v in vals]).sum}

    @graphify(name="outer", inputs=["a", "b"], outputs=["total"])
    def outer(a, b):
        left = inner(vals=a)
        right = inner(vals=b)
        return {"total": reduce_sum(xs=[left.sum, right.sum]).sum}

    g = outer.build(a=[1, 2], b=[3])
    ids = [n.id for n in g.nodes]
    assert "inner/work_0" in ids and "inner_1/work_0" in ids and "reduce_sum_0" in ids
    assert g.nodes["inner/work_1"].group == "inner"
    assert run(outer, {"a": [1, 2], "b": [3]}) == {"total": 12}


def test_map_fans_out_over_a_run_time_list() -> None:
    @tool(outputs=["items"])
    async def produce(n: int) -> dict:
        return {"items": list(range(n))}

    @graphify(outputs=["sum", "outs"])
    def dynamic(n=5):
        items = produce(n=n)
        mapped = work.map(x=items.items)
        return {"sum": reduce_sum(xs=mapped.out).sum, "outs": mapped.out}

    g = dynamic.build()
    assert len(g.nodes) == 3  # children appear when the list is known
    assert run(dynamic) == {"sum": 20, "outs": [0, 2, 4, 6, 8]}
    assert run(dynamic, {"n": 0}) == {"sum": 0, "outs": []}


def test_iterating_a_handle_explains_map() -> None:
    @graphify(outputs=["s"])
    def wrong(x=1):
        h = work(x=x)
        return {"s": [v for v in h]}

    with pytest.raises(GraphBuildError, match=r"map"):
        wrong.build()


def test_an_async_builder_is_refused_when_decorated() -> None:
    with pytest.raises(TypeError, match=r"plain `def` builder.*is async"):

        @graphify(outputs=["out"])
        async def builder(vals):  # pragma: no cover - never called
            return {}


def _line_of(text: str) -> int:
    import inspect

    source, start = inspect.getsourcelines(test_builder_errors_are_build_errors_naming_the_line)
    return start + next(i for i, line in enumerate(source) if text in line)


def test_builder_errors_are_build_errors_naming_the_line() -> None:
    @graphify(outputs=["out"])
    def reads_missing_key(settings=None):
        return {"out": (settings or {})["missing"]}  # KeyError here

    @graphify(outputs=["out"])
    def divides_by_zero():
        return {"out": 1 / 0}  # ZeroDivisionError here

    with pytest.raises(GraphBuildError) as caught:
        reads_missing_key.build()
    here = __file__
    assert str(caught.value) == (
        f"{here}:{_line_of('KeyError here')}: graphify 'reads_missing_key' failed to build: "
        "KeyError: 'missing'"
    )
    assert isinstance(caught.value.__cause__, KeyError)
    with pytest.raises(
        GraphBuildError,
        match=r"test_graphify.py:\d+: graphify 'divides_by_zero'"
        r" failed to build: ZeroDivisionError: division by zero",
    ):
        divides_by_zero.build()


def test_a_builder_calling_sys_exit_is_a_build_error_not_an_exit() -> None:
    import sys

    @graphify(outputs=["out"])
    def exits():
        sys.exit(2)

    with pytest.raises(GraphBuildError, match="failed to build: SystemExit: 2"):
        exits.build()


def test_handle_classes_of_discarded_tools_are_freed() -> None:
    import gc
    import weakref

    def make_and_build() -> weakref.ref:
        @tool(outputs=["out"])
        async def temporary(x: int):
            return x

        @graphify(outputs=["out"])
        def uses_it():
            return {"out": temporary(x=temporary(x=1).out).out}

        uses_it.build()
        return weakref.ref(temporary.handle_type)

    ref = make_and_build()
    gc.collect()
    assert ref() is None  # a reloaded graph file's tools leave nothing behind
