"""No stale code without saying so: after a reload that failed, "Run again" and "Re-run
failed" are refused with the load error; after one that worked they run the new code; a
run whose file is not open re-runs with its own code, and the question says so; opening
a file takes the old run's graph and inspector off the screen."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from guisupport import EXAMPLES, load, run_and_wait, run_rows, write_pipeline


def _break(qtbot, window, path) -> None:
    with qtbot.waitSignal(window.document.failed, timeout=10000):
        path.write_text("def broken(:\n")  # the user saves a syntax error


def test_run_again_runs_the_file_as_reloaded(qtbot, window, tmp_path) -> None:
    path = tmp_path / "pipeline.py"
    write_pipeline(path)
    load(qtbot, window, path)
    first = run_and_wait(qtbot, window)
    with qtbot.waitSignal(window.document.loaded, timeout=10000):
        write_pipeline(path, add=10)
    starting = window.run_again()
    qtbot.waitUntil(starting.done, timeout=10000)
    again = starting.result().run
    qtbot.waitUntil(lambda: again.done, timeout=10000)
    assert first.outputs == {"v": 5} and again.outputs == {"v": 30 + 20}  # c and d, each +10


def test_run_again_after_a_failed_reload_is_refused_with_the_load_error(
    qtbot, window, tmp_path
) -> None:
    path = tmp_path / "pipeline.py"
    write_pipeline(path)
    load(qtbot, window, path)
    run_and_wait(qtbot, window)
    _break(qtbot, window, path)
    starting = window.run_again()
    qtbot.waitUntil(starting.done, timeout=10000)
    assert starting.result() is None and len(run_rows(window)) == 1
    message = window.controls.error_label.text()
    assert message.startswith("cannot run pipeline again: pipeline.py failed to load"), message
    assert f"{path}:1: syntax error" in message


def test_rerun_failed_after_a_failed_reload_is_refused_with_the_load_error(
    qtbot, window, tmp_path
) -> None:
    path = tmp_path / "pipeline.py"
    write_pipeline(path, broken=2)
    load(qtbot, window, path)
    window.controls.policy_combo.setCurrentText("continue")
    handle = run_and_wait(qtbot, window)
    _break(qtbot, window, path)
    window.rerun_failed_action.trigger()
    assert window.findChild(QMessageBox, "confirm-rerun") is None
    message = window.controls.error_label.text()
    assert message.startswith("re-run refused: pipeline.py failed to load"), message
    assert handle.done and handle.nodes["step_2"].attempts == 1


def test_a_rerun_of_a_file_not_open_says_which_code_it_runs(qtbot, window, tmp_path) -> None:
    path = tmp_path / "pipeline.py"
    write_pipeline(path, broken=2)
    load(qtbot, window, path)
    window.controls.policy_combo.setCurrentText("continue")
    handle = run_and_wait(qtbot, window)
    load(qtbot, window, EXAMPLES / "map_reduce.py")  # another file now
    window.controls.runs_list.select_row(0)
    assert window.current.run is handle
    window.rerun_failed_action.trigger()
    box = window.findChild(QMessageBox, "confirm-rerun")
    assert box is not None
    assert "pipeline.py is not the open file: this re-run uses its code as loaded at" in box.text()
    box.button(QMessageBox.StandardButton.No).click()


def test_opening_a_file_takes_the_selected_runs_graph_off_the_screen(qtbot, window, tmp_path):
    path = tmp_path / "pipeline.py"
    write_pipeline(path)
    load(qtbot, window, path)
    run_and_wait(qtbot, window)
    window.graph_view.select_node("step_1")
    assert window.details.inspector.node is not None
    load(qtbot, window, EXAMPLES / "map_reduce.py")
    assert window.current is None and window.details.inspector.node is None
    assert window.progress_label.text() == ""
    assert not any(node_id.startswith("step_") for node_id in window.graph_view.nodes)
    assert "reduce_sum_0" in window.graph_view.nodes  # the new file's own graph


KEEPS = """
from graphdeck import graphify, tool

@tool(outputs=["v"])
async def double(x):
    return {"v": 2 * x}

@graphify(outputs=["v"])
def doubled(n=3):
    return {"v": double(x=n).v}
"""


CAPPED = """
from graphdeck import graph_fn

@graph_fn(name="doubled", max_concurrency=8)
async def doubled(n=3, *, context):
    return {"v": (await double(x=n))["v"]}
"""


def test_saving_the_file_keeps_the_cap_and_inputs_the_user_set(qtbot, window, tmp_path) -> None:
    """A fix-and-save loop must not change how the next run behaves: the cap went back to
    4 (and typed inputs to their defaults) on every reload."""
    path = tmp_path / "keeps.py"
    path.write_text(KEEPS)
    load(qtbot, window, path)
    controls = window.controls
    controls.cap_spin.setValue(32)
    controls.inputs_form.fields["n"].setText("7")
    with qtbot.waitSignal(window.document.loaded, timeout=10000):
        path.write_text(KEEPS + "# saved again\n")
    assert controls.cap_spin.value() == 32 and controls.inputs_form.texts() == {"n": "7"}
    _break(qtbot, window, path)
    with qtbot.waitSignal(window.document.loaded, timeout=10000):
        path.write_text(KEEPS)
    assert controls.cap_spin.value() == 32 and controls.inputs_form.texts() == {"n": "7"}
    with qtbot.waitSignal(window.document.loaded, timeout=10000):  # the file says otherwise
        path.write_text(KEEPS.split("@graphify")[0] + CAPPED)
    assert controls.cap_spin.value() == 8 and controls.inputs_form.texts() == {"n": "7"}
