"""One task and one ticket: data, form, context panel, timeline, clocks; personal data masked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import duties, forms, projection, store
from engine.audit import events_for
from engine.errors import InvalidInput, NotFound
from engine.identity import Actor
from engine.models import (
    AuditEvent,
    Incident,
    Instance,
    MessageSubscription,
    Timer,
    WorkItem,
)
from engine.privacy import CATEGORIES, mask_for, mask_text, mask_value, personal_values, sees
from engine.runtime import Runtime, authorize, find_definition
from handlers import notifications, quote, sla, survey
from handlers.dispatch import Technician, open_assignment


# --- one task ----------------------------------------------------------------------------
@dataclass
class TaskDetail:
    """Everything the task page shows: the work item, its data, form and instructions."""

    item: WorkItem
    instance: Instance
    data: dict[str, Any]
    shown: dict[str, Any]
    instructions: str
    schema: dict[str, Any] | None
    ui_schema: dict[str, Any]
    context: TicketContext
    texts: dict[str, str] = field(default_factory=dict)
    # who may not do this task (user name → the earlier task they did: four eyes), and so the reader
    excluded: dict[str, duties.Conflict] = field(default_factory=dict)
    barred: duties.Conflict | None = None


def bundle_texts(session: Session, deployment_id: int, language: str) -> dict[str, str]:
    """Return the bundle's UI texts for ``language`` (``translations.<lang>.json``: English → text).

    Process owners translate their forms' titles, help and option labels there, and a
    task's instructions under the key ``instructions:<element id>``; the file travels with
    the bundle, so every version shows its own words.
    """
    if language == "en":
        return {}
    try:
        texts = forms.load_json_file(session, deployment_id, f"translations.{language}.json")
    except NotFound:
        return {}
    return {str(k): str(v) for k, v in texts.items() if isinstance(v, str)} if isinstance(texts, dict) else {}


def task_detail(session: Session, specs: store.SpecCache, actor: Actor, task_id: str,
                language: str = "en") -> TaskDetail:
    """Return a ready task the actor may work on, with its form and the ticket's context."""
    item = session.get(WorkItem, task_id)
    if item is None:
        raise NotFound("task {task_id} is not waiting for anyone (completed or cancelled?)",
                       task=task_id, params={"task_id": task_id})
    authorize(actor, item)
    instance = session.get(Instance, item.instance_id)
    assert instance is not None
    workflow = store.read_workflow(session, instance, specs)
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except Exception as exc:
        raise NotFound("task {task_id} is not part of instance {instance}",
                       params={"task_id": task_id, "instance": instance.id}) from exc
    spec = task.task_spec
    extensions = getattr(spec, "extensions", None) or {}
    props = extensions.get("properties", {}) or {}
    schema = ui_schema = None
    if props.get("formJsonSchemaFilename"):
        schema = forms.load_json_file(
            session, instance.deployment_id, props["formJsonSchemaFilename"]
        )
    if props.get("formUiSchemaFilename"):
        ui_schema = forms.load_json_file(
            session, instance.deployment_id, props["formUiSchemaFilename"]
        )
    data = dict(task.data)
    visible = sees(actor)
    context = ticket_context(session, instance, data, visible)
    texts = bundle_texts(session, instance.deployment_id, language)
    instructions = texts.get(f"instructions:{spec.name}") or str(extensions.get("instructionsForEndUser") or "")
    excluded = duties.excluded_performers(session, item)
    return TaskDetail(item, instance, data, mask_for(data, visible), instructions, schema, ui_schema or {},
                      context, texts, excluded, excluded.get(actor.username))


def next_task_for(session: Session, actor: Actor, instance_id: int) -> str | None:
    """Return a ready task of the instance the actor may take next (consecutive steps)."""
    items = session.scalars(
        select(WorkItem)
        .where(WorkItem.instance_id == instance_id)
        .order_by(WorkItem.created_at, WorkItem.task_id)
    )
    for item in items:
        if actor.may_work_in(item.role) and item.assignee in (None, actor.username) \
                and duties.conflict_of(session, item, actor.username) is None:
            return item.task_id
    return None


# --- ticket context ----------------------------------------------------------------------
@dataclass
class Step:
    """One line of a ticket's timeline."""

    at: datetime
    actor: str
    kind: str
    name: str
    detail: str = ""
    reason: str = ""  # a reassignment's reason: the system's own ones read in the reader's language


