"""The Results tab's text of a run's outputs."""

from __future__ import annotations

from graphdeck.gui.results import outputs_text


def test_outputs_that_fit_read_as_indented_json() -> None:
    assert outputs_text({"sum": 12, "names": ["a"]}, limit=1_000) == (
        '{\n  "sum": 12,\n  "names": [\n    "a"\n  ]\n}'
    )


def test_a_huge_output_neither_hides_the_others_nor_hides_its_size() -> None:
    """A 50 MB output filled the text (a repr cut after its first characters): the small
    output after it never appeared, and nothing said the big one was cut."""
    text = outputs_text({"blob": "x" * 5_000_000, "n": 3}, limit=10_000)
    assert "\n\nn:\n  3" in text
    assert "(a str of 5,000,000 characters)" in text
    assert len(text) < 10_000 + 500


def test_sizes_are_said_for_containers_and_bytes() -> None:
    text = outputs_text({"rows": list(range(100_000)), "raw": b"\0" * 50_000}, limit=2_000)
    assert "(a list of 100,000 items)" in text and "(bytes: 50,000 bytes)" in text
