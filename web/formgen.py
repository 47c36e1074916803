"""Server-side forms from a JSON Schema and a react-jsonschema-form ``uiSchema``.

:func:`build` turns schema + uiSchema + current values into a tree of :class:`Field`
that ``templates/macros/form.html`` renders as plain HTML inputs with HTML5 validation
attributes. Input names are dotted paths (``customer.phone``, ``parts_used.0.sku``);
:mod:`web.formdata` reads them back into typed data.

Supported uiSchema keys: ``ui:widget`` (text, textarea, select, radio, checkbox,
checkboxes, date, datetime, alt-date, alt-datetime, email, password, updown, range, hidden;
a widget that does not fit the type is ignored: radios and selects of a bounded integer or
number range offer its values, of a boolean Yes and No; ``select`` on an array of choices is
a multiple select), ``ui:readonly``,
``ui:disabled``, ``ui:order``, ``ui:title``, ``ui:help``, ``ui:description``,
``ui:placeholder``, ``ui:autofocus``, ``ui:options`` (``rows``, ``addable``,
``removable``, ``emptyRows``), and ``items`` for array rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

EMPTY_ROWS = 2  # blank array rows rendered for browsers without JavaScript
MAX_CHOICES = 100  # a bounded number range with more values than this is typed, not picked
BOOLEAN_OPTIONS = [("true", "Yes"), ("false", "No")]


@dataclass
class Field:
    """One input (or group of inputs) of a generated form."""

    name: str
    key: str
    label: str
    kind: str  # string | integer | number | boolean | object | array | multi
    widget: str
    required: bool = False
    readonly: bool = False
    help: str = ""
    placeholder: str = ""
    autofocus: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    value: Any = None
    error: str = ""
    children: list[Field] = field(default_factory=list)
    rows: list[Field] = field(default_factory=list)
    template: Field | None = None
    addable: bool = True
    removable: bool = True
    textarea_rows: int = 3
    star: bool = False  # required inside an array row: marked, but blank rows may stay empty

    @property
    def dom_id(self) -> str:
        """Return the HTML id of the input."""
        return "f-" + self.name.replace(".", "-").replace("__", "-")

    def has_errors(self) -> bool:
        """Tell whether this field or anything inside it has an error."""
        return bool(self.error) or any(c.has_errors() for c in self.children + self.rows)


def _relax(node: Field) -> None:
    """Turn ``required`` into a mark only, for the fields of an array row and below."""
    node.star, node.required = node.star or node.required, False
    for child in [*node.children, *node.rows]:
        _relax(child)


def resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (``#/definitions/x``, ``#/$defs/x``) and merge sibling keys."""
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    target: Any = root
    for part in ref[2:].split("/"):
        target = target.get(part, {}) if isinstance(target, dict) else {}
    merged = {**resolve(target, root), **{k: v for k, v in schema.items() if k != "$ref"}}
    return merged


