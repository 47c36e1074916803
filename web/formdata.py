"""Submitted form strings back into typed data, per the form's JSON Schema.

Conversion never rejects: a value that does not convert (``"abc"`` for an integer) is
kept as the string so that the engine's ``jsonschema`` validation names the field and
the page shows the entered text again. Empty inputs are left out, so ``required`` does
its work. Read-only fields keep the task's current value whatever was posted.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, tzinfo
from typing import Any

from werkzeug.datastructures import MultiDict

from engine.errors import FieldError

from .formgen import is_multi_choice, resolve, schema_type

_INT = re.compile(r"^[+-]?\d+$")
_TRUE = {"on", "true", "1", "yes"}


def parse(
    schema: dict[str, Any],
    ui: dict[str, Any] | None,
    form: MultiDict[str, str],
    existing: dict[str, Any] | None = None,
    tz: tzinfo | None = None,
) -> dict[str, Any]:
    """Return the typed data of a submitted form (only the schema's properties)."""
    reader = _Reader(schema, form, tz)
    value = reader.object("", schema, ui or {}, existing or {})
    return value or {}


class _Reader:
    def __init__(self, root: dict[str, Any], form: MultiDict[str, str], tz: tzinfo | None) -> None:
        self.root = root
        self.form = form
        self.tz = tz

    def object(
        self, name: str, schema: dict[str, Any], ui: dict[str, Any], existing: Any
    ) -> dict[str, Any] | None:
        schema = resolve(schema, self.root)
        existing = existing if isinstance(existing, dict) else {}
        out: dict[str, Any] = {}
        for key, sub in (schema.get("properties") or {}).items():
            sub_ui = ui.get(key) if isinstance(ui.get(key), dict) else {}
            sub = resolve(sub, self.root)
            if sub_ui.get("ui:readonly") or sub_ui.get("ui:disabled") or sub.get("readOnly"):
                if key in existing:
                    out[key] = existing[key]
                continue
            value = self.value(f"{name}.{key}" if name else key, sub, sub_ui, existing.get(key))
            if value is not None:
                out[key] = value
        return out or None

    def value(self, name: str, schema: dict[str, Any], ui: dict[str, Any], existing: Any) -> Any:
        kind = schema_type(schema)
        if kind == "object":
            return self.object(name, schema, ui, existing)
        if kind == "array":
            return self.array(name, schema, ui, existing)
        if kind == "boolean" and ui.get("ui:widget") not in ("radio", "select"):
            present = name in self.form
            return self.form.get(name, "").lower() in _TRUE if present else False
        raw = self.form.get(name)
        if raw is None:
            return None
        return convert(raw, kind, schema, self.tz)

    def array(
        self, name: str, schema: dict[str, Any], ui: dict[str, Any], existing: Any
    ) -> list[Any] | None:
        items = resolve(schema.get("items") or {}, self.root)
        if is_multi_choice(schema, items, ui):
            kind = schema_type(items)
            chosen = [convert(v, kind, items, self.tz) for v in self.form.getlist(name) if v != ""]
            return chosen
        item_ui = ui.get("items") if isinstance(ui.get("items"), dict) else {}
        pattern = re.compile(rf"^{re.escape(name)}\.(\d+)(?:\.|$)")
        indices = sorted({int(m.group(1)) for key in self.form for m in [pattern.match(key)] if m})
        old = existing if isinstance(existing, list) else []
        rows = []
        for index in indices:
            row = self.value(
                f"{name}.{index}", items, item_ui, old[index] if index < len(old) else None
            )
            if row not in (None, {}, "") and not _blank_row(row):
                rows.append(row)
        return rows if rows or indices else None


def _blank_row(row: Any) -> bool:
    """Tell whether a row has only unticked checkboxes (an empty row left in the table)."""
    return isinstance(row, dict) and all(v is False for v in row.values())


def convert(raw: str, kind: str, schema: dict[str, Any], tz: tzinfo | None = None) -> Any:
    """Convert one submitted string to the schema's type; unconvertible text stays a string."""
    text = (
        raw.strip() if kind != "string" or schema.get("format") or "\n" not in raw else raw.rstrip()
    )
    if text == "":
        return None
    if kind == "integer":
        return int(text) if _INT.match(text) else text
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            return text
        if not math.isfinite(number):  # "1e400", "inf", "nan": no number a schema can hold
            return text
        return int(number) if number.is_integer() and _INT.match(text) else number
    if kind == "boolean":
        return text.lower() in _TRUE
    if kind == "null":
        return None
    if schema.get("format") == "date-time":
        return _datetime(text, tz)
    return text


def _datetime(text: str, tz: tzinfo | None) -> str:
    """Turn a ``datetime-local`` value (no zone) into RFC 3339 in the display time zone."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None and tz is not None:
        moment = moment.replace(tzinfo=tz)
    return moment.isoformat() if moment.tzinfo else text


_REQUIRED = re.compile(r"^'([^']+)' is a required property$")
#: jsonschema's messages, said plainly (and translated): pattern → text with ``{n}`` for the limit
PLAIN_MESSAGES = [
    (re.compile(r"^'.*' is not in the \w+ catalogue(?: for this ticket)?$", re.S),
     "Not in the catalogue: choose one of the options."),
    (re.compile(r"^must be after (\S+)$"), "Must be after {n}."),
    (re.compile(r"^must not be in the future$"), "Must not be in the future."),
    (re.compile(r"^must not be in the past$"), "Must not be in the past."),
    (re.compile(r"is a required property$"), "Required."),
    (re.compile(r"is greater than or equal to the maximum of (\S+)$"), "Must be less than {n}."),
    (re.compile(r"is greater than the maximum of (\S+)$"), "Must be at most {n}."),
    (re.compile(r"is less than or equal to the minimum of (\S+)$"), "Must be more than {n}."),
    (re.compile(r"is less than the minimum of (\S+)$"), "Must be at least {n}."),
    (re.compile(r"is not of type 'integer'$"), "Enter a whole number."),
    (re.compile(r"is not of type 'number'$"), "Enter a number."),
    (re.compile(r"^\[\] should be non-empty$"), "Add at least one row."),
    (re.compile(r"^'.*' is too short$", re.S), "Too short."),
    (re.compile(r"^'.*' is too long$", re.S), "Too long."),
    (re.compile(r"is too long$"), "Too many rows."),
    (re.compile(r"is not a 'email'$"), "Enter a valid e-mail address."),
    (re.compile(r"is not a 'date'$"), "Enter a date (YYYY-MM-DD)."),
    (re.compile(r"is not a 'date-time'$"), "Enter a date and time."),
    (re.compile(r"does not match "), "Not in the expected format."),
    (re.compile(r"should not be valid under \{\}$", re.S), "Not allowed with the other answers."),
    (re.compile(r"is not one of "), "Choose one of the options."),
    (re.compile(r"^'.*' is not valid under any of the given schemas$", re.S), "Choose one of the options."),
    (re.compile(r"is not valid under any of the given schemas$"), "Some details are missing or do not fit together."),
]


def _plainly(message: str) -> str | None:
    """Return a known validation message said in plain words, in the page's language; None for others."""
    from .i18n import translate

    for pattern, text in PLAIN_MESSAGES:
        found = pattern.search(message)
        if found:
            return translate(text, n=found.group(1)) if found.groups() else translate(text)
    return None


def plain(message: str) -> str:
    """Say a validation message in plain words, in the page's language."""
    from .i18n import translate

    return _plainly(message) or translate(message)


def said(error: FieldError) -> str:
    """Say a field error in the page's language: in plain words when it is a known one (a catalogue miss names
    no catalogue key), else its template with its values, else its message."""
    from .i18n import translate

    return _plainly(error.message) or (translate(error.template, **error.values) if error.template
                                       else translate(error.message))


#: a phone field's length or pattern failure, said as what a phone number is (as the contact form says it)
_PHONE_FAILURE = re.compile(r"(?:^'.*' is too (?:short|long)$|does not match )", re.S)
PHONE_MESSAGE = "not a phone number: 5 to 15 digits, with + ( ) - . or spaces only"
#: a customer without any way to reach them (``anyOf`` of ``required`` phone / email): said on both fields
_NO_CONTACT = re.compile(r"is not valid under any of the given schemas$")
CONTACT_MESSAGE = "Give a phone number or an e-mail address."


def _contact_errors(path: str, message: str) -> dict[str, str] | None:
    """Return the errors of a customer's phone / contact failure on their inputs, or None for other errors."""
    from .i18n import translate

    last = path.rsplit("/", 1)[-1]
    if last.endswith("phone") and _PHONE_FAILURE.search(message):
        return {path.replace("/", "."): translate(PHONE_MESSAGE)}
    if last == "customer" and _NO_CONTACT.search(message):
        name = path.replace("/", ".")
        return {f"{name}.phone": translate(CONTACT_MESSAGE), f"{name}.email": translate(CONTACT_MESSAGE)}
    return None


def field_errors(errors: list[FieldError]) -> tuple[dict[str, str], list[str]]:
    """Map the engine's field errors to input names; return them and the ones no input shows."""
    by_name: dict[str, str] = {}
    general: list[str] = []
    for error in errors:
        path = error.field
        contact = _contact_errors(path, error.message)
        if contact:
            for name, text in contact.items():
                by_name.setdefault(name, text)
            continue
        required = _REQUIRED.match(error.message)
        if required and not path.endswith(required.group(1)):
            path = (
                f"{path}/{required.group(1)}"
                if path and not path.startswith("(")
                else required.group(1)
            )
        if path.startswith("("):
            general.append(said(error))
            continue
        name = path.replace("/", ".")
        by_name.setdefault(name, said(error))
    return by_name, general
