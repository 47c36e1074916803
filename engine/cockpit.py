"""Read queries and actions of the auditor's and the process owner's views.

Instances filtered the way an auditor asks for them; definitions with every version and
its instance counts; a deployment's files; incidents, retried one by one with each
retry's real outcome read back after its own transaction.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic
from typing import Any

from sqlalchemy import JSON, String, bindparam, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from . import forms, projection, store
from .db import Database
from .errors import AftersalesError, FormValidationError, NotFound
from .identity import Actor
from .models import (
    AuditEvent,
    Deployment,
    DeploymentFile,
    Incident,
    Instance,
    MessageSubscription,
    ProcessDefinition,
    WorkItem,
)
from .rollup_elements import deployment_graphs

STATUSES = ("active", "incident", "completed", "cancelled")


@dataclass(frozen=True)
class InstanceFilter:
    """What the auditor's instance list asks for."""

    process_id: str | None = None
    version: int | None = None
    status: str | None = None
    stage: str | None = None
    priority: str | None = None
    sla_breached: bool = False
    started_from: date | None = None
    started_to: date | None = None
    ticket: str | None = None
    has_incident: bool = False
    page: int = 1
    per_page: int = 50


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _summary(key: str) -> Any:
    """Return the text of ``instance.summary[key]`` with the key written into the SQL, not bound:
    SQLite and PostgreSQL use an expression index (ix_instance_priority) only for the same literal."""
    return Instance.summary[bindparam(None, key, type_=JSON.JSONStrIndexType(), literal_execute=True)].as_string()


def _filtered(flt: InstanceFilter, now: datetime) -> Any:
    query = select(Instance, Deployment.version, Deployment.name).join(Deployment,
                                                                       Deployment.id == Instance.deployment_id)
    if flt.process_id:
        query = query.where(Instance.process_id == flt.process_id)
    if flt.version:
        query = query.where(Deployment.version == flt.version)
    if flt.status:
        query = query.where(Instance.status == flt.status)
    if flt.stage:
        query = query.where(_summary("stage") == flt.stage)
    if flt.priority:
        query = query.where(_summary("priority") == flt.priority)
    if flt.ticket:
        key = flt.ticket.strip()
        query = query.where(or_(Instance.business_key.like(_like_prefix(key), escape="\\"),
                                cast(Instance.id, String(20)) == key))
    if flt.started_from:
        query = query.where(Instance.started_at >= datetime.combine(flt.started_from, time(), now.tzinfo))
    if flt.started_to:
        end = datetime.combine(flt.started_to, time(), now.tzinfo) + timedelta(days=1)
        query = query.where(Instance.started_at < end)
    if flt.has_incident:
        query = query.where(exists().where(Incident.instance_id == Instance.id, Incident.status != "resolved"))
    if flt.sla_breached:
        overdue = exists().where(WorkItem.instance_id == Instance.id, WorkItem.due_at < now)
        escalated = exists().where(AuditEvent.instance_id == Instance.id, AuditEvent.kind == "timer.fired",
                                   or_(AuditEvent.element_id.ilike("%sla%"),
                                       AuditEvent.element_id.ilike("%escalat%")))
        query = query.where(or_(overdue, escalated))
    return query


def find_instances(session: Session, flt: InstanceFilter, now: datetime,
                   limit: int | None = None) -> tuple[list[dict[str, Any]], int]:
    """Return one page of matching instances (newest first) and the number that match."""
    query = _filtered(flt, now)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = max(1, flt.page)
    size = limit if limit is not None else flt.per_page
    rows = session.execute(query.order_by(Instance.id.desc()).limit(size).offset(
        0 if limit is not None else (page - 1) * flt.per_page))
    open_incidents = set(session.scalars(select(Incident.instance_id).where(Incident.status != "resolved")))
    return [instance_row(inst, version, bundle, inst.id in open_incidents) for inst, version, bundle in rows], total


def instance_row(inst: Instance, version: int, bundle: str, incident: bool) -> dict[str, Any]:
    """Return one line of the instance list."""
    summary = inst.summary or {}
    return {"id": inst.id, "ticket": inst.business_key, "process_id": inst.process_id, "bundle": bundle,
            "version": version, "status": inst.status, "stage": summary.get("stage"),
            "priority": summary.get("priority"), "channel": summary.get("channel"),
            "current": ", ".join(summary.get("current") or []), "started_at": inst.started_at,
            "started_by": inst.started_by, "ended_at": inst.ended_at, "has_incident": incident,
            "audit_events": inst.audit_seq}


CHOICES_TTL = 60.0  # seconds
_choices: dict[tuple[str, int | None], tuple[float, dict[str, list[Any]]]] = {}


