"""`@graphify`: a plain builder function whose tool calls become a static TaskGraph.

The builder runs when a run starts, with that run's concrete input values, so
`for v in vals:` fans out over the real list whatever its length (the reference
implementation silently built 3 nodes). Fan-out over a value known only at run time uses
`tool.map(...)`. A graphify called inside another builder is inlined as a named subgraph.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from . import _context
from ._frames import innermost_user_frame
from ._graph import TaskGraph, bind_graph_inputs
from ._node import Node as _Node
from ._node import NodeKind, Ref, checked_ref
from ._refs import collect_refs
from ._tool import Tool
from .errors import GraphBuildError


class NodeHandle:
    """What calling a tool inside a graphify builder returns.

    `handle.out` (or `handle["out"]`) is a reference to output `out`; passing the handle
    itself refers to the whole output dict. Handles and refs may be nested in lists and
    dicts given to other tools (fan-in).
    """

    __slots__ = ("_node",)

    def __init__(self, node: _Node) -> None:
        self._node = node

    @property
    def node_id(self) -> str:
        return self._node.id

    def _graphdeck_refs_(self) -> Ref:
        return checked_ref(self._node.id, None)

    def __getitem__(self, key: str) -> Ref:
        node = self._node
        declared = node.tool.outputs
        if declared is not None and key not in declared:
            raise GraphBuildError(
                f"node {node.id!r}: tool {node.tool.name!r} has no output "
                f"{key!r} (its outputs: {', '.join(declared)})"
            )
        return checked_ref(node.id, key)

    def __getattr__(self, key: str) -> Ref:
        if key[:2] == "__":
            raise AttributeError(key)
        return self.__getitem__(key)

    def __iter__(self) -> Iterator[Any]:
        # Without this, `for x in handle` would loop forever over __getitem__(0), (1), …
        raise GraphBuildError(
            f"node {self._node.id!r}: its outputs are not known while the graph is built; "
            "to fan out over a value computed at run time, call `some_tool.map(x=ref)`"
        )

    def __repr__(self) -> str:
        return f"<NodeHandle {self._node.id}>"


def handle_type(tool: Tool) -> type[NodeHandle]:
    """The handle class of a tool's calls: a NodeHandle subclass with one property per
    declared output, made once per tool (kept on it).

    `handle.out` is then a plain property, where `__getattr__` would first have Python fail
    the normal lookup and build an AttributeError (~1 µs per reference; a 100k-way fan-in
    makes 100k of them). A property exists only for a declared output, so the Ref it makes
    needs no further check.
    """
    made = tool.handle_type
    if made is None:
        names = [k for k in tool.outputs or () if k.isidentifier() and not hasattr(NodeHandle, k)]
        namespace: dict[str, Any] = {"__slots__": ()}
        for name in names:
            namespace[name] = property(_output_ref(name), doc=f"a reference to output {name!r}")
        made = tool.handle_type = type("NodeHandle", (NodeHandle,), namespace)
    return made


#: `object.__new__`, looked up once: handles and the Refs their properties make are created
#: without an `__init__` frame (measured: 1,350 fewer instructions per node of a 10k
#: fan-out build, 5 %, bench/instructions.py)
_bare = object.__new__


def _output_ref(key: str) -> Any:
    def ref(handle: NodeHandle) -> Ref:
        made = _bare(Ref)
        made.node_id = handle._node.id
        made.key = key
        return made

    return ref


class Builder:
    """Collects the nodes a builder function adds, giving them readable unique ids."""

    def __init__(self, graph: TaskGraph) -> None:
        self.graph = graph
        self._counts: dict[str, int] = {}
        self._prefix: list[str] = []
        self.group: str | None = None  # "outer/inner" while inlining subgraphs

    def _new_id(self, base: str) -> str:
        scoped = f"{self.group}/{base}" if self.group else base
        n = self._counts.get(scoped, 0)
        self._counts[scoped] = n + 1
        return f"{scoped}_{n}"

    def add_call(self, tool: Tool, inputs: dict[str, Any]) -> NodeHandle:
        node = self.graph.add_node(self._new_id(tool.name), tool, inputs, NodeKind.TOOL, self.group)
        handle = _bare(tool.handle_type or handle_type(tool))
        handle._node = node
        return handle

    def add_map(self, tool: Tool, inputs: dict[str, Any]) -> NodeHandle:
        node_id = self._new_id(f"{tool.name}.map")
        node = self.graph.add_node(node_id, tool, inputs, kind=NodeKind.MAP, group=self.group)
        return NodeHandle(node)

    def inline(self, sub: Graphify, inputs: dict[str, Any]) -> SubgraphHandle:
        """Run a nested graphify's builder here, its nodes prefixed with its name."""
        scoped = f"{self.group}/{sub.name}" if self.group else sub.name
        n = self._counts.get(scoped, 0)
        self._counts[scoped] = n + 1
        self._prefix.append(sub.name if n == 0 else f"{sub.name}_{n}")
        self.group = "/".join(self._prefix)
        try:
            returned = sub.fn(**inputs)
        finally:
            self._prefix.pop()
            self.group = "/".join(self._prefix) or None
        return SubgraphHandle(sub, _check_returned(sub, returned))


