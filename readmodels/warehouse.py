"""What the warehouse pages read: stock per part and location, reservations, back-orders, the
movement ledger, the RMA inbox, the day's pick lists and the shipments back to customers.

On-hand is what is on the shelf (free + reserved), available what may still be reserved.
Names and addresses of customers are shown as the reader's roles may see them
(``engine.privacy.ROLE_SEES``: the warehouse sees name and address, never phone or e-mail).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine import store
from engine.errors import InvalidInput, NotFound
from engine.identity import Actor
from engine.models import MessageSubscription
from engine.privacy import mask_value, visible_categories
from handlers.dispatch import Assignment, RepairCentre, Rma, Technician
from handlers.parts import MOVEMENT_KINDS, Backorder, Part, Reservation, Stock, StockMovement, Warehouse
from handlers.stock import SHIPMENT_STATES, RmaReceipt, Shipment, refuse
from handlers.ticketing import Ticket
from handlers.values import business_timezone, local_date

from .tickets import find_ticket, instance_data

LEDGER_PAGE = 200


@dataclass
class StockLine:
    """One part in one warehouse."""

    sku: str
    name: str
    name_zh: str
    warehouse: str
    warehouse_name: str
    available: int
    reserved: int
    reorder_point: int
    waiting: int = 0  # open back-orders of this part in this warehouse

    @property
    def on_hand(self) -> int:
        """Return what is on the shelf: free and reserved."""
        return self.available + self.reserved

    @property
    def low(self) -> bool:
        """Tell whether free stock is at or below the part's reorder point."""
        return self.available <= self.reorder_point


def stock_lines(session: Session, search: str = "", low_only: bool = False,
                warehouse: str | None = None) -> list[StockLine]:
    """Return stock per part and warehouse, found by SKU or name (English or Chinese)."""
    query = (select(Stock, Part, Warehouse).join(Part, Part.sku == Stock.sku)
             .join(Warehouse, Warehouse.code == Stock.warehouse).order_by(Stock.sku, Warehouse.priority))
    if search:
        like = f"%{search.strip().lower()}%"
        query = query.where(or_(func.lower(Part.sku).like(like), func.lower(Part.name).like(like),
                                Part.name_zh.like(f"%{search.strip()}%")))
    if warehouse:
        query = query.where(Stock.warehouse == warehouse)
    waiting = dict(((sku, code), int(n)) for sku, code, n in session.execute(
        select(Backorder.sku, Backorder.warehouse, func.sum(Backorder.quantity))
        .where(Backorder.status == "open").group_by(Backorder.sku, Backorder.warehouse)))
    lines = [StockLine(stock.sku, part.name, part.name_zh, stock.warehouse, house.name, stock.available,
                       stock.reserved, part.reorder_point, waiting.get((stock.sku, stock.warehouse), 0))
             for stock, part, house in session.execute(query)]
    return [line for line in lines if line.low or line.waiting] if low_only else lines


def warehouses(session: Session) -> list[Warehouse]:
    """Return the stock locations, first choice first."""
    return list(session.scalars(select(Warehouse).order_by(Warehouse.priority, Warehouse.code)))


def parts(session: Session) -> list[Part]:
    """Return the catalogue's parts by SKU."""
    return list(session.scalars(select(Part).order_by(Part.sku)))


@dataclass
class TicketLine:
    """A quantity of one part in one warehouse for one ticket (names in English and Chinese)."""

    id: int
    ticket: str
    sku: str
    name: str
    name_zh: str
    warehouse: str
    quantity: int


@dataclass
class Held(TicketLine):
    """Parts a ticket holds in one warehouse."""

    consumed: int
    released: int
    created_at: datetime

    @property
    def held(self) -> int:
        """Return how many are still held."""
        return self.quantity - self.consumed - self.released


def reservations(session: Session, ticket: str = "", include_done: bool = False) -> list[Held]:
    """Return reservations (still holding something, unless ``include_done``), newest first."""
    query = (select(Reservation, Part).join(Part, Part.sku == Reservation.sku)
             .order_by(Reservation.created_at.desc(), Reservation.id.desc()))
    if ticket:
        query = query.where(Reservation.ticket_number.ilike(f"%{ticket.strip()}%"))
    if not include_done:
        query = query.where(Reservation.quantity > Reservation.consumed + Reservation.released)
    return [Held(r.id, r.ticket_number, r.sku, p.name, p.name_zh, r.warehouse, r.quantity, r.consumed, r.released,
                 r.created_at) for r, p in session.execute(query.limit(500))]


