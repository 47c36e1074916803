"""Customer records for staff: contact (masked by role), products, every ticket and the history.

Customers are the ticketing handler's records (deduplicated by phone or e-mail at intake);
the address is the workspace's (:mod:`handlers.ticket_notes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.identity import Actor
from engine.privacy import CATEGORIES, mask_text, personal_values, sees
from handlers import ticket_notes
from handlers import ticketing as tk

from .tasklist import escape_like
from .tickets import masked_customer


@dataclass
class CustomerRow:
    """One customer in the staff list: contact masked by role, how many tickets, the latest."""

    id: int
    name: str
    phone: str
    email: str
    tickets: int
    last_opened: datetime | None


@dataclass
class CustomerRecord:
    """Everything about one customer for staff: contact, products, tickets and history."""

    id: int
    contact: dict[str, Any]
    tier: str
    language: str
    preferred_channel: str
    since: datetime
    products: list[dict[str, Any]]
    tickets: list[dict[str, Any]]
    history: list[dict[str, Any]]
    masked: bool


def _shown(customer: tk.Customer, session: Session, visible: frozenset[str]) -> dict[str, Any]:
    contact = {"name": customer.name, "phone": customer.phone or "", "email": customer.email or "",
               "address": ticket_notes.address_of(session, customer.id)}
    return masked_customer(contact, visible)


def find_customers(session: Session, actor: Actor, text: str, page: int = 1,
                   per_page: int = 50) -> tuple[list[CustomerRow], int]:
    """Return a page of customers matching ``text`` (name, phone, e-mail as the role sees them; serial, ticket)
    — all customers, newest first, when ``text`` is empty — and how many match."""
    visible = sees(actor)
    text = text.strip()[:200]
    query = select(tk.Customer)
    if text:
        like = f"%{escape_like(text.lower())}%"
        owns = select(tk.Product.customer_id).where(tk.Product.serial_number == tk.normalize_serial(text))
        has = select(tk.Ticket.customer_id).where(tk.Ticket.number == text.upper())
        matches: list[Any] = [tk.Customer.id.in_(owns), tk.Customer.id.in_(has)]
        if "name" in visible:
            matches.append(func.lower(tk.Customer.name).like(like, escape="\\"))
        phone = tk.normalize_phone(text)
        if "phone" in visible and phone and len(phone) >= 4:
            matches.append(tk.Customer.phone.like(f"%{escape_like(phone)}%", escape="\\"))
        if "email" in visible and "@" in text:
            matches.append(func.lower(tk.Customer.email).like(like, escape="\\"))
        query = query.where(or_(*matches))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    customers = list(session.scalars(query.order_by(tk.Customer.updated_at.desc(), tk.Customer.id.desc())
                                     .offset((max(page, 1) - 1) * per_page).limit(per_page)))
    counts = {cid: (n, last) for cid, n, last in session.execute(
        select(tk.Ticket.customer_id, func.count(), func.max(tk.Ticket.opened_at))
        .where(tk.Ticket.customer_id.in_([c.id for c in customers])).group_by(tk.Ticket.customer_id))}
    rows = []
    for c in customers:
        shown = _shown(c, session, visible)
        n, last = counts.get(c.id, (0, None))
        rows.append(CustomerRow(c.id, shown["name"], shown["phone"], shown["email"], n, last))
    return rows, total


def customer_record(session: Session, actor: Actor, customer_id: int) -> CustomerRecord:
    """Return one customer's record for staff, masked by role: contact, products, tickets, history."""
    customer = session.get(tk.Customer, customer_id)
    if customer is None:
        raise NotFound("customer {customer_id} does not exist", params={"customer_id": customer_id})
    visible = sees(actor)
    clear = {"name": customer.name, "phone": customer.phone or "", "email": customer.email or "",
             "address": ticket_notes.address_of(session, customer.id)}
    hidden = personal_values({"customer": clear}, visible)
    products = [{"model": p.model, "serial_number": p.serial_number, "purchase_date": p.purchase_date,
                 "proof_of_purchase": p.proof_of_purchase}
                for p in session.scalars(select(tk.Product).where(tk.Product.customer_id == customer.id)
                                         .order_by(tk.Product.created_at))]
    tickets = list(session.scalars(select(tk.Ticket).where(tk.Ticket.customer_id == customer.id)
                                   .order_by(tk.Ticket.opened_at.desc())))
    numbers = [t.number for t in tickets]
    history: list[dict[str, Any]] = []
    for t in tickets:
        history.append({"at": t.opened_at, "ticket": t.number, "kind": "opened", "who": t.channel, "text": ""})
        if t.closed_at:
            history.append({"at": t.closed_at, "ticket": t.number, "kind": "closed", "who": t.outcome or "",
                            "text": ""})
    for c in session.scalars(select(tk.Contact).where(tk.Contact.ticket_id.in_([t.id for t in tickets]))):
        number = next(t.number for t in tickets if t.id == c.ticket_id)
        history.append({"at": c.received_at, "ticket": number, "kind": "contact", "who": c.channel,
                        "text": mask_text(str((c.fault or {}).get("description") or ""), hidden)})
    for a in session.scalars(select(ticket_notes.TicketActivity)
                             .where(ticket_notes.TicketActivity.ticket_number.in_(numbers))):
        history.append({"at": a.created_at, "ticket": a.ticket_number, "kind": f"ticket.{a.kind}", "who": a.author,
                        "text": mask_text(a.body, hidden)})
    return CustomerRecord(
        id=customer.id, contact=masked_customer(clear, visible), tier=customer.tier, language=customer.language,
        preferred_channel=customer.preferred_channel, since=customer.created_at, products=products,
        tickets=[{"number": t.number, "status": t.status, "outcome": t.outcome, "channel": t.channel,
                  "product": f"{t.product.model} {t.product.serial_number}".strip(), "opened_at": t.opened_at,
                  "closed_at": t.closed_at} for t in tickets],
        history=sorted(history, key=lambda h: h["at"], reverse=True),
        masked=not visible >= CATEGORIES,
    )
