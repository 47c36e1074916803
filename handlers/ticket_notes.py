"""What staff do on a ticket beside its tasks: notes, calls, messages, contact edits, cancelling.

Every act is one :class:`TicketActivity` row (the ticket page's workspace timeline) and one
event on the ticket's audit trail, written in the caller's transaction. A message to the
customer is queued in the notification outbox (:mod:`handlers.outbox`) on the customer's
channel and sent after commit by the worker, as the process's own notifications are.
Contact edits change the customer record (:mod:`handlers.ticketing`) and keep old and new
values under their personal keys (``phone``, ``email``, ``address``), so every page masks
them by ``engine.privacy.ROLE_SEES``. Bad values raise
:class:`~engine.errors.FormValidationError` naming the field, and nothing is written.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine import clock, store
from engine.audit import PendingEvent, write_instance_events
from engine.db import Base
from engine.errors import FieldError, FormValidationError, NotFound, PermissionDenied
from engine.forms import EMAIL
from engine.identity import Actor
from engine.models import Instance

from . import ticketing
from .attachments import instance_of
from .notifications import CHANNELS, address_for, choose_channel
from .outbox import Outbox, stamp_message_id

KINDS = ("note", "call", "message", "contact", "cancel")
DIRECTIONS = ("inbound", "outbound")
CALL_OUTCOMES = ("reached", "no_answer", "busy", "voicemail", "wrong_number", "call_back")
NOTE_MAX = 4000
SUBJECT_MAX = 200
CANCEL_ROLES = frozenset({"agent", "supervisor"})
_PHONE = re.compile(r"\+?[0-9][0-9 ()\-.]{3,24}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LINE_BREAK = re.compile(r"[\r\n\x00-\x1f\x7f]")


class TicketActivity(Base):
    """One thing staff did on a ticket outside its tasks: a note, a call, a message, an edit, a cancel."""

    __tablename__ = "ticket_activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(32), index=True)
    instance_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]
    body: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]]


class CustomerAddress(Base):
    """A customer's postal address, kept beside the ticketing customer record."""

    __tablename__ = "customer_address"

    customer_id: Mapped[int] = mapped_column(ForeignKey("ticket_customer.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(String(300))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(120))


def refuse(field: str, message: str, **values: Any) -> FormValidationError:
    """Return the error for one bad field (shown beside the field); ``message`` is a template of ``values``."""
    error = FieldError.of(field, message, **values)
    return FormValidationError("{field}: {message}", [error], field=field,
                               params={"field": field, "message": error.message})


def _text(value: Any, field: str, limit: int, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise refuse(field, "this field is required")
    if len(text) > limit:
        raise refuse(field, "at most {limit} characters (this has {length})", limit=limit, length=len(text))
    if _CONTROL.search(text):
        raise refuse(field, "control characters are not allowed")
    return text


def _record(session: Session, ticket: str, kind: str, author: str, body: str, details: dict[str, Any],
            audit: dict[str, Any] | None = None) -> TicketActivity:
    instance = instance_of(session, ticket)
    store.lock_instance(session, instance.id)
    now = clock.now()
    row = TicketActivity(ticket_number=ticket, instance_id=instance.id, kind=kind, author=author[:120],
                         created_at=now, body=body, details=details)
    session.add(row)
    session.flush()
    event = {"activity": row.id, **(audit if audit is not None else details)}
    write_instance_events(session, instance, [PendingEvent(f"ticket.{kind}", author, now, event)])
    instance.updated_at = now
    session.flush()
    return row


def add_note(session: Session, ticket: str, author: str, text: str) -> TicketActivity:
    """Add an internal note to a ticket (never shown to the customer)."""
    return _record(session, ticket, "note", author, _text(text, "note", NOTE_MAX), {}, {"length": len(text)})


def log_call(session: Session, ticket: str, author: str, direction: str, outcome: str, minutes: Any,
             note: str = "") -> TicketActivity:
    """Record a phone call with the customer: direction, outcome, length in minutes and a note."""
    if direction not in DIRECTIONS:
        raise refuse("direction", "choose a direction from the list")
    if outcome not in CALL_OUTCOMES:
        raise refuse("outcome", "choose an outcome from the list")
    try:
        length = int(str(minutes).strip() or "0")
    except ValueError:
        raise refuse("minutes", "enter a whole number of minutes") from None
    if not 0 <= length <= 600:
        raise refuse("minutes", "between 0 and 600 minutes")
    text = _text(note, "call_note", NOTE_MAX, required=False)
    details = {"direction": direction, "outcome": outcome, "minutes": length}
    return _record(session, ticket, "call", author, text, details)


def check_phone(value: str, field: str = "phone") -> str:
    """Return a phone number's digits (Chinese mobiles without +86), or refuse a malformed one."""
    text = value.strip()
    digits = ticketing.normalize_phone(text) or ""
    if not _PHONE.fullmatch(text) or not 5 <= len(digits) <= 15:
        raise refuse(field, "not a phone number: 5 to 15 digits, with + ( ) - . or spaces only")
    return digits


def check_email(value: str, field: str = "email") -> str:
    """Return an e-mail address trimmed and lower-cased, or refuse one not safe in a mail header."""
    text = value.strip()
    if len(text) > 200 or not EMAIL.fullmatch(text):
        raise refuse(field, "not a valid e-mail address (one local@domain, no spaces, line breaks or separators)")
    return text.lower()


def customer_of(session: Session, ticket: str) -> ticketing.Customer | None:
    """Return the ticketing customer record of a ticket, if the ticket has one."""
    row = ticketing.get_ticket(session, ticket)
    return row.customer if row is not None else None


def address_of(session: Session, customer_id: int) -> str:
    """Return a customer's postal address ("" when none was recorded)."""
    row = session.get(CustomerAddress, customer_id)
    return row.address if row is not None else ""


def change_contact(session: Session, ticket: str, author: str, phone: str | None = None, email: str | None = None,
                   address: str | None = None) -> dict[str, dict[str, str]]:
    """Change the phone, e-mail or address of a ticket's customer; return the changes, old → new.

    A value left ``None`` is not touched. Nothing is written when any value is refused.
    """
    customer = customer_of(session, ticket)
    if customer is None:
        raise NotFound("ticket {ticket} has no customer record to edit", params={"ticket": ticket})
    wanted: dict[str, str] = {}
    if phone is not None:
        wanted["phone"] = check_phone(phone)
    if email is not None:
        wanted["email"] = check_email(email) if email.strip() else ""
    if address is not None:
        wanted["address"] = _text(address, "address", 300, required=False)
    current = {"phone": customer.phone or "", "email": customer.email or "",
               "address": address_of(session, customer.id)}
    if wanted.get("phone", current["phone"]) == "" and wanted.get("email", current["email"]) == "":
        raise refuse("email", "the customer needs a phone number or an e-mail address")
    changes = {k: {"old": current[k], "new": v} for k, v in wanted.items() if v != current[k]}
    if not changes:
        return {}
    now = clock.now()
    if "phone" in changes:
        customer.phone = changes["phone"]["new"] or None
    if "email" in changes:
        customer.email = changes["email"]["new"] or None
    if "address" in changes:
        row = session.get(CustomerAddress, customer.id) or CustomerAddress(customer_id=customer.id)
        row.address, row.updated_at, row.updated_by = changes["address"]["new"], now, author[:120]
        session.add(row)
    customer.updated_at = now
    _record(session, ticket, "contact", author, "", changes)
    return changes


def pick_channel(customer: dict[str, Any]) -> tuple[str, str] | None:
    """Return the channel and address a message to the customer goes to (as notifications choose)."""
    return choose_channel(customer)


def message_customer(session: Session, ticket: str, author: str, customer: dict[str, Any], subject: str,
                     body: str, channel: str | None = None, template: str = "") -> TicketActivity:
    """Queue a message to the customer on their channel (or ``channel``) and record it.

    ``customer`` is the customer's current contact (``email``, ``phone``, ``preferred_channel``,
    ``language``); ``template`` names the bundle's template the text began as ("" for free text,
    see :mod:`handlers.message_templates`); the outbox sends it after commit.
    """
    if channel:
        if channel not in CHANNELS:
            raise refuse("channel", "choose a channel from the list")
        recipient = address_for(customer, channel)
        if recipient is None:
            raise refuse("channel", "the customer has no address on this channel")
        chosen = channel
    else:
        picked = pick_channel(customer)
        if picked is None:
            raise refuse("channel", "the customer has no e-mail address or phone number")
        chosen, recipient = picked
    if chosen == "email":
        check_email(recipient, "channel")
    title = _text(subject, "subject", SUBJECT_MAX, required=chosen == "email")
    if _LINE_BREAK.search(subject.strip()):
        raise refuse("subject", "one line only")
    text = _text(body.replace("\r\n", "\n"), "body", NOTE_MAX)
    instance: Instance = instance_of(session, ticket)
    now = clock.now()
    row = Outbox(ticket_number=ticket, milestone="message", channel=chosen, recipient=recipient,
                 language=str(customer.get("language") or "en")[:8],
                 template=(f"{template} from {author}" if template else f"message from {author}")[:300],
                 subject=title or f"{ticket}", body=text, instance_id=instance.id, status="pending", attempts=0,
                 next_attempt_at=now, created_at=now, audience="customer")
    stamp_message_id(session, row)
    details = {"channel": chosen, "outbox_id": row.id, "subject": title, **({"template": template} if template else {})}
    audit = {"channel": chosen, "outbox_id": row.id, **({"template": template} if template else {})}
    return _record(session, ticket, "message", author, text, details, audit)


def record_cancel(session: Session, ticket: str, author: str, reason: str) -> TicketActivity:
    """Record why a ticket was cancelled and close its ticketing record as cancelled."""
    row = ticketing.get_ticket(session, ticket)
    if row is not None and row.status != "closed":
        row.status, row.outcome, row.closed_at = "closed", "cancelled", clock.now()
    return _record(session, ticket, "cancel", author, reason, {}, {"length": len(reason)})


def cancel_ticket(session: Session, runtime: Any, ticket: str, actor: Actor, reason: Any) -> TicketActivity:
    """Cancel a ticket's process through the engine (``Runtime.cancel``) with a required reason."""
    if not actor.roles & CANCEL_ROLES:
        raise PermissionDenied("only agents and supervisors cancel a request")
    why = _text(reason, "reason", 1000)
    runtime.cancel(session, instance_of(session, ticket).id, actor.username, why)
    return record_cancel(session, ticket, actor.username, why)


def list_activities(session: Session, ticket: str) -> list[TicketActivity]:
    """Return what staff did on a ticket outside its tasks, oldest first."""
    return list(session.scalars(select(TicketActivity).where(TicketActivity.ticket_number == ticket)
                                .order_by(TicketActivity.created_at, TicketActivity.id)))