@dataclass
class Waiting(TicketLine):
    """An open back-order: what a ticket waits for, since when, until when."""

    eta: date
    created_at: datetime
    age_days: int
    overdue: bool


def backorders(session: Session, now: datetime) -> list[Waiting]:
    """Return open back-orders, oldest first, with their age in days and whether the ETA passed."""
    today = local_date(now)
    rows = session.execute(select(Backorder, Part).join(Part, Part.sku == Backorder.sku)
                           .where(Backorder.status == "open").order_by(Backorder.created_at, Backorder.id))
    return [Waiting(b.id, b.ticket_number, b.sku, p.name, p.name_zh, b.warehouse, b.quantity, b.eta, b.created_at,
                    (today - local_date(b.created_at)).days, b.eta < today) for b, p in rows]


def movements(session: Session, sku: str = "", kind: str = "", ticket: str = "",
              limit: int = LEDGER_PAGE) -> list[StockMovement]:
    """Return the newest ledger rows, optionally of one part, kind or ticket."""
    if kind and kind not in MOVEMENT_KINDS:
        raise refuse(InvalidInput, "kind", "Unknown movement kind “{kind}”; use one of {kinds}.", kind=kind,
                     kinds=", ".join(MOVEMENT_KINDS))
    query = select(StockMovement).order_by(StockMovement.id.desc()).limit(limit)
    if sku:
        query = query.where(StockMovement.sku == sku.strip().upper())
    if kind:
        query = query.where(StockMovement.kind == kind)
    if ticket:
        query = query.where(StockMovement.ticket_number == ticket.strip())
    return list(session.scalars(query))


def _shown(visible: frozenset[str], kind: str, value: str | None) -> str:
    if not value:
        return ""
    return value if kind in visible else str(mask_value(value))


@dataclass
class Parcel:
    """A device in the post on an RMA: expected, or received."""

    rma_number: str
    ticket: str
    centre: str
    issued_at: datetime
    waiting_days: int
    customer: str
    address: str
    received_at: datetime | None = None
    received_by: str = ""
    condition: str = ""
    process_notified: bool = False
    waiting: bool = True  # the ticket's process waits for the device (device_received)

    @property
    def state(self) -> str:
        """Return ``received``, ``expected``, or ``closed`` (not received here, and no longer awaited)."""
        if self.received_at is not None:
            return "received"
        return "expected" if self.waiting else "closed"


def awaiting_device(session: Session) -> set[str]:
    """Return the tickets whose process waits for the ``device_received`` message."""
    return set(session.scalars(select(MessageSubscription.correlation_key)
                               .where(MessageSubscription.message_name == "device_received")))


def rma_inbox(session: Session, specs: store.SpecCache, actor: Actor, now: datetime) -> list[Parcel]:
    """Return the RMAs: expected ones first (oldest first), then the received (newest first), then the
    ones no longer awaited (the ticket was cancelled, or the device was booked in another way)."""
    visible = visible_categories(actor.roles)
    centres = {c.code: c.name for c in session.scalars(select(RepairCentre))}
    rows = session.execute(select(Rma, RmaReceipt, Ticket)
                           .outerjoin(RmaReceipt, RmaReceipt.rma_number == Rma.rma_number)
                           .outerjoin(Ticket, Ticket.number == Rma.ticket_number).order_by(Rma.created_at))
    today = local_date(now)
    waiting = awaiting_device(session)
    parcels = []
    for rma, receipt, ticket in rows:
        parcel = Parcel(rma.rma_number, rma.ticket_number, centres.get(rma.centre, rma.centre), rma.created_at,
                        (today - local_date(rma.created_at)).days,
                        _shown(visible, "name", ticket.customer.name if ticket else ""), "")
        parcel.waiting = rma.ticket_number in waiting
        if receipt is not None:
            parcel.received_at, parcel.received_by = receipt.received_at, receipt.received_by
            parcel.condition, parcel.process_notified = receipt.condition, receipt.process_notified
        elif parcel.waiting:
            parcel.address = _shown(visible, "address", customer_address(session, specs, rma.ticket_number))
        parcels.append(parcel)
    received = sorted((p for p in parcels if p.state == "received"), key=lambda p: p.received_at or now,
                      reverse=True)
    return ([p for p in parcels if p.state == "expected"] + received
            + [p for p in parcels if p.state == "closed"][::-1])