class SubgraphHandle:
    """What calling a graphify inside another builder returns: its outputs as attributes
    (`sub.total`) or items (`sub["total"]`)."""

    def __init__(self, sub: Graphify, outputs: dict[str, Any]) -> None:
        self._sub = sub
        self._outputs = outputs

    def __getitem__(self, key: str) -> Any:
        try:
            return self._outputs[key]
        except KeyError:
            raise GraphBuildError(
                f"subgraph {self._sub.name!r} has no output {key!r} "
                f"(its outputs: {', '.join(self._outputs)})"
            ) from None

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return self[key]

    def _graphdeck_refs_(self) -> dict[str, Any]:
        return self._outputs


def _check_returned(graph: Graphify, returned: Any) -> dict[str, Any]:
    """The builder must return a mapping holding every declared output."""
    if returned is None and not graph.outputs:
        return {}
    if isinstance(returned, NodeHandle | Ref) and len(graph.outputs) == 1:
        returned = {graph.outputs[0]: returned}
    if not isinstance(returned, Mapping):
        raise GraphBuildError(
            f"graphify {graph.name!r}: the builder must return a dict of its outputs "
            f"{list(graph.outputs)}, got {type(returned).__name__}"
        )
    missing = [k for k in graph.outputs if k not in returned]
    if missing:
        raise GraphBuildError(
            f"graphify {graph.name!r}: the builder's result lacks declared output(s) {missing}"
        )
    return dict(returned)


class Graphify:
    """A static graph definition. `build(**inputs)` makes its TaskGraph without running."""

    kind = "graphify"

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None,
        inputs: Sequence[str] | None,
        outputs: Sequence[str] | None,
    ) -> None:
        if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
            raise TypeError(
                f"@graphify needs a plain `def` builder; {fn.__name__!r} is async. A builder "
                "only wires tool calls together (nothing in it is awaited): write `def`, or "
                "use @graph_fn for an agent whose body awaits its tool calls"
            )
        self.fn = fn
        self.name: str = name or fn.__name__
        signature = inspect.signature(fn)
        params = [
            p.name
            for p in signature.parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        self.inputs: tuple[str, ...] = tuple(inputs) if inputs is not None else tuple(params)
        self.outputs: tuple[str, ...] = tuple(outputs or ())
        unknown = [i for i in self.inputs if i not in params]
        if unknown and not any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
            raise GraphBuildError(
                f"graphify {self.name!r} declares inputs {unknown} its builder does not take"
            )
        #: default values for inputs, taken from the builder's signature
        self.defaults: dict[str, Any] = {
            p.name: p.default
            for p in signature.parameters.values()
            if p.default is not p.empty and p.name in self.inputs
        }
        self.max_concurrency: int | None = None
        functools.update_wrapper(self, fn)

    def __repr__(self) -> str:
        return f"<graphify {self.name}>"

    def bind_inputs(self, inputs: Mapping[str, Any] | None) -> dict[str, Any]:
        return bind_graph_inputs(self.name, self.inputs, self.defaults, inputs)

    def prepare(self, inputs: Mapping[str, Any] | None) -> tuple[TaskGraph, None]:
        """What `graphdeck.start` runs: the graph built from these inputs (no agent)."""
        return self.build(**dict(inputs or {})), None

    def build(self, **inputs: Any) -> TaskGraph:
        """Run the builder with these concrete inputs and return the validated graph."""
        values = self.bind_inputs(inputs)
        graph = TaskGraph(self.name, values)
        builder = Builder(graph)
        token = _context.current_builder.set(builder)
        try:
            returned = self.fn(**values)
        except (Exception, SystemExit, KeyboardInterrupt) as exc:
            if isinstance(exc, KeyboardInterrupt) and _context.exit_requested():
                raise
            raise _build_failed(self, exc) from exc
        finally:
            _context.current_builder.reset(token)
        outputs = _check_returned(self, returned)
        found: list[str] = []
        graph.outputs = collect_refs(outputs, found)
        return graph.finalize()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """In a builder: inline as a subgraph. Elsewhere: an awaitable of the run's outputs
        (a child run when called inside a running graph_fn)."""
        if args:
            kwargs = {**dict(zip(self.inputs, args, strict=False)), **kwargs}
        builder = _context.current_builder.get()
        if builder is not None:
            return builder.inline(self, self.bind_inputs(kwargs))
        from .runner import run_async

        max_concurrency = kwargs.pop("max_concurrency", None)
        return run_async(self, kwargs, max_concurrency=max_concurrency)


def _build_failed(graph: Graphify, error: BaseException) -> GraphBuildError:
    """Whatever a builder raises is a build error of one line: where (the innermost line
    of user code) and what. (A KeyError used to print only its key; other errors, a
    traceback.)"""
    frame = innermost_user_frame(error.__traceback__)
    where = f"{frame.filename}:{frame.lineno}: " if frame is not None else ""
    if isinstance(error, GraphBuildError):
        return GraphBuildError(f"{where}{error}")
    described = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return GraphBuildError(f"{where}graphify {graph.name!r} failed to build: {described}")


def graphify(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    inputs: Sequence[str] | None = None,
    outputs: Sequence[str] | None = None,
) -> Any:
    """Declare a static graph. `inputs` defaults to the builder's parameters; values not
    given to a run come from the builder's defaults."""

    def wrap(function: Callable[..., Any]) -> Graphify:
        return Graphify(function, name=name, inputs=inputs, outputs=outputs)

    return wrap(fn) if fn is not None else wrap
