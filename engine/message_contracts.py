"""Message contracts: what a message's payload must hold and who may send it.

A bundle declares one contract per message its processes wait for, in ``messages.json``::

    {"quote_response": {"schema": "messages/quote_response.schema.json",
                        "senders": {"customer": true, "roles": ["agent", "supervisor"],
                                    "api_scopes": ["messages:customer"], "system": false}}}

``schema`` is the path of a JSON Schema file in the bundle (or the schema itself, inline);
``senders`` says who may deliver the message: the customer through a signed self-service
link, staff holding one of ``roles`` (signed in, or an API key acting with that role), an
API key holding one of ``api_scopes``, and trusted in-process services (``system``: the SLA
clock, the warehouse restock, the CLI).

:func:`check_delivery` runs before the runtime locks any instance: it authorises the sender
(:class:`~engine.errors.PermissionDenied`) and validates the payload
(:class:`~engine.errors.FormValidationError` naming each field) against the contract of the
deployment of every instance waiting for the message — or, when none waits, of the newest
deployment that declares it. :func:`lint_contracts` is the deploy-time check.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import forms
from .apikeys import SCOPES
from .bundle import Bundle
from .errors import FormValidationError, InvalidInput, NotFound, PermissionDenied, Problem, finding
from .identity import ROLES, Actor
from .models import Deployment, DeploymentFile, Instance, MessageSubscription

CONTRACTS_FILE = "messages.json"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CATCHING = ("startEvent", "intermediateCatchEvent", "boundaryEvent")
_names = {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True}
#: the shape of ``messages.json`` itself
CONTRACTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {
        "type": "object", "additionalProperties": False, "required": ["schema", "senders"],
        "properties": {
            "schema": {"oneOf": [{"type": "string", "minLength": 1}, {"type": "object"}]},
            "description": {"type": "string"},
            "senders": {"type": "object", "additionalProperties": False, "properties": {
                "customer": {"type": "boolean"}, "system": {"type": "boolean"},
                "roles": _names, "api_scopes": _names}}}},
}


@dataclass(frozen=True)
class Sender:
    """Who delivers a message: a trusted service, the customer, a signed-in user or an API key."""

    name: str
    kind: str = "system"  # system | customer | user | key
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()

    @classmethod
    def system(cls, name: str = "system") -> Sender:
        """Return a trusted in-process sender (clock service, restock, CLI)."""
        return cls(name, "system")

    @classmethod
    def customer(cls, name: str = "customer") -> Sender:
        """Return the customer, who proved who they are with a signed self-service link."""
        return cls(name, "customer")

    @classmethod
    def acting(cls, actor: Actor, scopes: frozenset[str] | None = None) -> Sender:
        """Return a signed-in user, or an API key when its ``scopes`` are given."""
        if scopes is None:
            return cls(actor.username, "user", actor.roles)
        return cls(actor.username, "key", actor.roles, frozenset(scopes))


@dataclass(frozen=True)
class Contract:
    """The payload schema and the senders of one message in one deployment."""

    message: str
    schema: dict[str, Any]
    customer: bool = False
    system: bool = False
    roles: frozenset[str] = frozenset()
    api_scopes: frozenset[str] = frozenset()

    def allows(self, sender: Sender) -> bool:
        """Tell whether ``sender`` may deliver this message."""
        if sender.kind == "system":
            return self.system
        if sender.kind == "customer":
            return self.customer
        if sender.roles & self.roles:
            return True
        return sender.kind == "key" and bool(sender.scopes & self.api_scopes)

    def senders_text(self) -> str:
        """Say who may send the message, for refusals."""
        who = (["the customer"] if self.customer else []) + (["the system"] if self.system else [])
        if self.roles:
            who.append("role " + " or ".join(sorted(self.roles)))
        if self.api_scopes:
            who.append("API keys with scope " + " or ".join(sorted(self.api_scopes)))
        return ", ".join(who) or "nobody"


def check_delivery(session: Session, name: str, key: str | None, payload: dict[str, Any],
                   sender: Sender | None) -> None:
    """Refuse a delivery whose sender or payload breaks the message's contract; change nothing.

    ``sender`` None is a process of a deployed bundle throwing the message: only its payload is checked.
    """
    matches = (MessageSubscription.correlation_key == str(key) if key is not None
               else MessageSubscription.correlation_key.is_(None))
    waiting = sorted(set(session.scalars(
        select(Instance.deployment_id).join(MessageSubscription, MessageSubscription.instance_id == Instance.id)
        .where(MessageSubscription.message_name == name, matches))))
    deployments = waiting or [d for d in [_newest_declaring(session, name)] if d is not None]
    for deployment_id in deployments:
        contract = contract_for(session, deployment_id, name)
        if sender is not None and not contract.allows(sender):
            raise PermissionDenied("{sender} may not send message '{message}' (it may come from {senders})",
                                   field="name", message_name=name,
                                   params={"sender": sender.name, "message": name, "senders": contract.senders_text()})
        try:
            forms.validate(contract.schema, payload, where=f"message {name!r}")
        except FormValidationError as exc:
            raise FormValidationError("the payload of message '{message}' has {count} error: {errors}", exc.errors,
                                      plural="the payload of message '{message}' has {count} errors: {errors}",
                                      message_name=name, params={"message": name, "count": len(exc.errors), "errors": (
                                          "; ".join(f"{e.field}: {e.message}" for e in exc.errors))}) from None


def contract_for(session: Session, deployment_id: int, name: str) -> Contract:
    """Return the contract of message ``name`` in a deployment (or, for a deployment from before
    contracts, in the newest deployment declaring it)."""
    source: int | None = deployment_id
    declared = _declared(session, deployment_id)
    if declared is None:
        source = _newest_declaring(session, name)
        declared = _declared(session, source) if source is not None else None
    entry = (declared or {}).get(name)
    if source is None or not isinstance(entry, dict):
        raise InvalidInput("message '{name}' has no contract in deployment {deployment_id}: declare its payload "
                           "schema and senders in {contracts_file} and deploy",
                           field="name",
                           params={"name": name, "deployment_id": deployment_id, "contracts_file": CONTRACTS_FILE})
    schema = entry.get("schema")
    if isinstance(schema, str):
        schema = forms.load_json_file(session, source, schema)
    senders = entry.get("senders") or {}
    return Contract(name, strict_schema(schema if isinstance(schema, dict) else {}), bool(senders.get("customer")),
                    bool(senders.get("system")), frozenset(senders.get("roles") or ()),
                    frozenset(senders.get("api_scopes") or ()))


def _declared(session: Session, deployment_id: int) -> dict[str, Any] | None:
    """Return a deployment's ``messages.json`` (None when it has none)."""
    try:
        value = forms.load_json_file(session, deployment_id, CONTRACTS_FILE)
    except NotFound:
        return None
    return value if isinstance(value, dict) else None


