"""User-task forms: JSON Schema files of the deployment, validated on every submit."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError
from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import FieldError, FormValidationError, NotFound
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
        raise FormValidationError(f"{where} has 1 error(s)", [FieldError(
            field, "not a valid e-mail address (one local@domain, no spaces, line breaks or separators)")],
            task=where)


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
        raise NotFound(f"deployment {deployment_id} has no file {path!r}")
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


def schema_problems(schema: Any) -> list[str]:
    """Return why ``schema`` is not a usable JSON Schema (empty when it is)."""
    if not isinstance(schema, dict):
        return ["a form schema must be a JSON object"]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return [f"invalid JSON Schema at /{'/'.join(map(str, exc.path))}: {exc.message}"]
    if schema.get("type", "object") != "object":
        return ["a form schema must describe an object (\"type\": \"object\")"]
    return []


def closed(schema: dict[str, Any]) -> dict[str, Any]:
    """Return ``schema`` refusing unknown top-level keys unless it says otherwise."""
    if "additionalProperties" in schema or "unevaluatedProperties" in schema:
        return schema
    return {**schema, "additionalProperties": False}


def validate(schema: dict[str, Any], data: Any, where: str) -> None:
    """Raise :class:`FormValidationError` listing every field of ``data`` that breaks ``schema``."""
    validator = Draft202012Validator(closed(schema), format_checker=FORMATS)
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if not errors:
        return
    fields = [FieldError("/".join(str(p) for p in e.absolute_path) or _root_field(e), e.message)
              for e in errors]
    raise FormValidationError(f"the form of {where} has {len(fields)} error(s)", fields, task=where)


def _root_field(error: Any) -> str:
    if error.validator == "additionalProperties":
        return "(unknown fields)"
    if error.validator == "required" and error.message.startswith("'"):
        return error.message.split("'")[1]
    return "(form)"
