"""The form renderer as a table: JSON Schema type × uiSchema widget × submitted strings.

Each row renders one property through ``macros/form.html``, checks the inputs the browser
gets, then posts the given strings back through :func:`web.formdata.parse` and the
engine's validation and checks the typed value or the plain error on the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template_string
from werkzeug.datastructures import MultiDict

from engine.config import load_settings
from engine.db import Database
from engine.errors import FormValidationError
from engine.forms import validate
from engine.runtime import Runtime
from web import create_app
from web.formdata import field_errors, parse
from web.formgen import build
from web.services import Services

ONE_FIELD = '{% import "macros/form.html" as m %}{% for f in fields %}{{ m.field(f) }}{% endfor %}'
FORMS = Path(__file__).parents[2] / "processes" / "forms"
SCORE = {"type": "integer", "minimum": 1, "maximum": 5}
ONE_TO_FIVE = ["1", "2", "3", "4", "5"]
COLOURS = {"type": "string", "oneOf": [{"const": "r", "title": "Red"}, {"const": "g", "title": "Green"}]}
SIZES = {"type": "integer", "enum": [1, 2, 3], "enumNames": ["Small", "Medium", "Large"]}
TAGS = {"type": "array", "uniqueItems": True, "items": {"type": "string", "enum": ["a", "b", "c"]}}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app, for its templates and filters only (no page reads the database here)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('formgen')}/unused.db"
    settings = load_settings(database_url=url)
    services = Services(settings, Database(url), Runtime(settings))
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DISPLAY_TIMEZONE": "UTC"}, services=services)
    yield app
    services.db.dispose()


class Inputs(HTMLParser):
    """Collect the form controls of rendered HTML: ``(tag, type, name, value)`` per control."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[tuple[str, str, str, str]] = []
        self.labels: list[str] = []
        self._select = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input":
            self.controls.append(("input", a.get("type", "text"), a.get("name", ""), a.get("value", "")))
        elif tag == "select":
            self._select = a.get("name", "")
            kind = "multiple" if "multiple" in a else "single"
            self.controls.append(("select", kind, self._select, ""))
        elif tag == "option" and a.get("value"):
            self.controls.append(("option", "", self._select, a["value"]))
        elif tag == "textarea":
            self.controls.append(("textarea", "", a.get("name", ""), ""))


def render(app: Flask, prop: dict[str, Any], ui: dict[str, Any]) -> tuple[list[tuple[str, str, str, str]], str]:
    """Render a one-field form; return its controls and the HTML."""
    schema = {"type": "object", "properties": {"x": prop}}
    with app.test_request_context(headers={"Accept-Language": "en"}):
        html = render_template_string(ONE_FIELD, fields=build(schema, {"x": ui}, {}))
    parser = Inputs()
    parser.feed(html)
    return parser.controls, html


def submit(app: Flask, prop: dict[str, Any], ui: dict[str, Any], posted: list[str]) -> tuple[Any, str]:
    """Post strings for the field; return the typed value and the plain error on the field."""
    schema = {"type": "object", "properties": {"x": prop}}
    data = parse(schema, {"x": ui}, MultiDict([("x", v) for v in posted]), tz=UTC)
    try:
        validate(schema, data, where="table")
    except FormValidationError as exc:
        with app.test_request_context(headers={"Accept-Language": "en"}):
            errors, _ = field_errors(exc.errors)
        return data.get("x"), errors.get("x", "")
    return data.get("x"), ""


def radios(values: list[str]) -> list[tuple[str, str, str, str]]:
    return [("input", "radio", "x", v) for v in values]


def options(values: list[str], kind: str = "single") -> list[tuple[str, str, str, str]]:
    return [("select", kind, "x", ""), *[("option", "", "x", v) for v in values]]