def _newest_declaring(session: Session, name: str) -> int | None:
    """Return the newest deployment whose contracts declare ``name``."""
    for deployment_id in _declaring_deployments(session):
        if name in (_declared(session, deployment_id) or {}):
            return deployment_id
    return None


def _declaring_deployments(session: Session) -> list[int]:
    """Return the deployments that have a ``messages.json``, newest (by activation) first."""
    has_contracts = select(DeploymentFile.id).where(
        DeploymentFile.deployment_id == Deployment.id,
        (DeploymentFile.path == CONTRACTS_FILE) | DeploymentFile.path.like(f"%/{CONTRACTS_FILE}")).exists()
    return list(session.scalars(select(Deployment.id).where(has_contracts)
                                .order_by(Deployment.activated_at.desc(), Deployment.id.desc())))


def current_contracts(session: Session) -> dict[str, tuple[int, Contract]]:
    """Return every declared message's contract in the newest deployment declaring it, with that deployment.

    These are the contracts a message nobody waits for yet is held to; the API documents them."""
    found: dict[str, tuple[int, Contract]] = {}
    for deployment_id in _declaring_deployments(session):
        for name in sorted(_declared(session, deployment_id) or {}):
            if name not in found:
                found[name] = (deployment_id, contract_for(session, deployment_id, name))
    return found


