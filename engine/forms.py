"""User-task forms: JSON Schema files of the deployment, validated on every submit."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import clock
from .errors import FieldError, FormValidationError, NotFound, finding
from .models import DeploymentFile

#: an e-mail address safe to put in a mail header: one ``local@domain``, no whitespace, line
#: breaks or other control characters, nothing that separates or comments addresses
EMAIL = re.compile(r"[^\s@<>()\[\],;:\"\\\x00-\x1f\x7f]{1,64}@[^\s@<>()\[\],;:\"\\\x00-\x1f\x7f]{1,253}")
#: the format checks of every form: JSON Schema's, with ``email`` held to :data:`EMAIL`
FORMATS = FormatChecker()


@FORMATS.checks("email")
def is_email(value: object) -> bool:
    """Return whether ``value`` is a header-safe e-mail address (non-strings are another rule's)."""
    return not isinstance(value, str) or EMAIL.fullmatch(value) is not None


def check_address(value: Any, field: str, where: str) -> None:
    """Refuse an e-mail address that is not header-safe (422 naming ``field``); absent is fine."""
    if value is not None and value != "" and not (isinstance(value, str) and EMAIL.fullmatch(value)):
        raise FormValidationError("{where} has an error", [FieldError(
            field, "not a valid e-mail address (one local@domain, no spaces, line breaks or separators)")],
            task=where, params={"where": where})


_cache: dict[tuple[str, int, str], dict[str, Any]] = {}
_lock = threading.Lock()


_files: dict[tuple[str, int, str], bytes] = {}


def _key(session: Session, deployment_id: int, path: str) -> tuple[str, int, str]:
    """Deployments never change, but ids repeat across databases: key by database too."""
    return (session.get_bind().url.render_as_string(hide_password=True), deployment_id, path)


def load_file(session: Session, deployment_id: int, path: str) -> bytes:
    """Return a file of a deployment, by exact path or by name in any folder (cached)."""
    key = _key(session, deployment_id, path)
    content = _files.get(key)
    if content is not None:
        return content
    rows = session.execute(select(DeploymentFile.path, DeploymentFile.content).where(
        DeploymentFile.deployment_id == deployment_id,
        (DeploymentFile.path == path) | DeploymentFile.path.like(f"%/{path}"))).all()
    exact = [c for p, c in rows if p == path] or [c for _p, c in sorted(rows)]
    if not exact:
        raise NotFound("deployment {deployment_id} has no file '{path}'",
                       params={"deployment_id": deployment_id, "path": path})
    with _lock:
        _files[key] = exact[0]
    return exact[0]


def load_json_file(session: Session, deployment_id: int, path: str) -> dict[str, Any]:
    """Return a JSON file of a deployment (cached: deployments never change)."""
    key = _key(session, deployment_id, path)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    value = json.loads(load_file(session, deployment_id, path))
    with _lock:
        _cache[key] = value
    return value


def schema_problems(schema: Any, for_message: bool = False) -> list[str]:
    """Return why ``schema`` is not a usable JSON Schema (empty when it is), as findings (templates).

    ``for_message``: the schema is a message contract's, and the findings say so.
    """
    if not isinstance(schema, dict):
        return [finding("a message schema must be a JSON object") if for_message
                else finding("a form schema must be a JSON object")]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:  # jsonschema's own words stay behind our lead
        return [finding("invalid JSON Schema at {pointer}: {detail}", pointer="/" + "/".join(map(str, exc.path)),
                        detail=exc.message)]
    if schema.get("type", "object") != "object":
        return [finding("a message schema must describe an object (\"type\": \"object\")") if for_message
                else finding("a form schema must describe an object (\"type\": \"object\")")]
    return extension_problems(schema)


def closed(schema: dict[str, Any]) -> dict[str, Any]:
    """Return ``schema`` refusing unknown top-level keys unless it says otherwise."""
    if "additionalProperties" in schema or "unevaluatedProperties" in schema:
        return schema
    return {**schema, "additionalProperties": False}


def validate(schema: dict[str, Any], data: Any, where: str, session: Session | None = None,
             scope: dict[str, Any] | None = None) -> None:
    """Raise :class:`FormValidationError` listing every field of ``data`` that breaks ``schema``.

    Beyond JSON Schema: the schema's ``x-rules`` (cross-field rules) always, and its
    ``x-catalogue`` fields against the registered catalogues and its ``x-check`` fields against
    the registered checks when a ``session`` is given (``scope``, the instance's data, fills the
    catalogue filters the form does not and tells a check which ticket it is).
    """
    validator = Draft202012Validator(closed(schema), format_checker=FORMATS)
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    fields = [FieldError("/".join(str(p) for p in e.absolute_path) or _root_field(e), e.message)
              for e in errors]
    if isinstance(data, dict):
        taken = {f.field for f in fields}
        more = rule_errors(schema, data)
        if session is not None:
            more += catalogue_errors(session, schema, data, scope or {})
            more += check_errors(session, schema, data, scope or {})
        fields += [f for f in more if f.field not in taken]
    if fields:
        raise FormValidationError("the form of {where} has {count} error", fields,
                                  plural="the form of {where} has {count} errors", task=where,
                                  params={"where": where, "count": len(fields)})


def _root_field(error: Any) -> str:
    if error.validator == "additionalProperties":
        return "(unknown fields)"
    if error.validator == "required" and error.message.startswith("'"):
        return error.message.split("'")[1]
    return "(form)"


# --- catalogue pick lists (``x-catalogue``) ---------------------------------------------------
#: the catalogues a form field may name; handlers register a resolver for each
CATALOGUE_NAMES = ("parts", "models", "symptoms", "technicians", "skills", "knowledge", "staff", "articles")


@dataclass(frozen=True)
class Choice:
    """One entry of a catalogue pick list: its value and what readers see (English, Chinese)."""

    value: str
    title: str
    title_zh: str = ""
    note: str = ""  # stock, load …: shown after the title
    note_zh: str = ""

    def label(self, language: str) -> str:
        """Return the entry as a reader in ``language`` sees it."""
        title = (self.title_zh or self.title) if language == "zh" else self.title
        note = (self.note_zh or self.note) if language == "zh" else self.note
        return f"{title} ({note})" if note else title


#: ``resolver(session, **filters) -> list[Choice]``; filters are ``None`` when unknown
Resolver = Callable[..., list[Choice]]
_RESOLVERS: dict[str, Resolver] = {}


def catalogue(name: str) -> Callable[[Resolver], Resolver]:
    """Register the decorated function as the pick list of ``"x-catalogue": name``."""
    if name not in CATALOGUE_NAMES:
        raise ValueError(f"unknown catalogue {name!r} (known: {', '.join(CATALOGUE_NAMES)})")

    def register(func: Resolver) -> Resolver:
        _RESOLVERS[name] = func
        return func

    return register


def _child(node: Any, root: dict[str, Any]) -> dict[str, Any]:
    node = node if isinstance(node, dict) else {}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return {**_child(target, root), **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def catalogue_fields(schema: dict[str, Any]) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    """Yield ``(path, subschema)`` of every field naming a catalogue (``*`` stands for array rows)."""

    def walk(node: dict[str, Any], path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
        if "x-catalogue" in node:
            yield path, node
        for key, sub in (node.get("properties") or {}).items():
            yield from walk(_child(sub, schema), (*path, key))
        if isinstance(node.get("items"), dict):
            yield from walk(_child(node["items"], schema), (*path, "*"))

    yield from walk(schema, ())


def _lookup(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _filters(node: dict[str, Any], data: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for param, dotted in (node.get("x-catalogue-filter") or {}).items():
        value = _lookup(data, dotted)
        out[param] = value if value not in (None, "") else _lookup(scope, dotted)
    return out


def catalogue_choices(session: Session, node: dict[str, Any], data: dict[str, Any],
                      scope: dict[str, Any]) -> list[Choice] | None:
    """Return the pick list of one ``x-catalogue`` field (``None`` when no resolver is registered)."""
    resolver = _RESOLVERS.get(str(node.get("x-catalogue")))
    if resolver is None:
        return None
    return resolver(session, **_filters(node, data, scope))


def _values_at(data: Any, path: tuple[str, ...], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    if not path:
        yield "/".join(prefix), data
        return
    head, rest = path[0], path[1:]
    if head == "*":
        for index, row in enumerate(data if isinstance(data, list) else []):
            yield from _values_at(row, rest, (*prefix, str(index)))
    elif isinstance(data, dict) and head in data:
        yield from _values_at(data[head], rest, (*prefix, head))


def catalogue_errors(session: Session, schema: dict[str, Any], data: dict[str, Any],
                     scope: dict[str, Any]) -> list[FieldError]:
    """Return a field error for each value of ``data`` its catalogue does not have."""
    errors = []
    for path, node in catalogue_fields(schema):
        choices = catalogue_choices(session, node, data, scope)
        if choices is None:
            continue
        known = {c.value for c in choices}
        name = str(node["x-catalogue"])
        for field, value in _values_at(data, path):
            for one in value if isinstance(value, list) else [value]:
                if one not in (None, "") and str(one) not in known:
                    errors.append(FieldError.of(field, "'{value}' is not in the {name} catalogue for this ticket"
                                                if node.get("x-catalogue-filter") else
                                                "'{value}' is not in the {name} catalogue", value=one, name=name))
                    break
    return errors


def with_catalogue(session: Session, schema: dict[str, Any], data: dict[str, Any], scope: dict[str, Any],
                   language: str) -> dict[str, Any]:
    """Return ``schema`` with each ``x-catalogue`` field's options filled in (``oneOf`` of ``const``).

    A value already in ``data`` that the catalogue lacks stays an option, so a refused
    submit shows what was typed beside its error.
    """
    out = json.loads(json.dumps(schema))
    for path, _node in catalogue_fields(schema):
        target = out
        for part in path:
            target = _child(target.get("items") if part == "*" else (target.get("properties") or {}).get(part), out)
        choices = catalogue_choices(session, target, data, scope)
        if choices is None:
            continue
        options = [{"const": c.value, "title": c.label(language)} for c in choices]
        known = {c.value for c in choices}
        for _field, value in _values_at(data, path):
            for one in value if isinstance(value, list) else [value]:
                if one not in (None, "") and str(one) not in known:
                    known.add(str(one))
                    options.append({"const": str(one), "title": str(one)})
        target.pop("pattern", None)
        if options:
            target["oneOf"] = options
    return out


# --- checks against the case (``x-check``) ---------------------------------------------------
#: the checks a form field may name (``"x-check": name``); handlers register one for each
CHECK_NAMES = ("parts_reserved",)
#: ``check(session, value, data, scope, field, node) -> [FieldError]``: what is wrong with ``value``
Check = Callable[[Session, Any, dict[str, Any], dict[str, Any], str, dict[str, Any]], list[FieldError]]
_CHECKS: dict[str, Check] = {}


def check(name: str) -> Callable[[Check], Check]:
    """Register the check behind ``"x-check": name`` (a handler module's function, known to the engine by name)."""

    def register(func: Check) -> Check:
        _CHECKS[name] = func
        return func

    return register


def check_errors(session: Session, schema: dict[str, Any], data: dict[str, Any],
                 scope: dict[str, Any]) -> list[FieldError]:
    """Return the field errors the registered checks find in the top-level fields marked ``x-check``."""
    errors: list[FieldError] = []
    for key, sub in (schema.get("properties") or {}).items():
        node = _child(sub, schema)
        func = _CHECKS.get(str(node.get("x-check", "")))
        if func is not None and data.get(key) is not None:
            errors += func(session, data[key], data, scope, key, node)
    return errors


# --- cross-field rules (``x-rules``) ----------------------------------------------------------
RULE_MESSAGES = {
    "after": "must be after {than}",
    "not_future": "must not be in the future",
    "not_past": "must not be in the past",
    "requires": "must be {equals} when {when} is {is_}",
}
_RULE_KEYS = {"after": {"rule", "field", "than"}, "not_future": {"rule", "field"}, "not_past": {"rule", "field"},
              "requires": {"rule", "field", "equals", "when", "is"}}


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None  # the format check names it
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _is_future(value: Any, now: datetime) -> bool:
    moment = _moment(value)
    if moment is None:
        return False
    if len(value) == 10:  # a date: "today" somewhere on earth (UTC+14) is not the future
        return moment.date() > (now + timedelta(hours=14)).date()
    return moment > now + timedelta(minutes=5)


def _is_past(value: Any, now: datetime) -> bool:
    moment = _moment(value)
    if moment is None:
        return False
    if len(value) == 10:
        return moment.date() < (now - timedelta(hours=12)).date()
    return moment < now - timedelta(minutes=5)


def rule_errors(schema: dict[str, Any], data: dict[str, Any], now: datetime | None = None) -> list[FieldError]:
    """Return the field errors of ``data`` under the schema's ``x-rules`` (a rule with a missing value passes);
    "future" and "past" are the engine clock's (a demo or a simulation may live on another day than the wall)."""
    now = now or clock.now()
    errors = []
    for rule in schema.get("x-rules") or []:
        field = str(rule.get("field", ""))
        value = _lookup(data, field)
        kind = rule.get("rule")
        broken = False
        if kind == "after":
            start, end = _moment(_lookup(data, str(rule.get("than", "")))), _moment(value)
            broken = start is not None and end is not None and end <= start
        elif kind == "not_future":
            broken = _is_future(value, now)
        elif kind == "not_past":
            broken = _is_past(value, now)
        elif kind == "requires":  # e.g. a repair may pass the inspection only if its functional test passed
            broken = value is not None and _lookup(data, str(rule.get("when", ""))) == rule.get("is") \
                and value != rule.get("equals")
        if broken:
            text = RULE_MESSAGES[kind].format(than=rule.get("than", ""), equals=rule.get("equals"),
                                              when=rule.get("when", ""), is_=rule.get("is"))
            errors.append(FieldError(field.replace(".", "/"), rule.get("message") or text))
    return errors


def _field_exists(schema: dict[str, Any], dotted: str) -> bool:
    node: dict[str, Any] = schema
    for part in dotted.split("."):
        props = node.get("properties") or {}
        if part not in props:
            return False
        node = _child(props[part], schema)
    return True


def extension_problems(schema: dict[str, Any]) -> list[str]:
    """Return what is wrong with the schema's ``x-catalogue`` fields and ``x-rules``."""
    problems = []
    for path, node in catalogue_fields(schema):
        field = ".".join(path) or "(form)"
        name = node.get("x-catalogue")
        if name not in CATALOGUE_NAMES:
            problems.append(finding("field {field}: unknown catalogue '{name}' in x-catalogue (known: {known})",
                                    field=field, name=name, known=", ".join(CATALOGUE_NAMES)))
        filters = node.get("x-catalogue-filter", {})
        if not isinstance(filters, dict) or not all(isinstance(v, str) for v in filters.values()):
            problems.append(finding("field {field}: x-catalogue-filter must map filter names to dotted data paths",
                                    field=field))
    for key, sub in (schema.get("properties") or {}).items():
        path = _child(sub, schema).get("x-prefill")
        if path is not None and not (isinstance(path, str) and path):
            problems.append(finding("field {field}: x-prefill must be a dotted path into the instance data",
                                    field=key))
    for key, sub in (schema.get("properties") or {}).items():
        node = _child(sub, schema)
        if "x-check" in node and node["x-check"] not in CHECK_NAMES:
            problems.append(finding("field {field}: unknown check '{name}' in x-check (known: {known})",
                                    field=key, name=node["x-check"], known=", ".join(CHECK_NAMES)))
        confirm = node.get("x-check-confirm")
        if confirm is not None and not _field_exists(schema, str(confirm)):
            problems.append(finding("field {field}: x-check-confirm '{value}' is not a field of the form",
                                    field=key, value=confirm))
    rules = schema.get("x-rules", [])
    if not isinstance(rules, list):
        return [*problems, finding("x-rules must be a list of rules")]
    for index, rule in enumerate(rules):
        kind = rule.get("rule") if isinstance(rule, dict) else None
        if kind not in _RULE_KEYS:
            problems.append(finding("x-rules[{index}]: unknown rule '{rule}' (known: {known})", index=index,
                                    rule=kind, known=", ".join(_RULE_KEYS)))
            continue
        missing = sorted(_RULE_KEYS[kind] - set(rule))
        if missing:
            problems.append(finding("x-rules[{index}] ({rule}): missing {keys}", index=index, rule=kind,
                                    keys=", ".join(missing)))
            continue
        for key in ("field", "than", "when"):
            if key in rule and not _field_exists(schema, str(rule[key])):
                problems.append(finding("x-rules[{index}] ({rule}): {key} '{value}' is not a field of the form",
                                        index=index, rule=kind, key=key, value=rule[key]))
    return problems


# --- pre-filled answers (``x-prefill``) -------------------------------------------------------
def prefill(schema: dict[str, Any], values: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
    """Return ``values`` with each top-level field marked ``"x-prefill": "dotted.path"`` that has no
    answer yet taken from the instance data ``scope`` (what the technician recorded, for the agent).
    """
    out = dict(values)
    for key, sub in (schema.get("properties") or {}).items():
        path = _child(sub, schema).get("x-prefill")
        if isinstance(path, str) and out.get(key) in (None, "", []):
            found = _lookup(scope, path)
            if found not in (None, ""):
                out[key] = json.loads(json.dumps(found))
    return out