# (case, schema, uiSchema, rendered controls, posted strings, value, error)
TABLE = [
    ("integer range as radios", SCORE, {"ui:widget": "radio"}, radios(ONE_TO_FIVE), ["4"], 4, ""),
    ("integer range radios refuse out of range", SCORE, {"ui:widget": "radio"}, radios(ONE_TO_FIVE),
     ["9"], 9, "Must be at most 5."),
    ("integer range as a select", SCORE, {"ui:widget": "select"}, options(ONE_TO_FIVE), ["2"], 2, ""),
    ("integer range as a slider", SCORE, {"ui:widget": "range"},
     [("input", "range", "x", "")], ["5"], 5, ""),
    ("integer typed", SCORE, {}, [("input", "number", "x", "")], ["three"], "three", "Enter a whole number."),
    ("integer updown", SCORE, {"ui:widget": "updown"}, [("input", "number", "x", "")], ["0"], 0,
     "Must be at least 1."),
    ("integer with step as radios", {"type": "integer", "minimum": 0, "maximum": 10, "multipleOf": 5},
     {"ui:widget": "radio"}, radios(["0", "5", "10"]), ["5"], 5, ""),
    ("exclusive bounds as radios", {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 4},
     {"ui:widget": "radio"}, radios(["1", "2", "3"]), ["3"], 3, ""),
    ("open integer range radio is typed", {"type": "integer", "minimum": 1}, {"ui:widget": "radio"},
     [("input", "number", "x", "")], ["7"], 7, ""),
    ("number halves as radios", {"type": "number", "minimum": 0, "maximum": 2, "multipleOf": 0.5},
     {"ui:widget": "radio"}, radios(["0", "0.5", "1", "1.5", "2"]), ["1.5"], 1.5, ""),
    ("number as a slider", {"type": "number", "minimum": 0, "maximum": 1}, {"ui:widget": "range"},
     [("input", "range", "x", "")], ["0.25"], 0.25, ""),
    ("number typed", {"type": "number"}, {}, [("input", "number", "x", "")], ["lots"], "lots", "Enter a number."),
    ("boolean checkbox ticked", {"type": "boolean"}, {}, [("input", "checkbox", "x", "true")], ["true"], True, ""),
    ("boolean checkbox unticked", {"type": "boolean"}, {"ui:widget": "checkbox"},
     [("input", "checkbox", "x", "true")], [], False, ""),
    ("boolean as radios", {"type": "boolean"}, {"ui:widget": "radio"}, radios(["true", "false"]),
     ["false"], False, ""),
    ("boolean as a select", {"type": "boolean"}, {"ui:widget": "select"}, options(["true", "false"]),
     ["true"], True, ""),
    ("boolean radio left empty", {"type": "boolean"}, {"ui:widget": "radio"}, radios(["true", "false"]),
     [], None, ""),
    ("string enum with titles as a select", COLOURS, {}, options(["r", "g"]), ["g"], "g", ""),
    ("string enum with titles as radios", COLOURS, {"ui:widget": "radio"}, radios(["r", "g"]), ["b"], "b",
     "Choose one of the options."),
    ("integer enum with names as radios", SIZES, {"ui:widget": "radio"}, radios(["1", "2", "3"]), ["3"], 3, ""),
    ("integer enum with names as a select", SIZES, {}, options(["1", "2", "3"]), ["2"], 2, ""),
    ("array of enums as checkboxes", TAGS, {}, [("input", "checkbox", "x", v) for v in "abc"], ["a", "c"],
     ["a", "c"], ""),
    ("array of enums as a multiple select", {**TAGS, "uniqueItems": False}, {"ui:widget": "select"},
     options(["a", "b", "c"], "multiple"), ["b"], ["b"], ""),
    ("array of integer enums as checkboxes", {"type": "array", "items": SIZES}, {"ui:widget": "checkboxes"},
     [("input", "checkbox", "x", v) for v in "123"], ["1", "3"], [1, 3], ""),
    ("date", {"type": "string", "format": "date"}, {}, [("input", "date", "x", "")], ["2026-03-02"],
     "2026-03-02", ""),
    ("date refused", {"type": "string", "format": "date"}, {"ui:widget": "date"}, [("input", "date", "x", "")],
     ["02/03/2026"], "02/03/2026", "Enter a date (YYYY-MM-DD)."),
    ("date-time", {"type": "string", "format": "date-time"}, {}, [("input", "datetime-local", "x", "")],
     ["2026-03-02T10:30"], "2026-03-02T10:30:00+00:00", ""),
    ("alt-datetime", {"type": "string", "format": "date-time"}, {"ui:widget": "alt-datetime"},
     [("input", "datetime-local", "x", "")], ["nope"], "nope", "Enter a date and time."),
    ("textarea", {"type": "string", "maxLength": 5}, {"ui:widget": "textarea"}, [("textarea", "", "x", "")],
     ["too long"], "too long", "Too long."),
    ("a text widget on an integer stays a number input", SCORE, {"ui:widget": "textarea"},
     [("input", "number", "x", "")], ["3"], 3, ""),
]


@pytest.mark.parametrize(("case", "prop", "ui", "controls", "posted", "value", "error"), TABLE,
                         ids=[row[0] for row in TABLE])
def test_each_type_and_widget_renders_and_reads_back(app, case, prop, ui, controls, posted, value, error):
    rendered, _ = render(app, prop, ui)
    assert rendered == controls, case
    assert submit(app, prop, ui, posted) == (value, error), case


def test_a_date_time_is_shown_in_the_time_zone_it_is_read_back_in():
    from zoneinfo import ZoneInfo

    schema = {"type": "object", "properties": {"at": {"type": "string", "format": "date-time"}}}
    shanghai = ZoneInfo("Asia/Shanghai")
    [field] = build(schema, {}, {"at": "2026-03-02T02:30:00+00:00"}, tz=shanghai)
    assert field.value == "2026-03-02T10:30"
    assert parse(schema, {}, MultiDict([("at", field.value)]), tz=shanghai) == {"at": "2026-03-02T10:30:00+08:00"}


def test_enum_labels_are_titles_and_names_and_booleans_read_yes_no(app):
    _, html = render(app, COLOURS, {"ui:widget": "radio"})
    assert "Red" in html and "Green" in html
    _, html = render(app, SIZES, {})
    assert ">Small<" in html and ">Large<" in html
    _, html = render(app, {"type": "boolean"}, {"ui:widget": "radio"})
    assert "Yes" in html and "No" in html


def test_the_qa_review_form_offers_scores_one_to_five_and_accepts_them(app):
    """Regression: the 1–5 scores rendered as Yes/No radios and every submit failed."""
    import json

    schema = json.loads((FORMS / "review_ticket_quality.schema.json").read_text())
    ui = json.loads((FORMS / "review_ticket_quality.uischema.json").read_text())
    fields = {f.name: f for f in build(schema, ui, {})}
    for name in ("response", "diagnosis", "communication", "documentation", "overall"):
        assert [value for value, _ in fields[name].options] == ONE_TO_FIVE
    data = parse(schema, ui, MultiDict([("response", "5"), ("diagnosis", "4"), ("communication", "3"),
                                        ("documentation", "2"), ("overall", "4"), ("comment", "")]))
    validate(schema, data, where="review_ticket_quality")
    assert data == {"response": 5, "diagnosis": 4, "communication": 3, "documentation": 2, "overall": 4}