def filter_choices(session: Session) -> dict[str, list[Any]]:
    """Return the values the instance filters offer.

    Finding them reads every instance's summary (about 200 ms at 100,000 instances), so they
    are kept per database until an instance starts or ``CHOICES_TTL`` seconds have passed.
    """
    key = (str(session.get_bind().url), session.scalar(select(func.max(Instance.id))))
    cached = _choices.get(key)
    if cached is not None and monotonic() - cached[0] < CHOICES_TTL:
        return cached[1]
    found = {"process_id": sorted(set(session.scalars(select(Instance.process_id).distinct()))),
             "version": sorted(set(session.scalars(select(Deployment.version).distinct()))),
             "status": list(STATUSES),
             "stage": sorted(v for v in set(session.scalars(select(_summary("stage")).distinct().limit(200))) if v),
             "priority": ["urgent", "high", "medium", "low"]}
    _choices.clear()  # one entry per database is plenty; never grows
    _choices[key] = (monotonic(), found)
    return found


# --- definitions ----------------------------------------------------------------------------
def definitions(session: Session) -> list[dict[str, Any]]:
    """Return every process and decision with its versions, newest first, and instance counts."""
    counts = {(d, p): n for d, p, n in session.execute(
        select(Instance.deployment_id, Instance.process_id, func.count()).group_by(
            Instance.deployment_id, Instance.process_id))}
    active = {(d, p): n for d, p, n in session.execute(
        select(Instance.deployment_id, Instance.process_id, func.count())
        .where(Instance.status.in_(("active", "incident")))
        .group_by(Instance.deployment_id, Instance.process_id))}
    out: dict[tuple[str, str], dict[str, Any]] = {}
    rows = session.execute(select(ProcessDefinition, Deployment).join(Deployment).order_by(
        ProcessDefinition.kind.desc(), ProcessDefinition.process_id, Deployment.version.desc()))
    for proc, dep in rows:
        entry = out.setdefault((proc.kind, proc.process_id), {
            "process_id": proc.process_id, "name": proc.name, "kind": proc.kind, "versions": []})
        entry["versions"].append({
            "deployment_id": dep.id, "bundle": dep.name, "version": dep.version, "content_hash": dep.content_hash,
            "deployed_at": dep.deployed_at, "deployed_by": dep.deployed_by, "file": proc.file,
            "instances": counts.get((dep.id, proc.process_id), 0),
            "running": active.get((dep.id, proc.process_id), 0)})
    return list(out.values())


def get_deployment(session: Session, deployment_id: int) -> Deployment:
    """Return a deployment."""
    dep = session.get(Deployment, deployment_id)
    if dep is None:
        raise NotFound("deployment {deployment_id} does not exist", params={"deployment_id": deployment_id})
    return dep


def deployment_files(session: Session, deployment_id: int) -> list[dict[str, Any]]:
    """Return the files of a deployment (path, kind, size, SHA-256)."""
    get_deployment(session, deployment_id)
    return [{"path": p, "kind": k, "sha256": h, "size": n} for p, k, h, n in session.execute(
        select(DeploymentFile.path, DeploymentFile.kind, DeploymentFile.sha256,
               func.length(DeploymentFile.content))
        .where(DeploymentFile.deployment_id == deployment_id).order_by(DeploymentFile.path))]


def deployment_file(session: Session, deployment_id: int, path: str) -> tuple[str, bytes]:
    """Return a file of a deployment, byte for byte, with its kind."""
    row = session.execute(select(DeploymentFile.kind, DeploymentFile.content).where(
        DeploymentFile.deployment_id == deployment_id, DeploymentFile.path == path)).first()
    if row is None:
        raise NotFound("deployment {deployment_id} has no file '{path}'",
                       params={"deployment_id": deployment_id, "path": path})
    return row[0], row[1]


# --- incidents ------------------------------------------------------------------------------
def incidents(session: Session, status: str | None = None) -> list[dict[str, Any]]:
    """Return incidents (unresolved unless ``status`` says otherwise), newest first."""
    query = select(Incident, Instance.business_key, Instance.process_id).join(
        Instance, Instance.id == Incident.instance_id)
    if status == "all":
        pass
    elif status:
        query = query.where(Incident.status == status)
    else:
        query = query.where(Incident.status != "resolved")
    rows = session.execute(query.order_by(Incident.updated_at.desc(), Incident.id.desc()).limit(500))
    return [{"id": i.id, "instance_id": i.instance_id, "ticket": key, "process_id": pid,
             "element_id": i.element_id, "element_name": i.element_name, "error_type": i.error_type,
             "message": i.message, "attempts": i.attempts, "status": i.status,
             "next_retry_at": i.next_retry_at, "created_at": i.created_at, "updated_at": i.updated_at}
            for i, key, pid in rows]


@dataclass(frozen=True)
class RetryOutcome:
    """What one retry really did, read back after its transaction."""

    incident_id: int
    outcome: str  # resolved | failed_again | refused
    status: str | None
    attempts: int | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        """Return the outcome as JSON-able data."""
        return {"incident_id": self.incident_id, "outcome": self.outcome, "status": self.status,
                "attempts": self.attempts, "message": self.message}


