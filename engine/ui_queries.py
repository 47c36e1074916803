"""Read queries the staff and customer web pages need (plain SQLAlchemy, no Flask).

The tasklist pages through ``work_item`` with indexed filters; the task and ticket pages
read one instance's data from its stored workflow (a private, read-only copy) and its
audit trail. Personal data is masked here, before any page sees it, for roles that may
not read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import case, distinct, func, or_, select
from sqlalchemy.orm import Session

from . import forms, projection, store
from .audit import events_for
from .errors import InvalidInput, NotFound, PermissionDenied
from .identity import Actor
from .models import AuditEvent, Incident, Instance, MessageSubscription, Timer, User, UserRole, Role, WorkItem
from .queries import count_tasks
from .runtime import authorize

PRIORITY_RANK = {"urgent": 0, "high": 1, "medium": 2, "low": 3}
TIER_RANK = {"vip": 0, "normal": 1}
PERSONAL_KEYS = ("name", "phone", "email", "address", "wechat")
#: roles that see customers' contact data unmasked
PERSONAL_DATA_ROLES = frozenset({"agent", "technician", "supervisor"})
CUSTOMER_MESSAGES = ("quote_response", "customer_confirmation", "survey_answered")

# --- tasklist ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Worklist:
    """One tasklist request: tab, filters, sort and page."""

    scope: str = "mine"  # mine | group | all
    name: str | None = None
    priority: str | None = None
    stage: str | None = None
    channel: str | None = None
    customer_tier: str | None = None
    ticket: str | None = None
    sla: str | None = None  # breached | soon
    sort: str = "due_at"
    descending: bool = False
    page: int = 1
    per_page: int = 50


def _sort_columns() -> dict[str, Any]:
    return {
        "due_at": WorkItem.due_at, "created_at": WorkItem.created_at, "name": WorkItem.name,
        "business_key": WorkItem.business_key, "stage": WorkItem.stage, "channel": WorkItem.channel,
        "priority": case(PRIORITY_RANK, value=WorkItem.priority, else_=9),
        "customer_tier": case(TIER_RANK, value=WorkItem.customer_tier, else_=9),
    }


def _scope(actor: Actor, scope: str) -> Any:
    query = select(WorkItem)
    if scope == "all":
        if not actor.is_supervisor:
            raise PermissionDenied("only supervisors see every open task")
        return query
    if scope == "group":
        return query.where(WorkItem.role.in_(sorted(actor.roles)), WorkItem.assignee.is_(None))
    return query.where(WorkItem.assignee == actor.username)


def list_worklist(session: Session, actor: Actor, wl: Worklist, now: datetime,
                  soon_seconds: int = 4 * 3600) -> tuple[list[WorkItem], int]:
    """Return one page of a tasklist tab and the number of matching tasks."""
    query = _scope(actor, wl.scope)
    for column, value in ((WorkItem.name, wl.name), (WorkItem.priority, wl.priority),
                          (WorkItem.stage, wl.stage), (WorkItem.channel, wl.channel),
                          (WorkItem.customer_tier, wl.customer_tier)):
        if value:
            query = query.where(column == value)
    if wl.ticket:
        query = query.where(WorkItem.business_key.like(f"{_escape_like(wl.ticket.strip())}%", escape="\\"))
    if wl.sla == "breached":
        query = query.where(WorkItem.due_at < now)
    elif wl.sla == "soon":
        from datetime import timedelta

        query = query.where(WorkItem.due_at >= now, WorkItem.due_at < now + timedelta(seconds=soon_seconds))
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    column = _sort_columns().get(wl.sort, WorkItem.due_at)
    order = column.desc() if wl.descending else column.asc()
    page = max(1, wl.page)
    rows = session.scalars(query.order_by(order.nulls_last(), WorkItem.created_at, WorkItem.task_id)
                           .limit(wl.per_page).offset((page - 1) * wl.per_page))
    return list(rows), total


def worklist_choices(session: Session) -> dict[str, list[str]]:
    """Return the values the tasklist filters offer (task names, stages, channels …)."""
    out: dict[str, list[str]] = {}
    for key, column in (("name", WorkItem.name), ("stage", WorkItem.stage), ("channel", WorkItem.channel)):
        out[key] = sorted(v for v in session.scalars(select(distinct(column)).limit(200)) if v)
    out["priority"] = list(PRIORITY_RANK)
    out["customer_tier"] = list(TIER_RANK)
    return out


@dataclass
class TasklistPage:
    """One tasklist page: its rows, the matching total, the count per tab and filter choices."""

    items: list[WorkItem]
    total: int
    counts: dict[str, int]
    choices: dict[str, list[str]]


def tasklist_page(session: Session, actor: Actor, wl: Worklist, now: datetime,
                  soon_seconds: int = 4 * 3600) -> TasklistPage:
    """Return everything the tasklist page shows for ``wl``."""
    items, total = list_worklist(session, actor, wl, now, soon_seconds)
    return TasklistPage(items, total, count_tasks(session, actor), worklist_choices(session))


def users_with_role(session: Session, role: str | None) -> list[tuple[str, str]]:
    """Return ``(username, display name)`` of active users holding ``role`` (any role when None)."""
    query = select(User.username, User.display_name).where(User.active.is_(True))
    if role:
        query = query.join(UserRole, UserRole.user_id == User.id).join(Role, Role.id == UserRole.role_id).where(
            or_(Role.name == role, Role.name.in_(("supervisor",))))
    return [(u, n) for u, n in session.execute(query.distinct().order_by(User.username))]


def check_assignee(session: Session, username: str, role: str | None) -> None:
    """Refuse a reassignment target that does not exist, is inactive or lacks the lane's role."""
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None or not user.active:
        raise InvalidInput(f"user {username!r} does not exist or is inactive", field="assignee")
    if not Actor.of(user).may_work_in(role):
        raise InvalidInput(f"user {username!r} does not hold the role {role!r} of this task", field="assignee")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- one task ----------------------------------------------------------------------------
