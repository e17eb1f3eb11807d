"""Opening the history database: one place for its settings and its error messages."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import platformdirs

from ..errors import GraphdeckError
from ._schema import SchemaTooNew, migrate

#: overrides the default location (tests, CI, several profiles)
STORE_ENV = "GRAPHDECK_STORE"
#: how long a statement waits for another process's write lock before giving up
BUSY_TIMEOUT_S = 2.0


class StoreError(GraphdeckError):
    """The history database cannot be used (corrupt, locked, unwritable, too new)."""


def default_store_path() -> Path:
    """$GRAPHDECK_STORE, else `history.sqlite3` in the user's data directory."""
    override = os.environ.get(STORE_ENV)
    if override:
        return Path(override).expanduser()
    return platformdirs.user_data_path("graphdeck", appauthor=False) / "history.sqlite3"


def connect(path: Path) -> sqlite3.Connection:
    """An autocommit connection (transactions are explicit) with the schema up to date.

    WAL lets the monitor read while a run writes; synchronous=NORMAL keeps every commit
    across a killed process (only a power cut can lose the last ones).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open the run history {path}: {exc}") from exc
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = OFF")
        migrate(conn)
    except SchemaTooNew as exc:
        conn.close()
        raise StoreError(f"run history {path}: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(describe_database_error(path, exc)) from exc
    return conn


def describe_database_error(path: Path, exc: sqlite3.Error) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return (
            f"the run history {path} is locked by another process (waited "
            f"{BUSY_TIMEOUT_S:g} s); close it there or pass --store to use another file"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (
            f"the run history {path} is damaged ({text}); move it aside (history starts "
            "afresh) or pass --store to use another file"
        )
    return f"the run history {path} cannot be used: {text}"
