"""Properties of the form validator on every form of the real bundle: what a browser posts goes
through :func:`web.formdata.parse` and the engine's validation (:func:`engine.forms.validate`)
without ever raising anything but a :class:`FormValidationError` whose errors name fields; a
value the form's schema allows, posted the way the page renders it, comes back as itself."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from engine import forms
from engine.errors import FormValidationError
from engine.message_contracts import strict_schema
from tests.test_message_contract_properties import schema_values
from web.formdata import field_errors, parse
from web.formgen import is_multi_choice, resolve, schema_type

FORMS = Path(__file__).resolve().parents[2] / "processes" / "forms"
NAMES = sorted(p.name.removesuffix(".schema.json") for p in FORMS.glob("*.schema.json"))
PROPERTY = settings(max_examples=12, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


def load(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = json.loads((FORMS / f"{name}.schema.json").read_text(encoding="utf-8"))
    ui_file = FORMS / f"{name}.uischema.json"
    return schema, (json.loads(ui_file.read_text(encoding="utf-8")) if ui_file.is_file() else {})


def _ui(ui: Any, key: str) -> dict[str, Any]:
    sub = ui.get(key) if isinstance(ui, dict) else None
    return sub if isinstance(sub, dict) else {}


def _radio(ui: dict[str, Any]) -> bool:
    return ui.get("ui:widget") in ("radio", "select")


def _readonly(schema: dict[str, Any], ui: dict[str, Any]) -> bool:
    return bool(ui.get("ui:readonly") or ui.get("ui:disabled") or schema.get("readOnly"))


def encode(schema: dict[str, Any], ui: dict[str, Any], value: Any, root: dict[str, Any], name: str = "") -> list[
        tuple[str, str]]:
    """Return the (input name, text) pairs a browser posts for ``value`` on the page formgen renders."""
    schema = resolve(schema, root)
    kind = schema_type(schema)
    if kind == "object" and isinstance(value, dict):
        pairs = []
        for key, sub in (schema.get("properties") or {}).items():
            if key in value and not _readonly(resolve(sub, root), _ui(ui, key)):
                pairs += encode(sub, _ui(ui, key), value[key], root, f"{name}.{key}" if name else key)
        return pairs
    if kind == "array" and isinstance(value, list):
        items = resolve(schema.get("items") or {}, root)
        if is_multi_choice(schema, items, ui):
            return [(name, _text(v)) for v in value]
        if not value:  # an empty table still has its blank first row
            return [(n, "") for n in input_names(items, _ui(ui, "items"), root, f"{name}.0")]
        return [p for i, row in enumerate(value) for p in encode(items, _ui(ui, "items"), row, root, f"{name}.{i}")]
    if kind == "boolean" and not _radio(ui):
        return [(name, "on")] if value is True else []
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        value = int(value)  # a number input shows 1.0 as 1
    return [] if value is None else [(name, _text(value))]


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def input_names(schema: dict[str, Any], ui: dict[str, Any], root: dict[str, Any], name: str = "") -> list[str]:
    """Return the names of the inputs the page has (three rows of each table)."""
    schema = resolve(schema, root)
    kind = schema_type(schema)
    if kind == "object":
        return [n for key, sub in (schema.get("properties") or {}).items()
                for n in input_names(sub, _ui(ui, key), root, f"{name}.{key}" if name else key)]
    if kind == "array":
        items = resolve(schema.get("items") or {}, root)
        if is_multi_choice(schema, items, ui):
            return [name]
        return [n for i in range(3) for n in input_names(items, _ui(ui, "items"), root, f"{name}.{i}")]
    return [name]


def leaves(value: Any, schema: dict[str, Any], root: dict[str, Any], path: tuple[Any, ...] = ()):
    """Yield (path, value, schema) of every scalar in ``value``."""
    schema = resolve(schema, root)
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (schema.get("properties") or {}).get(key, {}), root, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, schema.get("items") or {}, root, (*path, index))
    else:
        yield path, value, schema


def at(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        found = part in value if isinstance(value, dict) else (
            isinstance(value, list) and isinstance(part, int) and part < len(value))
        if found:
            value = value[part]
        else:
            return KeyError
    return value


def posted_kept(original: Any, text: str) -> bool:
    """Tell whether a browser posting ``text`` keeps ``original`` exactly (surrounding blanks are trimmed)."""
    if isinstance(original, str):
        return original != "" and original == original.strip()
    return True


@pytest.mark.parametrize("name", NAMES)
def test_whatever_a_browser_posts_is_data_or_errors_naming_fields_never_an_exception(name):
    schema, ui = load(name)
    names = input_names(schema, ui, schema) + ["x_unknown", "csrf_token"]
    pairs = st.lists(st.tuples(st.sampled_from(names), st.text(max_size=12) | st.sampled_from(
        ["", " ", "on", "true", "false", "1", "-3", "2.5", "1e400", "2026-03-02T10:00", "2026-02-30"])), max_size=12)

    @given(posted=pairs)
    @PROPERTY
    def check(posted):
        data = parse(schema, ui, MultiDict(posted), {}, UTC)
        assert isinstance(data, dict)
        try:
            forms.validate(schema, data, where=name)
        except FormValidationError as exc:
            assert exc.errors and all(e.field for e in exc.errors)
            by_name, general = field_errors(exc.errors)
            assert by_name or general

    check()


@pytest.mark.parametrize("name", NAMES)
def test_a_value_the_form_allows_round_trips_through_the_page_or_gets_a_field_named_error(name):
    schema, ui = load(name)

    @given(value=schema_values(strict_schema(schema)))
    @PROPERTY
    def check(value):
        data = parse(schema, ui, MultiDict(encode(schema, ui, value, schema)), {}, UTC)
        try:  # the schema's cross-field x-rules lie outside what the generator knows: tests/test_engine_form_rules.py
            forms.validate({k: v for k, v in schema.items() if k != "x-rules"}, data, where=name)
        except FormValidationError as exc:
            # only what the page trims (surrounding blanks, blank text) may turn a valid value invalid
            by_name, general = field_errors(exc.errors)
            assert not general, exc.errors
            changed = {".".join(map(str, p)) for p, v, _s in leaves(value, schema, schema) if not posted_kept(v, "")}
            assert any(n == c or n.startswith(c + ".") or c.startswith(n + ".") or c.startswith(n)
                       for n in by_name for c in changed), (value, exc.errors)
            return
        for path, original, sub in leaves(value, schema, schema):
            parent = at(value, path[:-1]) if path else None
            if isinstance(parent, list) and len(at(data, path[:-1]) or []) != len(parent):
                continue  # blank rows are dropped, as the page's table does
            if original is None or sub.get("format") == "date-time" or not posted_kept(original, ""):
                continue
            if _readonly(resolve(sub, schema), {}):
                continue
            assert at(data, path) == original, (path, original, data)

    check()
