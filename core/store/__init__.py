"""The run history: every run recorded in an embedded SQLite database (no server).

    store = RunStore()                      # default location, or RunStore(path)
    recorder = store.recorder()             # one background writer per process
    handle = graphdeck.start(graph, inputs)
    recorder.record(handle, file="pipeline.py")
    ...
    recorder.close()                        # writes the rest; unfinished runs: "interrupted"
    store.runs(graph="etl", state="failed") # newest first
    store.load(run_id)                      # nodes, attempts, outputs, messages, occupancy

Writes happen on the recorder's thread every 200 ms, never on the event loop, except the
run's own row, which `record()` writes at once (so a run killed in its first moments is
still listed). `record()` waits when the writer is too far behind (see `Recorder`).
"""

from ._compare import compare
from ._db import STORE_ENV, StoreError, default_store_path
from ._export import FORMATS, chrome_trace, export_run, export_text, run_document
from ._recorder import INTERRUPTED, MAX_BACKLOG_ROWS, WRITE_INTERVAL_S, Recorder
from ._replay import StoredError, StoredRunView, StoredState
from ._restore import restorable_outputs, restore, restored_inputs
from ._schema import SCHEMA_VERSION
from ._store import (
    KEEP_RUNS,
    RunStore,
    RunSummary,
    StoredAttempt,
    StoredNode,
    StoredRun,
    load_with_children,
)

__all__ = [
    "FORMATS",
    "INTERRUPTED",
    "KEEP_RUNS",
    "MAX_BACKLOG_ROWS",
    "SCHEMA_VERSION",
    "STORE_ENV",
    "WRITE_INTERVAL_S",
    "Recorder",
    "RunStore",
    "RunSummary",
    "StoreError",
    "StoredAttempt",
    "StoredError",
    "StoredNode",
    "StoredRun",
    "StoredRunView",
    "StoredState",
    "chrome_trace",
    "compare",
    "default_store_path",
    "export_run",
    "export_text",
    "load_with_children",
    "restorable_outputs",
    "restore",
    "restored_inputs",
    "run_document",
]
