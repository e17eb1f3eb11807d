"""The history database's schema and its migrations.

The schema version lives in SQLite's own `PRAGMA user_version`. `MIGRATIONS[i]` takes a
database from version i to i + 1, so opening an older file upgrades it in place, in one
transaction, and a file written by a newer graphdeck is refused instead of misread.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

_V1 = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    parent_id TEXT,
    graph TEXT,
    file TEXT,
    inputs TEXT,
    inputs_restorable INTEGER NOT NULL DEFAULT 1,
    max_concurrency INTEGER,
    on_error TEXT,
    state TEXT NOT NULL,
    started_at REAL,
    finished_at REAL,
    error TEXT,
    outputs TEXT,
    rounds INTEGER NOT NULL DEFAULT 0,
    nodes INTEGER,  -- counted when the run finishes (NULL while it runs)
    unsuccessful INTEGER,
    host TEXT,
    pid INTEGER,
    updated_at REAL
);
CREATE INDEX runs_by_start ON runs (started_at);
CREATE INDEX runs_by_graph ON runs (graph, started_at);
CREATE INDEX runs_by_parent ON runs (parent_id);

CREATE TABLE nodes (
    run_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    seq INTEGER,
    tool TEXT,
    kind TEXT,
    grp TEXT,
    upstream TEXT,
    inputs TEXT,
    state TEXT,
    error TEXT,
    finished_at REAL,
    PRIMARY KEY (run_id, node_id)
) WITHOUT ROWID;

CREATE TABLE attempts (
    run_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    state TEXT,
    started_at REAL,
    finished_at REAL,
    inputs TEXT,
    outputs TEXT,
    restorable INTEGER,
    error TEXT,
    traceback TEXT,
    worker TEXT,
    PRIMARY KEY (run_id, node_id, attempt)
) WITHOUT ROWID;

CREATE TABLE messages (
    run_id TEXT NOT NULL,
    time REAL NOT NULL,
    kind TEXT NOT NULL,
    source TEXT,
    node_id TEXT,
    text TEXT
);
CREATE INDEX messages_by_run ON messages (run_id, time);

CREATE TABLE occupancy (
    run_id TEXT NOT NULL,
    time REAL NOT NULL,
    grp TEXT,
    active INTEGER NOT NULL,
    peak INTEGER NOT NULL,
    cap INTEGER
);
CREATE INDEX occupancy_by_run ON occupancy (run_id, time);
"""

#: version 2: a message's structured details (a loop block's node, seconds, place, stack)
_V2 = "ALTER TABLE messages ADD COLUMN details TEXT"

#: MIGRATIONS[i] upgrades a database at version i to version i + 1.
MIGRATIONS: tuple[str, ...] = (_V1, _V2)
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNew(Exception):
    """The file was written by a newer graphdeck (its schema version is unknown here)."""


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to SCHEMA_VERSION; returns the version it had before."""
    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if found > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"schema version {found} is newer than this graphdeck understands "
            f"({SCHEMA_VERSION}); upgrade graphdeck or use another --store"
        )
    if found == SCHEMA_VERSION:
        return found
    with transaction(conn):  # one transaction: a failed upgrade changes nothing
        found = conn.execute("PRAGMA user_version").fetchone()[0]  # another process won?
        for version in range(found, SCHEMA_VERSION):
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return found


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT on an autocommit connection; ROLLBACK on any exception.

    SQLite may have rolled back already (it may on a full disk): a second ROLLBACK would
    fail and hide the error that matters."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")  # may fail too (a full disk): then rolled back like the rest
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
