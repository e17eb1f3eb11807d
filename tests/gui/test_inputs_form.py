"""Inputs typed as JSON or Python literals; bad ones named, Run kept disabled."""

from __future__ import annotations

import pytest

from graphdeck.gui.inputs_form import InputError, InputsForm, parse_value, show_default


def test_json_or_python_literals():
    assert parse_value(' [1, 2, "a"] ') == [1, 2, "a"]
    assert parse_value("(1, 2)") == (1, 2)
    assert parse_value("None") is None
    for bad in ("", "[1,", "os.system('x')"):
        with pytest.raises(InputError):
            parse_value(bad)


def test_defaults_are_shown_as_json_where_they_can_be():
    assert show_default(("a", "b")) == '["a", "b"]'
    assert show_default({1, 2}) == "{1, 2}"


def test_the_form_names_bad_fields_and_says_when_validity_changes(qtbot):
    form = InputsForm()
    qtbot.addWidget(form)
    said: list[bool] = []
    form.validity_changed.connect(said.append)
    form.set_inputs(("a", "b"), {"a": "1"})
    assert said == [False] and not form.valid and "b: empty" in form.problem.text()
    form.fields["b"].setText("2")
    assert said[-1] is True and form.values() == {"a": 1, "b": 2}