def schema_type(schema: dict[str, Any]) -> str:
    """Return the one JSON type a property takes (the first that is not ``null``)."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind is None:
        if "properties" in schema:
            return "object"
        if "enum" in schema or "oneOf" in schema:
            values = enum_values(schema)
            first = values[0] if values else ""
            if isinstance(first, bool):
                return "boolean"
            if isinstance(first, int):
                return "integer"
            return "number" if isinstance(first, float) else "string"
        return "string"
    return str(kind)


def enum_values(schema: dict[str, Any]) -> list[Any]:
    """Return the allowed values of an enum (``enum`` or ``oneOf``/``anyOf`` of ``const``)."""
    if isinstance(schema.get("enum"), list):
        return list(schema["enum"])
    for key in ("oneOf", "anyOf"):
        choices = schema.get(key)
        if (
            isinstance(choices, list)
            and choices
            and all(isinstance(c, dict) and "const" in c for c in choices)
        ):
            return [c["const"] for c in choices]
    return []


#: pick lists whose options are only people's names (display name and user name): shown as they are
PEOPLE_CATALOGUES = frozenset({"staff"})


def enum_options(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """Return ``(value, label)`` pairs of an enum, labelled by ``enumNames`` or ``title``."""
    values = enum_values(schema)
    names = schema.get("enumNames") if isinstance(schema.get("enumNames"), list) else None
    titles = {}
    for key in ("oneOf", "anyOf"):
        for choice in schema.get(key) or []:
            if isinstance(choice, dict) and "const" in choice:
                titles[_text(choice["const"])] = str(choice.get("title", choice["const"]))
    out = []
    for index, value in enumerate(values):
        text = _text(value)
        fallback = dict(BOOLEAN_OPTIONS).get(text, text) if isinstance(value, bool) else text
        label = names[index] if names and index < len(names) else titles.get(text, fallback)
        out.append((text, str(label)))
    return out


def range_options(schema: dict[str, Any], kind: str) -> list[tuple[str, str]]:
    """Return the values of a bounded number range as options (``minimum``…``maximum`` by ``multipleOf``).

    Empty when the range is open or has more than :data:`MAX_CHOICES` values: such a
    field is typed into a number input instead.
    """
    try:
        step = Decimal(str(schema.get("multipleOf", 1)))
        low = _bound(schema, "minimum", "exclusiveMinimum", step, ROUND_CEILING)
        high = _bound(schema, "maximum", "exclusiveMaximum", step, ROUND_FLOOR)
    except (InvalidOperation, TypeError, ValueError):
        return []
    if low is None or high is None or step <= 0 or low > high or (high - low) / step >= MAX_CHOICES:
        return []
    if kind == "integer" and step != step.to_integral_value():
        return []
    out = []
    value = low
    while value <= high:
        text = _number_text(value)
        out.append((text, text))
        value += step
    return out


def _bound(schema: dict[str, Any], inclusive: str, exclusive: str, step: Decimal, rounding: str) -> Decimal | None:
    """Return the first (or last) multiple of ``step`` inside a range bound, or ``None`` if unbounded."""
    candidates = []
    ceiling = rounding == ROUND_CEILING
    if isinstance(schema.get(inclusive), (int, float)) and not isinstance(schema.get(inclusive), bool):
        edge = Decimal(str(schema[inclusive]))
        candidates.append((edge / step).to_integral_value(rounding) * step)
    if isinstance(schema.get(exclusive), (int, float)) and not isinstance(schema.get(exclusive), bool):
        edge = Decimal(str(schema[exclusive]))
        nearest = (edge / step).to_integral_value(rounding) * step
        candidates.append(nearest + (step if ceiling else -step) if nearest == edge else nearest)
    if not candidates:
        return None
    return max(candidates) if ceiling else min(candidates)


def _number_text(value: Decimal) -> str:
    """Write a number as a form posts it: ``3``, ``2.5`` (never ``3.0`` or ``1E+1``)."""
    return format(value.normalize(), "f") if value != value.to_integral_value() else str(int(value))


def _local_minutes(text: str, tz: tzinfo | None) -> str:
    """Return an RFC 3339 time as a ``datetime-local`` value (``YYYY-MM-DDTHH:MM``) in ``tz``."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text[:16]
    if moment.tzinfo is not None and tz is not None:
        moment = moment.astimezone(tz)
    return moment.strftime("%Y-%m-%dT%H:%M")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def is_multi_choice(schema: dict[str, Any], items: dict[str, Any], ui: dict[str, Any]) -> bool:
    """Tell whether an array is a set of choices (checkboxes or a multiple select) rather than rows."""
    return bool(enum_values(items)) and (
        bool(schema.get("uniqueItems")) or ui.get("ui:widget") in ("checkboxes", "select"))


def humanize(key: str) -> str:
    """Return a label for a property without a title (``serial_number`` → ``Serial number``)."""
    words = key.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def ordered(properties: dict[str, Any], order: list[str] | None) -> list[str]:
    """Return property keys in ``ui:order`` (with ``*`` for the rest), else as written."""
    keys = list(properties)
    if not order:
        return keys
    rest = [k for k in keys if k not in order]
    out: list[str] = []
    for key in order:
        if key == "*":
            out += rest
        elif key in properties:
            out.append(key)
    if "*" not in order:
        out += rest
    return out


