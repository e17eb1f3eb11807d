"""What a parallel run of awaitables reports: one `TaskResult` per item, in input order,
gathered in a `GatherResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class TaskStatus(StrEnum):
    """Lifecycle of one item."""

    PENDING = "pending"  # not started (yet)
    RUNNING = "running"
    COMPLETED = "completed"  # returned a value
    FAILED = "failed"  # raised
    TIMEOUT = "timeout"  # ran past `task_timeout`, or unfinished when the global timeout hit
    CANCELLED = "cancelled"  # cancelled (fail-fast, a winner in "first" mode, the caller)


class TaskResult:
    """The outcome of one item. `index` is its position in the input."""

    __slots__ = (
        "_group",
        "error",
        "finished_at",
        "index",
        "result",
        "retries",
        "started_at",
        "status",
    )

    def __init__(self, group: str, index: int) -> None:
        self._group = group
        self.index = index
        self.status = TaskStatus.PENDING
        self.result: Any = None
        self.error: BaseException | None = None
        self.started_at = 0.0  # time.monotonic()
        self.finished_at = 0.0
        self.retries = 0

    @property
    def task_id(self) -> str:
        """Unique within the process: the gather's id and the item's index."""
        return f"{self._group}-{self.index}"

    @property
    def duration_ms(self) -> float:
        if not self.started_at or not self.finished_at:
            return 0.0
        return (self.finished_at - self.started_at) * 1000.0

    def __repr__(self) -> str:
        return f"<TaskResult {self.task_id} {self.status.value}>"


@dataclass
class GatherResult:
    """Every item's `TaskResult` in input order, and counts that add up to `total`."""

    results: list[TaskResult] = field(default_factory=list)
    total: int = 0
    completed: int = 0
    failed: int = 0
    timed_out: int = 0
    cancelled: int = 0
    total_duration_ms: float = 0.0

    @classmethod
    def from_results(cls, results: list[TaskResult], duration_ms: float) -> GatherResult:
        counts = dict.fromkeys(TaskStatus, 0)
        for result in results:
            counts[result.status] += 1
        return cls(
            results=results,
            total=len(results),
            completed=counts[TaskStatus.COMPLETED],
            failed=counts[TaskStatus.FAILED],
            timed_out=counts[TaskStatus.TIMEOUT],
            cancelled=counts[TaskStatus.CANCELLED],
            total_duration_ms=duration_ms,
        )

    @property
    def all_succeeded(self) -> bool:
        return self.completed == self.total

    @property
    def success_rate(self) -> float:
        return self.completed / self.total if self.total else 0.0

    def get_results(self) -> list[Any]:
        """The values of the completed items, in input order."""
        return [r.result for r in self.results if r.status is TaskStatus.COMPLETED]

    def get_errors(self) -> list[tuple[str, BaseException]]:
        """(task_id, error) of the items that failed or timed out, in input order."""
        return [(r.task_id, r.error) for r in self.results if r.error is not None]
