"""The one line shown when a graph cannot be built or started."""

from __future__ import annotations

from pathlib import Path

from graphdeck import GraphBuildError
from graphdeck.gui.problems import describe_problem

FILE = Path("/work/graphs/etl.py")


def test_a_build_error_that_says_where_is_shown_as_it_is():
    error = GraphBuildError(f"{FILE}:12: graphify 'etl' failed to build: KeyError: 'x'")
    assert describe_problem(error, FILE) == str(error)


def test_a_build_error_without_a_place_gets_the_file():
    error = GraphBuildError("graph 'etl' is missing input(s) ['n']")
    assert describe_problem(error, FILE) == f"{FILE}: graph 'etl' is missing input(s) ['n']"
    assert describe_problem(error, None) == str(error)


def test_other_errors_name_their_type():
    error = ValueError("unknown executor 'spark://x'")
    assert describe_problem(error, FILE) == f"{FILE}: ValueError: unknown executor 'spark://x'"
