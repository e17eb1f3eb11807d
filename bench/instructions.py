"""Instructions per node of the return-at-once fan-out, graphdeck against asyncio, counted.

    python bench/instructions.py                 # N = 10k (needs valgrind; ~1 minute)
    python bench/instructions.py --n 1000
    python bench/instructions.py --shape dag     # the layered DAG, also against a worker pool
    python bench/instructions.py --shape agent   # an agent's gathered tool calls

Wall-clock ratios on a shared 2-core machine move by ±10 % between invocations, which hides
a change worth 1 %. Instruction counts do not: each side runs under `valgrind
--tool=callgrind` once with no timed run and once with `--runs` of them, and the difference
divided by runs × N is the cost per node, the same to ±0.1 % every time (hash seed fixed,
the worker's periodic yield to the loop switched off: under valgrind it would fire every
few nodes). Instructions are not time (cache misses are not counted), so a change is kept
when this count and `bench/scheduler.py` agree. The count also includes freeing each run:
graphdeck's run is freed by the `gc.collect()` between runs (a run and its scheduler refer
to each other), which `bench/scheduler.py` does outside its timed region, so this ratio
reads a few percent above the wall-clock one.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys

CASE = """
import asyncio, gc, sys
sys.path.insert(0, {bench!r})
import graphdeck.limits
import scheduler as shapes
# the worker's periodic yield to the loop, off: under valgrind it would fire every few nodes;
# and the loop-block watchdog: 50 times slower, everything looks like a block and is sampled
graphdeck.limits.YIELD_AFTER = float("inf")
graphdeck.limits.BLOCK_THRESHOLD = None
side, shape, n, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if shape == "fan":
    make = {{"graphdeck": shapes.graphdeck_fan, "asyncio": shapes.gather_fan}}[side]
    case = make(shapes.double_now)
elif shape == "agent":
    make = {{"graphdeck": shapes.graphdeck_agent, "asyncio": shapes.gather_fan}}[side]
    case = make(shapes.double_now)
else:
    make = {{"graphdeck": shapes.graphdeck_dag, "asyncio": shapes.gather_dag,
            "pool": shapes.pool_dag}}[side]
    case = make(shapes.combine_now)
    shapes.layered_edges(n)  # made outside the counted runs, as in the timed bench
asyncio.run(case(n, 64))  # warm: imports, first-call costs
for _ in range(runs):
    gc.collect()
    asyncio.run(case(n, 64))
"""


def instructions(side: str, shape: str, n: int, runs: int) -> int:
    """Instructions the whole process executed (callgrind's "Collected" total)."""
    script = CASE.format(bench=os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(
        [
            *("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"),
            *(sys.executable, "-c", script, side, shape, str(n), str(runs)),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        check=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument(
        "--shape",
        choices=("fan", "dag", "agent"),
        default="fan",
        help="fan: the fan-out/fan-in; dag: the layered DAG (~3 upstream nodes each); "
        "agent: a graph_fn gathering N tool calls",
    )
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed (apt-get install valgrind)")
    per_node = {}
    sides = ("graphdeck", "asyncio", "pool") if args.shape == "dag" else ("graphdeck", "asyncio")
    for side in sides:
        total = instructions(side, args.shape, args.n, args.runs) - instructions(
            side, args.shape, args.n, 0
        )
        per_node[side] = total / (args.runs * args.n)
        print(f"{side:<10} {per_node[side]:>10,.0f} instructions per node", flush=True)
    for side in sides[1:]:
        print(f"ratio to {side:<8} {per_node['graphdeck'] / per_node[side]:>8.3f}")


if __name__ == "__main__":
    main()
