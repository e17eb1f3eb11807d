"""Structured parallel primitives: bounded gather and map, fan-out with all/first/merge,
per-task and global timeouts, retries with backoff, rate limits.

    from graphdeck.parallel import parallel_map, TaskGroup, retry, RetryPolicy

    result = await parallel_map(fetch, urls, max_concurrent=16, timeout=30)
    pages = result.get_results()          # in input order

Every primitive runs on one engine (at most `max_concurrent` workers pulling items in
order; factories start only when a slot is free). Cancelling the caller cancels and awaits
every item. Inside a running graph_fn, the items appear as nodes of the run and the
primitive's occupancy is reported to the monitor.
"""

from ._executor import ParallelExecutor, TaskGroup, TaskThrottler, parallel_gather, parallel_map
from ._fanout import FanOutConfig, FanOutExecutor
from ._results import GatherResult, TaskResult, TaskStatus
from ._retry import RetryPolicy, retry

__all__ = [
    "FanOutConfig",
    "FanOutExecutor",
    "GatherResult",
    "ParallelExecutor",
    "RetryPolicy",
    "TaskGroup",
    "TaskResult",
    "TaskStatus",
    "TaskThrottler",
    "parallel_gather",
    "parallel_map",
    "retry",
]
