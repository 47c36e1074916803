"""The ticket as a workspace: notes, calls, messages, contact edits, files and one timeline.

Everything is masked here for the reader's roles (``engine.privacy.ROLE_SEES``): contact
changes by their personal keys, free text (notes, call notes, messages) by the customer's
values the reader does not see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import store
from engine.identity import Actor
from engine.message_templates import BASE_LANGUAGE
from engine.models import Instance
from engine.privacy import mask_for, mask_text, personal_values, sees
from handlers import attachments, message_templates, ticket_notes
from handlers import ticketing as tk
from handlers.outbox import Outbox

from .tickets import Step, TicketDetail, detail_of, find_ticket, instance_data, masked_customer


@dataclass
class Entry:
    """One line of the workspace timeline: a task step, a note, a call, a message, a file, an edit."""

    at: datetime
    actor: str
    kind: str
    title: str
    body: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Workspace:
    """What the ticket page's workspace shows and offers to the reader."""

    contact: dict[str, Any]
    customer_id: int | None
    entries: list[Entry]
    files: list[attachments.Attachment]
    may_edit: bool
    may_cancel: bool
    may_add_files: bool
    may_open_files: bool
    channel: str | None
    earlier: list[dict[str, Any]] = field(default_factory=list)


def current_contact(session: Session, ticket: str, data_customer: Any) -> tuple[dict[str, Any], int | None]:
    """Return the customer's contact in clear: the process data's, overlaid by the customer record's.

    The second value is the customer record's id (None: no record, so nothing to edit).
    """
    contact = dict(data_customer) if isinstance(data_customer, dict) else {}
    record = ticket_notes.customer_of(session, ticket)
    if record is None:
        return contact, None
    contact.update({"name": record.name, "phone": record.phone or "", "email": record.email or "",
                    "language": record.language, "preferred_channel": record.preferred_channel})
    address = ticket_notes.address_of(session, record.id)
    if address:
        contact["address"] = address
    return contact, record.id


def _earlier(session: Session, record_id: int, ticket: str) -> list[dict[str, Any]]:
    return [{"number": t.number, "status": t.status, "opened_at": t.opened_at,
             "product": f"{t.product.model} {t.product.serial_number}".strip()}
            for t in session.scalars(select(tk.Ticket).where(tk.Ticket.customer_id == record_id,
                                                             tk.Ticket.number != ticket)
                                     .order_by(tk.Ticket.opened_at.desc()).limit(10))]


def earlier_tickets(session: Session, ticket: str) -> list[dict[str, Any]]:
    """Return the ticket's customer's ten latest other tickets, newest first (none without a record)."""
    record = ticket_notes.customer_of(session, ticket)
    return _earlier(session, record.id, ticket) if record else []


def ticket_workspace(session: Session, actor: Actor, ticket: str, data: dict[str, Any],
                     steps: list[Step], notifications: list[dict[str, Any]],
                     contact: tuple[dict[str, Any], int | None] | None = None) -> Workspace:
    """Return the workspace of ``ticket`` for ``actor``: its contact, activities, files and timeline
    (``contact``: :func:`current_contact`'s answer, when the caller has just read it)."""
    visible = sees(actor)
    contact, record_id = contact or current_contact(session, ticket, data.get("customer"))
    hidden = personal_values({**data, "customer": contact}, visible)
    entries = [Entry(s.at, s.actor, s.kind, s.name, s.detail, {"reason": s.reason} if s.reason else {}) for s in steps]
    for row in ticket_notes.list_activities(session, ticket):
        details = mask_for(row.details or {}, visible)
        entries.append(Entry(row.created_at, row.author, f"ticket.{row.kind}", "", mask_text(row.body, hidden),
                             details))
    files = attachments.list_attachments(session, ticket)
    entries += [Entry(f.created_at, f.uploaded_by, "attachment.added", f.filename, "",
                      {"size": f.size, "content_type": f.content_type, "id": f.id}) for f in files]
    entries += [Entry(n["created_at"], "system", "notification", str(n.get("milestone") or ""), "",
                      {"channel": n.get("channel"), "status": n.get("status")})
                for n in notifications if isinstance(n.get("created_at"), datetime) and n.get("milestone") != "message"]
    chosen = ticket_notes.pick_channel(contact)
    earlier = _earlier(session, record_id, ticket) if record_id else []
    return Workspace(
        contact=masked_customer(contact, visible),
        customer_id=record_id,
        entries=sorted(entries, key=lambda e: e.at),
        files=files,
        may_edit=bool(actor.roles & ticket_notes.CANCEL_ROLES),
        may_cancel=bool(actor.roles & ticket_notes.CANCEL_ROLES),
        may_add_files=bool(actor.roles & attachments.MAY_ADD),
        may_open_files=attachments.may_read(actor),
        channel=chosen[0] if chosen else None,
        earlier=earlier,
    )


