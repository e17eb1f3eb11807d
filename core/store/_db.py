"""Opening the history database: one place for its settings and its error messages."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

import platformdirs

from ..errors import GraphdeckError
from ._schema import SCHEMA_VERSION, SchemaTooNew, migrate

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
        _create_private(path)
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


def _create_private(path: Path) -> None:
    """Create a missing history file readable by its owner only (0600): it holds every
    run's inputs and outputs. SQLite gives its -wal and -shm files the same mode; an
    existing file keeps the mode its owner chose."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def check_writable(conn: sqlite3.Connection, path: Path) -> None:
    """Raise StoreError if nothing can be written into the file (read-only, immutable, on
    a read-only mount), before a writer accepts runs it could never record. The probe
    (rewriting the schema version) is rolled back: it leaves the file untouched."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        raise StoreError(describe_database_error(path, exc)) from exc


def check_not_damaged(conn: sqlite3.Connection, path: Path) -> None:
    """Raise StoreError if `PRAGMA quick_check` finds the file damaged. It reads the whole
    file (O(size)), so it runs only when the last writer did not close cleanly."""
    try:
        found = [row[0] for row in conn.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as exc:  # too damaged even to be checked
        found = [str(exc)]
    if found != ["ok"]:
        more = f" and {len(found) - 1} more problem(s)" if len(found) > 1 else ""
        raise StoreError(_damaged(path, f"quick_check: {found[0]}{more}"))


def _damaged(path: Path, what: str) -> str:
    return (
        f"the run history {path} is damaged ({what}); move it aside (history starts "
        "afresh) or pass --store to use another file"
    )


def describe_database_error(path: Path, exc: sqlite3.Error) -> str:
    """One line for the user: what is wrong with the history file and what to do."""
    text = " ".join(str(exc).split())
    if "readonly" in text or "read-only" in text:
        return (
            f"the run history {path} is read-only ({text}); make it writable or pass "
            "--store to use another file"
        )
    if "is full" in text:
        return (
            f"the disk holding the run history {path} is full ({text}); free some space "
            "or pass --store to use another file"
        )
    if "locked" in text or "busy" in text:
        return (
            f"the run history {path} is locked by another process (waited "
            f"{BUSY_TIMEOUT_S:g} s); close it there or pass --store to use another file"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return _damaged(path, text)
    return f"the run history {path} cannot be used: {text}"
