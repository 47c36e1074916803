"""A field's error reads in the page's words: another field by its label, a catalogue miss without internal keys."""

from __future__ import annotations

import pytest

from engine.errors import FieldError
from web import formgen
from web.formdata import said

WINDOW = {"type": "object", "properties": {"appointment": {"type": "object", "title": "Appointment window",
                                                           "properties": {
                                                               "start": {"type": "string", "format": "date-time",
                                                                         "title": "From"},
                                                               "end": {"type": "string", "format": "date-time",
                                                                       "title": "To"}}}}}


def errors_of(fields: list[formgen.Field]) -> dict[str, str]:
    return {f.name: f.error for f in formgen._walk(fields) if f.error}


def test_an_error_naming_another_field_names_it_by_its_label_not_its_key():
    fields = formgen.build(WINDOW, {}, {}, {"appointment.end": "Must be after appointment.start."})
    assert errors_of(fields) == {"appointment.end": "Must be after “From”."}


def test_ordinary_words_and_a_longer_key_are_left_alone():
    fields = formgen.build(WINDOW, {}, {}, {"appointment.end": "Not after appointment.start_at or the start."})
    assert errors_of(fields) == {"appointment.end": "Not after appointment.start_at or the start."}


@pytest.mark.parametrize(("lang", "expected"), [("en", "Not in the catalogue: choose one of the options."),
                                                ("zh", "目录中没有此项，请从选项中选择。")])
def test_a_catalogue_miss_is_said_plainly_without_the_catalogue_s_internal_name(app, lang, expected):
    error = FieldError.of("technician", "'{value}' is not in the {name} catalogue", value="tech.nobody",
                          name="technicians")
    with app.test_request_context(headers={"Accept-Language": lang}):
        assert said(error) == expected
