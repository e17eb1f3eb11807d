"""A 10,000-node fan-out and its fan-in: the scheduler's scale example.

graphdeck run examples/fanout_10k.py --max-concurrency 64
"""

import asyncio

from graphdeck import graphify, tool


@tool(outputs=["out"])
async def square(x: int) -> dict:
    await asyncio.sleep(0)  # like any I/O call: lets the other slots run meanwhile
    return {"out": x * x}


@tool(outputs=["total"])
async def total(xs: list[int]) -> dict:
    return {"total": sum(xs)}


@graphify(name="fanout_10k", inputs=["n"], outputs=["total", "count"])
def fanout_10k(n=10_000):
    squares = [square(x=i) for i in range(n)]
    result = total(xs=[s.out for s in squares])
    return {"total": result.total, "count": n}
