"""The seed's `batch_agent`: a reactive agent that fans out over its items.

    graphdeck run examples/batch_agent.py --inputs '{"items": ["a", "b", "c"]}'

The seed wraps each call in a hand-made semaphore. Here `upper` is a tool, so each call is
a node of the run, capped by the run's `max_concurrency` (default 4) and visible in the
monitor; the semaphore is no longer needed.
"""

import asyncio

from graphdeck import graph_fn, tool


@tool(outputs=["y"])
async def upper(x: str) -> dict:
    await asyncio.sleep(0.01)
    return {"y": x.upper()}


@graph_fn(name="batch_agent")
async def batch_agent(items=("alpha", "beta", "gamma", "delta", "epsilon"), *, context):
    async def one(x):
        await context.channel().send_text(f"processing {x}")
        return await upper(x=x)

    results = await asyncio.gather(*(one(v) for v in items))  # fan-out, capped
    return {"ys": [r["y"] for r in results]}  # fan-in
