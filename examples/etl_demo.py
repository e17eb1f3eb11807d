"""A small ETL pipeline to watch in the monitor: three sources, each fanned out over rows
known only at run time (`tool.map`), flaky rows retried, then a join.

    graphdeck examples/etl_demo.py --run            # the monitor, running at once
    graphdeck run examples/etl_demo.py --max-concurrency 16
"""

import asyncio
import random

from graphdeck import graphify, tool


@tool(outputs=["rows"])
async def extract(source: str, rows: int) -> dict:
    await asyncio.sleep(0.3)
    return {"rows": [f"{source}:{i}" for i in range(rows)]}


_failed_once: set[str] = set()


@tool(outputs=["clean"], retries=2)
async def transform(row: str) -> dict:
    rnd = random.Random(row)
    await asyncio.sleep(rnd.uniform(0.05, 0.35))
    if rnd.random() < 0.08 and row not in _failed_once:  # flaky once: the retry succeeds
        _failed_once.add(row)
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
