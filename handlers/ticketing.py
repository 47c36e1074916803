"""Tickets: numbers, customer and product records, repeat contacts, closure.

A ticket number reads ``AS-YYYYMMDD-NNNNN`` (the business day, then a per-day counter).
The counter row is incremented by an atomic upsert in the transaction that opens the
ticket, so numbers have no gaps and no duplicates under concurrency: the upsert holds
the day's row lock until commit on PostgreSQL (``INSERT … ON CONFLICT DO UPDATE``), and
SQLite writers are serialized by ``BEGIN IMMEDIATE``; a rolled-back ticket rolls its
number back too.

A repeat contact is the same customer (by phone or e-mail, whatever the channel) about
the same product serial while a ticket is not closed: the process attaches it instead of
opening another ticket.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from engine.db import Base, is_sqlite
from engine.errors import InvalidInput
from engine.registry import BusinessError, HandlerContext, handler

from . import parts
from .idempotency import idempotent
from .values import invalid, local_date, mapping, one_of, parse_date, required_text

CHANNELS = ("hotline", "web", "chat", "email", "walk_in")
OUTCOMES = ("resolved", "declined", "no_response", "cancelled", "rejected")
TIERS = ("vip", "normal")
LANGUAGES = ("en", "zh")
PREFERRED = ("email", "sms", "wechat")


class TicketCounter(Base):
    """The last ticket number handed out on one business day."""

    __tablename__ = "ticket_counter"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int]


class Customer(Base):
    """A customer, found again by phone or e-mail on any channel."""

    __tablename__ = "ticket_customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(200), index=True)
    tier: Mapped[str] = mapped_column(String(16), default="normal")
    language: Mapped[str] = mapped_column(String(8), default="en")
    preferred_channel: Mapped[str] = mapped_column(String(16), default="email")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Product(Base):
    """A customer's unit: model, serial number and proof of purchase."""

    __tablename__ = "ticket_product"
    __table_args__ = (UniqueConstraint("model", "serial_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("ticket_customer.id"), index=True)
    model: Mapped[str] = mapped_column(String(64))
    serial_number: Mapped[str] = mapped_column(String(64), index=True)
    purchase_date: Mapped[date | None]
    proof_of_purchase: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]


class Ticket(Base):
    """One service request, from intake to closure."""

    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("ticket_customer.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("ticket_product.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    fault: Mapped[dict[str, Any]]
    expectation: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), index=True, default="open")
    outcome: Mapped[str | None] = mapped_column(String(16))
    instance_id: Mapped[int] = mapped_column(index=True)
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    customer: Mapped[Customer] = relationship(lazy="joined")
    product: Mapped[Product] = relationship(lazy="joined")


class Contact(Base):
    """One contact about a ticket: the first report and every repeat, on any channel."""

    __tablename__ = "ticket_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    fault: Mapped[dict[str, Any]]
    instance_id: Mapped[int]
    received_at: Mapped[datetime]


def normalize_phone(phone: Any) -> str | None:
    """Return a phone number as digits only, Chinese mobiles without their +86 prefix."""
    if not isinstance(phone, str):
        return None
    digits = re.sub(r"\D", "", phone)
    digits = digits.removeprefix("00")
    if len(digits) == 13 and digits.startswith("861"):
        digits = digits[2:]
    return digits or None


def normalize_email(email: Any) -> str | None:
    """Return an e-mail address trimmed and lower-cased (None when empty)."""
    if not isinstance(email, str) or "@" not in email:
        return None
    return email.strip().lower()


def normalize_serial(serial: Any) -> str:
    """Return a serial number trimmed and upper-cased."""
    return serial.strip().upper() if isinstance(serial, str) else ""


def get_ticket(session: Session, number: str) -> Ticket | None:
    """Return the ticket numbered ``number``, if any."""
    return session.scalars(select(Ticket).where(Ticket.number == number)).one_or_none()


def next_ticket_number(session: Session, now: datetime) -> str:
    """Hand out the next ticket number of ``now``'s business day (in this transaction)."""
    day = local_date(now).strftime("%Y%m%d")
    dialect = sqlite if is_sqlite(session) else postgresql
    upsert = dialect.insert(TicketCounter).values(day=day, last=1)
    upsert = upsert.on_conflict_do_update(index_elements=[TicketCounter.day],
                                          set_={"last": TicketCounter.last + 1})
    number = session.execute(upsert.returning(TicketCounter.last)).scalar_one()
    return f"AS-{day}-{number:05d}"