@dataclass
class TicketContext:
    """What staff see about a ticket beside a task or on the ticket page."""

    customer: dict[str, Any]
    product: dict[str, Any]
    fault: dict[str, Any]
    warranty: dict[str, Any]
    diagnosis: list[dict[str, Any]]
    parts: list[dict[str, Any]]
    quote: dict[str, Any]
    notes: list[Step]
    steps: list[Step]
    masked: bool
    facts: dict[str, Any] = field(default_factory=dict)
    articles: list[dict[str, Any]] = field(default_factory=list)
    appointment: dict[str, Any] = field(default_factory=dict)


def reveal_personal(actor: Actor) -> bool:
    """Tell whether the actor sees every kind of customers' contact data (``ROLE_SEES``)."""
    return sees(actor) >= CATEGORIES


def mask(value: Any) -> Any:
    """Mask a personal value, keeping just enough to recognise it (``Al***``, ``***1234``)."""
    return mask_value(value)


def masked_customer(customer: Any, visible: frozenset[str]) -> dict[str, Any]:
    """Return the customer record, the kinds of contact data not in ``visible`` masked."""
    if not isinstance(customer, dict):
        return {}
    return dict(mask_for(customer, visible, in_person=True))


def first_dict(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        value = data.get(key)
        if isinstance(value, dict):
            return value
    return {}


def ticket_context(
    session: Session, instance: Instance, data: dict[str, Any], visible: frozenset[str]
) -> TicketContext:
    """Collect a ticket's customer, product, warranty, diagnosis, parts, notes and steps.

    Personal data the viewer does not see (``visible``, from ``engine.privacy.ROLE_SEES``)
    is masked in every part, free-text notes included.
    """
    hidden = personal_values(data, visible)
    customer = masked_customer(data.get("customer"), visible)
    data = mask_for(data, visible)
    diagnosis = first_dict(data, "diagnosis_rules", "diagnosis")
    candidates = diagnosis.get("candidates") if isinstance(diagnosis.get("candidates"), list) else []
    articles = first_dict(data, "suggestions", "knowledge").get("articles")
    reservation = first_dict(data, "reservation", "parts_reservation", "reserved_parts")
    parts = [p for p in (reservation.get("reserved") or []) if isinstance(p, dict)]
    parts += [
        {**p, "backordered": True}
        for p in (reservation.get("backordered") or [])
        if isinstance(p, dict)
    ]
    events = events_for(session, instance.id)
    steps = [s for s in (_step(e) for e in events) if s is not None]
    notes = [
        Step(e.at, e.actor, e.kind, str((e.data or {}).get("name", "")), mask_text(note, hidden))
        for e in events
        if e.kind == "task.completed" and e.actor != "system"
        for note in _notes((e.data or {}).get("form") or {})
    ]
    facts = {
        k: data.get(k)
        for k in (
            "ticket_number",
            "channel",
            "priority",
            "customer_tier",
            "fault_category",
            "expectation",
        )
        if data.get(k) not in (None, "")
    }
    return TicketContext(
        customer=customer,
        product=first_dict(data, "product"),
        fault=_masked_row(first_dict(data, "fault"), hidden),
        warranty=first_dict(data, "entitlement", "warranty", "coverage"),
        diagnosis=[c for c in candidates if isinstance(c, dict)][:5],
        articles=[a for a in articles if isinstance(a, dict)][:5] if isinstance(articles, list) else [],
        appointment=current_visit(session, instance.business_key,
                                  first_dict(data, "technician_assignment", "provider", "rma"), events),
        parts=parts,
        quote=first_dict(data, "quote"),
        notes=notes,
        steps=steps,
        masked=not visible >= CATEGORIES,
        facts=facts,
    )


def current_visit(session: Session, ticket: str | None, recorded: dict[str, Any],
                  events: list[AuditEvent]) -> dict[str, Any]:
    """Return the service visit as dispatch holds it now (technician, window, its moves) over what
    the process recorded when it was booked; the booking's reason only while its technician still goes."""
    visit = open_assignment(session, ticket) if ticket else None
    if visit is None:
        return recorded
    tech = session.get(Technician, visit.technician)
    moves = [{"at": e.at, "by": e.actor, "from": e.data.get("from") or {}, "to": e.data.get("to") or {}}
             for e in events if e.kind == "dispatch.visit_moved" and isinstance(e.data, dict)]
    kept = recorded if recorded.get("technician") == visit.technician else {}
    return {**kept, "technician": visit.technician, "name": tech.name if tech else visit.technician,
            "appointment": {"start": visit.starts_at.isoformat(), "end": visit.ends_at.isoformat()}, "moves": moves}


#: the free-text answers people write in the bundle's task forms (what QA reads to score documentation);
#: whole words of the key, so a coded ``satisfaction`` is not an ``action``
_NOTE_KEY = re.compile(r"(?:^|_)(note|comment|remark|summary|resolution|work_done|answer|cause|finding|"
                       r"justification|reason|remedy|action|description)s?(?:_|$)", re.I)


def _notes(form: dict[str, Any]) -> list[str]:
    return [
        str(v) for k, v in form.items() if _NOTE_KEY.search(k) and isinstance(v, str) and v.strip()
    ]


_STEP_KINDS = {
    "instance.created",
    "task.completed",
    "message.received",
    "timer.fired",
    "task.claimed",
    "task.unclaimed",
    "task.reassigned",
    "incident.opened",
    "incident.resolved",
    "instance.completed",
    "instance.cancelled",
}


def _step(event: AuditEvent) -> Step | None:
    if event.kind not in _STEP_KINDS:
        return None
    data = event.data or {}
    if event.kind == "task.completed" and data.get("type") not in (
        "UserTask",
        "ManualTask",
        "NoneTask",
    ):
        return None
    name = str(data.get("name") or data.get("message") or "")
    detail = reason = ""
    if event.kind == "task.reassigned":
        detail, reason = f"{data.get('from') or '-'} → {data.get('to') or '-'}", str(data.get("reason") or "")
    elif event.kind == "incident.opened":
        detail = str(data.get("error") or "")[:200]
    return Step(event.at, event.actor, event.kind, name, detail, reason)


# --- tickets -----------------------------------------------------------------------------
@dataclass
class TicketDetail:
    """The staff ticket page: the instance, its context, clocks, tasks and notifications."""

    instance: Instance
    context: TicketContext
    tasks: list[WorkItem]
    timers: list[Timer]
    incidents: list[Incident]
    waiting_for: list[str]
    notifications: list[dict[str, Any]]
    documents: list[dict[str, str]]
    clocks: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def clock_due(self) -> datetime | None:
        """Return the earliest due time of the ticket's running SLA clocks."""
        dues = [c["due_at"] for c in self.clocks if c.get("status") == "running" and c.get("due_at")]
        return min(dues) if dues else None


def find_ticket(session: Session, key: str) -> Instance:
    """Return the instance of a ticket number (business key) or of an instance id."""
    instance = session.scalars(
        select(Instance).where(Instance.business_key == key).order_by(Instance.id.desc()).limit(1)
    ).first()
    if instance is None and key.isdigit():
        instance = session.get(Instance, int(key))
    if instance is None:
        raise NotFound("ticket {key} does not exist", params={"key": key})
    return instance


def instance_data(session: Session, specs: store.SpecCache, instance: Instance) -> dict[str, Any]:
    """Return an instance's current data from a private copy of its workflow.

    A ticket waiting inside a call activity keeps its newest data (the quote, the diagnosis)
    on the waiting and ready tasks of the subprocess, so those are merged over the rest. Read
    once per session and version of the instance (the ticket page and its message picker ask).
    """
    read = session.info.setdefault("instance_data", {})
    key = (instance.id, instance.version)
    if key not in read:
        read[key] = _read_data(session, specs, instance)
    return dict(read[key])


def _read_data(session: Session, specs: store.SpecCache, instance: Instance) -> dict[str, Any]:
    workflow = store.read_workflow(session, instance, specs)
    data = dict(projection.current_data(workflow))
    waiting = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
    for task in sorted(waiting, key=lambda t: t.last_state_change):
        data.update(task.data)
    return data


def ticket_detail(session: Session, specs: store.SpecCache, actor: Actor, key: str) -> TicketDetail:
    """Return everything the staff ticket page shows about ``key``."""
    instance = find_ticket(session, key)
    return detail_of(session, actor, instance, instance_data(session, specs, instance))


def detail_of(session: Session, actor: Actor, instance: Instance, data: dict[str, Any]) -> TicketDetail:
    """Return the staff ticket page of ``instance`` whose current data is ``data``."""
    visible = sees(actor)
    hidden = personal_values(data, visible)
    context = ticket_context(session, instance, data, visible)
    tasks = list(
        session.scalars(
            select(WorkItem)
            .where(WorkItem.instance_id == instance.id)
            .order_by(WorkItem.created_at)
        )
    )
    timers = list(
        session.scalars(
            select(Timer).where(Timer.instance_id == instance.id).order_by(Timer.due_at)
        )
    )
    incidents = list(
        session.scalars(
            select(Incident).where(
                Incident.instance_id == instance.id, Incident.status != "resolved"
            )
        )
    )
    waiting = sorted(
        set(
            session.scalars(
                select(MessageSubscription.message_name).where(
                    MessageSubscription.instance_id == instance.id
                )
            )
        )
    )
    documents = []
    if context.quote.get("document_url"):
        documents.append(
            {
                "kind": "quote",
                "url": str(context.quote["document_url"]),
                "title": str(context.quote.get("quote_id") or "quote"),
            }
        )
    return TicketDetail(
        instance,
        context,
        tasks,
        timers,
        incidents,
        waiting,
        [_masked_row(n, hidden) for n in notifications_for(session, instance.business_key)],
        documents,
        sla_clocks(session, instance.business_key),
        [_masked_row(c, hidden) for c in _contacts(session, instance.business_key)],
    )


def _masked_row(row: dict[str, Any], hidden: dict[str, str]) -> dict[str, Any]:
    """Return a row of free text (a notification, a contact) with the hidden personal values masked."""
    return {k: mask_text(v, hidden) if isinstance(v, str) else v for k, v in row.items()}


def _contacts(session: Session, ticket_number: str | None) -> list[dict[str, Any]]:
    from .search import ticket_contacts  # search builds on this module

    return ticket_contacts(session, ticket_number)


def notifications_for(session: Session, ticket_number: str | None) -> list[dict[str, Any]]:
    """Return the notifications sent about a ticket (the handlers' outbox), oldest first."""
    if not ticket_number:
        return []
    return [dict(row) for row in notifications.sent_for(session, ticket_number)]


def sla_clocks(session: Session, ticket_number: str | None) -> list[dict[str, Any]]:
    """Return a ticket's SLA clocks (response, resolution): due time, status, time paused."""
    if not ticket_number:
        return []
    clocks = [dict(row) for row in sla.clocks_for(session, ticket_number)]
    for clock in clocks:
        for key in ("due_at", "warn_at"):
            if isinstance(clock.get(key), str):
                clock[key] = datetime.fromisoformat(clock[key])
    return clocks


def waiting_messages(session: Session, instance_id: int) -> set[str]:
    """Return the message names an instance waits for."""
    return set(
        session.scalars(
            select(MessageSubscription.message_name).where(
                MessageSubscription.instance_id == instance_id
            )
        )
    )


def business_key_of(session: Session, instance_id: int) -> str | None:
    """Return an instance's business key (the ticket number, once the process set it)."""
    return session.scalar(select(Instance.business_key).where(Instance.id == instance_id))


def quote_document(session: Session, ticket_number: str, quote_id: int) -> str:
    """Return the stored HTML document of a ticket's quote as the customer received it."""
    html = quote.get_quote_document(session, ticket_number, quote_id)
    if html is None:
        raise NotFound("ticket {ticket_number} has no quote {quote_id}",
                       params={"ticket_number": ticket_number, "quote_id": quote_id})
    return str(html)


def staff_quote_document(session: Session, specs: store.SpecCache, actor: Actor, ticket_number: str,
                         quote_id: int) -> str:
    """Return a ticket's quote document for staff, the personal data ``actor`` does not see masked."""
    html = quote_document(session, ticket_number, quote_id)
    visible = sees(actor)
    if visible >= CATEGORIES:
        return str(html)
    data = instance_data(session, specs, find_ticket(session, ticket_number))
    return mask_text(str(html), personal_values(data, visible))


def survey_ticket(token: str, now: datetime) -> str:
    """Return the ticket of a survey link made by the survey handler; refuse a bad or expired one."""
    try:
        return str(survey.verify_survey_token(token, now))
    except InvalidInput as exc:
        raise NotFound(exc.message) from exc


def deployed_form(session: Session, process_id: str, path: str) -> dict[str, Any]:
    """Return a JSON form file of the deployment that new instances of ``process_id`` use."""
    definition = find_definition(session, process_id)
    return forms.load_json_file(session, definition.deployment_id, path)


def deployed_texts(session: Session, process_id: str, language: str) -> dict[str, str]:
    """Return the UI texts for ``language`` of the deployment new instances of ``process_id`` use."""
    return bundle_texts(session, find_definition(session, process_id).deployment_id, language)


def start_and_register(session: Session, runtime: Runtime, process_id: str, data: dict[str, Any],
                       actor: Actor | None, intake_form: str | None = None,
                       form_data: dict[str, Any] | None = None) -> tuple[int, str | None, str | None]:
    """Start ``process_id`` with ``data``; if the actor's first task has the intake form, complete it
    with ``form_data``. Return the instance, its ticket number and the actor's next task."""
    started = runtime.start(session, process_id, data, actor=actor.username if actor else "customer")
    following = next_task_for(session, actor, started.instance_id) if actor else None
    if following and intake_form and actor is not None:
        item = session.get(WorkItem, following)
        if item is not None and item.form == intake_form:
            runtime.complete_task(session, following, actor, form_data if form_data is not None else data)
            following = next_task_for(session, actor, started.instance_id)
    return started.instance_id, business_key_of(session, started.instance_id), following
