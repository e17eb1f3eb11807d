"""parallel_map cost per item, against asyncio.gather + Semaphore in the same run.

    python bench/parallel.py            # N = 1k, 10k, 100k at max_concurrent 4 and 64
    python bench/parallel.py --quick    # N = 1k, 10k

Both run N trivial coroutines (each awaits `asyncio.sleep(0)` once, as any I/O call does).
`parallel_map` takes items lazily and calls the function only when a slot is free, so its
memory per item stays flat in N; gather must create every coroutine and Task up front.
Each time is the best of `--repeat` runs; memory is a separate tracemalloc pass.
"""

from __future__ import annotations

import asyncio

from _measure import compare, parse_options

from graphdeck.parallel import parallel_map


async def trivial(x: int) -> int:
    await asyncio.sleep(0)
    return x


async def ours(n: int, cap: int) -> int:
    result = await parallel_map(trivial, range(n), max_concurrent=cap, timeout=None)
    return result.completed


async def baseline(n: int, cap: int) -> int:
    sem = asyncio.Semaphore(cap)

    async def one(x: int) -> int:
        async with sem:
            return await trivial(x)

    return len(await asyncio.gather(*(one(i) for i in range(n))))


def main() -> None:
    args, sizes = parse_options(__doc__)
    header = (
        f"{'N':>8}{'cap':>5}{'parallel_map µs':>17}{'gather µs':>11}{'ratio':>7}"
        f"{'parallel_map KB':>17}{'gather KB':>11}"
    )
    print(header)
    print("-" * len(header))
    for n in sizes:
        for cap in (4, 64):
            ours_s, base_s, ours_kb, base_kb = compare(ours, baseline, n, cap, args.repeat)
            print(
                f"{n:>8}{cap:>5}{ours_s / n * 1e6:>17.2f}{base_s / n * 1e6:>11.2f}"
                f"{ours_s / base_s:>7.2f}{ours_kb:>17.3f}{base_kb:>11.3f}",
                flush=True,
            )
    print(f"per item; best of {args.repeat} runs; ratio < 1: parallel_map is faster.")


if __name__ == "__main__":
    main()