@dataclass
class TaskDetail:
    """Everything the task page shows: the work item, its data, form and instructions."""

    item: WorkItem
    instance: Instance
    data: dict[str, Any]
    instructions: str
    schema: dict[str, Any] | None
    ui_schema: dict[str, Any]
    context: TicketContext


def task_detail(session: Session, specs: store.SpecCache, actor: Actor, task_id: str) -> TaskDetail:
    """Return a ready task the actor may work on, with its form and the ticket's context."""
    item = session.get(WorkItem, task_id)
    if item is None:
        raise NotFound(f"task {task_id} is not waiting for anyone (completed or cancelled?)", task=task_id)
    authorize(actor, item)
    instance = session.get(Instance, item.instance_id)
    assert instance is not None
    workflow = store.read_workflow(session, instance, specs)
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except Exception as exc:
        raise NotFound(f"task {task_id} is not part of instance {instance.id}") from exc
    spec = task.task_spec
    extensions = getattr(spec, "extensions", None) or {}
    props = extensions.get("properties", {}) or {}
    schema = ui_schema = None
    if props.get("formJsonSchemaFilename"):
        schema = forms.load_json_file(session, instance.deployment_id, props["formJsonSchemaFilename"])
    if props.get("formUiSchemaFilename"):
        ui_schema = forms.load_json_file(session, instance.deployment_id, props["formUiSchemaFilename"])
    data = dict(task.data)
    context = ticket_context(session, instance, data, reveal_personal(actor))
    return TaskDetail(item, instance, data, str(extensions.get("instructionsForEndUser") or ""),
                      schema, ui_schema or {}, context)


def next_task_for(session: Session, actor: Actor, instance_id: int) -> str | None:
    """Return a ready task of the instance the actor may take next (consecutive steps)."""
    items = session.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id)
                            .order_by(WorkItem.created_at, WorkItem.task_id))
    for item in items:
        if actor.may_work_in(item.role) and item.assignee in (None, actor.username):
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


def reveal_personal(actor: Actor) -> bool:
    """Tell whether the actor may read customers' contact data."""
    return bool(actor.roles & PERSONAL_DATA_ROLES)


def mask(value: Any) -> Any:
    """Mask a personal value, keeping just enough to recognise it (``Al***``, ``***1234``)."""
    if not isinstance(value, str) or not value:
        return value
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 6 and len(digits) >= len(value) - 4:
        return f"***{digits[-4:]}"
    return f"{value[:1]}***"


