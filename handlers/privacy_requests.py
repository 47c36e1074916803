"""Privacy requests: a customer's data exported (machine readable) or erased, each request recorded.

A customer is found by phone or e-mail (``subject_key``). **Export** returns one JSON
document with the customer records, every ticket with its product, contacts, quotes,
notifications and survey answers, and the data the process holds about the customer.
**Erasure** is refused while one of the customer's tickets is open (close or cancel it
first: a running process still needs the contact data); otherwise it overwrites the
personal data wherever it is stored — the customer record, the texts the customer typed,
notifications, quote documents, knowledge drafts, handler results, undelivered messages,
the workflow state and the audit events of the tickets' instances — with ``[erased]``. The
ticket workspace and the warehouse are covered too: the postal address and the phone/e-mail
values staff edited on the ticket page (the address row is deleted, the old → new values of
each edit are overwritten), the texts of notes, call logs and messages (scrubbed of the
customer's data), the ship-to name and address of the warehouse's shipments, and the
condition notes of RMA receipts (scrubbed). **Files attached to the customer's tickets are
deleted** (photos and documents from or about the customer cannot be scrubbed), and the export
lists them (name, type, size, SHA-256, not the content).

The audit trail stays verifiable: each rewritten event is listed, with its original hash
and the hash of its redacted content, in one ``personal_data.erased`` event of the
``privacy`` stream (hashes only, no personal data); ``engine.audit.verify`` accepts a
redacted event only as listed there. KPI facts hold no personal data (ticket numbers and
counters) and stay as they are, so the figures do not change.
"""

from __future__ import annotations

import copy
import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine import clock, store
from engine.audit import ERASED_KIND, PendingEvent, event_hash, instance_stream, write_system_event
from engine.db import Base
from engine.errors import Conflict, InvalidInput, NotFound
from engine.models import AuditEvent, Incident, Instance, UndeliveredMessage
from engine.privacy import PERSON_FIELDS, PERSON_RECORDS, PERSONAL_KEYS

from . import mail_intake
from .attachments import Attachment
from .idempotency import HandlerCall
from .knowledge import Article
from .outbox import Outbox
from .quote import Quote
from .stock import RmaReceipt, Shipment
from .survey import Response
from .ticket_notes import CustomerAddress, TicketActivity
from .ticketing import Contact, Customer, Ticket, normalize_email, normalize_phone
from .transports import Delivery

ERASED = "[erased]"
#: keys whose text the customer typed: erased as a whole, whatever it says
FREE_TEXT_KEYS = frozenset({"description", "expectation", "comment", "customer_comment", "customer_note"})
#: instance states in which no process needs the customer's data any more
ENDED = frozenset({"completed", "cancelled", "terminated", "error"})
EXPORT_FORMAT = "aftersales.privacy-export/1"


class PrivacyRequest(Base):
    """One export or erasure of a customer's data: who asked, why, which tickets, what was done."""

    __tablename__ = "privacy_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(64), index=True)
    tickets: Mapped[list[Any]] = mapped_column(JSON())
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime]
    outcome: Mapped[dict[str, Any]]


# --- who -----------------------------------------------------------------------------------
@dataclass
class Subject:
    """A customer found by phone or e-mail: the customer rows, their tickets and instances."""

    key: str
    customers: list[Customer]
    tickets: list[Ticket]
    instances: list[Instance]
    ref: str = ""
    values: list[str] = field(default_factory=list)


