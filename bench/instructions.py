"""Instructions per node of the return-at-once fan-out, graphdeck against asyncio, counted.

    python bench/instructions.py                 # N = 10k (needs valgrind; ~1 minute)
    python bench/instructions.py --n 1000

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
import graphdeck._scheduler
from scheduler import double_now, gather_fan, graphdeck_fan
graphdeck._scheduler.YIELD_AFTER = float("inf")
case = (graphdeck_fan if sys.argv[1] == "graphdeck" else gather_fan)(double_now)
n, runs = int(sys.argv[2]), int(sys.argv[3])
asyncio.run(case(n, 64))  # warm: imports, first-call costs
for _ in range(runs):
    gc.collect()
    asyncio.run(case(n, 64))
"""


def instructions(side: str, n: int, runs: int) -> int:
    """Instructions the whole process executed (callgrind's "Collected" total)."""
    script = CASE.format(bench=os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(
        [
            *("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"),
            *(sys.executable, "-c", script, side, str(n), str(runs)),
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
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed (apt-get install valgrind)")
    per_node = {}
    for side in ("graphdeck", "asyncio"):
        total = instructions(side, args.n, args.runs) - instructions(side, args.n, 0)
        per_node[side] = total / (args.runs * args.n)
        print(f"{side:<10} {per_node[side]:>10,.0f} instructions per node", flush=True)
    print(f"ratio      {per_node['graphdeck'] / per_node['asyncio']:>10.3f}")


if __name__ == "__main__":
    main()