def _matching_customers(customer: dict[str, Any]) -> Any:
    phone, email = normalize_phone(customer.get("phone")), normalize_email(customer.get("email"))
    conditions = []
    if phone:
        conditions.append(Customer.phone == phone)
    if email:
        conditions.append(Customer.email == email)
    return or_(*conditions) if conditions else None


@handler("ticketing.find_duplicate")
def find_duplicate(ctx: HandlerContext, customer: dict[str, Any], product: dict[str, Any]) -> dict[str, Any]:
    """Find an open ticket of the same customer (phone or e-mail) about the same product serial.

    customer: the customer object ({"name", "phone", "email", …}); matched on phone or e-mail
    product: the product object ({"model", "serial_number", …}); matched on serial_number
    """
    mapping(customer, "customer")
    serial = normalize_serial(mapping(product, "product").get("serial_number"))
    same_customer = _matching_customers(customer)
    if not serial or same_customer is None:
        return {"duplicate_of": None}
    number = ctx.session.scalars(
        select(Ticket.number).join(Product, Ticket.product_id == Product.id)
        .join(Customer, Ticket.customer_id == Customer.id)
        .where(Ticket.status != "closed", Product.serial_number == serial, same_customer)
        .order_by(Ticket.opened_at.desc(), Ticket.id.desc()).limit(1)).first()
    return {"duplicate_of": number}


@handler("ticketing.attach_contact")
@idempotent
def attach_contact(ctx: HandlerContext, ticket_number: str, channel: str,
                   fault: dict[str, Any]) -> dict[str, Any]:
    """Attach a repeat contact to an open ticket.

    ticket_number: the ticket's number, e.g. AS-20260302-00001; must be open
    channel: how the customer got in touch: hotline, web, chat, email or walk_in
    fault: what the customer reports this time: {"description", "symptoms": [codes], "category" (optional)}
    """
    one_of(channel, CHANNELS, "channel")
    mapping(fault, "fault")
    ticket = get_ticket(ctx.session, ticket_number)
    if ticket is None or ticket.status == "closed":
        state = "does not exist" if ticket is None else "is closed"
        raise BusinessError("TICKET_NOT_FOUND", f"ticket {ticket_number} {state}",
                            {"ticket_number": ticket_number})
    contact = Contact(ticket_id=ticket.id, channel=channel, fault=fault, instance_id=ctx.instance_id,
                      received_at=ctx.now)
    ctx.session.add(contact)
    ctx.session.flush()
    return {"attached_to": ticket.number, "contact_id": contact.id}


def _upsert_customer(session: Session, data: dict[str, Any], now: datetime) -> Customer:
    name = required_text(data.get("name"), "customer.name", 120)
    phone, email = normalize_phone(data.get("phone")), normalize_email(data.get("email"))
    if phone is None and email is None:
        raise invalid("customer.phone", "customer needs a phone or an e-mail address")
    tier = one_of(data.get("tier", "normal"), TIERS, "customer.tier")
    language = one_of(data.get("language", "en"), LANGUAGES, "customer.language")
    preferred = one_of(data.get("preferred_channel", "email"), PREFERRED, "customer.preferred_channel")
    same = _matching_customers(data)
    customer = session.scalars(select(Customer).where(same).order_by(Customer.id).limit(1)).first()
    if customer is None:
        customer = Customer(created_at=now)
        session.add(customer)
    customer.name, customer.tier, customer.language = name, tier, language
    customer.preferred_channel, customer.updated_at = preferred, now
    customer.phone = phone or customer.phone
    customer.email = email or customer.email
    session.flush()
    return customer


def _upsert_product(session: Session, data: dict[str, Any], customer: Customer, now: datetime) -> Product:
    model = required_text(data.get("model"), "product.model", 64)
    serial = normalize_serial(data.get("serial_number"))
    purchase = data.get("purchase_date")
    purchased = parse_date(purchase, "product.purchase_date") if purchase else None
    proof = str(data.get("proof_of_purchase") or "").strip()
    product = None
    if serial:
        product = session.scalars(select(Product).where(Product.model == model,
                                                        Product.serial_number == serial)).one_or_none()
    if product is None:
        product = Product(model=model, serial_number=serial, created_at=now, customer_id=customer.id)
        session.add(product)
    product.customer_id = customer.id
    product.purchase_date = purchased or product.purchase_date
    product.proof_of_purchase = proof or product.proof_of_purchase
    session.flush()
    return product


