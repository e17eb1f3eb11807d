"""The loading child: a process that imports a graph file and builds its graphs before the
monitor does, so a file that hangs, spins or ends the process costs the monitor nothing.

`python -m graphdeck.gui.load_child`, started by `LoadProcess`. No Qt is imported here
(it would cost the child ~0.3 s for nothing). It speaks JSON lines:

- in, first: `{"load": path, "argv": [...], "sys_path": [...], "cwd": dir}`: the
  monitor's own `sys.argv`, `sys.path` and directory, so the file imports as it would in
  the monitor (argparse at module level reads `sys.argv`);
- then any number of `{"build": graph name, "inputs": "repr of a dict of literals"}`;
- out: `{"loaded": [graph names]}` or `{"built": n nodes}`, or `{"error": one line}`;
  while an import or a build runs, every `SAMPLE_S`: `{"at": "slow.py:8"}`, where its
  thread is now.

User code gets /dev/null as stdin and its prints go to stderr (forwarded to the
monitor's), so nothing it does can garble the protocol. The child ends when the monitor
closes its stdin, or is killed (the user stopped waiting, or the document closed).
"""

from __future__ import annotations

import ast
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

#: how often the child says where a running import or build is
SAMPLE_S = 0.25


class _Channel:
    """The protocol's two ends, taken from fds 0 and 1 before user code can touch them."""

    def __init__(self) -> None:
        self.incoming: TextIO = os.fdopen(os.dup(0), "r", encoding="utf-8")
        self.outgoing: TextIO = os.fdopen(os.dup(1), "w", encoding="utf-8")
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(2, 1)  # user prints go where the monitor's stderr goes
        sys.stdout = sys.stderr
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        with self._lock:
            self.outgoing.write(json.dumps(message) + "\n")
            self.outgoing.flush()

    def receive(self) -> dict[str, Any] | None:
        line = self.incoming.readline()
        return json.loads(line) if line else None


class _Sampler:
    """Says where the main thread is, every `SAMPLE_S`, while it runs user code."""

    def __init__(self, channel: _Channel, file: Path) -> None:
        from graphdeck.gui.positions import position_of

        self._position_of = position_of
        self._channel = channel
        self._file = file
        self._main = threading.get_ident()
        # Invariant: set exactly while the main thread imports or builds
        self.busy = threading.Event()
        threading.Thread(target=self._sample, name="graphdeck-load-sampler", daemon=True).start()

    def _sample(self) -> None:
        while True:
            self.busy.wait()
            time.sleep(SAMPLE_S)
            if self.busy.is_set():
                at = self._position_of(self._main, self._file)
                if at:
                    self._channel.send({"at": at})


def _load(hello: dict[str, Any], sampler: _Sampler) -> tuple[Any, dict[str, Any]]:
    from graphdeck.errors import GraphLoadError
    from graphdeck.loader import load_graph_file

    sampler.busy.set()
    try:
        loaded = load_graph_file(hello["load"])
    except GraphLoadError as exc:
        return None, {"error": str(exc)}
    except Exception as exc:  # the loader's own failure: still one line
        return None, {"error": f"{hello['load']}: {type(exc).__name__}: {exc}"}
    finally:
        sampler.busy.clear()
    return loaded, {"loaded": list(loaded.graphs)}


def _build(loaded: Any, request: dict[str, Any], sampler: _Sampler) -> dict[str, Any]:
    from graphdeck.gui.problems import describe_problem

    definition = loaded.graphs.get(request["build"])
    if definition is None or definition.kind != "graphify":
        return {"error": f"{loaded.path}: no graphify named {request['build']!r}"}
    sampler.busy.set()
    try:
        graph = definition.build(**ast.literal_eval(request["inputs"]))
    except (Exception, SystemExit, KeyboardInterrupt) as exc:
        return {"error": describe_problem(exc, loaded.path)}
    finally:
        sampler.busy.clear()
    return {"built": len(graph)}


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the monitor's to handle
    channel = _Channel()
    hello = channel.receive()
    if hello is None:
        return
    sys.argv[:] = hello["argv"]
    sys.path[:] = hello["sys_path"]
    os.chdir(hello["cwd"])
    sampler = _Sampler(channel, Path(hello["load"]))
    loaded, reply = _load(hello, sampler)
    channel.send(reply)
    while loaded is not None and (request := channel.receive()) is not None:
        channel.send(_build(loaded, request, sampler))


if __name__ == "__main__":
    main()
    # User code may have left threads behind: they must not keep the child alive.
    sys.stderr.flush()
    os._exit(0)