def build(schema: dict[str, Any], ui: dict[str, Any] | None, values: dict[str, Any] | None,
          errors: dict[str, str] | None = None, tz: tzinfo | None = None) -> list[Field]:
    """Return the fields of a form for ``schema``, with ``values`` and ``errors`` filled in.

    Date-times are shown in ``tz`` (the zone :func:`web.formdata.parse` reads them back in).
    """
    builder = _Builder(schema, errors or {}, tz)
    fields = builder.object_field(_Spot("", "", schema, ui or {}, values or {})).children
    if errors:
        _name_fields_in_errors(fields)
    return fields


def _walk(fields: list[Field]) -> Iterator[Field]:
    for node in fields:
        yield node
        yield from _walk([*node.children, *node.rows])


def _name_fields_in_errors(fields: list[Field]) -> None:
    """Say another field an error refers to (``must be after appointment.start``) by its label, as the reader
    sees it on the form, not by its key."""
    from .i18n import translate

    nodes = list(_walk(fields))
    labels = {n.name: n.label for n in nodes if "." in n.name or "_" in n.name}
    for node in nodes:
        for name, label in labels.items():
            if node.error and name != node.name:
                node.error = re.sub(rf"(?<![\w.]){re.escape(name)}(?!\w|\.\w)", f"“{translate(label)}”", node.error)


@dataclass(frozen=True)
class _Spot:
    """Where a field goes: its input name, key, schema, uiSchema, value and flags."""

    name: str
    key: str
    schema: dict[str, Any]
    ui: dict[str, Any]
    value: Any
    required: bool = False
    readonly: bool = False

    def child(self, key: str, schema: dict[str, Any], ui: Any, value: Any, required: bool,
              readonly: bool) -> _Spot:
        """Return the spot of a property or row inside this one."""
        name = f"{self.name}.{key}" if self.name else key
        return _Spot(name, key, schema, ui if isinstance(ui, dict) else {}, value, required, readonly)


