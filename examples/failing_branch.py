"""One branch fails; what happens to the others depends on the failure policy.

    graphdeck run examples/failing_branch.py --on-error stop       # exit 1, rest cancelled
    graphdeck run examples/failing_branch.py --on-error continue   # exit 1, other branches done

With `stop` the first failure cancels running nodes and the pending ones; with `continue`
independent branches finish and only the failed branch's dependents are skipped.
"""

import asyncio

from graphdeck import graphify, tool


@tool(outputs=["value"])
async def load(n: int) -> dict:
    await asyncio.sleep(0.01 * n)
    return {"value": n}


@tool(outputs=["value"])
async def flaky(value: int) -> dict:
    if value == 2:
        raise ValueError(f"cannot process {value}")
    await asyncio.sleep(0.05)
    return {"value": value * 10}


@tool(outputs=["report"])
async def summarize(value: int) -> dict:
    return {"report": f"branch result {value}"}


@graphify(name="failing_branch", inputs=["branches"], outputs=["reports"])
def failing_branch(branches=4):
    reports = []
    for n in range(branches):
        step = flaky(value=load(n=n).value)
        reports.append(summarize(value=step.value).report)
    return {"reports": reports}
