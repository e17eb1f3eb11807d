"""The executor combo speaks `parse_executor`'s specs, like the CLI."""

from __future__ import annotations

from graphdeck.gui.run_options import CLUSTER_CHOICE, LOCAL_CHOICE, RunOptions, executor_spec


def test_friendly_names_map_to_specs_and_the_rest_passes_through():
    assert executor_spec(LOCAL_CHOICE) == "local"
    assert executor_spec(CLUSTER_CHOICE) == "dask"
    assert executor_spec("  dask://host:8786 ") == "dask://host:8786"
    assert RunOptions().executor == "local"
