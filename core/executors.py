"""Where tool bodies run. Scheduling, events and the monitor always stay in graphdeck; an
executor only decides where the body of each tool node executes.

    run(graph, executor="dask")                 # a LocalCluster on 127.0.0.1, for this run
    run(graph, executor="dask://10.0.0.5:8786") # the user's Dask scheduler
    run(graph, executor=DaskExecutor(address, security=Security(...)))  # TLS, reuse

A tool declared `@tool(executor="local")` always runs in-process. Dask is optional:
`pip install "graphdeck[dask]"`. Only offload tools that take >= ~50 ms: a Dask round trip
costs ~10 ms (bench/dask_offload.py). Dask notes: docs/design.md §7.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import sys
import tempfile
import threading
import warnings
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from ._tool import Tool

__all__ = [
    "DaskExecutor",
    "Executor",
    "ExecutorError",
    "Outcome",
    "parse_executor",
    "require_dask",
]

LOCAL = "local"
# Every HTTP server of a local cluster (the scheduler's dashboard, each worker's) on a
# free loopback port: never Dask's default 8787, which JupyterLab or another cluster may
# hold (distributed then warns, and moves anyway), and never beyond this machine.
LOOPBACK_ANY_PORT = "127.0.0.1:0"


class ExecutorError(RuntimeError):
    """The executor could not be started or reached (e.g. no scheduler at the address)."""


class Outcome(NamedTuple):
    """What a remote call gives back: its raw result or error, and the worker it ran on."""

    ok: bool
    value: Any  # the raw result, or the exception the body raised
    where: str | None


class Executor(Protocol):
    """What the scheduler needs from a remote executor."""

    name: str

    async def start(self) -> None: ...

    async def call(self, tool: Tool, inputs: dict[str, Any]) -> Outcome:
        """Run the tool's body once, remotely."""
        ...

    async def close(self) -> None: ...


def parse_executor(
    spec: str | Executor | None, *, quiet: bool = True
) -> tuple[Executor | None, bool]:
    """`None`/"local" -> no executor; "dask" -> a local cluster; "dask://HOST:PORT" -> that
    scheduler. Returns (executor, owned): an owned executor is closed with its run.
    `quiet` is given to a DaskExecutor made from a string (see DaskExecutor)."""
    if spec is None or spec == LOCAL:
        return None, False
    if isinstance(spec, str):
        if spec == "dask":
            return DaskExecutor(quiet=quiet), True
        if spec.startswith("dask://"):
            return DaskExecutor("tcp://" + spec.removeprefix("dask://"), quiet=quiet), True
        raise ValueError(f"unknown executor {spec!r}: use 'local', 'dask' or 'dask://HOST:PORT'")
    return spec, False


def require_dask() -> None:
    """Raise ExecutorError if the optional dask extra is not installed (checked up front,
    so `graphdeck run --executor dask` can say so before anything runs)."""
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        raise ExecutorError('the Dask executor needs Dask: pip install "graphdeck[dask]"') from exc


class _QuietDistributed:
    """Keeps distributed's own log lines and warnings off the terminal while at least one
    quiet executor is open (counted, so executors may open and close in any order).

    distributed's loggers are raised to CRITICAL (wherever their records would go: the
    stderr handlers distributed installs, or the application's own), and a warnings filter
    ignores warnings raised in distributed's modules; both are put back when the last
    quiet executor closes. Nothing else is touched: not the root logger, not other
    libraries' warnings. Worker processes are quietened by the LocalCluster itself
    (`silence_logs`)."""

    def __init__(self) -> None:
        self._users = 0
        self._lock = threading.Lock()
        self._levels: dict[logging.Logger, int] = {}
        self._warnings_entry: Any = None

    def acquire(self) -> None:
        with self._lock:
            self._users += 1
            if self._users > 1:
                return
            # The package's logger, and those of its modules that set a level of their own
            # (the others inherit the package's).
            loggers = [logging.getLogger("distributed")] + [
                logger
                for name, logger in list(logging.root.manager.loggerDict.items())
                if isinstance(logger, logging.Logger)
                and name.startswith("distributed.")
                and logger.level != logging.NOTSET
            ]
            self._levels = {logger: logger.level for logger in loggers}
            for logger in loggers:
                logger.setLevel(logging.CRITICAL)
            warnings.filterwarnings("ignore", module=r"distributed(\.|$)")
            self._warnings_entry = warnings.filters[0]

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users > 0:
                return
            for logger, level in self._levels.items():
                logger.setLevel(level)
            self._levels = {}
            # Gone already if a warnings.catch_warnings() block has restored the list since.
            with contextlib.suppress(ValueError):
                warnings.filters.remove(self._warnings_entry)
            self._warnings_entry = None


_quiet_distributed = _QuietDistributed()


def _run_on_worker(tool: Tool, inputs: dict[str, Any]) -> tuple[bool, Any, str]:
    """Executed on a Dask worker: call the body, check that the result can travel back,
    and say where it ran. Errors come back as values so the client can name the worker."""
    import cloudpickle
    from distributed import get_worker

    where = get_worker().address
    fn = tool.fn
    try:
        # An async body gets a loop of its own: the worker's thread has none running.
        result = asyncio.run(fn(**inputs)) if inspect.iscoroutinefunction(fn) else fn(**inputs)
    except Exception as error:
        return False, error, where
    try:
        cloudpickle.dumps(result)
    except Exception as error:
        problem = TypeError(
            f"the result ({type(result).__name__}) cannot be pickled to come back from the "
            f"Dask worker: {error}"
        )
        return False, problem, where
    return True, result, where


