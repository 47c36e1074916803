"""Reading API input: JSON bodies checked against the OpenAPI schemas, and query parameters.

Everything a client can send is refused with a 400 or 422 that names the field before
it reaches the engine: malformed JSON, nesting deeper than :data:`MAX_DEPTH`, strings the
databases cannot store (NUL characters, lone surrogates), numbers that are not finite.
A body is checked against exactly the schema the document publishes (:func:`check_against`);
each error names the field by its dotted path (``fault.description``), a missing field by
its own path (``customer.region``) and an unknown key by its path (``customer.nickname``).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import request
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from engine.errors import FieldError, FormValidationError, InvalidInput, NotFound
from engine.forms import FORMATS

from . import openapi, request_schemas

MAX_DEPTH = 32


def json_body(schema_name: str, *, branches: bool = True) -> dict[str, Any]:
    """Return the request's JSON object, checked against a component schema (400/422 otherwise).

    ``branches=False`` checks a schema without its ``oneOf`` branches (the ``Message`` envelope:
    the engine holds the payload to the contract of each waiting instance's deployment)."""
    if not request.is_json:
        raise InvalidInput("send a JSON body with Content-Type: application/json", code="invalid_json")
    raw = request.get_data(cache=True)
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput("the body is not valid JSON: {value}", params={"value": _short(exc)}) from exc
    check_storable(value)
    schema = openapi.schema(schema_name)
    check_against(schema if branches else request_schemas.envelope_only(schema), value, "the request body")
    if not isinstance(value, dict):
        raise InvalidInput("the body must be a JSON object")
    return value


def check_against(schema: dict[str, Any], value: Any, where: str, root: str = "") -> None:
    """Raise :class:`FormValidationError` (422) naming the path of every field of ``value`` that breaks ``schema``."""
    validator = Draft202012Validator(schema, format_checker=FORMATS)
    found: dict[str, str] = {}
    for error in validator.iter_errors(value):
        for name, message in _named(error, root):
            found.setdefault(name, message)
    if found:
        errors = [FieldError(name, message) for name, message in sorted(found.items())]
        raise FormValidationError("{where} has {count} error: {errors}", errors, plural="{where} has {count} "
                                  "errors: {errors}", params={"where": where, "count": len(errors), "errors": "; ".join(
                                      f"{e.field}: {e.message}" for e in errors[:10])})


def _join(*parts: Any) -> str:
    return ".".join(str(p) for p in parts if str(p) != "")


def _named(error: ValidationError, root: str = "") -> list[tuple[str, str]]:
    """Return (field path, message) pairs for one jsonschema error, naming the field at fault."""
    path = _join(root, *error.absolute_path)
    kind, rule, instance = error.validator, error.validator_value, error.instance
    if kind == "required" and isinstance(instance, dict):
        return [(_join(path, name), "is required") for name in rule if name not in instance]
    if kind == "additionalProperties" and isinstance(instance, dict):
        known = set(error.schema.get("properties") or {})
        patterns = list(error.schema.get("patternProperties") or {})
        unknown = [k for k in instance if k not in known and not any(re.search(p, k) for p in patterns)]
        allowed = ", ".join(sorted(known)) or "none"
        return [(_join(path, k), f"is not a known field here (known: {allowed})") for k in unknown]
    if kind in ("anyOf", "oneOf") and isinstance(rule, list):
        consts = [b.get("const") for b in rule if isinstance(b, dict) and "const" in b]
        if len(consts) == len(rule):
            return [(path or "(body)", "must be one of: " + ", ".join(map(str, consts)))]
        alternatives = [b.get("required") for b in rule if isinstance(b, dict) and set(b) == {"required"}]
        if len(alternatives) == len(rule):
            names = " or ".join(_join(path, *r) for r in alternatives)
            return [(path or "(body)", f"give {names}")]
        inner = best_match(error.context) if error.context else None
        if inner is not None:
            return _named(inner, root)
    return [(path or "(body)", _message(error))]


def _message(error: ValidationError) -> str:
    """Say what is wrong without repeating the value (it may be long, or personal)."""
    kind, rule = error.validator, error.validator_value
    said = {"maxLength": f"is longer than {rule} characters", "minLength": f"is shorter than {rule} characters",
            "pattern": f"does not match the pattern {rule}", "type": f"must be of type {rule}",
            "format": f"is not a valid {rule}", "maxItems": f"has more than {rule} items",
            "minItems": f"has fewer than {rule} items", "uniqueItems": "has repeated items",
            "maximum": f"is more than {rule}", "minimum": f"is less than {rule}",
            "exclusiveMaximum": f"must be less than {rule}", "exclusiveMinimum": f"must be more than {rule}",
            "const": f"must be {json.dumps(rule)}",
            "enum": "must be one of: " + ", ".join(map(str, rule)) if isinstance(rule, list) else ""}
    return said.get(str(kind)) or error.message[:200]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def check_storable(value: Any, path: str = "", depth: int = 0) -> None:
    """Refuse data nested too deeply or holding what the databases cannot store."""
    if depth > MAX_DEPTH:
        raise InvalidInput("the body is nested more than {max_depth} levels deep",
                           field=path or "(body)", params={"max_depth": MAX_DEPTH})
    if isinstance(value, dict):
        for key, item in value.items():
            check_text(key, f"{path}/{key}")
            check_storable(item, f"{path}/{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_storable(item, f"{path}/{index}", depth + 1)
    elif isinstance(value, str):
        check_text(value, path)
    elif isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput("numbers must be finite", field=path or "(body)")


def check_text(text: str, where: str) -> str:
    """Refuse text with NUL characters or unpaired surrogates."""
    if "\x00" in text:
        raise InvalidInput("text may not contain NUL characters", field=where or "(body)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput("text is not valid Unicode", field=where or "(body)") from exc
    return text


def query_int(name: str, default: int, low: int, high: int) -> int:
    """Return an integer query parameter within ``[low, high]`` (400 otherwise)."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,10}", raw) or not low <= int(raw) <= high:
        raise InvalidInput("{name} must be a whole number from {low} to {high}",
                           field=name, params={"name": name, "low": low, "high": high})
    return int(raw)


def query_text(name: str, path: str, method: str = "get") -> str:
    """Return a text query parameter checked against its schema in the document (422 naming it)."""
    raw = check_text(request.args.get(name, ""), name)
    operation = openapi.document()["paths"][path][method]
    [param] = [p for p in operation.get("parameters", []) if p["name"] == name and p["in"] == "query"]
    check_against(param["schema"], raw, f"query parameter {name}", root=name)
    return raw


def query_choice(name: str, choices: tuple[str, ...]) -> str | None:
    """Return a query parameter that must be one of ``choices`` (400 otherwise)."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if raw not in choices:
        raise InvalidInput("{name} must be one of {choices}",
                           field=name, params={"name": name, "choices": ", ".join(choices)})
    return raw


def query_pattern(name: str, pattern: str) -> str | None:
    """Return a query parameter matching ``pattern`` (400 otherwise)."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if not re.fullmatch(pattern.strip("^$"), raw):
        raise InvalidInput("{name} has an unexpected form", field=name, params={"name": name})
    return raw


def path_match(value: str, pattern: str, what: str) -> str:
    """Return a path parameter, or 404 when it cannot name anything."""
    if not re.fullmatch(pattern.strip("^$"), value):
        raise NotFound("{what} '{value}' does not exist", params={"what": what, "value": value[:80]})
    return value


def instance_id_of(value: int) -> int:
    """Return an instance id path parameter, or 404 outside the ids an instance can have."""
    if not 1 <= value <= openapi.INT32:
        raise NotFound("instance {value} does not exist", params={"value": value})
    return value