def customer_address(session: Session, specs: store.SpecCache, ticket: str) -> str:
    """Return the customer's address as the ticket's process knows it ("" if it does not)."""
    try:
        data = instance_data(session, specs, find_ticket(session, ticket))
    except NotFound:
        return ""
    person = data.get("customer")
    address = person.get("address") if isinstance(person, dict) else None
    return address if isinstance(address, str) else ""


@dataclass
class Pick:
    """One technician's visits of a day with the parts to pick for each."""

    technician: str
    name: str
    visits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def lines(self) -> int:
        """Return how many part lines the technician's list has."""
        return sum(len(v["parts"]) for v in self.visits)


def pick_lists(session: Session, day: date) -> list[Pick]:
    """Return the parts held for each open visit of ``day``, per technician, visits in time order."""
    start = datetime.combine(day, time(0), business_timezone())
    end = start + timedelta(days=1)
    visits = session.scalars(select(Assignment).where(Assignment.status == "open", Assignment.starts_at >= start,
                                                      Assignment.starts_at < end)
                             .order_by(Assignment.technician, Assignment.starts_at, Assignment.id)).all()
    names = {t.username: t.name for t in session.scalars(select(Technician))}
    held = reservations(session)
    picks: dict[str, Pick] = {}
    for visit in visits:
        pick = picks.setdefault(visit.technician, Pick(visit.technician, names.get(visit.technician, "")))
        lines: dict[tuple[str, str], Held] = {}
        for h in held:
            if h.ticket == visit.ticket_number:  # one line per shelf and part, however many reservations
                line = lines.setdefault((h.warehouse, h.sku), Held(h.id, h.ticket, h.sku, h.name, h.name_zh,
                                                                   h.warehouse, 0, 0, 0, h.created_at))
                line.quantity += h.held
        pick.visits.append({"ticket": visit.ticket_number, "starts_at": visit.starts_at, "ends_at": visit.ends_at,
                            "parts": [lines[key] for key in sorted(lines)]})
    return list(picks.values())


def parse_day(value: str | None, now: datetime) -> date:
    """Return the day asked for (``YYYY-MM-DD``), today in the business time zone if none."""
    if not value:
        return local_date(now)
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise refuse(InvalidInput, "day", "Enter a date as YYYY-MM-DD, not “{value}”.", value=value) from None


@dataclass
class Outbound:
    """A shipment as the reader may see it."""

    id: int
    ticket: str
    rma_number: str | None
    name: str
    address: str
    status: str
    created_at: datetime
    carrier: str
    tracking_number: str
    shipped_at: datetime | None
    shipped_by: str
    parts_held: int


def shipments(session: Session, actor: Actor, status: str = "") -> list[Outbound]:
    """Return the shipments (those to ship first), name and address masked as the reader's roles require."""
    if status and status not in SHIPMENT_STATES:
        raise refuse(InvalidInput, "status", "Unknown status “{status}”; use one of {states}.", status=status,
                     states=", ".join(SHIPMENT_STATES))
    visible = visible_categories(actor.roles)
    query = select(Shipment).order_by(Shipment.status.desc(), Shipment.created_at.desc(), Shipment.id.desc())
    if status:
        query = query.where(Shipment.status == status)
    found = list(session.scalars(query.limit(500)))
    held: dict[str, int] = {}
    for row in reservations(session):
        held[row.ticket] = held.get(row.ticket, 0) + row.held
    return [Outbound(s.id, s.ticket_number, s.rma_number, _shown(visible, "name", s.ship_to_name),
                     _shown(visible, "address", s.ship_to_address), s.status, s.created_at, s.carrier,
                     s.tracking_number, s.shipped_at, s.shipped_by, held.get(s.ticket_number, 0) if
                     s.status == "to_ship" else 0)
            for s in found]


def summary(session: Session, now: datetime) -> dict[str, int]:
    """Return the counts the landing page's tabs show."""
    return {
        "low": len(stock_lines(session, low_only=True)),
        "backorders": int(session.scalar(select(func.count()).select_from(Backorder)
                                         .where(Backorder.status == "open")) or 0),
        "expected": int(session.scalar(select(func.count()).select_from(Rma).outerjoin(
            RmaReceipt, RmaReceipt.rma_number == Rma.rma_number).where(
            RmaReceipt.rma_number.is_(None), Rma.ticket_number.in_(awaiting_device(session)))) or 0),
        "to_ship": int(session.scalar(select(func.count()).select_from(Shipment)
                                      .where(Shipment.status == "to_ship")) or 0),
        "visits_today": sum(len(p.visits) for p in pick_lists(session, local_date(now))),
    }
