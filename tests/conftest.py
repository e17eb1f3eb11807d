"""Test set-up shared by the whole suite.

- Qt runs offscreen: set before any QApplication can exist.
- The run history goes to a per-session temporary file, never the user's own
  (GRAPHDECK_STORE is inherited by the `graphdeck` processes tests start).
- `async def` tests run on a fresh event loop each (no plugin needed), and fail if they
  leave tasks behind or if the loop logged an exception nobody handled.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import inspect
import tempfile

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
