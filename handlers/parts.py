"""Spare parts: catalogue, stock per warehouse, reservations, back-orders, consumption.

Stock never goes negative, whatever runs at the same time: every take is one atomic
conditional ``UPDATE parts_stock SET available = available - :q … WHERE available >= :q``
whose row count says whether it happened (PostgreSQL re-checks the condition on the row
it waited for; SQLite serializes writers), and a CHECK constraint backs it up. What
cannot be reserved is back-ordered with an ETA; :func:`restock` fulfils back-orders
first in, first out and names the tickets whose parts are now all there.

Every change of a stock row is also a :class:`StockMovement` (goods-in, reserve,
release, consume, adjustment, ship) with who, when and why, and each operation's
movements are one event of the ``warehouse`` audit stream, written last, after every
stock row it locked, so the stream's head is always the last lock taken (no deadlocks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, String, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine import forms
from engine.audit import PendingEvent, write_system_event
from engine.db import Base
from engine.errors import FieldError
from engine.registry import BusinessError, HandlerContext, handler

from .idempotency import idempotent
from .values import Money, invalid, local_date, positive_int, required_text, to_money

if TYPE_CHECKING:
    from engine.runtime import Runtime


class Part(Base):
    """A spare part in the catalogue, with its price and replenishment lead time."""

    __tablename__ = "parts_part"

    sku: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    name_zh: Mapped[str] = mapped_column(String(120), default="")
    product_line: Mapped[str] = mapped_column(String(32), index=True)
    price: Mapped[Decimal] = mapped_column(Money)
    lead_time_days: Mapped[int] = mapped_column(default=7)
    reorder_point: Mapped[int] = mapped_column(default=2, server_default="2")  # low stock at or below


class Warehouse(Base):
    """A stock location; reservations try warehouses by ``priority`` (1 first)."""

    __tablename__ = "parts_warehouse"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(32))
    priority: Mapped[int]


class Stock(Base):
    """Free and reserved quantities of one part in one warehouse."""

    __tablename__ = "parts_stock"
    __table_args__ = (
        CheckConstraint("available >= 0", name="available_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    )

    sku: Mapped[str] = mapped_column(ForeignKey("parts_part.sku"), primary_key=True)
    warehouse: Mapped[str] = mapped_column(ForeignKey("parts_warehouse.code"), primary_key=True)
    available: Mapped[int]
    reserved: Mapped[int] = mapped_column(default=0)


class Reservation(Base):
    """Parts held for a ticket in one warehouse; consumed when used, released when not."""

    __tablename__ = "parts_reservation"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(32), index=True)
    sku: Mapped[str] = mapped_column(ForeignKey("parts_part.sku"))
    warehouse: Mapped[str] = mapped_column(ForeignKey("parts_warehouse.code"))
    quantity: Mapped[int]
    consumed: Mapped[int] = mapped_column(default=0)
    released: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]

    @property
    def held(self) -> int:
        """Return how many are still held (neither consumed nor released)."""
        return self.quantity - self.consumed - self.released


class Backorder(Base):
    """Parts a ticket waits for; fulfilled by a restock, first in first out."""

    __tablename__ = "parts_backorder"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(32), index=True)
    sku: Mapped[str] = mapped_column(ForeignKey("parts_part.sku"), index=True)
    warehouse: Mapped[str] = mapped_column(ForeignKey("parts_warehouse.code"))
    quantity: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    eta: Mapped[date]
    created_at: Mapped[datetime]
    fulfilled_at: Mapped[datetime | None]


#: what a movement did to a stock row: (change of on-hand, change of reserved) per unit
MOVEMENT_KINDS: dict[str, tuple[int, int]] = {
    "goods_in": (1, 0), "reserve": (0, 1), "release": (0, -1), "consume": (-1, -1),
    "adjust": (1, 0), "ship": (-1, -1),
}
#: the audit stream of the warehouse's movements, receipts and shipments
AUDIT_STREAM = "warehouse"


class StockMovement(Base):
    """One change of one stock row: what, how many, who, when, why (the stock ledger)."""

    __tablename__ = "stock_movement"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    sku: Mapped[str] = mapped_column(ForeignKey("parts_part.sku"), index=True)
    warehouse: Mapped[str] = mapped_column(ForeignKey("parts_warehouse.code"))
    on_hand_change: Mapped[int]
    reserved_change: Mapped[int]
    available_after: Mapped[int]
    reserved_after: Mapped[int]
    ticket_number: Mapped[str | None] = mapped_column(String(32), index=True)
    reference: Mapped[str] = mapped_column(String(100), default="")
    reason: Mapped[str] = mapped_column(String(500), default="")


@dataclass
class Why:
    """Who moves stock and why: the actor, the ticket, a delivery reference, a reason."""

    actor: str = "system"
    reason: str = ""
    reference: str = ""
    ticket: str | None = None


def record_movement(session: Session, kind: str, sku: str, warehouse: str, quantity: int, now: datetime,
                    why: Why, ticket: str | None = None) -> StockMovement:
    """Write the ledger row of a change just made to a stock row (``adjust``: ``quantity`` is signed)."""
    on_hand, reserved = MOVEMENT_KINDS[kind]
    available, held = session.execute(select(Stock.available, Stock.reserved).where(
        Stock.sku == sku, Stock.warehouse == warehouse)).one()
    movement = StockMovement(at=now, actor=why.actor[:64], kind=kind, sku=sku, warehouse=warehouse,
                             on_hand_change=on_hand * quantity, reserved_change=reserved * quantity,
                             available_after=available, reserved_after=held,
                             ticket_number=ticket or why.ticket, reference=why.reference[:100],
                             reason=why.reason[:500])
    session.add(movement)
    return movement


def audit_movements(session: Session, movements: list[StockMovement], now: datetime, actor: str) -> None:
    """Write one ``stock.moved`` event of the warehouse stream listing ``movements`` (none: nothing)."""
    if not movements:
        return
    session.flush()
    write_system_event(session, PendingEvent("stock.moved", actor[:64], now, {"movements": [
        {"id": m.id, "kind": m.kind, "sku": m.sku, "warehouse": m.warehouse, "on_hand": m.on_hand_change,
         "reserved": m.reserved_change, "ticket": m.ticket_number, "reference": m.reference, "reason": m.reason}
        for m in movements]}), stream=AUDIT_STREAM)


def why_of(ctx: HandlerContext, ticket: str) -> Why:
    """Say that the running process step moves stock for ``ticket``."""
    return Why(actor=ctx.actor, reason=f"{ctx.element_id} (instance {ctx.instance_id})", ticket=ticket)


def parse_items(items: Any, field_name: str) -> dict[str, int]:
    """Return ``[{"sku", "quantity"}, …]`` as ``{sku: total quantity}``, refusing bad entries."""
    if not isinstance(items, list):
        raise invalid(field_name, f"{field_name} must be a list of {{\"sku\", \"quantity\"}}, "
                                  f"got {type(items).__name__}")
    wanted: dict[str, int] = {}
    for index, item in enumerate(items):
        where = f"{field_name}[{index}]"
        if not isinstance(item, dict):
            raise invalid(where, f"{where} must be an object with sku and quantity")
        sku = required_text(item.get("sku"), f"{where}.sku", 40).upper()
        wanted[sku] = wanted.get(sku, 0) + positive_int(item.get("quantity"), f"{where}.quantity")
    return wanted


def require_parts(session: Session, skus: list[str] | set[str] | dict[str, int]) -> dict[str, Part]:
    """Return the catalogue parts for ``skus``; raise UNKNOWN_PART naming any that are missing."""
    found = {p.sku: p for p in session.scalars(select(Part).where(Part.sku.in_(list(skus))))}
    unknown = sorted(set(skus) - set(found))
    if unknown:
        raise BusinessError("UNKNOWN_PART", f"unknown part(s): {', '.join(unknown)}", {"skus": unknown})
    return found


def take(session: Session, sku: str, warehouse: str, quantity: int) -> bool:
    """Move ``quantity`` from free to reserved stock atomically; False when not enough is free."""
    result = session.execute(
        update(Stock).where(Stock.sku == sku, Stock.warehouse == warehouse, Stock.available >= quantity)
        .values(available=Stock.available - quantity, reserved=Stock.reserved + quantity)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]


def _reserve_line(session: Session, ticket: str, sku: str, quantity: int, now: datetime,
                  why: Why, moved: list[StockMovement]) -> list[Reservation]:
    made: list[Reservation] = []
    need = quantity
    warehouses = session.scalars(select(Warehouse.code).order_by(Warehouse.priority, Warehouse.code)).all()
    for code in warehouses:
        while need > 0:
            free = session.scalar(select(Stock.available).where(Stock.sku == sku, Stock.warehouse == code)) or 0
            if free <= 0:
                break
            amount = min(free, need)
            if take(session, sku, code, amount):  # else somebody took it first: look again
                made.append(Reservation(ticket_number=ticket, sku=sku, warehouse=code, quantity=amount,
                                        created_at=now))
                moved.append(record_movement(session, "reserve", sku, code, amount, now, why))
                need -= amount
    session.add_all(made)
    return made


def _primary_warehouse(session: Session) -> str:
    code = session.scalars(select(Warehouse.code).order_by(Warehouse.priority, Warehouse.code).limit(1)).first()
    if code is None:
        raise invalid("parts", "no warehouse is set up: load the catalogue first")
    return code


@handler("parts.reserve")
@idempotent
def reserve(ctx: HandlerContext, ticket_number: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Reserve parts for a ticket; back-order what is out of stock, with an ETA.

    ticket_number: the ticket's number, e.g. AS-20260302-00001
    parts: the parts to reserve: a list of {"sku", "quantity": whole number ≥ 1}; unknown SKUs raise UNKNOWN_PART
    """
    ticket = required_text(ticket_number, "ticket_number", 32)
    wanted = parse_items(parts, "parts")
    catalogue = require_parts(ctx.session, wanted)
    reserved: list[dict[str, Any]] = []
    backordered: list[dict[str, Any]] = []
    moved: list[StockMovement] = []
    for sku, quantity in sorted(wanted.items()):  # one lock order for every transaction: no deadlocks
        made = _reserve_line(ctx.session, ticket, sku, quantity, ctx.now, why_of(ctx, ticket), moved)
        reserved += [{"sku": r.sku, "quantity": r.quantity, "warehouse": r.warehouse} for r in made]
        missing = quantity - sum(r.quantity for r in made)
        if missing:
            eta = local_date(ctx.now) + timedelta(days=catalogue[sku].lead_time_days)
            ctx.session.add(Backorder(ticket_number=ticket, sku=sku, warehouse=_primary_warehouse(ctx.session),
                                      quantity=missing, eta=eta, created_at=ctx.now))
            backordered.append({"sku": sku, "quantity": missing, "eta": eta.isoformat()})
    audit_movements(ctx.session, moved, ctx.now, ctx.actor)
    ctx.session.flush()
    return {"reserved": reserved, "backordered": backordered, "all_reserved": not backordered}


