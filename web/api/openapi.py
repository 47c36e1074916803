"""The OpenAPI 3.1 document of ``/api/v1``; request bodies are validated against it.

The schemas below are the ones the routes check requests with (:mod:`web.api.body`),
so the document cannot drift from what the implementation accepts. The bodies the process
defines are generated from the currently deployed bundle (:mod:`web.api.request_schemas`):
``ServiceRequest`` is the intake process's registration form, ``Message`` lists each
declared message with its contract's payload schema; the document is rebuilt when a
deployment changes them.
"""

from __future__ import annotations

import copy
from typing import Any

from engine.apikeys import SCOPES

from . import request_schemas

INT32 = 2**31 - 1
TICKET = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
NAME = r"^[A-Za-z0-9_.:-]{1,200}$"
MESSAGE_PAYLOAD = (
    "Validated against the message's contract in the deployed bundle before anything changes: the JSON "
    "Schema named for the message in `messages.json` (in the after-sales bundle `messages/<name>.schema.json`; "
    "unknown fields are refused) — 422 lists each field at fault. The contract also names who may send the "
    "message (the customer, staff roles, API scopes such as `messages:customer`, or the system only, as for "
    "`sla_warning` and `sla_breached`) — 403 otherwise.")

#: the answer of ``GET /tasks/{task_id}/form`` (``web/api/task_form.py``)
TASK_FORM = {"type": "object", "required": ["task_id", "name", "role", "language", "schema", "ui_schema", "data"],
             "properties": {"task_id": {"type": "string"}, "name": {"type": "string"}, "role": {"type": "string"},
                            "business_key": {"type": ["string", "null"]},
                            "language": {"type": "string", "enum": ["en", "zh"]},
                            "schema": {"type": ["object", "null"], "description": "JSON Schema 2020-12 of the "
                                       "form (null: the task has no form)"},
                            "ui_schema": {"type": "object"},
                            "data": {"type": "object", "description": "the task's current data, masked"}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {400: "Malformed request (bad JSON, bad parameter)", 401: "Missing or unknown API key",
            403: "The key's scopes or roles do not allow this", 404: "Not found",
            409: "The state moved on (already completed, claimed by somebody else …)",
            413: "Request body too large", 422: "The request is well-formed but its content is invalid"}
    return {str(s): _json(_ref("Error"), text[s]) for s in statuses}


def _op(op_id: str, summary: str, scope: str, responses: dict[str, Any], *, body: dict[str, Any] | None = None,
        params: list[dict[str, Any]] | None = None, errors: tuple[int, ...] = ()) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": op_id, "summary": summary, "x-scope": scope,
                          "security": [{"bearer": []}, {"session": []}],
                          "responses": {**responses, **_errors(400, 401, 403, *errors)}}
    if body is not None:
        op["requestBody"] = {"required": True, "content": body}
        op["responses"].update(_errors(413))
    if params:
        op["parameters"] = params
    return op


def _path_param(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _schemas(sources: request_schemas.Sources) -> dict[str, Any]:
    nullable_str = {"type": ["string", "null"]}
    dt = {"type": ["string", "null"], "format": "date-time"}
    task = {"type": "object", "required": ["task_id", "instance_id", "element_id", "name"], "properties": {
        "task_id": {"type": "string"}, "instance_id": {"type": "integer"}, "business_key": nullable_str,
        "element_id": {"type": "string"}, "name": {"type": "string"}, "lane": nullable_str, "role": nullable_str,
        "stage": nullable_str, "priority": nullable_str, "customer_tier": nullable_str, "channel": nullable_str,
        "form": nullable_str, "due_at": dt, "assignee": nullable_str, "created_at": {"type": "string"}}}
    return {
        "Error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object", "required": ["field", "message"],
                                                  "properties": {"field": {"type": "string"},
                                                                 "message": {"type": "string"}}}},
            "problems": {"type": "array", "items": {"type": "object"}}}},
        "ServiceRequest": request_schemas.service_request(sources),
        "ServiceRequestCreated": {"type": "object", "required": ["instance_id", "ticket_number", "duplicate"],
                                  "properties": {"instance_id": {"type": "integer"}, "ticket_number": nullable_str,
                                                 "duplicate": {"type": "boolean"}, "status": {"type": "string"},
                                                 "registered": {"type": "boolean"}}},
        "ServiceRequestStatus": {"type": "object", "required": ["ticket_number", "instance_id", "status"],
                                 "properties": {"ticket_number": {"type": "string"},
                                                "instance_id": {"type": "integer"},
                                                "status": {"type": "string"}, "stage": nullable_str,
                                                "current": {"type": "array", "items": {"type": "string"}},
                                                "waiting_for": {"type": "array", "items": {"type": "string"}},
                                                "started_at": {"type": "string"}, "ended_at": dt}},
        "Task": task,
        "TaskList": {"type": "object", "required": ["items", "total"], "properties": {
            "items": {"type": "array", "items": _ref("Task")}, "total": {"type": "integer"}}},
        "TaskCompletion": {"type": "object", "additionalProperties": False, "properties": {
            "data": {"type": "object", "description": "the form data, validated against the task's form"}}},
        "Completed": {"type": "object", "required": ["instance_id", "status"], "properties": {
            "instance_id": {"type": "integer"}, "status": {"type": "string"},
            "next_tasks": {"type": "array", "items": _ref("Task")}}},
        "Message": request_schemas.message(sources, NAME, MESSAGE_PAYLOAD),
        "MessageDelivered": {"type": "object", "required": ["delivered_to"], "properties": {
            "delivered_to": {"type": "array", "items": {"type": "integer"}}}},
        "Signal": {"type": "object", "required": ["name"], "additionalProperties": False,
                   "properties": {"name": {"type": "string", "pattern": NAME},
                                  "payload": {"type": "object", "description": "what the catchers receive"}}},
        "SignalBroadcast": {"type": "object", "required": ["signal", "received", "started"], "properties": {
            "signal": {"type": "string"},
            "received": {"type": "array", "items": {"type": "integer"},
                         "description": "instances that were waiting for the signal and received it"},
            "started": {"type": "array", "items": {"type": "integer"},
                        "description": "instances started by a signal start event"}}},
        "UndeliveredMessage": {"type": "object", "required": ["id", "at", "instance_id", "message", "payload"],
                               "properties": {"id": {"type": "integer"}, "at": {"type": "string"},
                                              "instance_id": {"type": "integer"}, "business_key": nullable_str,
                                              "process_id": {"type": "string"}, "element_id": nullable_str,
                                              "message": {"type": "string"}, "correlation_key": nullable_str,
                                              "payload": {}}},
        "UndeliveredMessageList": {"type": "object", "required": ["items", "total"], "properties": {
            "items": {"type": "array", "items": _ref("UndeliveredMessage")}, "total": {"type": "integer"}}},
        "Instance": {"type": "object", "required": ["id", "process_id", "status"], "properties": {
            "id": {"type": "integer"}, "business_key": nullable_str, "process_id": {"type": "string"},
            "deployment_id": {"type": "integer"}, "status": {"type": "string"}, "started_at": {"type": "string"},
            "started_by": {"type": "string"}, "ended_at": dt, "summary": {"type": "object"},
            "version": {"type": "integer"}, "audit_events": {"type": "integer"},
            "tasks": {"type": "array", "items": _ref("Task")}, "timers": {"type": "array"},
            "incidents": {"type": "array"}}},
        "Event": {"type": "object", "required": ["seq", "at", "actor", "kind", "data", "prev_hash", "hash"],
                  "properties": {"seq": {"type": "integer"}, "at": {"type": "string"}, "actor": {"type": "string"},
                                 "kind": {"type": "string"}, "task_id": nullable_str, "element_id": nullable_str,
                                 "data": {"type": "object"}, "prev_hash": {"type": "string"},
                                 "hash": {"type": "string"}, "masked": {"type": "boolean"}}},
        "EventList": {"type": "object", "required": ["stream", "events", "head"], "properties": {
            "stream": {"type": "string"}, "masked": {"type": "boolean"},
            "head": {"type": "object", "properties": {"seq": {"type": "integer"}, "hash": {"type": "string"}}},
            "events": {"type": "array", "items": _ref("Event")}}},
        "Definition": {"type": "object", "required": ["process_id", "kind", "deployment_id", "version"],
                       "properties": {"process_id": {"type": "string"}, "name": {"type": "string"},
                                      "kind": {"type": "string", "enum": ["process", "decision"]},
                                      "file": {"type": "string"}, "deployment_id": {"type": "integer"},
                                      "bundle": {"type": "string"}, "version": {"type": "integer"},
                                      "content_hash": {"type": "string"}, "deployed_at": {"type": "string"},
                                      "deployed_by": {"type": "string"}, "instances": {"type": "integer"}}},
        "DefinitionList": {"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "items": _ref("Definition")}}},
        "DeploymentUpload": {"type": "object", "required": ["name", "files"], "properties": {
            "name": {"type": "string", "pattern": r"^[A-Za-z0-9_.-]{1,100}$"},
            "files": {"type": "array", "minItems": 1, "items": {"type": "string", "contentMediaType":
                                                                "application/octet-stream"}},
            "dry_run": {"type": "string", "enum": ["true", "false"]}}},
        "Deployed": {"type": "object", "required": ["name", "created"], "properties": {
            "deployment_id": {"type": ["integer", "null"]}, "name": {"type": "string"},
            "version": {"type": ["integer", "null"]}, "content_hash": {"type": "string"},
            "created": {"type": "boolean"}, "processes": {"type": "array", "items": {"type": "string"}},
            "warnings": {"type": "array"}, "dry_run": {"type": "boolean"}}},
    }