@handler("ticketing.open_ticket")
@idempotent
def open_ticket(ctx: HandlerContext, channel: str, customer: dict[str, Any], product: dict[str, Any],
                fault: dict[str, Any], expectation: str) -> dict[str, Any]:
    """Open a ticket with a new number and record the customer and the product.

    channel: how the customer got in touch: hotline, web, chat, email or walk_in
    customer: the customer: {"name", "phone", "email", "tier", "language": en|zh, "preferred_channel"}
    product: the product: {"model", "serial_number", "purchase_date": YYYY-MM-DD, "proof_of_purchase"}
    fault: the reported fault: {"description", "symptoms": [codes, e.g. no_power], "category" (optional)}
    expectation: what the customer expects, in their own words (free text, may be empty)
    """
    one_of(channel, CHANNELS, "channel")
    mapping(customer, "customer")
    mapping(product, "product")
    mapping(fault, "fault")
    owner = _upsert_customer(ctx.session, customer, ctx.now)
    unit = _upsert_product(ctx.session, product, owner, ctx.now)
    ticket = Ticket(number=next_ticket_number(ctx.session, ctx.now), customer_id=owner.id,
                    product_id=unit.id, channel=channel, fault=fault, expectation=str(expectation or ""),
                    status="open", instance_id=ctx.instance_id, opened_at=ctx.now)
    ctx.session.add(ticket)
    ctx.session.flush()
    ctx.session.add(Contact(ticket_id=ticket.id, channel=channel, fault=fault, instance_id=ctx.instance_id,
                            received_at=ctx.now))
    ctx.set_business_key(ticket.number)
    return {"ticket_number": ticket.number, "customer_id": owner.id, "product_id": unit.id}


@handler("ticketing.triage_ticket")
@idempotent
def triage_ticket(ctx: HandlerContext, ticket_number: str, customer: dict[str, Any], product: dict[str, Any],
                  fault: dict[str, Any], expectation: str) -> dict[str, Any]:
    """Record the agent's triage on the ticket opened when the request arrived (same number).

    ticket_number: the ticket's number, e.g. AS-20260302-00001; must be open
    customer: the customer as the agent confirmed it: {"name", "phone", "email", "tier", "language", …}
    product: the product as the agent confirmed it: {"model", "serial_number", "purchase_date", …}
    fault: the fault as the agent recorded it: {"category", "description", "symptoms": [codes]}
    expectation: what the customer expects, in their own words (free text, may be empty)
    """
    mapping(customer, "customer")
    mapping(product, "product")
    mapping(fault, "fault")
    ticket = get_ticket(ctx.session, ticket_number)
    if ticket is None or ticket.status == "closed":
        state = "does not exist" if ticket is None else "is closed"
        raise BusinessError("TICKET_NOT_FOUND", f"ticket {ticket_number} {state}",
                            {"ticket_number": ticket_number})
    owner = _upsert_customer(ctx.session, customer, ctx.now)
    unit = _upsert_product(ctx.session, product, owner, ctx.now)
    ticket.customer_id, ticket.product_id = owner.id, unit.id
    ticket.fault, ticket.expectation = fault, str(expectation or "")
    ctx.session.flush()
    return {"ticket_number": ticket.number, "customer_id": owner.id, "product_id": unit.id,
            "triaged_at": ctx.now.isoformat()}


@handler("ticketing.close_ticket")
@idempotent
def close_ticket(ctx: HandlerContext, ticket_number: str, outcome: str) -> dict[str, Any]:
    """Close a ticket with its outcome (resolved, declined, no_response, cancelled, rejected).

    The parts it still holds go back to stock and its open back-orders are cancelled: a closed
    ticket uses no more parts.

    ticket_number: the ticket's number, e.g. AS-20260302-00001
    outcome: how the ticket ended: resolved, declined, no_response, cancelled or rejected
    """
    one_of(outcome, OUTCOMES, "outcome")
    ticket = get_ticket(ctx.session, ticket_number)
    if ticket is None:
        raise invalid("ticket_number", f"ticket {ticket_number!r} does not exist")
    if ticket.status != "closed":
        ticket.status, ticket.outcome, ticket.closed_at = "closed", outcome, ctx.now
        ctx.session.flush()
    released = parts.release_unused(ctx.session, ticket.number, ctx.now, parts.why_of(ctx, ticket.number))
    closed_at = ticket.closed_at or ctx.now
    return {"closed_at": closed_at.isoformat(), "outcome": ticket.outcome, "parts_released": released["released"]}