_SHAPES = ("properties", "$defs", "definitions", "patternProperties")  # maps of schemas that describe values
_SHAPE = ("items", "additionalProperties", "unevaluatedItems", "unevaluatedProperties")
_BRANCHES = ("allOf", "anyOf", "oneOf", "prefixItems")
_CONDITIONS = ("if", "then", "else", "not", "contains", "propertyNames")


def strict_schema(schema: Any, shape: bool = True) -> Any:
    """Return a copy of a JSON Schema that refuses unknown keys at every object level.

    Every schema describing a value (the root, a property, array items, a definition, a
    branch with its own ``type``) that lists ``properties`` and says nothing of other keys
    gets ``"additionalProperties": false``; the names that branches without a ``type`` add to
    the same object are listed at its level first. Conditions (``if``/``then``/``else``,
    ``not``, ``dependentSchemas``) and typeless branches only constrain the object they sit
    in and stay open; a free-form object (no ``properties``) stays free-form.
    """
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SHAPES and isinstance(value, dict):
            out[key] = {name: strict_schema(sub) for name, sub in value.items()}
        elif key in _SHAPE:
            out[key] = strict_schema(value)
        elif key in _BRANCHES and isinstance(value, list):
            out[key] = [strict_schema(b, isinstance(b, dict) and ("type" in b or key == "prefixItems"))
                        for b in value]
        elif key in _CONDITIONS:
            out[key] = strict_schema(value, shape=False)
        elif key == "dependentSchemas" and isinstance(value, dict):
            out[key] = {name: strict_schema(sub, shape=False) for name, sub in value.items()}
        else:
            out[key] = value
    if shape and isinstance(out.get("properties"), dict) and "additionalProperties" not in out \
            and "unevaluatedProperties" not in out and "patternProperties" not in out:
        for key in ("allOf", "anyOf", "oneOf"):
            for branch in out.get(key) or []:
                if isinstance(branch, dict) and "type" not in branch and isinstance(branch.get("properties"), dict):
                    for name in branch["properties"]:
                        out["properties"].setdefault(name, True)
        for key in ("if", "then", "else"):
            branch = out.get(key)
            if isinstance(branch, dict) and isinstance(branch.get("properties"), dict):
                for name in branch["properties"]:
                    out["properties"].setdefault(name, True)
        out["additionalProperties"] = False
    return out


# --- lint ------------------------------------------------------------------------------------
def lint_contracts(bundle: Bundle, trees: dict[str, Any]) -> list[Problem]:
    """Report every waited-for message without a contract, and every contract that is broken."""
    problems: list[Problem] = []
    path, declared = _contracts_file(bundle, problems)
    waited = list(_waiting_elements(trees))
    for file, element, line, name in waited:
        if name not in declared:
            problems.append(Problem(file, finding("message '{name}' is waited for here but has no contract: "
                                                  "declare its payload schema and senders in {file}", name=name,
                                                  file=path or CONTRACTS_FILE),
                                    element, line, rule="messages"))
    # a BPMN file that could not be read may well wait for a message: then no contract is reported unused
    unread = any(file.endswith(".bpmn") and file not in trees for file in bundle.files)
    names = None if unread else {w[3] for w in waited}
    for name, entry in declared.items():
        problems.extend(_lint_entry(bundle, path or CONTRACTS_FILE, name, entry, names))
    return problems