@handler("parts.check_backorders")
def check_backorders(ctx: HandlerContext, ticket_number: str) -> dict[str, Any]:
    """Say which of a ticket's back-orders are still open (a delivery may have filled them while nobody waited).

    ticket_number: the ticket's number, e.g. AS-20260302-00001
    """
    ticket = required_text(ticket_number, "ticket_number", 32)
    rows = ctx.session.scalars(select(Backorder).where(Backorder.ticket_number == ticket, Backorder.status == "open")
                               .order_by(Backorder.id))
    still_open = [{"sku": b.sku, "quantity": b.quantity, "eta": b.eta.isoformat()} for b in rows]
    return {"open": still_open, "all_arrived": not still_open}


def held_reservations(session: Session, ticket: str, sku: str | None = None) -> list[Reservation]:
    """Return a ticket's reservations (of one part) that still hold something, oldest first."""
    query = select(Reservation).where(Reservation.ticket_number == ticket,
                                      Reservation.quantity > Reservation.consumed + Reservation.released)
    if sku is not None:
        query = query.where(Reservation.sku == sku)
    return list(session.scalars(query.order_by(Reservation.id)))


def unreserve(session: Session, sku: str, warehouse: str, quantity: int, back_to_free: bool) -> None:
    """Take ``quantity`` off the reserved stock: back to free stock, or out of the warehouse."""
    values: dict[str, Any] = {"reserved": Stock.reserved - quantity}
    if back_to_free:
        values["available"] = Stock.available + quantity
    session.execute(update(Stock).where(Stock.sku == sku, Stock.warehouse == warehouse)
                    .values(**values).execution_options(synchronize_session=False))


