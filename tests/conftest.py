"""Test set-up shared by the whole suite.

- Qt runs offscreen: set before any QApplication can exist.
- The run history goes to a per-session temporary file, never the user's own
  (GRAPHDECK_STORE is inherited by the `graphdeck` processes tests start).
- `async def` tests run on a fresh event loop each (no plugin needed), and fail if they
  leave tasks behind or if the loop logged an exception nobody handled.
- `dask_dashboard_port_taken`: Dask's default dashboard port is busy, as on a machine with
  JupyterLab or another cluster open.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import inspect
import socket
import tempfile
from collections.abc import Iterator

import pytest

from asyncsupport import run_on_fresh_loop

_HISTORY_DIR = tempfile.TemporaryDirectory(prefix="graphdeck-tests-")
os.environ["GRAPHDECK_STORE"] = os.path.join(_HISTORY_DIR.name, "history.sqlite3")


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    run_on_fresh_loop(pyfuncitem.obj(**kwargs))
    return True


DASK_DASHBOARD_PORT = 8787


@pytest.fixture(scope="module")
def dask_dashboard_port_taken() -> Iterator[None]:
    """Hold Dask's default dashboard port while a module's tests run: graphdeck must not
    need it (a LocalCluster on the default port warns, and a warning is an error here).
    If another process holds it already, that is the same condition, so the fixture
    only checks that the port really is taken."""
    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", DASK_DASHBOARD_PORT))
        holder.listen()
    except OSError:
        holder.close()  # taken by someone else
    with socket.socket() as probe, pytest.raises(OSError):
        probe.bind(("127.0.0.1", DASK_DASHBOARD_PORT))
    try:
        yield
    finally:
        holder.close()
