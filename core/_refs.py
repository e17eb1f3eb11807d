"""References between nodes: finding them in a call's inputs, checking them, and reading
the values they point to once their nodes succeeded."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._node import Node, Ref
from .errors import GraphBuildError

_SCALARS = frozenset({int, float, str, bool, bytes, type(None)})


def collect_refs(value: Any, found: list[str]) -> Any:
    """Return `value` with every reference-like object (a builder's handle) replaced by a
    Ref, appending every referenced node id to `found`. Containers are copied only when
    something in them had to be replaced."""
    kind = type(value)
    if kind is Ref:
        found.append(value.node_id)
        return value
    if kind is list or kind is tuple:
        replaced = None
        for index, item in enumerate(value):
            item_kind = type(item)
            if item_kind is Ref:  # a fan-in's list of `handle.out`: no call per item
                found.append(item.node_id)
            elif item_kind not in _SCALARS:
                converted = collect_refs(item, found)
                if converted is not item:
                    if replaced is None:
                        replaced = list(value)
                    replaced[index] = converted
        if replaced is None:
            return value
        return replaced if kind is list else tuple(replaced)
    if kind is dict:
        copied = None
        for key, item in value.items():
            if type(item) in _SCALARS:
                continue
            converted = collect_refs(item, found)
            if converted is not item:
                if copied is None:
                    copied = dict(value)
                copied[key] = converted
        return value if copied is None else copied
    # Builder handles and subgraph results say what they refer to. (Looked up on the class:
    # a user object answering any attribute, such as a mock, is a plain value.)
    as_refs = getattr(kind, "_graphdeck_refs_", None)
    if as_refs is not None:
        return collect_refs(as_refs(value), found)
    return value


def shallow_refs(inputs: dict[str, Any], found: list[str]) -> bool:
    """The usual inputs: values, Refs and lists of Refs (a fan-in). Appends the node ids
    they refer to and returns True; False when the inputs need `collect_refs`."""
    for value in inputs.values():
        value_type = type(value)
        if value_type is Ref:
            found.append(value.node_id)
        elif value_type is list:
            for item in value:
                if type(item) is Ref:
                    found.append(item.node_id)
                elif type(item) not in _SCALARS:
                    return False
        elif value_type not in _SCALARS:
            return False
    return True


def resolve_refs(value: Any, nodes: Mapping[str, Node]) -> Any:
    """Replace every Ref in `value` by the concrete output it points to."""
    kind = type(value)
    if kind is dict:
        return resolve_inputs(value, nodes)
    if kind is list:
        return _resolve_all(value, nodes)
    if kind is tuple:
        return tuple(_resolve_all(value, nodes))
    if kind is Ref:
        return _resolve_all((value,), nodes)[0]
    return value


def resolve_inputs(inputs: dict[str, Any], nodes: Mapping[str, Node]) -> dict[str, Any]:
    """A node's inputs with every Ref replaced by the value it points to."""
    return dict(zip(inputs, _resolve_all(inputs.values(), nodes), strict=True))


def _resolve_all(items: Iterable[Any], nodes: Mapping[str, Node]) -> list[Any]:
    """`items` resolved, as a list: the one place a Ref is read, with no call per Ref or
    per list of Refs (a fan-in has thousands; a DAG node's inputs, a few)."""
    resolved = []
    for item in items:
        item_type = type(item)
        if item_type is Ref:
            outputs = nodes[item.node_id].outputs
            assert outputs is not None, f"{item} read before its node succeeded"
            item = outputs if item.key is None else outputs[item.key]
        elif item_type is list:
            item = _resolve_all(item, nodes)
        elif item_type not in _SCALARS:
            item = resolve_refs(item, nodes)
        resolved.append(item)
    return resolved


def check_ref_keys(node: Node, items: Iterable[Any], nodes: Mapping[str, Node]) -> None:
    """Every `Ref(x, key)` in the node's inputs must name an output x's tool declares."""
    for item in items:
        kind = type(item)
        if kind is Ref:
            if item.key is None:
                continue
            source = nodes[item.node_id]
            declared = source.tool.outputs
            if declared is not None and item.key not in declared:
                raise GraphBuildError(
                    f"node {node.id!r} ({node.tool.name}) reads output {item.key!r} of "
                    f"node {source.id!r}, but tool {source.tool.name!r} declares only "
                    f"{', '.join(declared)}"
                )
        elif kind is list or kind is tuple:
            check_ref_keys(node, item, nodes)
        elif kind is dict:
            check_ref_keys(node, item.values(), nodes)
