"""Server-side forms from a JSON Schema and a react-jsonschema-form ``uiSchema``.

:func:`build` turns schema + uiSchema + current values into a tree of :class:`Field`
that ``templates/macros/form.html`` renders as plain HTML inputs with HTML5 validation
attributes. Input names are dotted paths (``customer.phone``, ``parts_used.0.sku``);
:mod:`web.formdata` reads them back into typed data.

Supported uiSchema keys: ``ui:widget`` (text, textarea, select, radio, checkbox,
checkboxes, date, datetime, email, password, updown, range, hidden), ``ui:readonly``,
``ui:disabled``, ``ui:order``, ``ui:title``, ``ui:help``, ``ui:description``,
``ui:placeholder``, ``ui:autofocus``, ``ui:options`` (``rows``, ``addable``,
``removable``, ``emptyRows``), and ``items`` for array rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EMPTY_ROWS = 2  # blank array rows rendered for browsers without JavaScript


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
            return (
                "boolean"
                if isinstance(first, bool)
                else "integer"
                if isinstance(first, int)
                else "string"
            )
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
        label = names[index] if names and index < len(names) else titles.get(text, text)
        out.append((text, str(label)))
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def is_multi_choice(schema: dict[str, Any], items: dict[str, Any], ui: dict[str, Any]) -> bool:
    """Tell whether an array is a set of choices (checkboxes) rather than rows."""
    return bool(enum_values(items)) and (bool(schema.get("uniqueItems")) or ui.get("ui:widget") == "checkboxes")


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
          errors: dict[str, str] | None = None) -> list[Field]:
    """Return the fields of a form for ``schema``, with ``values`` and ``errors`` filled in."""
    builder = _Builder(schema, errors or {})
    return builder.object_field(_Spot("", "", schema, ui or {}, values or {})).children


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
    def __init__(self, root: dict[str, Any], errors: dict[str, str]) -> None:
        self.root = root
        self.errors = errors

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
        node.attrs = self._attrs(schema, kind)
        value = schema.get("default") if spot.value is None else spot.value
        keep = kind == "boolean" and node.widget == "checkbox"
        node.value = value if keep else _text(value) if not isinstance(value, (list, dict)) else ""
        if node.widget == "datetime" and node.value:
            node.value = node.value[:16]
        return node

    def array_field(self, spot: _Spot, schema: dict[str, Any]) -> Field:
        items = resolve(schema.get("items") or {}, self.root)
        options = spot.ui.get("ui:options") or {}
        if is_multi_choice(schema, items, spot.ui):
            node = self._base(spot, schema, "multi", "checkboxes")
            node.options = enum_options(items)
            node.value = [_text(v) for v in spot.value] if isinstance(spot.value, list) else []
            return node
        node = self._base(spot, schema, "array", "rows")
        node.addable = options.get("addable", True) is not False and not node.readonly
        node.removable = options.get("removable", True) is not False and not node.readonly
        rows = list(spot.value) if isinstance(spot.value, list) else []
        blanks = 0 if node.readonly else int(options.get("emptyRows", EMPTY_ROWS))
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
        if widget in (
            "textarea",
            "radio",
            "select",
            "checkbox",
            "hidden",
            "password",
            "email",
            "date",
            "datetime",
            "range",
        ):
            return widget
        if widget == "updown":
            return "number"
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
