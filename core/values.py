"""Showing and hiding values: bounded reprs for display and storage, and `Secret`.

    from graphdeck import Secret
    run(graph, {"api_key": Secret(os.environ["API_KEY"])})

Every place that shows or stores a value (the monitor, the history, the CLI) goes through
`short_repr`, whose work is bounded by the size it keeps: a 200 MB output must not cost a
200 MB string to show its first line (a full `repr` took 11.9 s and 826 MB here).

A `Secret` is shown and stored as `Secret('***')`; the tool that receives it as an
argument (directly or inside lists, tuples and dicts) gets the real value.
"""

from __future__ import annotations

import json
import math
import reprlib
from typing import Any, Generic, TypeVar

__all__ = ["Secret", "reveal", "short_repr", "show_value"]

T = TypeVar("T")

#: characters a shown or stored repr keeps by default
REPR_LIMIT = 20_000


class Secret(Generic[T]):
    """A value kept out of the history, the monitor and the CLI's output.

    Its repr is `Secret('***')` wherever it is shown or stored; a tool receiving it as an
    argument gets `secret.value`. It compares by identity, so it is never equal to a
    stored placeholder (a re-run from history cannot restore it: give it again).
    """

    __slots__ = ("_value",)
    #: Invariant: True once any Secret was made in this process. Until then the scheduler
    #: skips looking for secrets in tool arguments (no cost for runs that use none).
    made = False

    def __init__(self, value: T) -> None:
        self._value = value
        Secret.made = True

    @property
    def value(self) -> T:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __reduce__(self) -> tuple[Any, ...]:
        # Travels to a remote executor's worker as itself (revealed there, by the tool's
        # caller); refusing to pickle would only break the run.
        return Secret, (self._value,)


def reveal(value: Any) -> Any:
    """`value` with every Secret replaced by its real value; containers are copied only
    when they hold one."""
    kind = type(value)
    if kind is Secret:
        return value.value
    if kind is dict:
        revealed = {k: reveal(v) for k, v in value.items()}
        return value if all(revealed[k] is v for k, v in value.items()) else revealed
    if kind is list or kind is tuple:
        items = [reveal(v) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return items if kind is list else tuple(items)
    return value


class _BoundedRepr(reprlib.Repr):
    """`reprlib.Repr` that also cuts bytes before converting them and never lets a custom
    `__repr__` raise (a broken repr must not lose the rest of a record)."""

    def repr_bytes(self, value: bytes, level: int) -> str:
        return self._cut(builtin_repr(value[: self.maxstring]), len(value) > self.maxstring)

    repr_bytearray = repr_bytes

    def repr_instance(self, value: Any, level: int) -> str:
        try:
            text = builtin_repr(value)
        except Exception as exc:
            return f"<{type(value).__name__}: repr failed: {exc!r}>"
        return text if len(text) <= self.maxother else text[: self.maxother] + "…"

    @staticmethod
    def _cut(text: str, cut: bool) -> str:
        return text + "…" if cut else text


builtin_repr = repr


def short_repr(value: Any, limit: int = REPR_LIMIT) -> str:
    """The repr of `value`, at most about `limit` characters, computed without building
    the full repr of big strings, bytes and containers."""
    shown = _BoundedRepr()
    shown.maxstring = shown.maxother = max(limit, 8)
    shown.maxlist = shown.maxtuple = shown.maxset = shown.maxfrozenset = shown.maxdeque = max(
        limit // 8, 4
    )
    shown.maxdict = max(limit // 16, 4)
    shown.maxlevel = 8
    text = shown.repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def show_value(value: Any, limit: int = REPR_LIMIT) -> str:
    """For reading: indented JSON when `value` is plain data (str, int, float, bool, None,
    lists and str-keyed dicts) that fits in `limit` characters, else `short_repr`. The work
    is bounded by `limit` either way."""
    if _plain_within(value, limit):
        text = json.dumps(value, indent=2, ensure_ascii=False)
        if len(text) <= limit:
            return text
    return short_repr(value, limit)


def _plain_within(value: Any, budget: int) -> bool:
    """Whether `value` is plain data of at most about `budget` characters (it gives up as
    soon as the budget is spent, however big the value)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            budget -= len(item) + 2
        elif kind is int or kind is bool or item is None:
            budget -= 6
        elif kind is float:
            if not math.isfinite(item):
                return False
            budget -= 12
        elif kind is list:
            budget -= 2 + len(item)
            if budget >= 0:
                stack.extend(item)
        elif kind is dict:
            budget -= 2 + 4 * len(item)
            if budget >= 0:
                for key, entry in item.items():
                    if type(key) is not str:
                        return False
                    budget -= len(key)
                    stack.append(entry)
        else:
            return False
        if budget < 0:
            return False
    return True
