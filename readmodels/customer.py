"""What a customer may see of a ticket: plain milestones, what comes next and the answers awaited.

Beside the milestones the customer sees the facts that concern them, in their words: the
appointment (time and technician's name, from the open visit, so a moved visit shows its new
time), that the diagnosis found the cause, the solution and its price — before they are asked to
confirm — and the free windows they may move the visit to. No internal data (rules, staff notes
such as the diagnosis as a technician wrote it, staff names other than the visiting technician)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock, store
from engine.errors import NotFound
from engine.models import (
    AuditEvent,
    Instance,
    WorkItem,
)
from handlers import dispatch, ticketing
from handlers.demo import catalogue_texts

from .tickets import first_dict, instance_data, notifications_for, waiting_messages

CUSTOMER_MESSAGES = ("quote_response", "customer_confirmation", "survey_answered")


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
    next_step: str = "working"  # triage | answer | visit | ship | working | closed | cancelled
    appointment: dict[str, Any] = field(default_factory=dict)  # start, end (datetimes), technician (name)
    shipment: dict[str, Any] = field(default_factory=dict)  # rma_number, ship_to (name, address, phone)
    diagnosis: str = ""  # "found" once an inspection or remote help found the cause (what staff wrote stays inside)
    solution: str = ""  # repair | replace | refund | "" (none yet)
    open: bool = True  # the customer may still add information, a photo, move the visit or cancel


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


def public_status(
    session: Session, specs: store.SpecCache, ticket: str, contact: str | None
) -> PublicStatus:
    """Return the customer view of a ticket; given ``contact``, only if it matches."""
    refused = NotFound("no ticket matches this number and contact")
    instance = session.scalars(
        select(Instance)
        .where(Instance.business_key == ticket.strip().upper())
        .order_by(Instance.id.desc())
        .limit(1)
    ).first()
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
    for event in session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.stream == f"instance:{instance.id}",
            AuditEvent.kind.in_(("message.received", "instance.completed", "instance.cancelled")),
        )
        .order_by(AuditEvent.seq)
    ):
        message = (event.data or {}).get("message")
        if event.kind == "message.received" and message in CUSTOMER_MESSAGES:
            milestones.append((event.at, f"answered:{message}"))
        elif event.kind != "message.received":
            ending = "closed" if event.kind == "instance.completed" else "cancelled"
            if all(key != ending for _at, key in milestones):  # the notification may have said it already
                milestones.append((event.at, ending))
    quote = first_dict(data, "quote")
    language = str(first_dict(data, "customer").get("language") or "")
    facts = _facts(session, instance, data, state, language)
    public_quote = {
        k: quote[k]
        for k in ("quote_id", "total", "customer_pays", "covered", "currency", "lines", "valid_until")
        if k in quote
    }
    if quote.get("concession") and "total" in quote and "customer_pays" in quote:  # goodwill is covered for them too
        public_quote["covered_for_you"] = str(Decimal(str(quote["total"])) - Decimal(str(quote["customer_pays"])))
    product = first_dict(data, "product")
    return PublicStatus(
        instance.business_key or "",
        state,
        sorted(milestones, key=lambda m: m[0]),
        actions,
        public_quote,
        str(product.get("model") or ""),
        language,
        **facts,
    )


def _facts(session: Session, instance: Instance, data: dict[str, Any], state: str, language: str) -> dict[str, Any]:
    """Return what comes next, the appointment, the diagnosis and the solution of a ticket."""
    open_ = state not in ("closed", "cancelled")
    visit = ticketing.open_visit(session, instance.business_key or "") if open_ else None
    appointment: dict[str, Any] = {}
    if visit is not None and not dispatch.visit_served(session, visit, instance.id):
        tech = session.get(dispatch.Technician, visit.technician)
        name = tech.name if tech else ""
        appointment = {"start": visit.starts_at, "end": visit.ends_at, "technician": _name_in(name, language),
                       "visit_id": visit.id, "windows": ticketing.free_windows(session, visit, clock.now())}
    inspection, remote = first_dict(data, "inspection"), first_dict(data, "remote_assistance")
    diagnosis = "found" if inspection.get("cause") or remote.get("finding") else ""  # staff's words stay inside
    solution = str(first_dict(data, "solution").get("solution") or "")
    shipment = _shipment(session, instance, data, language) if open_ else {}
    triage = session.scalars(select(WorkItem.task_id).where(
        WorkItem.instance_id == instance.id, WorkItem.element_id == "register_request").limit(1)).first()
    if not open_:
        step = state
    elif state == "waiting_for_customer":
        step = "answer"
    elif triage is not None:
        step = "triage"
    elif shipment:
        step = "ship"
    elif appointment:
        step = "visit"
    else:
        step = "working"
    return {"next_step": step, "appointment": appointment, "diagnosis": diagnosis, "solution": solution,
            "open": open_, "shipment": shipment if step == "ship" else {}}


def _shipment(session: Session, instance: Instance, data: dict[str, Any], language: str) -> dict[str, Any]:
    """Return the return authorisation the customer ships the device under, while the process waits for the
    device (``device_received``): its number and the repair centre's name, address and phone."""
    rma = first_dict(data, "rma")
    if not rma.get("rma_number") or "device_received" not in waiting_messages(session, instance.id):
        return {}
    ship_to = rma.get("ship_to") if isinstance(rma.get("ship_to"), dict) else {}
    return {"rma_number": str(rma["rma_number"]), "name": _name_in(str(ship_to.get("name") or ""), language),
            "address": str(ship_to.get("address") or ""), "phone": str(ship_to.get("phone") or "")}


def _name_in(name: str, language: str) -> str:
    """Return a technician's name as the customer's language writes it (the catalogue's ``name_zh``)."""
    return catalogue_texts(language=language).get(name, name) if language == "zh" else name
