"""An agent that plans, researches its topics with nested child agents (gathers of
fetches, one of which fails), checks each summary in a loop and writes a report.

    graphdeck examples/research_agent.py --run
"""

import asyncio

from graphdeck import graph_fn, tool


@tool(outputs=["plan"])
async def plan(question: str):
    await asyncio.sleep(0.05)
    return {"plan": [f"{question} part {i}" for i in range(3)]}


@tool(outputs=["text"])
async def fetch(topic: str, page: int):
    await asyncio.sleep(0.03)
    if topic.endswith("part 2") and page == 3:
        raise ConnectionError(f"page {page} of {topic!r} timed out")
    return {"text": f"{topic}: page {page}"}


@tool(outputs=["summary"])
async def summarise(pages: list):
    await asyncio.sleep(0.02)
    return {"summary": " / ".join(p for p in pages if p)}


@tool(outputs=["report"])
async def write(summaries: list):
    await asyncio.sleep(0.05)
    return {"report": "\n".join(summaries)}


@graph_fn(name="research")
async def research(topic: str, *, context):
    results = await asyncio.gather(
        *(fetch(topic=topic, page=p) for p in range(6)), return_exceptions=True
    )
    pages = [r["text"] for r in results if isinstance(r, dict)]
    await context.channel().send_text(f"{topic}: {len(pages)} of 6 pages")
    summary = await summarise(pages=pages)
    return {"summary": summary["summary"]}


@graph_fn(name="survey")
async def survey(question="graph layout", *, context):
    steps = await plan(question=question)
    await context.channel().send_text(f"planned {len(steps['plan'])} topics")
    reports = await asyncio.gather(*(research(topic=t) for t in steps["plan"]))
    checked = []
    for r in reports:  # a loop of calls to one tool
        checked.append((await summarise(pages=[r["summary"]]))["summary"])
    final = await write(summaries=checked)
    return {"report": final["report"]}