@handler("parts.consume")
@idempotent
def consume(ctx: HandlerContext, ticket_number: str, parts_used: list[dict[str, Any]],
            report_unreserved: bool = False) -> dict[str, Any]:
    """Book reserved parts as used in the repair.

    ticket_number: the ticket's number, e.g. AS-20260302-00001
    parts_used: the reserved parts used in the repair: a list of {"sku", "quantity": whole number ≥ 1}
    report_unreserved: true: book what is reserved and list the rest under "unreserved" (for the warehouse to
        reconcile) instead of raising NOT_RESERVED and booking nothing
    """
    ticket = required_text(ticket_number, "ticket_number", 32)
    used = parse_items(parts_used, "parts_used")
    require_parts(ctx.session, used)
    holdings = {sku: held_reservations(ctx.session, ticket, sku) for sku in used}
    short = {sku: sum(r.held for r in holdings[sku]) for sku, q in used.items()
             if sum(r.held for r in holdings[sku]) < q}
    unreserved = [{"sku": s, "used": used[s], "reserved": h, "in_stock": free_stock(ctx.session, s)}
                  for s, h in sorted(short.items())]
    if short and not report_unreserved:
        raise BusinessError("NOT_RESERVED", "not reserved for ticket " + ticket + ": " + ", ".join(
            f"{p['sku']} (used {p['used']}, reserved {p['reserved']})" for p in unreserved), {"parts": unreserved})
    consumed: list[dict[str, Any]] = []
    moved: list[StockMovement] = []
    for sku, quantity in sorted(used.items()):
        need = quantity
        for reservation in holdings[sku]:
            amount = min(need, reservation.held)
            if amount:
                reservation.consumed += amount
                unreserve(ctx.session, sku, reservation.warehouse, amount, back_to_free=False)
                moved.append(record_movement(ctx.session, "consume", sku, reservation.warehouse, amount, ctx.now,
                                             why_of(ctx, ticket)))
                consumed.append({"sku": sku, "quantity": amount, "warehouse": reservation.warehouse})
                need -= amount
    audit_movements(ctx.session, moved, ctx.now, ctx.actor)
    ctx.session.flush()
    return {"consumed": consumed, "unreserved": unreserved}


