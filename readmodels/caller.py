"""Caller lookup for intake: who is calling, from their phone number or e-mail address.

An agent registering a phone request types the caller's phone (or e-mail); the customer record
(:mod:`handlers.ticketing`, one per phone or e-mail) gives the intake form its name, e-mail,
phone, language, channel, tier and service region (the region of their latest ticket), shows
the address on file, lists the products they had (the newest pre-filled, any other one chosen)
and their open tickets, so a repeat caller is added to a ticket rather than given a new one.
Only roles that see every kind of personal data (``engine.privacy.ROLE_SEES``) may look up.
A number or address that is not well formed is refused on the ``lookup`` field; one no
customer has is an answer (``found`` False), not an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import store
from engine.errors import PermissionDenied
from engine.identity import Actor
from engine.models import Instance
from engine.privacy import CATEGORIES, sees
from handlers import ticket_notes
from handlers import ticketing as tk

from .tickets import instance_data

EMPTY = "Enter the caller's phone number or e-mail address."


@dataclass
class CallerLookup:
    """What a lookup found: the form's values, the address on file, products and open tickets."""

    query: str
    found: bool
    customer_id: int | None = None
    name: str = ""
    address: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    products: list[dict[str, Any]] = field(default_factory=list)
    open_tickets: list[dict[str, Any]] = field(default_factory=list)
    product_id: int | None = None


def _find(session: Session, text: str) -> tk.Customer | None:
    if "@" in text:
        email = ticket_notes.check_email(text, "lookup")
        where = func.lower(tk.Customer.email) == email
    else:
        where = tk.Customer.phone == ticket_notes.check_phone(text, "lookup")
    return session.scalars(select(tk.Customer).where(where)
                           .order_by(tk.Customer.updated_at.desc(), tk.Customer.id.desc()).limit(1)).first()


def _product(p: tk.Product) -> dict[str, Any]:
    values = {"model": p.model, "serial_number": p.serial_number,
              "purchase_date": p.purchase_date.isoformat() if p.purchase_date else "",
              "proof_of_purchase": p.proof_of_purchase or ""}
    return {"id": p.id, **values, "values": {k: v for k, v in values.items() if v}}


def lookup_caller(session: Session, specs: store.SpecCache, actor: Actor, text: str,
                  product_id: int | None = None) -> CallerLookup:
    """Look up the customer with phone or e-mail ``text`` for ``actor``'s intake form."""
    if not sees(actor) >= CATEGORIES:
        raise PermissionDenied("your roles do not show customers' personal data, so you cannot look callers up")
    query = str(text or "").strip()[:200]
    if not query:
        raise ticket_notes.refuse("lookup", EMPTY)
    customer = _find(session, query)
    if customer is None:
        return CallerLookup(query, False)
    products = [_product(p) for p in session.scalars(select(tk.Product).where(tk.Product.customer_id == customer.id)
                                                     .order_by(tk.Product.created_at.desc(), tk.Product.id.desc()))]
    tickets = list(session.scalars(select(tk.Ticket).where(tk.Ticket.customer_id == customer.id)
                                   .order_by(tk.Ticket.opened_at.desc())))
    contact: dict[str, Any] = {"name": customer.name, "phone": customer.phone or "", "email": customer.email or "",
                               "tier": customer.tier, "language": customer.language,
                               "preferred_channel": customer.preferred_channel}
    region = _region(session, specs, tickets)
    if region:
        contact["region"] = region
    chosen = next((p for p in products if p["id"] == product_id), products[0] if products else None)
    values: dict[str, Any] = {"customer": {k: v for k, v in contact.items() if v}}
    if chosen is not None:
        values["product"] = dict(chosen["values"])
    return CallerLookup(
        query, True, customer.id, customer.name, ticket_notes.address_of(session, customer.id), values, products,
        [{"number": t.number, "status": t.status, "opened_at": t.opened_at,
          "product": f"{t.product.model} {t.product.serial_number}".strip()} for t in tickets if t.status != "closed"],
        chosen["id"] if chosen else None,
    )


def _region(session: Session, specs: store.SpecCache, tickets: list[tk.Ticket]) -> str:
    """Return the service region the customer's latest ticket recorded ("" when none did)."""
    for ticket in tickets[:3]:
        instance = session.get(Instance, ticket.instance_id)
        if instance is None:
            continue
        customer = instance_data(session, specs, instance).get("customer")
        if isinstance(customer, dict) and isinstance(customer.get("region"), str) and customer["region"]:
            return str(customer["region"])
    return ""
