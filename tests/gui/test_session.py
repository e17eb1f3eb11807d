"""The monitor's session without any window: runs started, run again, re-run, recorded,
and wound down; executors from the same specs as the CLI."""

from __future__ import annotations

import pytest

from graphdeck import RunState
from graphdeck.executors import DaskExecutor
from graphdeck.gui.run_options import RunOptions
from graphdeck.gui.session import MonitorSession
from graphdeck.loader import load_graph_file
from graphdeck.store import RunStore
from guisupport import write_pipeline


@pytest.fixture
def pipeline(tmp_path):
    path = tmp_path / "pipeline.py"
    write_pipeline(path)
    return path, load_graph_file(path).graphs


def wait_done(qtbot, tracker) -> None:
    qtbot.waitUntil(lambda: tracker.run.done and tracker.caught_up, timeout=10000)


def test_executors_take_the_cli_specs_and_are_made_once(gui_loop) -> None:
    session = MonitorSession()
    assert session.executor("local") is None
    cluster = session.executor("dask")
    assert isinstance(cluster, DaskExecutor) and cluster.address is None
    assert session.executor("dask") is cluster  # one cluster for every run
    remote = session.executor("dask://scheduler:8786")
    assert remote.address == "tcp://scheduler:8786"
    with pytest.raises(ValueError, match="dask://HOST:PORT"):
        session.executor("spark://nowhere")
    assert set(session.executors) == {"dask", "dask://scheduler:8786"}


def test_start_follows_the_run_and_remembers_how_it_started(
    qtbot, gui_loop, pipeline, tmp_path
) -> None:
    path, graphs = pipeline
    session = MonitorSession()
    options = RunOptions(max_concurrency=2, on_error="continue")
    first = session.start(graphs["pipeline"], {"start": 1}, options, file=path)
    assert session.controller.trackers == [first]
    assert first.target is graphs["pipeline"] and first.options == options
    wait_done(qtbot, first)
    assert first.run.outputs == {"v": 7} and first.run.max_concurrency == 2
    assert first.file == path and first.loaded_at is None


def test_a_graph_built_beforehand_runs_as_it_is(qtbot, gui_loop, pipeline) -> None:
    _, graphs = pipeline
    built = graphs["pipeline"].build(start=2)
    session = MonitorSession()
    tracker = session.start(graphs["pipeline"], {"start": 2}, RunOptions(), built=built)
    assert tracker.run.graph is built and tracker.run.inputs == {"start": 2}
    wait_done(qtbot, tracker)
    assert tracker.run.state is RunState.SUCCEEDED


def test_rerun_and_cancel_go_through_the_run(qtbot, gui_loop, pipeline) -> None:
    _, graphs = pipeline
    session = MonitorSession()
    tracker = session.start(graphs["pipeline"], {}, RunOptions())
    wait_done(qtbot, tracker)
    session.rerun(tracker, "step_1", "node")
    assert not tracker.run.done
    session.cancel(tracker)
    wait_done(qtbot, tracker)
    assert tracker.run.state is RunState.CANCELLED


def test_runs_are_recorded_and_shutdown_saves_them(qtbot, gui_loop, pipeline, tmp_path) -> None:
    path, graphs = pipeline
    store = RunStore(tmp_path / "history.sqlite3")
    session = MonitorSession(store)
    tracker = session.start(graphs["pipeline"], {}, RunOptions(), file=path)
    assert session.must_wind_down()  # a live run
    said: list[str] = []
    session.progress.connect(said.append)
    with qtbot.waitSignal(session.wound_down, timeout=10000):
        session.shutdown()
    assert session.closing and not session.must_wind_down()
    assert session.recorder.closed and said == ["saving the run history …"]
    (summary,) = RunStore(store.path).runs()
    assert summary.id == tracker.run.id and summary.file == str(path)


def test_a_stored_run_opens_once_read_only(qtbot, gui_loop, pipeline, tmp_path) -> None:
    path, graphs = pipeline
    store = RunStore(tmp_path / "history.sqlite3")
    recording = MonitorSession(store)
    recorded = recording.start(graphs["pipeline"], {}, RunOptions(), file=path)
    wait_done(qtbot, recorded)
    run_id = recorded.run.id
    with qtbot.waitSignal(recording.wound_down, timeout=10000):
        recording.shutdown()

    session = MonitorSession(RunStore(store.path))
    task = gui_loop.create_task(session.open_stored(run_id))
    qtbot.waitUntil(task.done, timeout=5000)
    tracker = task.result()
    assert tracker.run.id == run_id and tracker.run.state.value == "succeeded"
    session.cancel_node(tracker, "step_0")  # read-only: nothing happens
    again = gui_loop.create_task(session.open_stored(run_id))
    qtbot.waitUntil(again.done, timeout=5000)
    assert again.result() is tracker and len(session.controller.trackers) == 1
    session.close_now()
    assert session.recorder.closed
