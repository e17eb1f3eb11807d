"""Fan-out to N workers and aggregate: all results, the first success, or a merge."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ._engine import Engine, take_items
from ._results import GatherResult
from ._run_link import observer_for

Aggregation = Literal["all", "first", "merge"]
_AGGREGATIONS = ("all", "first", "merge")


@dataclass(frozen=True)
class FanOutConfig:
    """max_concurrent: workers at once. timeout: seconds for the whole fan-out.
    aggregation: "all" (the GatherResult), "first" (the first success; the losers are
    cancelled at once) or "merge" (`merge_fn` of all successful results).
    retry_failed / max_retries: re-invoke a failed worker's factory up to max_retries times.
    """

    max_concurrent: int = 8
    timeout: float | None = 60.0
    aggregation: Aggregation = "all"
    retry_failed: bool = False
    max_retries: int = 2

    def __post_init__(self) -> None:
        if self.max_concurrent < 1:
            raise ValueError(f"max_concurrent must be >= 1, got {self.max_concurrent!r}")
        if self.aggregation not in _AGGREGATIONS:
            raise ValueError(
                f"aggregation must be one of {_AGGREGATIONS}, got {self.aggregation!r}"
            )
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries!r}")
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError(f"timeout must be > 0, got {self.timeout!r}")


Worker = Awaitable[Any] | Callable[[], Awaitable[Any]]


class FanOutExecutor:
    def __init__(self, config: FanOutConfig | None = None) -> None:
        self.config = config or FanOutConfig()

    async def fan_out(
        self,
        workers: Sequence[Worker],
        merge_fn: Callable[[list[Any]], Any] | None = None,
    ) -> Any:
        """Dispatch every worker and aggregate as configured.

        "all" returns the GatherResult; "first" returns the first successful value (all
        failing raises an ExceptionGroup of their errors); "merge" returns
        `merge_fn(results)`. Argument errors are raised before anything starts.
        """
        config = self.config
        workers = take_items(workers)  # a bad worker raises here, before any worker starts
        problem: Exception | None = None
        if config.aggregation == "merge" and merge_fn is None:
            problem = ValueError('aggregation="merge" needs a merge_fn(results) -> value')
        elif config.retry_failed and any(inspect.isawaitable(w) for w in workers):
            problem = TypeError(
                "retry_failed=True needs factories (e.g. `lambda: work(x)`), not coroutine "
                "objects: an awaitable can run only once, so a retry could not call it again"
            )
        if problem is not None:
            _close_all(workers)
            raise problem
        engine = Engine(
            limit=config.max_concurrent,
            stop_on_success=config.aggregation == "first",
            retries=config.max_retries if config.retry_failed else 0,
            observer=observer_for("fan_out", config.max_concurrent),
        )
        for worker in workers:
            engine.add(worker)
        result = await engine.run(config.timeout)
        if config.aggregation == "first":
            return _first(result, engine)
        if config.aggregation == "merge":
            assert merge_fn is not None
            return merge_fn(result.get_results())
        return result


def _first(result: GatherResult, engine: Engine) -> Any:
    if engine.first_success is not None:
        return engine.first_success.result
    errors = [error for _, error in result.get_errors() if isinstance(error, Exception)]
    if errors:
        raise ExceptionGroup(f"all {result.total} workers failed", errors)
    raise TimeoutError(f"none of {result.total} workers succeeded before the timeout")


def _close_all(workers: list[Worker]) -> None:
    """Never-started coroutine objects are closed, so no 'never awaited' warning."""
    for worker in workers:
        if inspect.iscoroutine(worker):
            worker.close()
