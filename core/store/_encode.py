"""Values to JSON and back, and errors to text, for the history database.

A stored value must come back as the same value or not at all: JSON turns tuples into
lists and int keys into strings silently. So only "plain" data (str, int, float, bool,
None, lists and str-keyed dicts of those) is stored as JSON and restorable; anything else
is stored as its repr under a `$repr` marker and is never fed back into a run.
"""

from __future__ import annotations

import json
import math
import traceback
from typing import Any

from .._graph import Ref

REPR_KEY = "$repr"
REF_KEY = "$ref"
_REPR_LIMIT = 20_000  # characters of a repr kept (a huge value must not bloat the file)
_SCALARS = (str, int, bool, type(None))
#: one encoder built once: `json.dumps(x, separators=…)` builds a new one per call
dumps = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def _plain(value: Any) -> bool:
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is float:
        return math.isfinite(value)
    if kind is list:
        return all(_plain(item) for item in value)
    if kind is dict:
        return all(type(k) is str and _plain(v) for k, v in value.items())
    return False


def _marked_repr(value: Any) -> dict[str, str]:
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not lose the rest of the record
        text = f"<{type(value).__name__}: repr failed: {exc!r}>"
    return {REPR_KEY: text[:_REPR_LIMIT]}


def encode_mapping(values: dict[str, Any] | None) -> tuple[str | None, bool]:
    """JSON text of a dict of values and whether every value in it is restorable."""
    if values is None:
        return None, True
    if _plain(values):
        return dumps(values), True
    encoded = {
        str(key): value if _plain(value) else _marked_repr(value) for key, value in values.items()
    }
    return dumps(encoded), False


def encode_inputs(values: dict[str, Any]) -> str:
    """Declared inputs: references to other nodes are kept as `{"$ref": id, "key": k}`."""
    return dumps(values if _plain(values) else _with_refs(values))


def _with_refs(value: Any) -> Any:
    kind = type(value)
    if kind is Ref:
        return {REF_KEY: value.node_id, "key": value.key}
    if kind is dict:
        return {str(k): _with_refs(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_with_refs(v) for v in value]
    return value if _plain(value) else _marked_repr(value)


def decode(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def unrestorable_keys(values: dict[str, Any] | None) -> set[str]:
    """Keys of a decoded mapping whose value was stored as a repr only."""
    if not values:
        return set()
    return {k for k, v in values.items() if isinstance(v, dict) and set(v) == {REPR_KEY}}


def describe_error(error: BaseException | None) -> tuple[str | None, str | None]:
    """One-line description and full traceback text of an error."""
    if error is None:
        return None, None
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    trace = "".join(traceback.format_exception(error))
    return text, trace
