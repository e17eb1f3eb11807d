"""How a run is to be started: the choices of the controls panel, as `start()` takes them.

Executors are named with the strings `graphdeck.executors.parse_executor` reads ("local",
"dask", "dask://HOST:PORT"), so the monitor and the CLI accept exactly the same ones; the
controls only add friendlier names for the first two.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphdeck.limits import BLOCK_THRESHOLD

LOCAL_CHOICE = "local"
CLUSTER_CHOICE = "local cluster (Dask)"
#: the executor combo's entries and the `parse_executor` spec each stands for; anything
#: else typed into the combo is passed on as it is (e.g. dask://HOST:PORT)
EXECUTOR_CHOICES = {LOCAL_CHOICE: "local", CLUSTER_CHOICE: "dask"}


def executor_spec(choice: str) -> str:
    """The `parse_executor` spec for what the executor combo shows."""
    choice = choice.strip()
    return EXECUTOR_CHOICES.get(choice, choice)


@dataclass(frozen=True)
class RunOptions:
    """The `start()` options a run was started with, kept to start it again alike."""

    max_concurrency: int | None = None  # None: the graph's own, else the default
    on_error: str = "stop"
    executor: str = "local"  # a `parse_executor` spec, resolved by the session
    # Invariant: None (no watchdog) or > 0 seconds, as `start()` requires.
    block_threshold: float | None = BLOCK_THRESHOLD
