"""Nested agents sharing one process-wide pool.

    graphdeck run examples/nested_agents.py --graph survey --inputs '{"topics": ["a", "b", "c"]}'

Each child agent has its own cap of 4, so three children could run 12 tool calls at once.
The `api` pool caps them all together at 3, wherever they are called from.
"""

import asyncio

from graphdeck import graph_fn, tool
from graphdeck.limits import Pool

api = Pool("example-api", 3)


@tool(outputs=["text"], pool=api)
async def fetch(topic: str, page: int) -> dict:
    await asyncio.sleep(0.02)
    return {"text": f"{topic}:{page}"}


@graph_fn(name="research")
async def research(topic: str, *, context):
    pages = await asyncio.gather(*(fetch(topic=topic, page=p) for p in range(4)))
    await context.channel().send_text(f"{topic}: {len(pages)} pages")
    return {"pages": [p["text"] for p in pages]}


@graph_fn(name="survey")
async def survey(topics=("graphs", "agents", "queues"), *, context):
    reports = await asyncio.gather(*(research(topic=t) for t in topics))
    return {"pages": sum(len(r["pages"]) for r in reports), "peak_api_calls": api.peak}
