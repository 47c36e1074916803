"""Finding tickets by number, contact or serial, and open duplicates at intake."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine.identity import Actor
from engine.models import (
    Instance,
)
from engine.privacy import sees
from handlers import ticketing as tk

from .tasklist import escape_like
from .tickets import mask


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


def search_tickets(session: Session, actor: Actor, text: str, limit: int = 50) -> list[Hit]:
    """Find tickets by number, phone, e-mail, serial number or customer name."""
    text = text.strip()[:200]
    if not text:
        return []
    visible = sees(actor)
    hits: dict[str, Hit] = {}
    conditions = [
        (tk.Ticket.number.like(f"{escape_like(text.upper())}%", escape="\\"), "ticket")
    ]
    serial = tk.normalize_serial(text)
    if serial:
        conditions.append((tk.Product.serial_number == serial, "serial"))
    phone, email = tk.normalize_phone(text), tk.normalize_email(text)
    if "phone" in visible and phone and len(phone) >= 5:
        conditions.append((tk.Customer.phone == phone, "phone"))
    if "email" in visible and email:
        conditions.append((tk.Customer.email == email, "email"))
    if "name" in visible and len(text) >= 2:
        name_like = func.lower(tk.Customer.name).like(f"%{escape_like(text.lower())}%", escape="\\")
        conditions.append((name_like, "name"))
    for condition, what in conditions:
        rows = session.scalars(
            select(tk.Ticket)
            .join(tk.Customer, tk.Ticket.customer_id == tk.Customer.id)
            .join(tk.Product, tk.Ticket.product_id == tk.Product.id)
            .where(condition)
            .order_by(tk.Ticket.opened_at.desc())
            .limit(limit)
        )
        for t in rows:
            name = t.customer.name if "name" in visible else mask(t.customer.name)
            hits.setdefault(
                t.number,
                Hit(
                    t.number,
                    t.instance_id,
                    t.status,
                    name,
                    f"{t.product.model} {t.product.serial_number}".strip(),
                    t.opened_at,
                    what,
                ),
            )
    for inst in session.scalars(
        select(Instance)
        .where(Instance.business_key.like(f"{escape_like(text)}%", escape="\\"))
        .order_by(Instance.id.desc())
        .limit(limit)
    ):
        key = inst.business_key or str(inst.id)
        hits.setdefault(key, Hit(key, inst.id, inst.status, "", "", inst.started_at, "ticket"))
    return list(hits.values())[:limit]


def open_duplicate(
    session: Session, customer: dict[str, Any], product: dict[str, Any]
) -> str | None:
    """Return the open ticket of the same customer (phone or e-mail) and serial, if any."""
    serial = tk.normalize_serial(product.get("serial_number"))
    phone, email = (
        tk.normalize_phone(customer.get("phone")),
        tk.normalize_email(customer.get("email")),
    )
    same = [
        c
        for c in (
            tk.Customer.phone == phone if phone else None,
            tk.Customer.email == email if email else None,
        )
        if c is not None
    ]
    if not serial or not same:
        return None
    return session.scalars(
        select(tk.Ticket.number)
        .join(tk.Product, tk.Ticket.product_id == tk.Product.id)
        .join(tk.Customer, tk.Ticket.customer_id == tk.Customer.id)
        .where(tk.Ticket.status != "closed", tk.Product.serial_number == serial, or_(*same))
        .order_by(tk.Ticket.opened_at.desc())
        .limit(1)
    ).first()


def ticket_contacts(session: Session, ticket_number: str | None) -> list[dict[str, Any]]:
    """Return every contact about a ticket (the first report and repeats, any channel), oldest first."""
    if not ticket_number:
        return []
    rows = session.scalars(select(tk.Contact).join(tk.Ticket, tk.Contact.ticket_id == tk.Ticket.id)
                           .where(tk.Ticket.number == ticket_number).order_by(tk.Contact.received_at, tk.Contact.id))
    return [{"channel": c.channel, "received_at": c.received_at,
             "description": str((c.fault or {}).get("description") or "")} for c in rows]
