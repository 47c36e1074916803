"""The routes of ``/api/v1``: parse, call one engine function, return JSON.

Each route names its scope; the OpenAPI document (``/api/v1/openapi.json``) describes
the same routes, and a test checks that every route is in it and behaves as it says.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request

from engine import audit_export, cockpit, delivery, queries
from engine.deploy import deploy, validate
from engine.errors import DeploymentInvalid, InvalidInput
from engine.message_contracts import Sender
from engine.privacy import mask_for, mask_personal, record_unmasking, sees
from engine.queries import TaskFilter

from .. import get_services, intake
from . import body, bp, openapi
from .auth import identify, requires
from .uploads import bundle_from_upload


def _actor():  # type: ignore[no-untyped-def]
    return identify().actor


@bp.get("/openapi.json")
def openapi_document():  # type: ignore[no-untyped-def]
    """Serve the OpenAPI document (no key needed)."""
    return jsonify(openapi.document())


@bp.post("/service-requests")
@requires("service-requests:write")
def create_service_request():  # type: ignore[no-untyped-def]
    """Open a ticket from a channel system, or attach a repeat contact to the open one."""
    data = body.json_body("ServiceRequest")
    caller = identify()
    services = get_services()
    with services.db.transaction() as s:
        result = cockpit.open_request(s, services.runtime, current_app.config["INTAKE_PROCESS"], data, caller.actor,
                                      current_app.config.get("INTAKE_FORM"))
        if result["duplicate"] and result["ticket_number"]:  # the open ticket's agents review the contact
            sender = Sender.acting(caller.actor, caller.scopes if caller.via == "key" else None)
            intake.pass_on_contact(s, services.runtime, result["ticket_number"], data, sender)
    status = 200 if result["duplicate"] else (201 if result["ticket_number"] else 202)
    return jsonify(result), status


@bp.get("/service-requests/<ticket>")
@requires("service-requests:read")
def get_service_request(ticket: str):  # type: ignore[no-untyped-def]
    """Return a ticket's state."""
    body.path_match(ticket, openapi.TICKET, "ticket")
    with get_services().db.transaction(write=False) as s:
        return jsonify(cockpit.request_status(s, ticket))


@bp.get("/tasks")
@requires("tasks:read")
def list_tasks():  # type: ignore[no-untyped-def]
    """Return one page of the caller's ready tasks."""
    flt = TaskFilter(scope=body.query_choice("scope", ("mine", "group", "all")) or "group",
                     priority=body.query_choice("priority", ("urgent", "high", "medium", "low")),
                     business_key=body.query_pattern("business_key", openapi.TICKET),
                     limit=body.query_int("limit", 50, 1, 200), offset=body.query_int("offset", 0, 0, openapi.INT32))
    with get_services().db.transaction(write=False) as s:
        items, total = queries.list_tasks(s, _actor(), flt)
        return jsonify(items=[queries.work_item_view(i) for i in items], total=total)


@bp.post("/tasks/<task_id>/claim")
@requires("tasks:write")
def claim_task(task_id: str):  # type: ignore[no-untyped-def]
    """Claim a ready task for the caller."""
    body.path_match(task_id, openapi.UUID, "task")
    services = get_services()
    with services.db.transaction() as s:
        return jsonify(queries.work_item_view(services.runtime.claim(s, task_id, _actor())))


@bp.post("/tasks/<task_id>/complete")
@requires("tasks:write")
def complete_task(task_id: str):  # type: ignore[no-untyped-def]
    """Complete a ready task with form data."""
    body.path_match(task_id, openapi.UUID, "task")
    data = body.json_body("TaskCompletion").get("data") or {}
    services = get_services()
    actor = _actor()
    with services.db.transaction() as s:  # the next tasks are read in the trigger's own transaction
        instance = services.runtime.complete_task(s, task_id, actor, data)
        result: dict[str, Any] = {"instance_id": instance.id, "status": instance.status, "next_tasks": [
            queries.work_item_view(i) for i in queries.tasks_of_instance(s, actor, instance.id)]}
    return jsonify(result)