def subject_ref(key: str) -> str:
    """Return the pseudonymous reference of a customer key kept in the records (a SHA-256, not the key)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def find_subject(session: Session, key: str) -> Subject:
    """Return the customer with phone or e-mail ``key``; refuse anything else, clearly."""
    text = (key or "").strip()
    email, phone = normalize_email(text), None if "@" in text else normalize_phone(text)
    if email:
        customers = list(session.scalars(select(Customer).where(Customer.email == email).order_by(Customer.id)))
        normal = email
    elif phone and len(phone) >= 5:
        customers = list(session.scalars(select(Customer).where(Customer.phone == phone).order_by(Customer.id)))
        normal = phone
    else:
        raise InvalidInput("give the customer's phone number or e-mail address", field="customer")
    if not customers:
        raise NotFound("no customer has the e-mail address {text}" if email else
                       "no customer has the phone number {text}", field="customer", params={"text": text})
    tickets = list(session.scalars(select(Ticket).where(Ticket.customer_id.in_([c.id for c in customers]))
                                   .order_by(Ticket.opened_at, Ticket.id)))
    numbers = [t.number for t in tickets]
    ids = {t.instance_id for t in tickets}
    ids |= set(session.scalars(select(Contact.instance_id).where(Contact.ticket_id.in_([t.id for t in tickets]))))
    instances = list(session.scalars(select(Instance).where(
        (Instance.id.in_(ids)) | (Instance.business_key.in_(numbers))).order_by(Instance.id)))
    values = [v for c in customers for v in (c.name, c.phone, c.email) if v]
    for address in session.scalars(select(CustomerAddress.address).where(
            CustomerAddress.customer_id.in_([c.id for c in customers]))):
        values += _address_parts(address)
    for edit in session.scalars(select(TicketActivity.details).where(
            TicketActivity.ticket_number.in_(numbers), TicketActivity.kind == "contact")):
        values += [p for change in (edit or {}).values() if isinstance(change, dict)
                   for v in (change.get("old"), change.get("new")) if v for p in _address_parts(str(v))]
    for shipment in session.scalars(select(Shipment).where(Shipment.ticket_number.in_(numbers))):
        values += [shipment.ship_to_name, *_address_parts(shipment.ship_to_address)]
    for instance in instances:
        values += _personal_strings(instance.summary) + _personal_strings(_state(session, instance).get("data"))
    return Subject(text, customers, tickets, instances, subject_ref(normal), values)


def _address_parts(address: str) -> list[str]:
    """Return an address and its comma-separated parts (a note may quote the street without the district)."""
    parts = [p.strip() for p in re.split(r"[,，;；\n]", address) if len(p.strip()) >= 5]
    return [address, *parts] if len(parts) > 1 else [address]


def _state(session: Session, instance: Instance) -> dict[str, Any]:
    try:
        return store.state_document(session, instance)
    except NotFound:
        return {}


def _personal_strings(value: Any, in_person: bool = False) -> list[str]:
    """Return every string held under a personal key inside ``value``."""
    found: list[str] = []
    if isinstance(value, list):
        for item in value:
            found += _personal_strings(item, in_person)
    elif isinstance(value, dict):
        for key, item in value.items():
            lower = str(key).lower()
            if lower in PERSONAL_KEYS or (in_person and lower in PERSON_FIELDS):
                found += [item] if isinstance(item, str) and item else _personal_strings(item, True)
            else:
                found += _personal_strings(item, lower in PERSON_RECORDS)
    return found


# --- export --------------------------------------------------------------------------------
def export_customer(session: Session, key: str, actor: str) -> dict[str, Any]:
    """Return everything stored about the customer with phone or e-mail ``key`` as JSON-able data; record it."""
    subject = find_subject(session, key)
    now = clock.now()
    numbers = [t.number for t in subject.tickets]
    document = {
        "format": EXPORT_FORMAT,
        "exported_at": now.isoformat(),
        "customers": [{"name": c.name, "phone": c.phone, "email": c.email, "tier": c.tier,
                       "language": c.language, "preferred_channel": c.preferred_channel,
                       "created_at": c.created_at.isoformat()} for c in subject.customers],
        "tickets": [_ticket_export(session, t) for t in subject.tickets],
        "process_data": {i.business_key or str(i.id): _jsonable(_state(session, i).get("data") or {})
                         for i in subject.instances},
        "contact_addresses": [{"address": a.address, "updated_at": a.updated_at.isoformat()}
                              for a in session.scalars(select(CustomerAddress).where(
                                  CustomerAddress.customer_id.in_([c.id for c in subject.customers])))],
        "attachments": [{"ticket": a.ticket_number, "filename": a.filename, "content_type": a.content_type,
                         "size": a.size, "sha256": a.sha256, "created_at": a.created_at.isoformat()}
                        for a in session.scalars(select(Attachment).where(Attachment.ticket_number.in_(numbers))
                                                 .order_by(Attachment.id))],
        "mail_received": mail_intake.export_log(session, subject.values, numbers),
    }
    _record(session, "export", subject, "", actor, now, {"tickets": len(numbers)})
    write_system_event(session, PendingEvent("personal_data.exported", actor, now, {
        "subject": subject.ref, "tickets": numbers}), "privacy")
    return document


def _ticket_export(session: Session, ticket: Ticket) -> dict[str, Any]:
    contacts = session.scalars(select(Contact).where(Contact.ticket_id == ticket.id).order_by(Contact.id))
    messages = session.scalars(select(Outbox).where(Outbox.ticket_number == ticket.number).order_by(Outbox.id))
    quotes = session.scalars(select(Quote).where(Quote.ticket_number == ticket.number).order_by(Quote.id))
    answers = session.scalars(select(Response).where(Response.ticket_number == ticket.number).order_by(Response.id))
    activities = session.scalars(select(TicketActivity).where(TicketActivity.ticket_number == ticket.number)
                                 .order_by(TicketActivity.id))
    shipments = session.scalars(select(Shipment).where(Shipment.ticket_number == ticket.number).order_by(Shipment.id))
    receipts = session.scalars(select(RmaReceipt).where(RmaReceipt.ticket_number == ticket.number)
                               .order_by(RmaReceipt.rma_number))
    return {
        "number": ticket.number, "channel": ticket.channel, "status": ticket.status, "outcome": ticket.outcome,
        "opened_at": ticket.opened_at.isoformat(),
        "closed_at": ticket.closed_at.isoformat() if ticket.closed_at else None,
        "fault": ticket.fault, "expectation": ticket.expectation,
        "product": {"model": ticket.product.model, "serial_number": ticket.product.serial_number,
                    "purchase_date": ticket.product.purchase_date.isoformat() if ticket.product.purchase_date
                    else None},
        "contacts": [{"channel": c.channel, "received_at": c.received_at.isoformat(), "fault": c.fault}
                     for c in contacts],
        "notifications": [{"milestone": m.milestone, "channel": m.channel, "recipient": m.recipient,
                           "subject": m.subject, "body": m.body, "status": m.status,
                           "created_at": m.created_at.isoformat(),
                           "delivered_at": m.delivered_at.isoformat() if m.delivered_at else None}
                          for m in messages],
        "quotes": [{"id": q.id, "solution": q.solution, "coverage": q.coverage, "currency": q.currency,
                    "total": str(q.total), "customer_pays": str(q.customer_pays),
                    "valid_until": q.valid_until.isoformat(), "created_at": q.created_at.isoformat()}
                   for q in quotes],
        "survey_answers": [{"csat": a.csat, "nps": a.nps, "comment": a.comment, "via": a.via,
                            "recorded_at": a.recorded_at.isoformat()} for a in answers],
        "workspace": [{"kind": a.kind, "body": a.body, "details": a.details, "created_at": a.created_at.isoformat()}
                      for a in activities],
        "shipments": [{"rma": m.rma_number, "ship_to_name": m.ship_to_name, "ship_to_address": m.ship_to_address,
                       "status": m.status, "carrier": m.carrier, "tracking_number": m.tracking_number,
                       "created_at": m.created_at.isoformat()} for m in shipments],
        "rma_receipts": [{"rma": r.rma_number, "condition": r.condition, "received_at": r.received_at.isoformat()}
                         for r in receipts],
    }


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


# --- erasure -------------------------------------------------------------------------------
class Scrubber:
    """Overwrite one customer's personal data in text and JSON data."""

    def __init__(self, values: list[str]) -> None:
        patterns = set()
        for value in {v.strip() for v in values if isinstance(v, str) and len(v.strip()) >= 2}:
            digits = re.sub(r"\D", "", value)
            if "@" not in value and len(digits) >= 6 and len(digits) >= len(value) - 4:
                national = normalize_phone(value) or digits
                patterns.add(r"(?:\+?\s*86[\s().-]*)?" + r"[\s().-]*".join(national))
            else:
                patterns |= {re.escape(value), re.escape(html.escape(value, quote=True)),
                             re.escape(html.escape(value, quote=False))}
            if "@" not in value and not digits:
                # a note may name the customer by one part of the name only
                patterns |= {rf"\b{re.escape(part)}\b" for part in re.split(r"[\s,]+", value) if len(part) >= 3}
        ordered = sorted(patterns, key=len, reverse=True)
        self.pattern = re.compile("|".join(ordered), re.IGNORECASE) if ordered else None

    def text(self, value: str) -> str:
        """Return ``value`` with every occurrence of the customer's data replaced."""
        return self.pattern.sub(ERASED, value) if self.pattern and value else value

    def data(self, value: Any, in_person: bool = False) -> Any:
        """Return JSON data with personal fields and customer-typed texts erased, other strings scrubbed."""
        if isinstance(value, list):
            return [self.data(v, in_person) for v in value]
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                lower = str(key).lower()
                personal = lower in PERSONAL_KEYS or (in_person and lower in PERSON_FIELDS)
                if (personal or lower in FREE_TEXT_KEYS) and isinstance(item, str) and item:
                    out[key] = ERASED
                else:
                    out[key] = self.data(item, personal or lower in PERSON_RECORDS)
            return out
        if isinstance(value, str):
            return self.text(value)
        return value


