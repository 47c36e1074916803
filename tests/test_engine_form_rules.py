"""Forms that know the business: ``x-rules`` cross-field rules and ``x-catalogue`` pick lists."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine import clock as engine_clock
from engine import forms
from engine.errors import FormValidationError
from engine.registry import load_handlers
from handlers.demo import load_catalogue

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = {"type": "object", "properties": {
    "window": {"type": "object", "properties": {"start": {"type": "string", "format": "date-time"},
                                                "end": {"type": "string", "format": "date-time"}}},
    "bought": {"type": "string", "format": "date"}},
    "x-rules": [{"rule": "after", "field": "window.end", "than": "window.start"},
                {"rule": "not_future", "field": "bought"}]}


@pytest.mark.parametrize(("data", "errors"), [
    ({"window": {"start": "2026-03-03T10:00:00+08:00", "end": "2026-03-03T12:00:00+08:00"}}, []),
    ({"window": {"start": "2026-03-03T10:00:00+08:00", "end": "2026-03-03T09:00:00+08:00"}},
     [("window/end", "must be after window.start")]),
    ({"window": {"start": "2026-03-03T10:00:00+08:00", "end": "2026-03-03T10:00:00+08:00"}},
     [("window/end", "must be after window.start")]),
    ({"window": {"start": "2026-03-03T10:00:00+08:00"}}, []),  # a missing end is required's business
    ({"bought": "2026-03-02"}, []),
    ({"bought": "2025-12-31"}, []),
    ({"bought": "2026-03-04"}, [("bought", "must not be in the future")]),
    ({"bought": "not a date"}, []),  # the format check names it
])
def test_cross_field_rules_name_the_field_they_break(data, errors):
    assert [(e.field, e.message) for e in forms.rule_errors(WINDOW, data, NOW)] == errors


def test_a_broken_rule_is_a_form_error_beside_the_schema_errors():
    with pytest.raises(FormValidationError) as caught:
        forms.validate(WINDOW, {"bought": "2999-01-01", "window": {"start": "2026-03-03T10:00:00Z",
                                                                   "end": "2026-03-03T08:00:00Z"}}, "t")
    assert {e.field for e in caught.value.errors} == {"bought", "window/end"}


@pytest.mark.parametrize(("schema", "problem"), [
    ({"type": "object", "properties": {"sku": {"type": "string", "x-catalogue": "spares"}}},
     "field sku: unknown catalogue 'spares'"),
    ({"type": "object", "properties": {"rows": {"type": "array", "items": {"type": "object", "properties": {
        "sku": {"type": "string", "x-catalogue": "partz"}}}}}}, "field rows.*.sku: unknown catalogue 'partz'"),
    ({"type": "object", "properties": {"t": {"type": "string", "x-catalogue": "technicians",
                                             "x-catalogue-filter": ["skill"]}}}, "field t: x-catalogue-filter"),
    ({"type": "object", "x-rules": [{"rule": "before", "field": "a"}], "properties": {"a": {"type": "string"}}},
     "x-rules[0]: unknown rule 'before'"),
    ({"type": "object", "x-rules": [{"rule": "after", "field": "a"}], "properties": {"a": {"type": "string"}}},
     "x-rules[0] (after): missing than"),
    ({"type": "object", "x-rules": [{"rule": "not_future", "field": "b"}], "properties": {"a": {"type": "string"}}},
     "x-rules[0] (not_future): field 'b' is not a field of the form"),
])
def test_schema_problems_name_the_bad_extension(schema, problem):
    assert any(p.startswith(problem) for p in forms.schema_problems(schema)), forms.schema_problems(schema)


def test_the_bundle_forms_use_only_known_catalogues_and_rules():
    assert forms.schema_problems(WINDOW) == []


PARTS = {"type": "object", "properties": {
    "skill": {"type": "string", "x-catalogue": "skills"},
    "technician": {"type": "string", "x-catalogue": "technicians", "x-catalogue-filter": {"skill": "skill"}},
    "parts": {"type": "array", "items": {"type": "object", "properties": {
        "sku": {"type": "string", "x-catalogue": "parts"}, "quantity": {"type": "integer"}}}}}}


@pytest.fixture
def catalogue(database):
    load_handlers()
    with database.transaction() as s:
        load_catalogue(s)
    return database


@pytest.mark.parametrize(("data", "errors"), [
    ({"parts": [{"sku": "WM-PUMP-01", "quantity": 1}]}, []),
    ({"parts": [{"sku": "WM-PUMP-01", "quantity": 1}, {"sku": "XX-NOPE-9", "quantity": 1}]},
     [("parts/1/sku", "'XX-NOPE-9' is not in the parts catalogue")]),
    ({"skill": "washing_machine", "technician": "tech.wang"}, []),
    ({"skill": "juggling"}, [("skill", "'juggling' is not in the skills catalogue")]),
    ({"technician": "nobody"}, [("technician", "'nobody' is not in the technicians catalogue for this ticket")]),
])
def test_catalogue_fields_refuse_what_the_catalogue_does_not_have(catalogue, data, errors):
    with catalogue.transaction(write=False) as s:
        found = forms.catalogue_errors(s, PARTS, data, {})
    assert [(e.field, e.message) for e in found] == errors


def test_a_technician_without_the_skill_is_refused_even_by_the_instance_data(catalogue):
    with catalogue.transaction(write=False) as s:
        techs = [c.value for c in forms.catalogue_choices(s, PARTS["properties"]["technician"], {}, {})]
        lacking = next(t for t in techs if t not in [c.value for c in forms.catalogue_choices(
            s, PARTS["properties"]["technician"], {"skill": "air_conditioner"}, {})])
        errors = forms.catalogue_errors(s, PARTS, {"technician": lacking}, {"skill": "air_conditioner"})
    assert [e.field for e in errors] == ["technician"]


def test_the_shown_form_offers_the_catalogue_in_the_readers_language_and_keeps_an_unknown_value(catalogue):
    with catalogue.transaction(write=False) as s:
        zh = forms.with_catalogue(s, PARTS, {"parts": [{"sku": "XX-NOPE-9"}]}, {}, "zh")
        en = forms.with_catalogue(s, PARTS, {}, {}, "en")
    sku_zh = zh["properties"]["parts"]["items"]["properties"]["sku"]["oneOf"]
    sku_en = en["properties"]["parts"]["items"]["properties"]["sku"]["oneOf"]
    pump_zh = next(o["title"] for o in sku_zh if o["const"] == "WM-PUMP-01")
    pump_en = next(o["title"] for o in sku_en if o["const"] == "WM-PUMP-01")
    assert pump_zh.startswith("WM-PUMP-01 排水泵 (库存 ") and pump_en.startswith("WM-PUMP-01 Drain pump 30 W (")
    assert "in stock)" in pump_en
    assert {"const": "XX-NOPE-9", "title": "XX-NOPE-9"} in sku_zh
    assert "oneOf" not in PARTS["properties"]["parts"]["items"]["properties"]["sku"]  # the file's schema is untouched


PROPOSAL = {"type": "object", "properties": {
    "parts": {"type": "array", "x-prefill": "inspection.parts_needed"},
    "labour_hours": {"type": "number", "x-prefill": "inspection.labour_hours"},
    "note": {"type": "string"}}}


@pytest.mark.parametrize(("values", "shown"), [
    ({"inspection": {"parts_needed": [{"sku": "WM-PUMP-01", "quantity": 1}], "labour_hours": 1.5}},
     {"parts": [{"sku": "WM-PUMP-01", "quantity": 1}], "labour_hours": 1.5}),
    ({"inspection": {"parts_needed": [], "labour_hours": 2}, "parts": [{"sku": "WM-BELT-01", "quantity": 2}]},
     {"parts": [{"sku": "WM-BELT-01", "quantity": 2}], "labour_hours": 2}),  # an earlier answer wins
    ({}, {}),  # nothing recorded: nothing pre-filled
])
def test_what_the_technician_recorded_prefills_the_agents_answers(values, shown):
    filled = forms.prefill(PROPOSAL, values, values)
    assert {k: filled[k] for k in ("parts", "labour_hours") if k in filled} == shown


def test_a_prefill_that_is_not_a_path_is_a_schema_problem():
    assert forms.schema_problems({"type": "object", "properties": {"a": {"type": "string", "x-prefill": 3}}}) == [
        "field a: x-prefill must be a dotted path into the instance data"]


FAULT = {"type": "object", "properties": {
    "model": {"type": "string", "x-catalogue": "models"},
    "symptoms": {"type": "array", "uniqueItems": True, "items": {
        "type": "string", "x-catalogue": "symptoms", "x-catalogue-filter": {"model": "model"}}}}}


def test_symptoms_are_those_of_the_models_product_line_and_a_choice_list_is_checked_item_by_item(catalogue):
    with catalogue.transaction(write=False) as s:
        washer = {c.value for c in forms.catalogue_choices(s, FAULT["properties"]["symptoms"]["items"],
                                                           {"model": "WM-F80"}, {})}
        every = {c.value for c in forms.catalogue_choices(s, FAULT["properties"]["symptoms"]["items"], {}, {})}
        errors = forms.catalogue_errors(s, FAULT, {"model": "WM-F80", "symptoms": ["not_draining", "bogus"]}, {})
        shown = forms.with_catalogue(s, FAULT, {}, {}, "zh")
    assert "not_draining" in washer and washer < every
    assert [(e.field, e.message) for e in errors] == [
        ("symptoms/1", "'bogus' is not in the symptoms catalogue for this ticket")]
    assert {"const": "not_draining", "title": "不排水"} in shown["properties"]["symptoms"]["items"]["oneOf"]


def test_future_and_past_are_the_engine_clock_s_not_the_wall_s():
    # Given the engine living on 2 March 2026 (a demo clock, a simulated history), whatever the wall says
    with engine_clock.thread_clock(engine_clock.FrozenClock(NOW)):
        # Then a purchase on 4 March is in the future, and one on 1 March is not
        with pytest.raises(FormValidationError) as caught:
            forms.validate(WINDOW, {"bought": "2026-03-04"}, "t")
        assert [e.field for e in caught.value.errors] == ["bought"]
        forms.validate(WINDOW, {"bought": "2026-03-01"}, "t")