class _Builder:
    def __init__(self, root: dict[str, Any], errors: dict[str, str], tz: tzinfo | None) -> None:
        self.root = root
        self.errors = errors
        self.tz = tz

    def object_field(self, spot: _Spot) -> Field:
        schema = resolve(spot.schema, self.root)
        values = spot.value if isinstance(spot.value, dict) else {}
        props = schema.get("properties") or {}
        needed = set(schema.get("required") or [])
        node = self._base(spot, schema, "object", "fieldset")
        for key in ordered(props, spot.ui.get("ui:order")):
            node.children.append(self.field(spot.child(key, props[key], spot.ui.get(key), values.get(key),
                                                       key in needed, node.readonly)))
        return node

    def field(self, spot: _Spot) -> Field:
        schema = resolve(spot.schema, self.root)
        kind = schema_type(schema)
        if kind == "object":
            return self.object_field(spot)
        if kind == "array":
            return self.array_field(spot, schema)
        node = self._base(spot, schema, kind, self._widget(schema, spot.ui, kind))
        node.options = enum_options(schema)
        if not node.options and node.widget in ("radio", "select"):
            if kind == "boolean":
                node.options = list(BOOLEAN_OPTIONS)
            elif kind in ("integer", "number"):
                node.options = range_options(schema, kind)
            if not node.options:  # an open or very long range, or text: typed after all
                node.widget = "number" if kind in ("integer", "number") else "text"
        node.attrs = self._attrs(schema, kind)
        if schema.get("x-catalogue") in PEOPLE_CATALOGUES:  # its options are people's names: data, never translated
            node.attrs["data-names"] = "people"
        value = schema.get("default") if spot.value is None else spot.value
        keep = kind == "boolean" and node.widget == "checkbox"
        node.value = value if keep else _text(value) if not isinstance(value, (list, dict)) else ""
        if node.widget == "datetime" and node.value:
            node.value = _local_minutes(node.value, self.tz)
        return node

    def array_field(self, spot: _Spot, schema: dict[str, Any]) -> Field:
        items = resolve(schema.get("items") or {}, self.root)
        options = spot.ui.get("ui:options") or {}
        if is_multi_choice(schema, items, spot.ui):
            widget = "multiselect" if spot.ui.get("ui:widget") == "select" else "checkboxes"
            node = self._base(spot, schema, "multi", widget)
            node.options = enum_options(items)
            node.value = [_text(v) for v in spot.value] if isinstance(spot.value, list) else []
            return node
        node = self._base(spot, schema, "array", "rows")
        node.addable = options.get("addable", True) is not False and not node.readonly
        node.removable = options.get("removable", True) is not False and not node.readonly
        rows = list(spot.value) if isinstance(spot.value, list) else []
        blanks = 0 if node.readonly else int(options.get("emptyRows", EMPTY_ROWS))
        if rows:  # rows typed (or kept after an error): one blank to add to, so a refused submit adds none
            blanks = min(blanks, 1)
        count = max(len(rows) + (blanks if node.addable else 0), int(schema.get("minItems") or 0))
        if schema.get("maxItems") is not None:
            count = min(count, int(schema["maxItems"]))
        item_ui = spot.ui.get("items")
        for index in range(count):
            value = rows[index] if index < len(rows) else None
            node.rows.append(self.field(spot.child(str(index), items, item_ui, value, False, node.readonly)))
        node.template = self.field(spot.child("__index__", items, item_ui, None, False, node.readonly))
        for row in [*node.rows, node.template]:
            _relax(row)
        node.attrs = {k: schema[k] for k in ("minItems", "maxItems") if k in schema}
        return node

    def _base(self, spot: _Spot, schema: dict[str, Any], kind: str, widget: str) -> Field:
        ui = spot.ui
        ro = bool(spot.readonly or ui.get("ui:readonly") or ui.get("ui:disabled") or schema.get("readOnly"))
        options = ui.get("ui:options") or {}
        return Field(
            name=spot.name, key=spot.key, label=str(ui.get("ui:title") or schema.get("title") or humanize(spot.key)),
            kind=kind, widget=widget, required=spot.required and not ro, readonly=ro,
            help=str(ui.get("ui:help") or ui.get("ui:description") or schema.get("description") or ""),
            placeholder=str(ui.get("ui:placeholder") or ""), autofocus=bool(ui.get("ui:autofocus")),
            error=self.errors.get(spot.name, ""), textarea_rows=int(options.get("rows", 3)))

    @staticmethod
    def _widget(schema: dict[str, Any], ui: dict[str, Any], kind: str) -> str:
        widget = str(ui.get("ui:widget") or "")
        numeric = kind in ("integer", "number")
        if widget in ("radio", "select", "hidden"):
            return widget
        if widget == "checkbox" and kind == "boolean":
            return widget
        if widget in ("updown", "range") and numeric:
            return "number" if widget == "updown" else widget
        widget = {"alt-date": "date", "alt-datetime": "datetime"}.get(widget, widget)
        if widget in ("textarea", "password", "email", "date", "datetime") and kind == "string":
            return widget
        if kind == "boolean":
            return "checkbox"
        if enum_values(schema):
            return "select"
        if kind in ("integer", "number"):
            return "number"
        fmt = schema.get("format")
        if fmt == "date":
            return "date"
        if fmt == "date-time":
            return "datetime"
        if fmt == "email":
            return "email"
        if int(schema.get("maxLength") or 0) > 200:
            return "textarea"
        return "text"

    @staticmethod
    def _attrs(schema: dict[str, Any], kind: str) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        if kind in ("integer", "number"):
            for src, dst in (("minimum", "min"), ("maximum", "max")):
                if src in schema:
                    attrs[dst] = schema[src]
            attrs["step"] = schema.get("multipleOf", 1 if kind == "integer" else "any")
        elif kind == "string":
            if "minLength" in schema:
                attrs["minlength"] = schema["minLength"]
            if "maxLength" in schema:
                attrs["maxlength"] = schema["maxLength"]
            if "pattern" in schema:
                attrs["pattern"] = schema["pattern"]
        return attrs