def retry_incidents(database: Database, runtime: Any, incident_ids: list[int], actor: str) -> list[RetryOutcome]:
    """Retry each incident in its own transaction and report each one's true outcome."""
    outcomes = []
    for incident_id in dict.fromkeys(incident_ids):
        try:
            with database.transaction() as session:
                runtime.retry(session, incident_id, actor)
        except AftersalesError as exc:
            outcomes.append(RetryOutcome(incident_id, "refused", None, None, exc.message))
            continue
        with database.transaction(write=False) as session:
            inc = session.get(Incident, incident_id)
            assert inc is not None
            if inc.status == "resolved":
                outcomes.append(RetryOutcome(incident_id, "resolved", inc.status, inc.attempts,
                                             f"{inc.element_name} ran; the instance went on"))
            else:
                outcomes.append(RetryOutcome(incident_id, "failed_again", inc.status, inc.attempts,
                                             inc.message))
    return outcomes


def get_instance_or_404(session: Session, instance_id: int) -> Instance:
    """Return an instance (NotFound when there is none)."""
    instance = session.get(Instance, instance_id) if 0 < instance_id < 2**31 else None
    if instance is None:
        raise NotFound("instance {instance_id} does not exist", params={"instance_id": instance_id})
    return instance


def instance_summary(session: Session, instance_id: int) -> dict[str, Any]:
    """Return one instance as a line of the instance list."""
    instance = get_instance_or_404(session, instance_id)
    dep = session.get(Deployment, instance.deployment_id)
    assert dep is not None
    incident = session.scalar(select(func.count()).select_from(Incident).where(
        Incident.instance_id == instance_id, Incident.status != "resolved")) or 0
    graph = deployment_graphs(session, instance.deployment_id).get(instance.process_id)
    return {**instance_row(instance, dep.version, dep.name, incident > 0),
            "deployment_id": instance.deployment_id, "diagram_file": graph.file if graph is not None else None}


# --- service requests (the API's channel systems) -------------------------------------------
def prepare_request(data: dict[str, Any]) -> dict[str, Any]:
    """Complete a channel's request into the process's start data (``docs/operators.md``)."""
    data = copy.deepcopy(data)
    customer = data.setdefault("customer", {})
    customer.setdefault("tier", "normal")
    data["customer_tier"] = customer["tier"]
    data.setdefault("fault", {}).setdefault("symptoms", [])
    data.setdefault("expectation", "")
    return data


def open_request(session: Session, runtime: Any, process_id: str, data: dict[str, Any], actor: Actor,
                 intake_form: str | None) -> dict[str, Any]:
    """Start the intake process and, when ``actor`` may, register the request at its first task.

    Returns the ticket number (set by the process's ``ticketing.open_ticket``), or the open
    ticket a repeat contact was attached to; ``registered`` is false when the request waits
    for an agent to register it (the actor has no agent role, or the process's registration
    form needs more than was sent)."""
    customer = data.get("customer")
    forms.check_address(customer.get("email") if isinstance(customer, dict) else None, "customer.email",
                        "the request")  # every mail to the customer would fail later
    started = runtime.start(session, process_id, prepare_request(data), actor=actor.username)
    first = next((w for w in session.scalars(select(WorkItem).where(WorkItem.instance_id == started.instance_id))
                  if w.form == intake_form and actor.may_work_in(w.role)), None)
    registered = False
    if first is not None:
        try:
            with session.begin_nested():
                runtime.complete_task(session, first.task_id, actor, data)
            registered = True
        except FormValidationError:
            pass  # incomplete for the registration form: an agent completes it
    instance = session.get(Instance, started.instance_id)
    assert instance is not None
    ticket, duplicate = instance.business_key, False
    if ticket is None:
        found = _find_key(projection.current_data(store.read_workflow(session, instance, runtime.specs)),
                          ("attached_to", "duplicate_of"))
        ticket, duplicate = found, found is not None
    return {"instance_id": instance.id, "ticket_number": ticket, "duplicate": duplicate,
            "status": instance.status, "registered": registered or instance.business_key is not None}


def _find_key(data: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        for value in [data.get(key), *(v.get(key) for v in data.values() if isinstance(v, dict))]:
            if isinstance(value, str) and value:
                return value
    return None


def request_status(session: Session, ticket: str) -> dict[str, Any]:
    """Return the state of the ticket ``ticket`` (its newest instance)."""
    instance = session.scalars(select(Instance).where(Instance.business_key == ticket)
                               .order_by(Instance.id.desc()).limit(1)).first()
    if instance is None:
        raise NotFound("ticket {ticket} does not exist", params={"ticket": ticket})
    summary = instance.summary or {}
    waiting = sorted(set(session.scalars(select(MessageSubscription.message_name).where(
        MessageSubscription.instance_id == instance.id))))
    return {"ticket_number": ticket, "instance_id": instance.id, "status": instance.status,
            "stage": summary.get("stage"), "current": list(summary.get("current") or []),
            "waiting_for": waiting, "started_at": instance.started_at.isoformat(),
            "ended_at": instance.ended_at.isoformat() if instance.ended_at else None}
