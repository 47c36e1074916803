"""The request bodies of ``/api/v1`` that the process defines, generated from the deployed bundle.

A channel's service request is the registration form of the intake process: the JSON
Schema ``INTAKE_FORM`` (``register_request.schema.json``) of the deployment that new
instances of ``INTAKE_PROCESS`` use — the same file the engine validates the first task
with, and the staff intake page shows. A message's payload is its contract in
``messages.json`` (the newest deployment declaring it). Both are documented and checked
as :func:`documented` makes them: unknown keys refused at every object level, and text
free of NUL characters (the databases cannot store them). Deploying a new bundle changes
the OpenAPI document and the checks at once; nothing is copied by hand.

When the intake process is not deployed, or its deployment has no such form (a bundle
without a registration task), the service request is the built-in intake form
(``web/forms/intake.schema.json``), as on the staff intake page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app

from engine import forms
from engine.errors import NotFound
from engine.message_contracts import Contract, current_contracts, strict_schema
from engine.runtime import find_definition

from .. import get_services

BUILTIN_INTAKE = Path(__file__).parent.parent / "forms" / "intake.schema.json"
#: the rule :func:`web.api.body.check_storable` enforces on every string, as a documented pattern
NUL_FREE = "^[^\\u0000]*$"
_CLOSED_TEXT = ("pattern", "enum", "const", "oneOf", "anyOf", "allOf")


@dataclass(frozen=True)
class Sources:
    """What the request schemas are generated from, and a key that changes when it does."""

    key: tuple[Any, ...]
    intake: dict[str, Any]
    intake_source: str
    contracts: dict[str, Contract] = field(default_factory=dict)


def current() -> Sources:
    """Return the deployed registration form and message contracts the API holds requests to."""
    config = current_app.config
    process_id, form = config["INTAKE_PROCESS"], config["INTAKE_FORM"]
    services = get_services()
    with services.db.transaction(write=False) as s:
        database = s.get_bind().url.render_as_string(hide_password=True)
        try:
            deployment_id: int | None = find_definition(s, process_id).deployment_id
            intake = forms.load_json_file(s, deployment_id, form)
            source = f"{form} of the deployed process {process_id!r} (deployment {deployment_id})"
        except NotFound:
            deployment_id, intake = None, builtin_intake()
            source = f"the built-in intake form ({process_id!r} with {form} is not deployed)"
        contracts = current_contracts(s)
    key = (database, process_id, form, deployment_id,
           tuple(sorted((name, dep) for name, (dep, _c) in contracts.items())))
    return Sources(key, intake, source, {name: c for name, (_d, c) in contracts.items()})


def builtin_intake() -> dict[str, Any]:
    """Return the built-in intake form (``web/forms/intake.schema.json``)."""
    return json.loads(BUILTIN_INTAKE.read_text(encoding="utf-8"))


def documented(schema: Any) -> Any:
    """Return ``schema`` as the API documents and enforces it: closed objects at every level,
    and NUL-free text wherever a string is not already held to a pattern or a list of values."""
    return _nul_free(strict_schema(schema))


def _nul_free(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_nul_free(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: (_nul_free(value) if isinstance(value, (dict, list)) and key not in ("enum", "const", "required",
                                                                                   "examples", "default")
                 else value) for key, value in schema.items()}
    if isinstance(out.get("properties"), dict):
        out["properties"] = {name: _nul_free(sub) for name, sub in schema["properties"].items()}
    if out.get("type") == "string" and not any(k in out for k in _CLOSED_TEXT) \
            and out.get("format") not in ("date", "date-time"):
        out["pattern"] = NUL_FREE
    return out


def service_request(sources: Sources) -> dict[str, Any]:
    """Return the ``ServiceRequest`` schema: the registration form, as :func:`documented` makes it."""
    schema = documented(sources.intake)
    schema.pop("$schema", None)
    schema["description"] = (str(schema.get("description") or "").rstrip(". ") + ". " if schema.get("description")
                             else "") + (
        f"Generated from {sources.intake_source}: a body this schema accepts is registered (201) or joins "
        "the customer's open ticket (200); anything else is 422 naming each field (unknown keys are refused "
        "at every level). Strings may not contain NUL characters (400).")
    return schema


def message(sources: Sources, name_pattern: str, description: str) -> dict[str, Any]:
    """Return the ``Message`` schema: the envelope, and one branch per declared message with its payload."""
    names = sorted(sources.contracts)
    envelope: dict[str, Any] = {
        "type": "object", "required": ["name", "correlation_key"], "additionalProperties": False,
        "description": "A message to the instances waiting for it; `oneOf` lists each message the deployed "
                       "bundle declares, with its contract's payload schema.",
        "properties": {"name": {"type": "string", "pattern": name_pattern, **({"enum": names} if names else {})},
                       "correlation_key": {"type": "string", "minLength": 1, "maxLength": 200,
                                           "pattern": NUL_FREE},
                       "payload": {"type": "object", "description": description}}}
    if names:
        envelope["oneOf"] = [
            {"title": name, "properties": {"name": {"const": name}, "payload": _payload(sources.contracts[name])}}
            for name in names]
    return envelope


def _payload(contract: Contract) -> dict[str, Any]:
    schema = documented(contract.schema)
    schema.pop("$schema", None)
    schema["description"] = (f"{schema.get('description', '')} " if schema.get("description") else "") + (
        f"May be sent by {contract.senders_text()}.")
    return schema


def envelope_only(schema: dict[str, Any]) -> dict[str, Any]:
    """Return the ``Message`` schema without its per-message branches (the engine checks the payload
    against the contract of the deployment of each instance waiting for it)."""
    return {key: value for key, value in schema.items() if key != "oneOf"}
