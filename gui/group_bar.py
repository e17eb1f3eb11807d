"""A group box's per-state bar and the line saying what ended badly, so that 20 failed
members of 20,000 show on the box itself, not only in the group's inspector.

Proportional widths alone hid them: 20/20,000 of a 174-unit bar is under a pixel, and the
bar read all green. Every state that has members gets at least `MIN_SEGMENT` (taken from
the widest states), and a box with failed, timed-out or cancelled members says how many
under its bar ("20 failed · 3 timed out"). Far out, where boxes are plain rectangles
coloured by their most common state, such a box gets a strip of its worst end's colour.
All of it is read from the counts the canvas keeps anyway: nothing per member.
"""

from __future__ import annotations

from collections import Counter

from graphdeck import NodeState

from .theme import NODE_COLOURS

#: the ends that are not a success, worst first (what a box names and strips)
BAD_ENDS = (NodeState.FAILED, NodeState.TIMED_OUT, NodeState.CANCELLED)
#: the narrowest a state's segment is drawn, in scene units (a few pixels at any zoom
#: that draws bars)
MIN_SEGMENT = 5.0
#: the problem line's colour when something failed or timed out (darker than the failed
#: fill, to read as text on the group's pale box)
PROBLEM_TEXT = "#b91c1c"
CANCELLED_TEXT = "#475569"


def segments(counts: Counter[NodeState], width: float) -> list[tuple[NodeState, float]]:
    """The bar's segments in the states' order: (state, width), one per state with
    members, each at least `MIN_SEGMENT` wide when the bar has room for that."""
    present = [(state, counts[state]) for state in NodeState if counts.get(state, 0) > 0]
    if not present:
        return []
    total = sum(n for _, n in present)
    widths = {state: width * n / total for state, n in present}
    if MIN_SEGMENT * len(present) > width:
        return [(state, widths[state]) for state, _ in present]
    small: set[NodeState] = set()
    while True:  # raise the narrow ones; the rest share what is left, in proportion
        newly = {s for s, w in widths.items() if s not in small and w < MIN_SEGMENT}
        if not newly:
            break
        small |= newly
        rest = [s for s, _ in present if s not in small]
        room = width - MIN_SEGMENT * len(small)
        counted = sum(counts[s] for s in rest)
        for state, _ in present:
            widths[state] = MIN_SEGMENT if state in small else room * counts[state] / counted
    return [(state, widths[state]) for state, _ in present]


def problem_text(counts: Counter[NodeState] | None) -> str:
    """`20 failed · 3 timed out · 1,200 cancelled` ("" when nothing ended badly)."""
    if not counts:
        return ""
    return " · ".join(
        f"{counts[state]:,} {state.value.replace('_', ' ')}"
        for state in BAD_ENDS
        if counts.get(state, 0) > 0
    )


def problem_colour(counts: Counter[NodeState] | None) -> str | None:
    """The colour that marks a box whose members ended badly (None: none did)."""
    for state in BAD_ENDS:
        if counts and counts.get(state, 0) > 0:
            return NODE_COLOURS[state]
    return None


def text_colour(counts: Counter[NodeState]) -> str:
    """Red when something failed or timed out, grey when members were only cancelled."""
    bad = counts.get(NodeState.FAILED, 0) + counts.get(NodeState.TIMED_OUT, 0)
    return PROBLEM_TEXT if bad else CANCELLED_TEXT