def free_stock(session: Session, sku: str) -> int:
    """Return how many of a part are free (not reserved) over all warehouses."""
    return int(session.scalar(select(func.coalesce(func.sum(Stock.available), 0)).where(Stock.sku == sku)) or 0)


#: a used part the ticket holds no reservation for, unless the technician confirmed it (``x-check-confirm``)
NOT_RESERVED_ROW = ("{sku} × {quantity} is not reserved for this ticket ({reserved} reserved, {in_stock} free in "
                    "stock): correct the row, or confirm below that it was used so the warehouse reconciles it")


@forms.check("parts_reserved")
def check_parts_reserved(session: Session, value: Any, data: dict[str, Any], scope: dict[str, Any], field: str,
                         node: dict[str, Any]) -> list[FieldError]:
    """Refuse each used part (row ``field/i/sku``) the ticket does not hold, naming it, its reservation and the
    free stock, unless the form's ``x-check-confirm`` box says it was used anyway (the warehouse reconciles)."""
    ticket = scope.get("ticket_number")
    if not isinstance(ticket, str) or not isinstance(value, list) or data.get(str(node.get("x-check-confirm"))) is True:
        return []
    used: dict[str, tuple[int, int]] = {}  # sku → (quantity, first row)
    for index, row in enumerate(value):
        if isinstance(row, dict) and isinstance(row.get("sku"), str) and isinstance(row.get("quantity"), int):
            quantity, first = used.get(row["sku"], (0, index))
            used[row["sku"]] = (quantity + row["quantity"], first)
    errors = []
    for sku, (quantity, index) in used.items():
        reserved = sum(r.held for r in held_reservations(session, ticket, sku))
        if quantity > reserved:
            errors.append(FieldError.of(f"{field}/{index}/sku", NOT_RESERVED_ROW, sku=sku, quantity=quantity,
                                        reserved=reserved, in_stock=free_stock(session, sku)))
    return errors


