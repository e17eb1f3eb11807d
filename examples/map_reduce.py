"""Fan-out / fan-in, directly over the input list (the seed's second variant).

    graphdeck run examples/map_reduce.py --inputs '{"vals": [1, 2, 3, 4, 5]}'

The builder runs with the run's concrete inputs, so `for v in vals` makes one `work` node
per value, whatever the list's length.
"""

from graphdeck import graphify, tool


@tool(outputs=["out"])
async def work(x: int) -> dict:
    return {"out": x * 2}


@tool(outputs=["sum"])
async def reduce_sum(xs: list[int]) -> dict:
    return {"sum": sum(xs)}


@graphify(name="map_reduce", inputs=["vals"], outputs=["sum"])
def map_reduce(vals=(1, 2, 3, 4, 5, 6, 7)):
    outs = [work(x=v) for v in vals]  # fan-out
    total = reduce_sum(xs=[o.out for o in outs])  # fan-in
    return {"sum": total.sum}
