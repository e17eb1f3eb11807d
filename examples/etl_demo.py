"""A small ETL pipeline to watch in the monitor: three sources, each fanned out over rows
known only at run time (`tool.map`), flaky rows retried, then a join.

    graphdeck examples/etl_demo.py --run            # the monitor, running at once
    graphdeck run examples/etl_demo.py --max-concurrency 16

The flakiness is per call, like a real dropped connection: a tool body keeps no state
between attempts, because each attempt may run in another process (on Dask, every call
gets a fresh copy of this module). About 1 call in 33 fails; with 4 retries a row fails
for good with a chance of 0.03**5 = 2.4e-8, about one run of 450 rows in 90,000.
"""

import asyncio
import random

from graphdeck import graphify, tool


@tool(outputs=["rows"])
async def extract(source: str, rows: int) -> dict:
    await asyncio.sleep(0.3)
    return {"rows": [f"{source}:{i}" for i in range(rows)]}


DROPPED_CALLS = 0.03


@tool(outputs=["clean"], retries=4)
async def transform(row: str) -> dict:
    await asyncio.sleep(random.Random(row).uniform(0.05, 0.35))  # the same for each attempt
    if random.random() < DROPPED_CALLS:
        raise ConnectionError(f"lost connection while cleaning {row}")
    return {"clean": row.upper()}


@tool(outputs=["count"])
async def load(source: str, values: list) -> dict:
    await asyncio.sleep(0.2)
    return {"count": len(values)}


@tool(outputs=["report"])
async def report(counts: list) -> dict:
    return {"report": f"{sum(counts)} rows loaded from {len(counts)} sources"}


@graphify(name="etl_demo", inputs=["sources", "rows"], outputs=["report"])
def etl_demo(sources=("orders", "users", "events"), rows=150):
    counts = []
    for source in sources:
        extracted = extract(source=source, rows=rows)
        cleaned = transform.map(row=extracted.rows)
        counts.append(load(source=source, values=cleaned.clean).count)
    return {"report": report(counts=counts).report}