def open_visit(session: Session, ticket_number: str) -> Any:
    """Return the ticket's open technician visit (``dispatch.Assignment``), the newest, if any."""
    from . import dispatch  # dispatch imports this module

    return session.scalars(select(dispatch.Assignment).where(dispatch.Assignment.ticket_number == ticket_number,
                                                             dispatch.Assignment.status == "open")
                           .order_by(dispatch.Assignment.id.desc()).limit(1)).first()


def free_windows(session: Session, visit: Any, now: datetime, count: int = 6) -> list[tuple[datetime, datetime]]:
    """Return the next free windows of the visit's technician after ``now``, the visit's own left out
    (``dispatch.next_window``: working days and hours, leave, other visits)."""
    from . import dispatch  # dispatch imports this module

    tech = session.get(dispatch.Technician, visit.technician)
    if tech is None or not tech.active:
        return []
    busy = [(s, e) for s, e in session.execute(
        select(dispatch.Assignment.starts_at, dispatch.Assignment.ends_at).where(
            dispatch.Assignment.technician == tech.username, dispatch.Assignment.status == "open",
            dispatch.Assignment.ends_at > now, dispatch.Assignment.id != visit.id))]
    windows: list[tuple[datetime, datetime]] = []
    earliest = now
    while len(windows) < count:
        found = dispatch.next_window(tech, busy, earliest)
        if found is None:
            break
        if found != (visit.starts_at, visit.ends_at):
            windows.append(found)
        earliest = found[1]
    return windows


def customer_moves_visit(session: Session, ticket_number: str, starts_at: datetime, ends_at: datetime,
                         now: datetime) -> dict[str, Any]:
    """Move the ticket's open visit to one of its technician's free windows, as the customer chose.

    Only a window :func:`free_windows` offers is taken (so it is in the future, in working hours,
    not on leave and free); the customer is told the new time on their channel (milestone
    ``scheduled``) and the move is audited on the ticket.
    """
    from engine import store
    from engine.audit import PendingEvent, write_instance_events

    from . import dispatch, notifications  # dispatch imports this module

    if ends_at <= starts_at:
        raise InvalidInput("The window must end after it starts.", field="window")
    ticket = get_ticket(session, ticket_number)
    visit = open_visit(session, ticket_number) if ticket is not None else None
    if ticket is None or visit is None:
        raise InvalidInput("This request has no appointment to move.", field="window")
    if (starts_at, ends_at) not in free_windows(session, visit, now, count=50):
        raise InvalidInput("Choose one of the offered times.", field="window")
    tech = session.get(dispatch.Technician, visit.technician)
    before = {"start": visit.starts_at.isoformat(), "end": visit.ends_at.isoformat()}
    visit.starts_at, visit.ends_at = starts_at, ends_at
    instance = store.lock_instance(session, ticket.instance_id)
    ctx = HandlerContext(session=session, instance_id=instance.id, deployment_id=instance.deployment_id,
                         business_key=ticket.number, task_id=f"customer-visit-{visit.id}-{now.isoformat()}",
                         element_id="status_page", now=now)
    owner = ticket.customer
    notice = notifications.send(ctx, ticket_number=ticket.number, milestone="scheduled", customer={
        "name": owner.name, "phone": owner.phone, "email": owner.email, "language": owner.language,
        "preferred_channel": owner.preferred_channel}, data={
        "route": "field", "technician_name": tech.name if tech else "",
        "appointment": {"start": starts_at.isoformat(), "end": ends_at.isoformat()}})
    write_instance_events(session, instance, [PendingEvent("dispatch.visit_moved", "customer", now, {
        "ticket": ticket.number, "from": {"technician": visit.technician, **before},
        "to": {"technician": visit.technician, "start": starts_at.isoformat(), "end": ends_at.isoformat()},
        "by": "customer", "notice": notice.get("outbox_id")})])
    session.flush()
    return {"start": starts_at.isoformat(), "end": ends_at.isoformat(), "technician": tech.name if tech else ""}