@bp.post("/messages")
@requires("messages:write")
def deliver_message():  # type: ignore[no-untyped-def]
    """Deliver a message (a customer's answer, parts arrived …) to the instances waiting for it."""
    msg = body.json_body("Message", branches=False)
    caller = identify()
    sender = Sender.acting(caller.actor, caller.scopes if caller.via == "key" else None)
    services = get_services()
    with services.db.transaction() as s:
        delivered = services.runtime.deliver_message(s, msg["name"], msg["correlation_key"],
                                                     msg.get("payload") or {}, sender=sender)
    return jsonify(delivered_to=delivered)


@bp.post("/signals")
@requires("signals:write")
def broadcast_signal():  # type: ignore[no-untyped-def]
    """Broadcast a signal (a recall, an outage …) to every waiting instance; start the processes it starts."""
    sig = body.json_body("Signal")
    services = get_services()
    with services.db.transaction() as s:
        outcome = services.runtime.signal(s, sig["name"], sig.get("payload") or {}, _actor())
    return jsonify(signal=sig["name"], **outcome.to_dict())


@bp.get("/undelivered-messages")
@requires("instances:read")
def list_undelivered_messages():  # type: ignore[no-untyped-def]
    """Return the messages instances threw that nobody was waiting for, newest first (payloads masked:
    the sender's trail shows them, unmasked on request)."""
    limit, offset = body.query_int("limit", 50, 1, 200), body.query_int("offset", 0, 0, openapi.INT32)
    with get_services().db.transaction(write=False) as s:
        items, total = delivery.undelivered(s, limit, offset)
    return jsonify(total=total, items=[{**i, "at": i["at"].isoformat(), "payload": mask_personal(i["payload"])}
                                       for i in items])


@bp.get("/instances/<int:instance_id>")
@requires("instances:read")
def get_instance(instance_id: int):  # type: ignore[no-untyped-def]
    """Return an instance with its open tasks, timers and incidents."""
    body.instance_id_of(instance_id)
    with get_services().db.transaction(write=False) as s:
        view = queries.instance_view(s, queries.get_instance(s, instance_id))
    return jsonify(mask_for(view, sees(_actor())))


@bp.get("/instances/<int:instance_id>/events")
@requires("instances:read")
def list_instance_events(instance_id: int):  # type: ignore[no-untyped-def]
    """Return an instance's audit events with their hashes; personal data masked unless asked and allowed."""
    body.instance_id_of(instance_id)
    after = body.query_int("after_seq", 0, 0, openapi.INT32)
    limit = body.query_int("limit", 500, 1, 1000)
    unmask = body.query_choice("unmask", ("true", "false")) == "true"
    reason = body.query_text("reason", "/instances/{instance_id}/events")
    with get_services().db.transaction(write=unmask) as s:
        page = audit_export.events_page(s, instance_id, unmask, after, limit)
        if unmask:
            record_unmasking(s, _actor(), "instance events (API)", reason, instance_id)
        return jsonify(page)


@bp.get("/definitions")
@requires("definitions:read")
def list_definitions():  # type: ignore[no-untyped-def]
    """Return every deployed process and decision with its versions."""
    with get_services().db.transaction(write=False) as s:
        return jsonify(items=queries.list_definitions(s))


@bp.post("/deployments")
@requires("deployments:write")
def create_deployment():  # type: ignore[no-untyped-def]
    """Validate and deploy uploaded files (or zips); nothing is deployed unless all pass."""
    name = body.check_text(request.form.get("name", ""), "name")
    dry_run = request.form.get("dry_run", "false")
    if dry_run not in ("true", "false"):
        raise InvalidInput("dry_run is 'true' or 'false'", field="dry_run")
    bundle = bundle_from_upload(name, request.files.getlist("files"))
    with get_services().db.transaction() as s:
        if dry_run == "true":
            result = validate(bundle, s)
            if result.errors:
                raise DeploymentInvalid(result.problems)
            return jsonify(name=bundle.name, content_hash=bundle.content_hash, created=False, dry_run=True,
                           deployment_id=None, version=None, processes=[p["process_id"] for p in result.processes],
                           warnings=[p.to_dict() for p in result.problems]), 200
        deployed = deploy(s, bundle, _actor().username)
    return jsonify(deployed.to_dict()), (201 if deployed.created else 200)