def erase_customer(session: Session, key: str, reason: str, actor: str) -> dict[str, Any]:
    """Erase the personal data of the customer with phone or e-mail ``key`` everywhere; record it in the trail."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("give the reason for the erasure (the customer's request, its reference)",
                           field="reason")
    if len(reason) > 500:
        raise InvalidInput("the reason is longer than 500 characters", field="reason")
    subject = find_subject(session, key)
    open_tickets = [t.number for t in subject.tickets if t.status != "closed"]
    open_tickets += [i.business_key or str(i.id) for i in subject.instances
                     if i.status not in ENDED and (i.business_key or str(i.id)) not in open_tickets]
    if open_tickets:
        raise Conflict("the customer has open tickets ({open_tickets}): close or cancel them before erasing",
                       field="customer", tickets=open_tickets, params={"open_tickets": ", ".join(open_tickets)})
    scrub = Scrubber(subject.values)
    counts = _erase_rows(session, subject, scrub)
    counts["mail_intake"] = mail_intake.erase_from_log(session, subject.values, [t.number for t in subject.tickets],
                                                       scrub)
    redacted = _redact_audit(session, subject, scrub)
    counts["audit_events"] = len(redacted)
    now = clock.now()
    numbers = [t.number for t in subject.tickets]
    request = _record(session, "erase", subject, reason, actor, now, counts)
    write_system_event(session, PendingEvent(ERASED_KIND, actor, now, {
        "request": request.id, "subject": subject.ref, "tickets": numbers, "reason": reason,
        "counts": counts, "redacted": redacted}), "privacy")
    return {**counts, "request": request.id, "tickets": numbers}


def _erase_rows(session: Session, subject: Subject, scrub: Scrubber) -> dict[str, int]:
    numbers = [t.number for t in subject.tickets]
    ids = [i.id for i in subject.instances]
    for customer in subject.customers:
        customer.name, customer.phone, customer.email = ERASED, None, None
    for ticket in subject.tickets:
        ticket.fault, ticket.expectation = scrub.data(ticket.fault), ""
    contacts = list(session.scalars(select(Contact).where(Contact.ticket_id.in_([t.id for t in subject.tickets]))))
    for contact in contacts:
        contact.fault = scrub.data(contact.fault)
    messages = list(session.scalars(select(Outbox).where(Outbox.ticket_number.in_(numbers))))
    for message in messages:
        message.recipient, message.body = ERASED, ERASED
        message.subject = scrub.text(message.subject)
        message.last_error = scrub.text(message.last_error) if message.last_error else message.last_error
    for delivery in session.scalars(select(Delivery).where(Delivery.outbox_id.in_([m.id for m in messages]))):
        delivery.recipient, delivery.body = ERASED, ERASED
    for quote in session.scalars(select(Quote).where(Quote.ticket_number.in_(numbers))):
        quote.document_html = scrub.text(quote.document_html)
        quote.lines = scrub.data(quote.lines)
    answers = list(session.scalars(select(Response).where(Response.ticket_number.in_(numbers))))
    for answer in answers:
        answer.comment = ERASED if answer.comment else ""
    for article in session.scalars(select(Article).where(Article.source_ticket.in_(numbers))):
        article.title, article.body = scrub.text(article.title), scrub.text(article.body)
        article.search_text = scrub.text(article.search_text)
    for call in session.scalars(select(HandlerCall).where(
            HandlerCall.idempotency_key.in_(_call_keys(session, ids)))):
        call.result = scrub.data(call.result)
    for message in session.scalars(select(UndeliveredMessage).where(UndeliveredMessage.instance_id.in_(ids))):
        message.payload = scrub.data(message.payload)
        message.correlation_key = scrub.text(message.correlation_key or "") or message.correlation_key
    for incident in session.scalars(select(Incident).where(Incident.instance_id.in_(ids))):
        incident.message, incident.details = scrub.text(incident.message), scrub.data(incident.details)
    workspace = _erase_workspace(session, subject, scrub)
    for instance in subject.instances:
        instance.summary = scrub.data(instance.summary)
        instance.projection = scrub.data(instance.projection)
        state = _state(session, instance)
        if state:
            store.replace_state(session, instance, scrub.data(state))
    session.flush()
    return {"customers": len(subject.customers), "tickets": len(subject.tickets), "contacts": len(contacts),
            "notifications": len(messages), "survey_answers": len(answers), "instances": len(ids), **workspace}


def _erase_workspace(session: Session, subject: Subject, scrub: Scrubber) -> dict[str, int]:
    """Erase what the ticket page and the warehouse keep: edited contacts, notes, shipments, receipts, files."""
    numbers = [t.number for t in subject.tickets]
    addresses = list(session.scalars(select(CustomerAddress).where(
        CustomerAddress.customer_id.in_([c.id for c in subject.customers]))))
    for address in addresses:
        session.delete(address)
    activities = list(session.scalars(select(TicketActivity).where(TicketActivity.ticket_number.in_(numbers))))
    for activity in activities:
        activity.body = scrub.text(activity.body)
        activity.details = ({k: {"old": ERASED, "new": ERASED} for k in activity.details}
                            if activity.kind == "contact" else scrub.data(activity.details))
    shipments = list(session.scalars(select(Shipment).where(Shipment.ticket_number.in_(numbers))))
    for shipment in shipments:
        shipment.ship_to_name, shipment.ship_to_address = ERASED, ERASED
    for receipt in session.scalars(select(RmaReceipt).where(RmaReceipt.ticket_number.in_(numbers))):
        receipt.condition = scrub.text(receipt.condition)
    files = list(session.scalars(select(Attachment).where(Attachment.ticket_number.in_(numbers))))
    for file in files:
        session.delete(file)
    return {"contact_addresses": len(addresses), "workspace_entries": len(activities),
            "shipments": len(shipments), "attachments_deleted": len(files)}


def _call_keys(session: Session, instance_ids: list[int]) -> list[str]:
    """Return the keys of the handler calls the instances made (``<instance>:<task>``)."""
    if not instance_ids:
        return []
    return list(session.scalars(select(HandlerCall.idempotency_key).where(
        or_(*(HandlerCall.idempotency_key.like(f"{i}:%") for i in instance_ids)))))


def _redact_audit(session: Session, subject: Subject, scrub: Scrubber) -> list[list[Any]]:
    """Rewrite the instances' audit events that hold the customer's data; return what the trail must list."""
    streams = [instance_stream(i.id) for i in subject.instances]
    redacted: list[list[Any]] = []
    for event in session.scalars(select(AuditEvent).where(AuditEvent.stream.in_(streams))
                                 .order_by(AuditEvent.stream, AuditEvent.seq)):
        data = scrub.data(copy.deepcopy(event.data))
        if data == event.data:
            continue
        digest = event_hash(event.prev_hash, event.stream, event.seq, event.at, event.actor, event.kind,
                            event.task_id, event.element_id, data)
        redacted.append([event.stream, event.seq, event.hash, digest])
        event.data = data
    session.flush()
    return redacted


def _record(session: Session, kind: str, subject: Subject, reason: str, actor: str, now: datetime,
            outcome: dict[str, Any]) -> PrivacyRequest:
    request = PrivacyRequest(kind=kind, subject=subject.ref, tickets=[t.number for t in subject.tickets],
                             reason=reason, requested_by=actor, requested_at=now, outcome=outcome)
    session.add(request)
    session.flush()
    return request


def requests_made(session: Session, limit: int = 50) -> list[PrivacyRequest]:
    """Return the newest privacy requests, newest first."""
    return list(session.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id.desc()).limit(limit)))
