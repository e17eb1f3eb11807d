"""Fan-out / fan-in through a `pick` tool (the seed's first variant).

    graphdeck run examples/map_reduce_pick.py --inputs '{"vals": [10, 20, 30, 40]}'

The seed's reference implementation hands the builder a reference instead of the list,
so `range(len(vals))` always built 3 nodes. Here the builder sees the real list, so this
variant gives the right sum for any length too.
"""

from graphdeck import graphify, tool


@tool(outputs=["result"])
async def pick(items: list[int], index: int) -> dict:
    return {"result": items[index]}


@tool(outputs=["out"])
async def work(x: int) -> dict:
    return {"out": x * 2}


@tool(outputs=["sum"])
async def reduce_sum(xs: list[int]) -> dict:
    return {"sum": sum(xs)}


@graphify(name="map_reduce_pick", inputs=["vals"], outputs=["sum"])
def map_reduce_pick(vals=(1, 2, 3, 4, 5)):
    results = [pick(items=vals, index=i) for i in range(len(vals))]
    outs = [work(x=v.result) for v in results]  # fan-out
    total = reduce_sum(xs=[o.out for o in outs])  # fan-in
    return {"sum": total.sum}