def masked_customer(customer: Any, reveal: bool) -> dict[str, Any]:
    """Return the customer record, its contact data masked unless ``reveal``."""
    if not isinstance(customer, dict):
        return {}
    if reveal:
        return dict(customer)
    return {k: (mask(v) if k in PERSONAL_KEYS else v) for k, v in customer.items()}


def _first_dict(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        value = data.get(key)
        if isinstance(value, dict):
            return value
    return {}


def ticket_context(session: Session, instance: Instance, data: dict[str, Any], reveal: bool) -> TicketContext:
    """Collect a ticket's customer, product, warranty, diagnosis, parts, notes and steps."""
    diagnosis = _first_dict(data, "diagnosis")
    candidates = diagnosis.get("candidates") if isinstance(diagnosis.get("candidates"), list) else []
    reservation = _first_dict(data, "reservation", "parts_reservation", "reserved_parts")
    parts = [p for p in (reservation.get("reserved") or []) if isinstance(p, dict)]
    parts += [{**p, "backordered": True} for p in (reservation.get("backordered") or []) if isinstance(p, dict)]
    events = events_for(session, instance.id)
    steps = [s for s in (_step(e) for e in events) if s is not None]
    notes = [Step(e.at, e.actor, e.kind, str((e.data or {}).get("name", "")), note)
             for e in events if e.kind == "task.completed" and e.actor != "system"
             for note in _notes((e.data or {}).get("form") or {})]
    facts = {k: data.get(k) for k in ("ticket_number", "channel", "priority", "customer_tier",
                                       "fault_category", "expectation") if data.get(k) not in (None, "")}
    return TicketContext(
        customer=masked_customer(data.get("customer"), reveal), product=_first_dict(data, "product"),
        fault=_first_dict(data, "fault"), warranty=_first_dict(data, "entitlement", "warranty", "coverage"),
        diagnosis=[c for c in candidates if isinstance(c, dict)][:5], parts=parts,
        quote=_first_dict(data, "quote"), notes=notes, steps=steps, masked=not reveal, facts=facts)


_NOTE_KEY = re.compile(r"(note|comment|remark|summary|resolution|work_done)", re.I)


def _notes(form: dict[str, Any]) -> list[str]:
    return [str(v) for k, v in form.items() if _NOTE_KEY.search(k) and isinstance(v, str) and v.strip()]


_STEP_KINDS = {"instance.created", "task.completed", "message.received", "timer.fired", "task.claimed",
               "task.unclaimed", "task.reassigned", "incident.opened", "incident.resolved",
               "instance.completed", "instance.cancelled"}


def _step(event: AuditEvent) -> Step | None:
    if event.kind not in _STEP_KINDS:
        return None
    data = event.data or {}
    if event.kind == "task.completed" and data.get("type") not in ("UserTask", "ManualTask", "NoneTask"):
        return None
    name = str(data.get("name") or data.get("message") or "")
    detail = ""
    if event.kind == "task.reassigned":
        detail = f"{data.get('from') or '-'} → {data.get('to') or '-'}: {data.get('reason') or ''}"
    elif event.kind in ("task.claimed", "task.unclaimed"):
        detail = str(data.get("to") or data.get("from") or "")
    elif event.kind == "incident.opened":
        detail = str(data.get("error") or "")[:200]
    return Step(event.at, event.actor, event.kind, name, detail)


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


def find_ticket(session: Session, key: str) -> Instance:
    """Return the instance of a ticket number (business key) or of an instance id."""
    instance = session.scalars(select(Instance).where(Instance.business_key == key)
                               .order_by(Instance.id.desc()).limit(1)).first()
    if instance is None and key.isdigit():
        instance = session.get(Instance, int(key))
    if instance is None:
        raise NotFound(f"ticket {key} does not exist")
    return instance


def instance_data(session: Session, specs: store.SpecCache, instance: Instance) -> dict[str, Any]:
    """Return an instance's current data from a private copy of its workflow."""
    return projection.current_data(store.read_workflow(session, instance, specs))


def ticket_detail(session: Session, specs: store.SpecCache, actor: Actor, key: str) -> TicketDetail:
    """Return everything the staff ticket page shows about ``key``."""
    instance = find_ticket(session, key)
    data = instance_data(session, specs, instance)
    context = ticket_context(session, instance, data, reveal_personal(actor))
    tasks = list(session.scalars(select(WorkItem).where(WorkItem.instance_id == instance.id)
                                 .order_by(WorkItem.created_at)))
    timers = list(session.scalars(select(Timer).where(Timer.instance_id == instance.id).order_by(Timer.due_at)))
    incidents = list(session.scalars(select(Incident).where(Incident.instance_id == instance.id,
                                                            Incident.status != "resolved")))
    waiting = sorted(set(session.scalars(select(MessageSubscription.message_name)
                                         .where(MessageSubscription.instance_id == instance.id))))
    documents = []
    if context.quote.get("document_url"):
        documents.append({"kind": "quote", "url": str(context.quote["document_url"]),
                          "title": str(context.quote.get("quote_id") or "quote")})
    return TicketDetail(instance, context, tasks, timers, incidents, waiting,
                        notifications_for(session, instance.business_key), documents)


def notifications_for(session: Session, ticket_number: str | None) -> list[dict[str, Any]]:
    """Return the notifications sent about a ticket (the handlers' outbox), newest last."""
    if not ticket_number:
        return []
    try:
        from handlers import notifications  # type: ignore[attr-defined]
    except ImportError:
        return []
    reader = getattr(notifications, "sent_for", None) or getattr(notifications, "outbox_for", None)
    if reader is None:
        return []
    return [dict(row) if not isinstance(row, dict) else row for row in reader(session, ticket_number)]


def waiting_messages(session: Session, instance_id: int) -> set[str]:
    """Return the message names an instance waits for."""
    return set(session.scalars(select(MessageSubscription.message_name)
                               .where(MessageSubscription.instance_id == instance_id)))


def task_role(session: Session, task_id: str) -> str | None:
    """Return the role of a ready task's lane."""
    item = session.get(WorkItem, task_id)
    if item is None:
        raise NotFound(f"task {task_id} is not waiting for anyone", task=task_id)
    return item.role


# --- search and duplicates (read the ticketing handler's tables when they are there) -------
@dataclass
class Hit:
    """One search result."""

    ticket: str
    instance_id: int
    status: str
    customer: str
    product: str
    opened_at: datetime | None
    matched: str


def _ticketing() -> Any:
    try:
        from handlers import ticketing
    except ImportError:  # the handlers package is optional for the engine
        return None
    return ticketing


def search_tickets(session: Session, actor: Actor, text: str, limit: int = 50) -> list[Hit]:
    """Find tickets by number, phone, e-mail, serial number or customer name."""
    text = text.strip()[:200]
    if not text:
        return []
    reveal = reveal_personal(actor)
    hits: dict[str, Hit] = {}
    tk = _ticketing()
    if tk is not None:
        conditions = [(tk.Ticket.number.like(f"{_escape_like(text.upper())}%", escape="\\"), "ticket")]
        serial = tk.normalize_serial(text)
        if serial:
            conditions.append((tk.Product.serial_number == serial, "serial"))
        if reveal:
            phone, email = tk.normalize_phone(text), tk.normalize_email(text)
            if phone and len(phone) >= 5:
                conditions.append((tk.Customer.phone == phone, "phone"))
            if email:
                conditions.append((tk.Customer.email == email, "email"))
            if len(text) >= 2:
                conditions.append((func.lower(tk.Customer.name).like(f"%{_escape_like(text.lower())}%",
                                                                     escape="\\"), "name"))
        for condition, what in conditions:
            rows = session.scalars(select(tk.Ticket).join(tk.Customer, tk.Ticket.customer_id == tk.Customer.id)
                                   .join(tk.Product, tk.Ticket.product_id == tk.Product.id).where(condition)
                                   .order_by(tk.Ticket.opened_at.desc()).limit(limit))
            for t in rows:
                name = t.customer.name if reveal else mask(t.customer.name)
                hits.setdefault(t.number, Hit(t.number, t.instance_id, t.status, name,
                                              f"{t.product.model} {t.product.serial_number}".strip(),
                                              t.opened_at, what))
    for inst in session.scalars(select(Instance).where(Instance.business_key.like(
            f"{_escape_like(text)}%", escape="\\")).order_by(Instance.id.desc()).limit(limit)):
        key = inst.business_key or str(inst.id)
        hits.setdefault(key, Hit(key, inst.id, inst.status, "", "", inst.started_at, "ticket"))
    return list(hits.values())[:limit]


def open_duplicate(session: Session, customer: dict[str, Any], product: dict[str, Any]) -> str | None:
    """Return the open ticket of the same customer (phone or e-mail) about the same serial, if any."""
    tk = _ticketing()
    if tk is None:
        return None
    serial = tk.normalize_serial(product.get("serial_number"))
    phone, email = tk.normalize_phone(customer.get("phone")), tk.normalize_email(customer.get("email"))
    same = [c for c in (tk.Customer.phone == phone if phone else None,
                        tk.Customer.email == email if email else None) if c is not None]
    if not serial or not same:
        return None
    return session.scalars(
        select(tk.Ticket.number).join(tk.Product, tk.Ticket.product_id == tk.Product.id)
        .join(tk.Customer, tk.Ticket.customer_id == tk.Customer.id)
        .where(tk.Ticket.status != "closed", tk.Product.serial_number == serial, or_(*same))
        .order_by(tk.Ticket.opened_at.desc()).limit(1)).first()


# --- what a customer may see ---------------------------------------------------------------
@dataclass
class PublicStatus:
    """A ticket as its customer sees it: plain milestones, no internal data."""

    ticket: str
    state: str  # received | in_progress | waiting_for_customer | closed | cancelled
    milestones: list[tuple[datetime, str]]
    actions: list[str]
    quote: dict[str, Any]
    product: str
    language: str


def _digits(value: Any) -> str:
    digits = re.sub(r"\D", "", value) if isinstance(value, str) else ""
    digits = digits.removeprefix("00")
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


def contact_matches(customer: Any, contact: str) -> bool:
    """Tell whether ``contact`` is the customer's phone number or e-mail address."""
    if not isinstance(customer, dict) or not contact.strip():
        return False
    if "@" in contact:
        return str(customer.get("email") or "").strip().lower() == contact.strip().lower()
    digits = _digits(contact)
    return len(digits) >= 5 and digits == _digits(customer.get("phone"))


def public_status(session: Session, specs: store.SpecCache, ticket: str, contact: str | None) -> PublicStatus:
    """Return a ticket's customer view; with ``contact``, only if it is the customer's phone or e-mail."""
    refused = NotFound("no ticket matches this number and contact")
    instance = session.scalars(select(Instance).where(Instance.business_key == ticket.strip().upper())
                               .order_by(Instance.id.desc()).limit(1)).first()
    if instance is None:
        raise refused
    data = instance_data(session, specs, instance)
    if contact is not None and not contact_matches(data.get("customer"), contact):
        raise refused
    actions = [m for m in CUSTOMER_MESSAGES if m in waiting_messages(session, instance.id)]
    state = {"completed": "closed", "cancelled": "cancelled"}.get(instance.status, "in_progress")
    if actions:
        state = "waiting_for_customer"
    milestones = [(instance.started_at, "received")]
    for note in notifications_for(session, instance.business_key):
        milestone = note.get("milestone")
        at = note.get("created_at") or note.get("at")
        if milestone and milestone not in ("received", "reminder") and isinstance(at, datetime):
            milestones.append((at, str(milestone)))
    for event in session.scalars(select(AuditEvent).where(
            AuditEvent.stream == f"instance:{instance.id}",
            AuditEvent.kind.in_(("message.received", "instance.completed", "instance.cancelled")))
            .order_by(AuditEvent.seq)):
        message = (event.data or {}).get("message")
        if event.kind == "message.received" and message in CUSTOMER_MESSAGES:
            milestones.append((event.at, f"answered:{message}"))
        elif event.kind != "message.received":
            milestones.append((event.at, "closed" if event.kind == "instance.completed" else "cancelled"))
    quote = _first_dict(data, "quote")
    public_quote = {k: quote[k] for k in ("total", "customer_pays", "covered", "currency", "lines", "valid_until")
                    if k in quote}
    product = _first_dict(data, "product")
    language = str(_first_dict(data, "customer").get("language") or "")
    return PublicStatus(instance.business_key or "", state, sorted(milestones, key=lambda m: m[0]), actions,
                        public_quote, str(product.get("model") or ""), language)


def business_key_of(session: Session, instance_id: int) -> str | None:
    """Return an instance's business key (the ticket number, once the process set it)."""
    return session.scalar(select(Instance.business_key).where(Instance.id == instance_id))