_built: dict[tuple[Any, ...], dict[str, Any]] = {}


def document() -> dict[str, Any]:
    """Return the OpenAPI document of the currently deployed bundle (rebuilt when a deployment changes
    the registration form or the message contracts)."""
    sources = request_schemas.current()
    built = _built.get(sources.key)
    if built is None:
        if len(_built) > 16:
            _built.clear()
        built = _built[sources.key] = _build(sources)
    return built


def _build(sources: request_schemas.Sources) -> dict[str, Any]:
    """Return the OpenAPI document for the given registration form and message contracts."""
    json_body = (lambda name: {"application/json": {"schema": _ref(name)}})  # noqa: E731
    instance_id = _path_param("instance_id", {"type": "integer", "minimum": 1, "maximum": INT32})
    task_id = _path_param("task_id", {"type": "string", "pattern": UUID})
    paths = {
        "/service-requests": {"post": _op(
            "createServiceRequest", "Open a ticket: start the after-sales process with the request",
            "service-requests:write",
            {"201": _json(_ref("ServiceRequestCreated"), "Ticket opened"),
             "200": _json(_ref("ServiceRequestCreated"), "A repeat contact, attached to an open ticket"),
             "202": _json(_ref("ServiceRequestCreated"), "Received; an agent registers it (no ticket number yet): "
                                                          "the key has no agent role, or the request lacks what "
                                                          "the process's registration form needs")},
            body=json_body("ServiceRequest"), errors=(404, 422))},
        "/service-requests/{ticket}": {"get": _op(
            "getServiceRequest", "Read a ticket's state", "service-requests:read",
            {"200": _json(_ref("ServiceRequestStatus"), "The ticket")},
            params=[_path_param("ticket", {"type": "string", "pattern": TICKET})], errors=(404,))},
        "/tasks": {"get": _op(
            "listTasks", "List ready tasks of the caller's roles", "tasks:read",
            {"200": _json(_ref("TaskList"), "One page of tasks")},
            params=[_query("scope", {"type": "string", "enum": ["mine", "group", "all"]}),
                    _query("priority", {"type": "string", "enum": ["urgent", "high", "medium", "low"]}),
                    _query("business_key", {"type": "string", "pattern": TICKET}),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
                    _query("offset", {"type": "integer", "minimum": 0, "maximum": INT32})])},
        "/tasks/{task_id}/claim": {"post": _op(
            "claimTask", "Claim a ready task for the caller", "tasks:write",
            {"200": _json(_ref("Task"), "The claimed task")}, params=[task_id], errors=(404, 409))},
        "/tasks/{task_id}/complete": {"post": _op(
            "completeTask", "Complete a ready task with form data", "tasks:write",
            {"200": _json(_ref("Completed"), "The instance after the task")},
            body=json_body("TaskCompletion"), params=[task_id], errors=(404, 409, 422))},
        "/tasks/{task_id}/form": {"get": _op(
            "getTaskForm", "Read a ready task's form to build a screen: its JSON Schema and uiSchema with titles, "
            "descriptions, option labels and help in the requested language (`lang`, else `Accept-Language`, "
            "else English), and the task's current data, personal data masked for the caller's roles as on the "
            "task page (only callers the task's lane admits)", "tasks:read",
            {"200": _json(TASK_FORM, "The task's form, translated, with its data")},
            params=[task_id, _query("lang", {"type": "string", "enum": ["en", "zh"]},
                                    "language of the form's texts (wins over Accept-Language)")],
            errors=(404,))},
        "/messages": {"post": _op(
            "deliverMessage", "Deliver a message to the instances waiting for it", "messages:write",
            {"200": _json(_ref("MessageDelivered"), "Instances that received the message")},
            body=json_body("Message"), errors=(404, 409, 422))},
        "/signals": {"post": _op(
            "broadcastSignal", "Broadcast a signal to every instance waiting for it; start the processes it starts "
            "(keys and users acting as supervisor or admin)", "signals:write",
            {"200": _json(_ref("SignalBroadcast"), "Instances that received the signal, and instances started")},
            body=json_body("Signal"), errors=(422,))},
        "/undelivered-messages": {"get": _op(
            "listUndeliveredMessages", "List the messages instances threw that nobody was waiting for, newest first "
            "(personal data in payloads masked)", "instances:read",
            {"200": _json(_ref("UndeliveredMessageList"), "One page of undelivered messages")},
            params=[_query("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
                    _query("offset", {"type": "integer", "minimum": 0, "maximum": INT32})])},
        "/instances/{instance_id}": {"get": _op(
            "getInstance", "Read an instance with its open tasks, timers and incidents", "instances:read",
            {"200": _json(_ref("Instance"), "The instance")}, params=[instance_id], errors=(404,))},
        "/instances/{instance_id}/events": {"get": _op(
            "listInstanceEvents", "Read an instance's audit trail (hash-chained)", "instances:read",
            {"200": _json(_ref("EventList"), "The events, oldest first")},
            params=[instance_id, _query("after_seq", {"type": "integer", "minimum": 0, "maximum": INT32}),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
                    _query("unmask", {"type": "string", "enum": ["true", "false"]},
                           "show personal data (needs role admin, supervisor or pii_viewer; audited)"),
                    _query("reason", {"type": "string", "maxLength": 500}, "why personal data is needed")],
            errors=(404, 422))},
        "/definitions": {"get": _op(
            "listDefinitions", "List deployed processes and decisions with their versions", "definitions:read",
            {"200": _json(_ref("DefinitionList"), "Every version of every definition")})},
        "/deployments": {"post": _op(
            "createDeployment", "Validate and deploy BPMN, DMN and form files (or a zip of them)",
            "deployments:write",
            {"201": _json(_ref("Deployed"), "A new version was deployed"),
             "200": _json(_ref("Deployed"), "Same content as a deployed version, or a dry run that passed")},
            body={"multipart/form-data": {"schema": _ref("DeploymentUpload")}}, errors=(422,))},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "aftersales API", "version": "1.0.0",
                 "description": "Channel systems open tickets and deliver customer answers; integrations "
                                "work tasks, read instances and their audit trail, and deploy processes. "
                                "Scopes: " + "; ".join(f"`{k}` {v}" for k, v in SCOPES.items())},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": _schemas(sources),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "An API key created by an admin: `Authorization: Bearer as_…`"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "The web UI's signed-in session (unsafe methods need X-CSRFToken)"},
            },
        },
    }


#: the component schemas generated from the deployed bundle; every other one is fixed
DEPLOYED = frozenset({"ServiceRequest", "Message"})
_fixed: dict[str, Any] = {}


def fixed_components() -> dict[str, Any]:
    """Return the components whose schemas never change (no look at the deployed bundle: a task
    completion or a signal is checked without a database read)."""
    if not _fixed:
        builtin = request_schemas.Sources((), request_schemas.builtin_intake(), "the built-in intake form")
        _fixed["schemas"] = {k: v for k, v in _schemas(builtin).items() if k not in DEPLOYED}
    return _fixed


def schema(name: str) -> dict[str, Any]:
    """Return a component schema with the document's components, ready for a validator."""
    components = document()["components"] if name in DEPLOYED else fixed_components()
    return {**copy.deepcopy(components["schemas"][name]), "$defs": {}, "components": components}


def scope_of(path: str, method: str) -> str:
    """Return the scope an operation needs (its ``x-scope``)."""
    return str(document()["paths"][path][method.lower()]["x-scope"])
