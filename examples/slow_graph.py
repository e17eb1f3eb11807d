"""A slow graph to watch and to cancel (Ctrl-C in `graphdeck run`, or Cancel in the app).

    graphdeck run examples/slow_graph.py

Eight one-second steps at a cap of 4, then a join: about 2 s to finish when left alone.
"""

import asyncio

from graphdeck import graphify, tool


@tool(outputs=["done"])
async def step(i: int, seconds: float) -> dict:
    await asyncio.sleep(seconds)
    return {"done": i}


@tool(outputs=["count"])
async def join(parts: list[int]) -> dict:
    return {"count": len(parts)}


@graphify(name="slow_graph", inputs=["steps", "seconds"], outputs=["count"])
def slow_graph(steps=8, seconds=1.0):
    parts = [step(i=i, seconds=seconds) for i in range(steps)]
    return {"count": join(parts=[p.done for p in parts]).count}