def _contracts_file(bundle: Bundle, problems: list[Problem]) -> tuple[str | None, dict[str, Any]]:
    candidates = sorted((p for p in bundle.files if p == CONTRACTS_FILE or p.endswith(f"/{CONTRACTS_FILE}")),
                        key=lambda p: (p.count("/"), p))
    if not candidates:
        return None, {}
    path = candidates[0]
    try:
        value = json.loads(bundle.files[path])
    except (ValueError, UnicodeDecodeError):
        return path, {}  # the bundle's JSON check reports it
    errors = sorted(Draft202012Validator(CONTRACTS_SCHEMA).iter_errors(value), key=lambda e: list(map(str, e.path)))
    for error in errors:
        where = "/".join(map(str, error.absolute_path))
        problems.append(Problem(path, finding("the contracts do not follow their schema at {where}: {detail}",
                                              where=where or "/", detail=error.message),  # jsonschema's words
                                where.split("/")[0] or None,
                                rule="messages"))
    return path, value if isinstance(value, dict) else {}


def _lint_entry(bundle: Bundle, path: str, name: str, entry: Any, waited: set[str] | None) -> Iterator[Problem]:
    """Report what is wrong with one contract (and, when ``waited`` is known, a contract nothing waits for)."""
    if not isinstance(entry, dict):
        return
    if waited is not None and name not in waited:
        yield Problem(path, finding("message '{name}' has a contract but no process of the bundle waits for it",
                                    name=name), name,
                      severity="warning", rule="messages")
    senders = entry.get("senders") if isinstance(entry.get("senders"), dict) else {}
    for role in sorted(set(senders.get("roles") or ()) - set(ROLES)):
        yield Problem(path, finding("message '{name}': unknown role '{role}'; roles are {roles}", name=name,
                                    role=role, roles=", ".join(ROLES)), name,
                      rule="messages")
    for scope in sorted(set(senders.get("api_scopes") or ()) - set(SCOPES)):
        yield Problem(path, finding("message '{name}': unknown API scope '{scope}'; scopes are {scopes}",
                                    name=name, scope=scope, scopes=", ".join(SCOPES)), name,
                      rule="messages")
    if not (senders.get("customer") or senders.get("system") or senders.get("roles") or senders.get("api_scopes")):
        yield Problem(path, finding("message '{name}': nobody may send it; name the customer, system, roles or "
                                    "api_scopes under senders", name=name), name, rule="messages")
    schema, schema_file = entry.get("schema"), path
    if isinstance(schema, str):
        schema_file = _find(bundle, path, schema)
        if schema_file is None:
            yield Problem(path, finding("message '{name}': schema file '{file}' is not in the bundle", name=name,
                                        file=schema), name,
                          rule="messages")
            return
        try:
            schema = json.loads(bundle.files[schema_file])
        except (ValueError, UnicodeDecodeError):
            return  # the bundle's JSON check reports it
    if schema is None:
        return
    for message in forms.schema_problems(schema, for_message=True):  # a finding in a finding: said in turn
        yield Problem(schema_file, finding("message '{name}': {detail}", name=name, detail=message), name,
                      rule="messages")


def _find(bundle: Bundle, contracts_path: str, name: str) -> str | None:
    folder = contracts_path.rpartition("/")[0]
    for candidate in (f"{folder}/{name}" if folder else name, name):
        if candidate in bundle.files:
            return candidate
    return next((p for p in sorted(bundle.files) if p.endswith(f"/{name}")), None)


def _waiting_elements(trees: dict[str, Any]) -> Iterator[tuple[str, str, int | None, str]]:
    """Yield (file, element id, line, message name) of every catch event and receive task."""
    messages = {m.get("id"): m.get("name") or m.get("id")
                for root in trees.values() for m in root.iter(f"{{{BPMN_NS}}}message")}
    for file, root in trees.items():
        if not file.endswith(".bpmn"):
            continue
        for el in root.iter(*(f"{{{BPMN_NS}}}{tag}" for tag in (*CATCHING, "receiveTask"))):
            if etree.QName(el).localname == "receiveTask":
                refs = [el.get("messageRef")]
            else:
                refs = [d.get("messageRef") for d in el.findall(f"{{{BPMN_NS}}}messageEventDefinition")]
            for ref in refs:
                if ref:
                    yield file, el.get("id"), el.sourceline, messages.get(ref, ref)
