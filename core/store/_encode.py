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
from collections.abc import Callable
from json import encoder as _json_encoder
from typing import Any

from .. import Ref
from ..values import REPR_LIMIT, short_repr

REPR_KEY = "$repr"
REF_KEY = "$ref"
_SCALARS = (str, int, bool, type(None))
_FLAT_TYPES = frozenset(_SCALARS)  # a dict of these under str keys is plain at a glance
_STR_ONLY = frozenset({str})


def _unencodable(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON data")


def _make_dumps() -> Callable[[Any], str]:
    """Compact JSON text of plain data, from one C encoder built once.

    `JSONEncoder.encode` builds a new C encoder on every call (in Python), which was half
    the cost of encoding a node's small inputs and outputs; the writer encodes two per
    node. Where the C encoder is unavailable (or its signature differs), the stdlib way.
    """
    fallback = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
    make = _json_encoder.c_make_encoder
    if make is None:
        return fallback
    try:
        encode = make(
            None,
            _unencodable,
            _json_encoder.encode_basestring_ascii,
            None,
            ":",
            ",",
            False,
            False,
            True,
        )  # markers, default, str encoder, indent, separators, sort_keys, skipkeys, allow_nan
        if "".join(encode({"a": [1, None]}, 0)) != '{"a":[1,null]}':
            return fallback
    except TypeError:
        return fallback
    join = "".join

    def dumps(value: Any) -> str:
        return join(encode(value, 0))

    return dumps


dumps = _make_dumps()


def _plain(value: Any) -> bool:
    kind = type(value)
    # The common case, a flat dict of scalars, checked with C-level loops (no frame per
    # item): the writer calls this twice per node.
    if (
        kind is dict
        and _FLAT_TYPES.issuperset(map(type, value.values()))
        and _STR_ONLY.issuperset(map(type, value))
    ):
        return True
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
    """The value's repr, bounded: the work is bounded by the characters kept (a 200 MB
    output costs no 200 MB string), a broken __repr__ does not lose the rest of the
    record, and a `Secret` is stored as `Secret('***')` only."""
    return {REPR_KEY: short_repr(value, REPR_LIMIT)}


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
    """One-line description and traceback text of an error, each cut at REPR_LIMIT
    characters (an error can carry a huge message: the history keeps its start)."""
    if error is None:
        return None, None
    message = str(error)
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    trace = "".join(traceback.format_exception(error))
    return _cut(text), _cut(trace)


def _cut(text: str) -> str:
    return text if len(text) <= REPR_LIMIT else text[:REPR_LIMIT] + "…"
