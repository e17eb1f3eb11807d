"""What changed between two runs, per node, from `graphdeck.store.compare`: one change
each (the most telling one), ranked so that sorting by change puts the biggest first."""

from __future__ import annotations

from typing import Any

#: a node's change, most telling first (its rank sorts the table); colour and label
CHANGES: dict[str, tuple[str, str]] = {
    "only_a": ("#94a3b8", "only in A"),
    "only_b": ("#3b82f6", "only in B"),
    "state_changed": ("#ef4444", "state changed"),
    "outputs_changed": ("#f59e0b", "outputs changed"),
    "slower": ("#c2410c", "slower"),
    "faster": ("#22c55e", "faster"),
    "same": ("#e2e8f0", "same"),
}
RANK = {change: rank for rank, change in enumerate(CHANGES)}


def change_of(row: dict[str, Any], summary: dict[str, list[str]]) -> str:
    """The most telling change of one node row of a comparison (a key of `CHANGES`)."""
    for change in CHANGES:
        if change != "same" and row["id"] in summary.get(change, ()):
            return change
    return "same"


def changes(comparison: dict[str, Any]) -> dict[str, str]:
    """node id -> its change, for every node of either run."""
    summary = {key: set(ids) for key, ids in comparison["summary"].items()}
    return {row["id"]: change_of(row, summary) for row in comparison["nodes"]}  # type: ignore[arg-type]


def summary_text(comparison: dict[str, Any]) -> str:
    """`A 4192f0 → B 7c01ab: state changed 2 · outputs changed 1 · …` (or "no change"):
    the change first, its count after ("1 outputs changed" read wrong)."""
    summary = comparison["summary"]
    parts = [
        f"{CHANGES[key][1]} {len(summary[key]):,}"
        for key in CHANGES
        if key != "same" and summary.get(key)
    ]
    head = f"A {comparison['a'][:6]} → B {comparison['b'][:6]}: "
    return head + (" · ".join(parts) if parts else "no change")


def seconds_text(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.3f}"


def ratio_text(change: float | None) -> str:
    """B's time over A's: `×1.80`, or "—" without both."""
    return "—" if change is None else f"×{change:.2f}"