def ticket_page(session: Session, specs: store.SpecCache, actor: Actor, key: str) -> tuple[TicketDetail, Workspace]:
    """Return the staff ticket page of ``key`` and its workspace, the customer's current contact shown."""
    instance = find_ticket(session, key)
    data = instance_data(session, specs, instance)
    ticket = instance.business_key or str(instance.id)
    contact, record = current_contact(session, ticket, data.get("customer"))
    session.info.setdefault("contact_read", {})[instance.id] = (contact, record)  # the message picker's too
    if contact:
        data = {**data, "customer": contact}
    detail = detail_of(session, actor, instance, data)
    _mark_audience(session, detail.notifications)
    customer_side = [n for n in detail.notifications if n.get("audience") != "staff"]
    return detail, ticket_workspace(session, actor, ticket, data, detail.context.steps, customer_side,
                                    (contact, record))


def _mark_audience(session: Session, notifications: list[dict[str, Any]]) -> None:
    """Add to each notification its audience (``customer`` or ``staff``: an SLA alert to the desk) and, for
    a staff alert, its recipient (a colleague's address): the page lists those apart from the customer's."""
    ids = [n["id"] for n in notifications if isinstance(n.get("id"), int)]
    if not ids:
        return
    rows = {row.id: row for row in session.execute(select(Outbox.id, Outbox.audience, Outbox.recipient)
                                                   .where(Outbox.id.in_(ids)))}
    for notification in notifications:
        row = rows.get(notification.get("id"))  # type: ignore[arg-type]
        notification["audience"] = (row.audience if row is not None else None) or "customer"
        if row is not None and notification["audience"] == "staff":
            notification["recipient"] = row.recipient


def staff_alerts(notifications: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return a ticket's alerts to staff, one per alert (milestone, time, channel, status) with every
    colleague it went to, oldest first."""
    grouped: dict[tuple[Any, ...], dict[str, Any]] = {}
    for n in notifications:
        if n.get("audience") != "staff":
            continue
        key = (n.get("milestone"), n.get("created_at"), n.get("channel"), n.get("status"))
        alert = grouped.setdefault(key, {"milestone": n.get("milestone"), "created_at": n.get("created_at"),
                                         "channel": n.get("channel"), "status": n.get("status"), "recipients": []})
        if n.get("recipient") and n["recipient"] not in alert["recipients"]:
            alert["recipients"].append(n["recipient"])
    return list(grouped.values())


def contact_for_message(session: Session, specs: store.SpecCache, key: str,
                        instance: Instance | None = None) -> dict[str, Any]:
    """Return the customer's current contact in clear, for a message to them (never for display);
    ``instance``: the ticket's, when the caller has already found it. The ticket page's session
    has just read it (:func:`ticket_page`): then it is not read again."""
    instance = instance or find_ticket(session, key)
    read = session.info.get("contact_read", {}).get(instance.id)  # the ticket page's, read a moment ago
    if read is not None:
        return dict(read[0])
    return current_contact(session, instance.business_key or key, instance_data(session, specs, instance)
                           .get("customer"))[0]


@dataclass
class TemplatePicker:
    """The message templates an agent may pick on a ticket, filled in the customer's language."""

    language: str
    titles: dict[str, dict[str, str]]
    filled: dict[str, message_templates.Filled | str]
    chosen: message_templates.Filled | None = None


def message_picker(session: Session, specs: store.SpecCache, key: str, agent_name: str,
                   chosen: str | None = None, instance: Instance | None = None) -> TemplatePicker:
    """Return the templates for a message to the ticket's customer, each filled from the ticket (or why not).

    With ``chosen``, that template is filled for the form; an unknown one, or one that needs a value
    the ticket lacks, raises :class:`~engine.errors.FormValidationError` on the ``template`` field.
    ``instance``: the ticket's, when the caller has already found it.
    """
    instance = instance or find_ticket(session, key)
    ticket = instance.business_key or key
    contact = contact_for_message(session, specs, key, instance)
    deployment_id, index = message_templates.templates_of(session, instance)
    language = str(contact.get("language") or BASE_LANGUAGE)
    filled: dict[str, message_templates.Filled | str] = {}
    if index:
        language = message_templates.customer_language(contact, session, deployment_id, next(iter(index)))
        values = message_templates.ticket_values(session, ticket, contact, language, agent_name)
        filled = message_templates.fill_all(session, deployment_id, index, language, values)
    picked = None
    if chosen is not None:
        found = filled.get(chosen)
        if not isinstance(found, message_templates.Filled):
            raise ticket_notes.refuse("template", found or message_templates.UNKNOWN)
        picked = found
    return TemplatePicker(language, index, filled, picked)
