"""Forms from JSON Schema + uiSchema, and submitted strings back into typed data."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from engine.errors import FieldError, FormValidationError
from engine.forms import validate
from web.formdata import field_errors, parse, plain
from web.formgen import build

FIXTURE = Path(__file__).parent / "fixtures" / "customer"
SCHEMA = json.loads((FIXTURE / "repair.schema.json").read_text())
UI = json.loads((FIXTURE / "repair.uischema.json").read_text())


def by_name(fields):
    out = {}
    for f in fields:
        out[f.name] = f
        out.update(by_name(f.children))
        out.update(by_name(f.rows))
    return out


def test_widgets_follow_schema_types_and_ui_hints():
    fields = by_name(build(SCHEMA, UI, {"ticket_number": "AS-1"}))
    assert [f.name for f in build(SCHEMA, UI, {})][:3] == ["ticket_number", "work_done", "outcome"]
    assert fields["ticket_number"].readonly and fields["ticket_number"].value == "AS-1"
    assert fields["work_done"].widget == "textarea" and fields["work_done"].required
    assert fields["work_done"].help == "Say what you did, for the next person."
    assert fields["outcome"].widget == "radio"
    assert fields["outcome"].options[0] == ("repaired", "repaired")
    assert fields["labour_hours"].widget == "number"
    assert fields["labour_hours"].attrs == {"min": 0, "max": 40, "step": "any"}
    assert fields["needs_callout"].widget == "checkbox"
    assert fields["finished_at"].widget == "datetime"
    assert fields["next_check"].widget == "date"
    assert fields["quote"].kind == "object"
    assert fields["quote.currency"].widget == "select"
    assert fields["work_done"].attrs == {"minlength": 3, "maxlength": 2000}


def test_array_rows_show_existing_rows_plus_one_blank_and_a_template():
    parts = by_name(build(SCHEMA, UI, {"parts_used": [{"sku": "P-1", "quantity": 2}]}))["parts_used"]
    assert len(parts.rows) == 2  # one filled, one blank for browsers without JavaScript
    assert [c.value for c in parts.rows[0].children] == ["P-1", "2"]
    assert parts.rows[1].children[0].name == "parts_used.1.sku"
    assert parts.template.children[0].name == "parts_used.__index__.sku"
    assert parts.rows[0].children[0].star and not parts.rows[0].children[0].required
    assert parts.attrs == {"maxItems": 10}


def test_a_refused_submit_shows_as_many_rows_as_the_form_had():
    """Given an empty table (two blank rows), when one row is filled and the submit is refused, then the
    form shows the filled row and one blank: two rows, as before."""
    empty = by_name(build(SCHEMA, UI, {}))["parts_used"]
    kept = by_name(build(SCHEMA, UI, {"parts_used": [{"sku": "P-1", "quantity": 2}]}, {"labour_hours": "x"}))
    assert len(empty.rows) == len(kept["parts_used"].rows) == 2


def test_enum_labels_come_from_one_of_titles_or_enum_names():
    schema = {"type": "object", "properties": {
        "a": {"type": "string", "oneOf": [{"const": "x", "title": "Ex"}, {"const": "y", "title": "Why"}]},
        "b": {"type": "integer", "enum": [1, 2], "enumNames": ["one", "two"]},
        "c": {"type": "array", "uniqueItems": True, "items": {"type": "string", "enum": ["p", "q"]}}}}
    fields = by_name(build(schema, {}, {"c": ["q"]}))
    assert fields["a"].options == [("x", "Ex"), ("y", "Why")]
    assert fields["b"].options == [("1", "one"), ("2", "two")]
    assert fields["c"].widget == "checkboxes" and fields["c"].value == ["q"]


def test_local_refs_are_followed():
    schema = {"type": "object", "$defs": {"qty": {"type": "integer", "minimum": 1}},
              "properties": {"n": {"$ref": "#/$defs/qty", "title": "N"}}}
    [field] = build(schema, {}, {})
    assert (field.kind, field.label, field.attrs["min"]) == ("integer", "N", 1)


def test_submitted_strings_become_typed_data_and_blank_rows_are_dropped():
    form = MultiDict([
        ("ticket_number", "tampered"), ("work_done", "Replaced the panel"), ("labour_hours", "1.5"),
        ("outcome", "repaired"), ("needs_callout", "true"), ("finished_at", "2026-03-02T10:30"),
        ("next_check", ""), ("parts_used.0.sku", "P-1"), ("parts_used.0.quantity", "2"),
        ("parts_used.1.sku", ""), ("parts_used.1.quantity", ""), ("parts_used.5.sku", "P-9"),
        ("parts_used.5.quantity", "1"), ("quote.total", "120"), ("quote.currency", "CNY"),
    ])
    data = parse(SCHEMA, UI, form, {"ticket_number": "AS-1"}, UTC)
    assert data == {
        "ticket_number": "AS-1", "work_done": "Replaced the panel", "labour_hours": 1.5, "outcome": "repaired",
        "needs_callout": True, "finished_at": "2026-03-02T10:30:00+00:00",
        "parts_used": [{"sku": "P-1", "quantity": 2}, {"sku": "P-9", "quantity": 1}],
        "quote": {"total": 120, "currency": "CNY"},
    }
    validate(SCHEMA, data, where="repair")


def test_values_that_do_not_convert_stay_as_typed_so_validation_names_the_field():
    form = MultiDict([("work_done", "ok!"), ("labour_hours", "two"), ("outcome", "repaired"),
                      ("parts_used.0.sku", "P-1"), ("parts_used.0.quantity", "x")])
    data = parse(SCHEMA, UI, form, {})
    assert data["labour_hours"] == "two" and data["parts_used"] == [{"sku": "P-1", "quantity": "x"}]
    assert data["needs_callout"] is False
    with pytest.raises(FormValidationError) as caught:
        validate(SCHEMA, data, where="repair")
    errors, general = field_errors(caught.value.errors)
    assert set(errors) == {"labour_hours", "parts_used.0.quantity"} and not general


def test_required_errors_land_on_the_missing_field_even_when_nested():
    errors, general = field_errors([
        FieldError("work_done", "'work_done' is a required property"),
        FieldError("parts_used/0", "'quantity' is a required property"),
        FieldError("(unknown fields)", "Additional properties are not allowed ('x' was unexpected)"),
    ])
    assert errors == {"work_done": "Required.", "parts_used.0.quantity": "Required."}
    assert general == ["Additional properties are not allowed ('x' was unexpected)"]


@pytest.mark.parametrize(("message", "plain_text"), [
    ("41 is greater than the maximum of 40", "Must be at most 40."),
    ("0 is less than the minimum of 1", "Must be at least 1."),
    ("'lots' is not of type 'number'", "Enter a number."),
    ("'x' is not a 'email'", "Enter a valid e-mail address."),
    ("'b' is not one of ['a']", "Choose one of the options."),
    ("{} is not valid under any of the given schemas", "Some details are missing or do not fit together."),
    ("[] should be non-empty", "Add at least one row."),
    ("something else entirely", "something else entirely"),
])
def test_validation_messages_are_said_plainly(message, plain_text):
    assert plain(message) == plain_text


def test_radio_booleans_and_multi_choice_arrays_parse():
    schema = {"type": "object", "properties": {
        "ok": {"type": "boolean"}, "tags": {"type": "array", "uniqueItems": True,
                                            "items": {"type": "integer", "enum": [1, 2, 3]}}}}
    data = parse(schema, {"ok": {"ui:widget": "radio"}}, MultiDict([("ok", "false"), ("tags", "1"), ("tags", "3")]))
    assert data == {"ok": False, "tags": [1, 3]}
    assert parse(schema, {"ok": {"ui:widget": "radio"}}, MultiDict()) == {"tags": []}


def test_instructions_may_format_times_in_the_business_time_zone(app):
    from web.rendering import instructions_html

    with app.test_request_context():
        app.config["DISPLAY_TIMEZONE"] = "Asia/Shanghai"
        html = instructions_html("Respond by {{ due | local_time }}.", {"due": "2026-03-02T09:00:00+00:00"})
        plain = instructions_html("Respond by {{ due }}.", {"due": "2026-03-02T09:00:00.4045+00:00"})
    assert str(html) == "<p>Respond by 2026-03-02 17:00 CST.</p>\n"  # the zone's label, as on every page
    assert str(plain) == "<p>Respond by 2026-03-02 17:00 CST.</p>\n"


def test_checkboxes_widget_makes_a_choice_array_without_unique_items():
    tags = {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}
    schema = {"type": "object", "properties": {"tags": tags}}
    ui = {"tags": {"ui:widget": "checkboxes"}}
    [field] = build(schema, ui, {"tags": ["b"]})
    assert (field.widget, field.value) == ("checkboxes", ["b"])
    assert parse(schema, ui, MultiDict([("tags", "a"), ("tags", "b")])) == {"tags": ["a", "b"]}


def test_option_codes_without_a_title_read_as_words(app):
    from web.rendering import option_label

    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert [option_label(t) for t in ("not_repairable", "walk_in", "CNY", "Hotline")] == [
            "not repairable", "walk-in", "CNY", "Hotline"]
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        assert option_label("walk_in") == "到店"