class DaskExecutor:
    """Runs tool bodies on a Dask cluster.

    address: a scheduler to connect to ("tcp://host:port"); without one a LocalCluster is
        started, listening on 127.0.0.1 only, with `n_workers` worker processes.
    security: a `distributed.Security` (TLS) for a remote scheduler.
    processes: False starts an in-process cluster (fast; for tests).
    connect_timeout: seconds to reach a remote scheduler before the run fails.
    quiet: keep distributed's own log lines and warnings (a worker restarting, a task
        cancelled, ...) off the terminal while the executor is open; graphdeck reports
        what matters to the run itself. False shows them (`graphdeck run -v`).

    A local cluster's HTTP servers listen on free loopback ports, so another dashboard on
    Dask's default port 8787 never gets in the way.
    """

    name = "dask"

    def __init__(
        self,
        address: str | None = None,
        *,
        n_workers: int | None = None,
        threads_per_worker: int = 1,
        processes: bool = True,
        security: Any = None,
        connect_timeout: float = 10.0,
        quiet: bool = True,
    ) -> None:
        self.address = address
        self.connect_timeout = connect_timeout
        self.n_workers = n_workers
        self.threads_per_worker = threads_per_worker
        self.processes = processes
        self.security = security
        self.quiet = quiet
        self._quieting = False
        self.client: Any = None
        self._cluster: Any = None
        self._lock = asyncio.Lock()
        self._cancelling: set[asyncio.Future[Any]] = set()

    def __repr__(self) -> str:
        return f"<DaskExecutor {self.address or 'local cluster'}>"

    async def start(self) -> None:
        async with self._lock:
            if self.client is not None:
                return
            require_dask()
            import dask
            from distributed import Client, LocalCluster

            if self.quiet and not self._quieting:
                _quiet_distributed.acquire()
                self._quieting = True
            try:
                if self.address is None:
                    # A worker that dies fails its node at once (graphdeck retries apply)
                    # instead of Dask re-running it behind the scheduler's back.
                    # No statistical profiler on the workers: graphdeck does not read it,
                    # it samples every 10 ms, and its thread outlives a closed cluster.
                    settings = {
                        "distributed.scheduler.allowed-failures": 0,
                        "distributed.worker.profile.enabled": False,
                    }
                    with dask.config.set(settings):
                        options: dict[str, Any] = {
                            "processes": self.processes,
                            "n_workers": self.n_workers,
                            "threads_per_worker": self.threads_per_worker,
                            "dashboard_address": LOOPBACK_ANY_PORT,
                            "worker_dashboard_address": LOOPBACK_ANY_PORT,
                            "asynchronous": True,
                            "local_directory": tempfile.gettempdir(),
                            # Worker processes' own logging (False: as distributed says).
                            "silence_logs": logging.CRITICAL if self.quiet else False,
                        }
                        if self.processes:
                            # Never listen beyond loopback (an in-process cluster talks
                            # in memory and takes no host).
                            options["host"] = "127.0.0.1"
                        self._cluster = await LocalCluster(**options)
                    self.client = await Client(self._cluster, asynchronous=True)
                else:
                    self.client = await Client(
                        self.address,
                        asynchronous=True,
                        security=self.security,
                        timeout=self.connect_timeout,
                    )
            except Exception as exc:
                await self.close()
                where = self.address or "a local cluster"
                raise ExecutorError(f"could not start Dask on {where}: {exc}") from exc

    @property
    def scheduler_address(self) -> str | None:
        return self.client.scheduler.address if self.client is not None else None

    async def call(self, tool: Tool, inputs: dict[str, Any]) -> Outcome:
        import cloudpickle

        module = sys.modules.get(tool.fn.__module__)
        if module is not None and module.__name__.startswith("graphdeck_user_"):
            # Graph files are loaded by path: workers cannot import them, so their
            # functions travel by value.
            cloudpickle.register_pickle_by_value(module)

        for name, value in inputs.items():
            try:
                cloudpickle.dumps(value)
            except Exception as error:
                raise TypeError(
                    f"tool {tool.name!r}: argument {name!r} ({type(value).__name__}) cannot "
                    f"be pickled to send it to a Dask worker: {error}"
                ) from None
        future = self.client.submit(_run_on_worker, tool, inputs, pure=False)
        try:
            ok, value, where = await future
        except asyncio.CancelledError:
            # The node was cancelled (or timed out): stop the remote task too.
            cancelling = asyncio.ensure_future(self.client.cancel(future))
            self._cancelling.add(cancelling)
            cancelling.add_done_callback(self._cancelling.discard)
            raise
        if not ok:
            value.add_note(f"(ran on Dask worker {where})")
        return Outcome(ok, value, where)

    async def close(self) -> None:
        if self._cancelling:
            await asyncio.wait(list(self._cancelling))
        client, cluster = self.client, self._cluster
        self.client = self._cluster = None
        try:
            if client is not None:
                await client.close()
            if cluster is not None:
                await cluster.close()
        finally:
            if self._quieting:  # after closing: shutting down logs too
                self._quieting = False
                _quiet_distributed.release()
