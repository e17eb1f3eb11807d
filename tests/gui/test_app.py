"""The app as a user starts it: a real process, a real loop, Ctrl-C in the terminal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time


def test_ctrl_c_closes_the_app_cleanly_with_a_run_in_flight(tmp_path) -> None:
    graph = tmp_path / "long.py"
    marker = tmp_path / "started"
    graph.write_text(
        textwrap.dedent(
            f"""
            import asyncio, pathlib
            from graphdeck import graphify, tool

            @tool(outputs=["v"])
            async def wait(i):
                pathlib.Path({str(marker)!r}).touch()  # tells the test the run is in flight
                await asyncio.sleep(60)
                return {{"v": i}}

            @graphify(name="long", outputs=["v"])
            def long():
                return {{"v": [wait(i=i).v for i in range(4)]}}
            """
        )
    )
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "graphdeck", str(graph), "--run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert "cancelling 1 run(s)" in stderr
    assert "Task was destroyed" not in stderr and "Traceback" not in stderr
