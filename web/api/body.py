"""Reading API input: JSON bodies checked against the OpenAPI schemas, and query parameters.

Everything a client can send is refused with a 400 or 422 that names the field before
it reaches the engine: malformed JSON, nesting deeper than :data:`MAX_DEPTH`, strings the
databases cannot store (NUL characters, lone surrogates), numbers that are not finite.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import request

from engine import forms
from engine.errors import InvalidInput, NotFound

from . import openapi

MAX_DEPTH = 32


def json_body(schema_name: str) -> dict[str, Any]:
    """Return the request's JSON object, checked against a component schema (400/422 otherwise)."""
    if not request.is_json:
        raise InvalidInput("send a JSON body with Content-Type: application/json", code="invalid_json")
    raw = request.get_data(cache=True)
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"the body is not valid JSON: {_short(exc)}") from exc
    check_storable(value)
    forms.validate(openapi.schema(schema_name), value, where="the request body")
    if not isinstance(value, dict):
        raise InvalidInput("the body must be a JSON object")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def check_storable(value: Any, path: str = "", depth: int = 0) -> None:
    """Refuse data nested too deeply or holding what the databases cannot store."""
    if depth > MAX_DEPTH:
        raise InvalidInput(f"the body is nested more than {MAX_DEPTH} levels deep", field=path or "(body)")
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
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}", field=name)
    return int(raw)


def query_choice(name: str, choices: tuple[str, ...]) -> str | None:
    """Return a query parameter that must be one of ``choices`` (400 otherwise)."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if raw not in choices:
        raise InvalidInput(f"{name} must be one of {', '.join(choices)}", field=name)
    return raw


def query_pattern(name: str, pattern: str) -> str | None:
    """Return a query parameter matching ``pattern`` (400 otherwise)."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if not re.fullmatch(pattern.strip("^$"), raw):
        raise InvalidInput(f"{name} has an unexpected form", field=name)
    return raw


def path_match(value: str, pattern: str, what: str) -> str:
    """Return a path parameter, or 404 when it cannot name anything."""
    if not re.fullmatch(pattern.strip("^$"), value):
        raise NotFound(f"{what} {value[:80]!r} does not exist")
    return value


def instance_id_of(value: int) -> int:
    """Return an instance id path parameter, or 404 outside the ids an instance can have."""
    if not 1 <= value <= openapi.INT32:
        raise NotFound(f"instance {value} does not exist")
    return value
