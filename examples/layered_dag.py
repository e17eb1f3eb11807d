"""A layered DAG with cross edges, built in shuffled order: what the graph view's layout is for.

    graphdeck draw examples/layered_dag.py -o dag.png
    graphdeck draw examples/layered_dag.py --inputs '{"n": 1500, "cross": 2800}' -o dag.json
    graphdeck examples/layered_dag.py --run

`n` nodes in `layers` layers; each node reads one node of the layer before it, and `cross`
more edges join random earlier nodes to later ones. Nodes are made in a shuffled order, so
a layout that placed them in the order they were made would be a tangle.
"""

import random

from graphdeck import graphify, tool


@tool(outputs=["v"])
async def work(xs: list):
    return {"v": len(xs) + sum(xs)}


@graphify(name="layered_dag", outputs=["v"])
def layered_dag(n=120, layers=8, cross=60, seed=1):
    rnd = random.Random(seed)
    layer_of = [i * layers // n for i in range(n)]
    by_layer = [[i for i in range(n) if layer_of[i] == k] for k in range(layers)]
    ups: dict[int, set[int]] = {i: set() for i in range(n)}
    for v in range(n):
        if layer_of[v]:
            ups[v].add(rnd.choice(by_layer[layer_of[v] - 1]))
    extra = 0
    while extra < cross:
        a, b = rnd.sample(range(n), 2)
        if layer_of[a] < layer_of[b] and a not in ups[b]:
            ups[b].add(a)
            extra += 1
    order = list(range(n))
    rnd.shuffle(order)
    made = {}

    def make(v):
        if v not in made:
            for u in sorted(ups[v]):
                make(u)
            made[v] = work(xs=[made[u].v for u in sorted(ups[v])])
        return made[v]

    for v in order:
        make(v)
    return {"v": make(n - 1).v}