@handler("parts.release")
@idempotent
def release(ctx: HandlerContext, ticket_number: str) -> dict[str, Any]:
    """Give back a ticket's unused reservations and cancel its open back-orders.

    ticket_number: the ticket's number whose unused reservations are given back, e.g. AS-20260302-00001
    """
    ticket = required_text(ticket_number, "ticket_number", 32)
    return release_unused(ctx.session, ticket, ctx.now, why_of(ctx, ticket))


def release_unused(session: Session, ticket: str, now: datetime, why: Why) -> dict[str, Any]:
    """Give back what ``ticket`` still holds (each release a ledger movement) and cancel its open back-orders."""
    released: list[dict[str, Any]] = []
    moved: list[StockMovement] = []
    for reservation in held_reservations(session, ticket):
        amount = reservation.held
        reservation.released += amount
        unreserve(session, reservation.sku, reservation.warehouse, amount, back_to_free=True)
        moved.append(record_movement(session, "release", reservation.sku, reservation.warehouse, amount, now, why))
        released.append({"sku": reservation.sku, "quantity": amount, "warehouse": reservation.warehouse})
    cancelled = session.execute(
        update(Backorder).where(Backorder.ticket_number == ticket, Backorder.status == "open")
        .values(status="cancelled").execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    audit_movements(session, moved, now, why.actor)
    session.flush()
    return {"released": released, "backorders_cancelled": cancelled}


@dataclass
class RestockResult:
    """What a restock did: back-orders turned into reservations, tickets now complete."""

    fulfilled: list[int] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    skus: dict[str, list[str]] = field(default_factory=dict)
    movements: list[StockMovement] = field(default_factory=list)


def restock(session: Session, sku: str, warehouse: str, quantity: int, now: datetime) -> list[str]:
    """Add stock, fulfil waiting back-orders FIFO, and return the tickets now fully supplied."""
    return restock_detail(session, sku, warehouse, quantity, now).completed


def restock_detail(session: Session, sku: str, warehouse: str, quantity: int, now: datetime,
                   why: Why | None = None, audit: bool = True) -> RestockResult:
    """Do :func:`restock` and report the back-orders fulfilled and their SKUs per ticket.

    ``audit=False`` leaves the audit event of the movements to the caller (to write it last).
    """
    why = why or Why(reason="restock")
    positive_int(quantity, "quantity")
    require_parts(session, [sku])
    if session.get(Stock, (sku, warehouse)) is None:
        if session.get(Warehouse, warehouse) is None:
            raise invalid("warehouse", f"unknown warehouse {warehouse!r}")
        session.add(Stock(sku=sku, warehouse=warehouse, available=0, reserved=0))
        session.flush()
    session.execute(update(Stock).where(Stock.sku == sku, Stock.warehouse == warehouse)
                    .values(available=Stock.available + quantity).execution_options(synchronize_session=False))
    result = RestockResult()
    moved = result.movements
    moved.append(record_movement(session, "goods_in", sku, warehouse, quantity, now, why))
    waiting = session.scalars(select(Backorder).where(
        Backorder.sku == sku, Backorder.warehouse == warehouse, Backorder.status == "open")
        .order_by(Backorder.created_at, Backorder.id)).all()
    for order in waiting:
        if not take(session, sku, warehouse, order.quantity):
            break  # first in, first out: later (smaller) orders do not overtake this one
        claimed = session.execute(update(Backorder).where(Backorder.id == order.id, Backorder.status == "open")
                                  .values(status="fulfilled", fulfilled_at=now)
                                  .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
        if not claimed:  # a concurrent restock or release got there first: undo our take
            unreserve(session, sku, warehouse, order.quantity, back_to_free=True)
            continue
        session.add(Reservation(ticket_number=order.ticket_number, sku=sku, warehouse=warehouse,
                                quantity=order.quantity, created_at=now))
        moved.append(record_movement(session, "reserve", sku, warehouse, order.quantity, now,
                                     Why(why.actor, f"back-order {order.id} fulfilled", why.reference),
                                     ticket=order.ticket_number))
        result.fulfilled.append(order.id)
        result.skus.setdefault(order.ticket_number, []).append(sku)
    if audit:
        audit_movements(session, moved, now, why.actor)
    session.flush()
    for ticket in sorted(result.skus):
        still_open = session.scalar(select(Backorder.id).where(
            Backorder.ticket_number == ticket, Backorder.status == "open").limit(1))
        if still_open is None:
            result.completed.append(ticket)
    return result


def restock_and_notify(session: Session, runtime: Runtime, sku: str, warehouse: str, quantity: int,
                       now: datetime, why: Why | None = None,
                       ledger: list[StockMovement] | None = None) -> dict[str, Any]:
    """Restock and deliver ``parts_arrived`` to every ticket now fully supplied, in one transaction.

    ``why`` says who books it in and the delivery's reference; ``ledger`` (if given) receives the
    movements written.
    """
    from engine.errors import MessageNotCorrelated

    why = why or Why(reason="restock")
    result = restock_detail(session, sku, warehouse, quantity, now, why, audit=False)
    delivered: dict[str, list[int]] = {}
    not_waiting: list[str] = []
    for ticket in result.completed:
        skus = sorted(set(result.skus[ticket]))
        try:
            with session.begin_nested():
                delivered[ticket] = runtime.deliver_message(session, "parts_arrived", ticket, {"skus": skus})
        except MessageNotCorrelated:
            not_waiting.append(ticket)  # nobody waits (yet): the reservation stands, the process reads it
    audit_movements(session, result.movements, now, why.actor)  # last: the stream's head is the last lock
    if ledger is not None:
        ledger.extend(result.movements)
    return {"completed": result.completed, "delivered": delivered, "not_waiting": not_waiting}


def stock_of(session: Session, sku: str) -> dict[str, tuple[int, int]]:
    """Return ``{warehouse: (available, reserved)}`` for one part."""
    rows = session.execute(select(Stock.warehouse, Stock.available, Stock.reserved).where(Stock.sku == sku))
    return {w: (a, r) for w, a, r in rows}


def load_parts(session: Session, data: dict[str, Any]) -> int:
    """Insert or update warehouses and parts; set stock only where there is none yet."""
    for item in data["warehouses"]:
        session.merge(Warehouse(code=item["code"], name=item["name"], region=item["region"],
                                priority=item["priority"]))
    session.flush()
    for item in data["parts"]:
        session.merge(Part(sku=item["sku"], name=item["name"], name_zh=item.get("name_zh", ""),
                           product_line=item["product_line"], price=to_money(item["price"], item["sku"]),
                           lead_time_days=item["lead_time_days"], reorder_point=item.get("reorder_point", 2)))
        session.flush()
        for code, quantity in item.get("stock", {}).items():
            if session.get(Stock, (item["sku"], code)) is None:
                session.add(Stock(sku=item["sku"], warehouse=code, available=quantity, reserved=0))
    session.flush()
    return len(data["parts"])
