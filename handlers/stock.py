"""The warehouse's own work: goods-in, count corrections, the RMA inbox and shipments back to customers.

Each action checks every field before it changes anything and names the field it refuses
(``InvalidInput(field=…)``); stock never goes below zero, not even for an instant: a
correction is one conditional ``UPDATE … WHERE available + change >= 0``. Every change of
stock is a ledger row (:class:`handlers.parts.StockMovement`), and every action an event of
the ``warehouse`` audit stream, written last in its transaction. A received device is
announced to its ticket with the ``device_received`` message when the process waits for
it (``dispatch.bpmn``, *Wait for the device*); the device is then due back to the customer
as a :class:`Shipment`, to the name and address the warehouse needs (``ROLE_SEES``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.audit import PendingEvent, write_system_event
from engine.db import Base
from engine.errors import (
    AftersalesError,
    Conflict,
    FieldError,
    FormValidationError,
    InvalidInput,
    MessageNotCorrelated,
    NotFound,
)
from engine.identity import Actor
from engine.message_contracts import Sender

from .dispatch import Rma
from .parts import (
    AUDIT_STREAM,
    Part,
    Stock,
    StockMovement,
    Warehouse,
    Why,
    audit_movements,
    held_reservations,
    record_movement,
    restock_and_notify,
    unreserve,
)
from .ticketing import Ticket

if TYPE_CHECKING:
    from engine.runtime import Runtime

#: the largest quantity one form may move (a typo of 10000 instead of 100 is refused)
MAX_QUANTITY = 9999
SHIPMENT_STATES = ("to_ship", "shipped")


class RmaReceipt(Base):
    """A device in the post that arrived: who booked it in, when, in what condition."""

    __tablename__ = "stock_rma_receipt"

    rma_number: Mapped[str] = mapped_column(String(40), primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(32), index=True)
    received_at: Mapped[datetime]
    received_by: Mapped[str] = mapped_column(String(64))
    condition: Mapped[str] = mapped_column(String(1000))
    process_notified: Mapped[bool]


class Shipment(Base):
    """A parcel back to a customer: where to, and once shipped, by which carrier and tracking number."""

    __tablename__ = "stock_shipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(32), index=True)
    rma_number: Mapped[str | None] = mapped_column(String(40))
    ship_to_name: Mapped[str] = mapped_column(String(120))
    ship_to_address: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="to_ship", index=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    carrier: Mapped[str] = mapped_column(String(60), default="")
    tracking_number: Mapped[str] = mapped_column(String(60), default="")
    shipped_at: Mapped[datetime | None]
    shipped_by: Mapped[str] = mapped_column(String(64), default="")


def refuse(kind: type[AftersalesError], field: str, text: str, **values: Any) -> AftersalesError:
    """Return the error for ``field``: an English template and its values, which pages translate."""
    return kind(text, params=values, field=field)


def text(value: Any, field: str, max_length: int, required: bool = True) -> str:
    """Return a form's text stripped; refuse it empty (when required) or too long, naming ``field``."""
    value = str(value or "").strip()
    if required and not value:
        raise refuse(InvalidInput, field, "This field is required.")
    if len(value) > max_length:
        raise refuse(InvalidInput, field, "At most {max} characters.", max=max_length)
    return value


def whole_number(value: Any, field: str, allow_negative: bool = False) -> int:
    """Return a form's whole number; refuse anything else, zero, or (unless allowed) a negative one."""
    raw = str(value if value is not None else "").strip()
    try:
        number = int(raw)
    except ValueError:
        raise refuse(InvalidInput, field, "Enter a whole number, not “{value}”.", value=raw) from None
    if number == 0 and allow_negative:
        raise refuse(InvalidInput, field, "Enter a change other than 0 (+ found, − missing).")
    if number < 1 and not allow_negative:
        raise refuse(InvalidInput, field, "Enter a whole number of at least 1, not {value}; stock never goes "
                     "below zero.", value=number)
    if abs(number) > MAX_QUANTITY:
        raise refuse(InvalidInput, field, "At most {max} in one movement.", max=MAX_QUANTITY)
    return number


def stock_place(session: Session, sku: Any, warehouse: Any) -> tuple[str, str]:
    """Return a known SKU and warehouse code; refuse an unknown one, naming the field."""
    sku = text(sku, "sku", 40).upper()
    code = text(warehouse, "warehouse", 16).upper()
    if session.get(Part, sku) is None:
        raise refuse(InvalidInput, "sku", "There is no part {sku} in the catalogue.", sku=sku)
    if session.get(Warehouse, code) is None:
        raise refuse(InvalidInput, "warehouse", "There is no warehouse {code}.", code=code)
    return sku, code


def _checked(refused: list[InvalidInput], check: Callable[[], Any]) -> Any:
    """Return what ``check`` returns, or None after adding its refusal to ``refused``."""
    try:
        return check()
    except InvalidInput as exc:
        refused.append(exc)
        return None


@dataclass
class GoodsIn:
    """What a goods-in did: the ledger rows and the tickets it released."""

    sku: str
    warehouse: str
    quantity: int
    movements: list[int]
    released: list[str]
    supplied_not_waiting: list[str]


def goods_in(session: Session, runtime: Runtime, form: dict[str, Any], actor: Actor, now: datetime) -> GoodsIn:
    """Book a delivery in: add stock, fulfil back-orders first in first out, send ``parts_arrived``."""
    refused: list[InvalidInput] = []  # every field's error in one round
    place = _checked(refused, lambda: stock_place(session, form.get("sku"), form.get("warehouse")))
    quantity = _checked(refused, lambda: whole_number(form.get("quantity"), "quantity"))
    reference = _checked(refused, lambda: text(form.get("reference"), "reference", 100))
    if refused:
        raise refused[0] if len(refused) == 1 else FormValidationError(
            "the goods-in form has {count} errors", [
                FieldError(str(e.details.get("field")), e.message, e.template or "", e.params) for e in refused],
            params={"count": len(refused)})
    sku, code = place
    ledger: list[StockMovement] = []
    result = restock_and_notify(session, runtime, sku, code, quantity, now,
                                Why(actor.username, "goods-in", reference), ledger)
    return GoodsIn(sku, code, quantity, [m.id for m in ledger], sorted(result["delivered"]),
                   sorted(result["not_waiting"]))


def adjust(session: Session, form: dict[str, Any], actor: Actor, now: datetime) -> StockMovement:
    """Correct a count by a signed change with a reason; refuse what would take free stock below zero."""
    sku, code = stock_place(session, form.get("sku"), form.get("warehouse"))
    change = whole_number(form.get("quantity"), "quantity", allow_negative=True)
    reason = text(form.get("reason"), "reason", 500)
    if session.get(Stock, (sku, code)) is None:
        if change < 0:
            raise refuse(InvalidInput, "quantity", "Only {available} of {sku} are available in {warehouse} "
                         "(reserved ones excluded): a change of {change} would take the stock below zero.",
                         available=0, sku=sku, warehouse=code, change=change)
        session.add(Stock(sku=sku, warehouse=code, available=0, reserved=0))
        session.flush()
    done = session.execute(update(Stock).where(Stock.sku == sku, Stock.warehouse == code,
                                               Stock.available + change >= 0)
                           .values(available=Stock.available + change).execution_options(synchronize_session=False))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        free = session.scalar(select(Stock.available).where(Stock.sku == sku, Stock.warehouse == code)) or 0
        raise refuse(InvalidInput, "quantity", "Only {available} of {sku} are available in {warehouse} "
                     "(reserved ones excluded): a change of {change} would take the stock below zero.",
                     available=free, sku=sku, warehouse=code, change=change)
    movement = record_movement(session, "adjust", sku, code, change, now, Why(actor.username, reason))
    audit_movements(session, [movement], now, actor.username)
    return movement


@dataclass
class Receipt:
    """What booking a device in did."""

    rma_number: str
    ticket: str
    process_notified: bool
    shipment_id: int


def receive_rma(session: Session, runtime: Runtime, rma_number: str, form: dict[str, Any], actor: Actor,
                now: datetime) -> Receipt:
    """Book in a device that arrived on an RMA; tell its process; make it due back to the customer."""
    rma = session.get(Rma, rma_number)
    if rma is None:
        raise refuse(NotFound, "rma", "There is no RMA {rma}.", rma=rma_number)
    condition = text(form.get("condition"), "condition", 1000)
    address = text(form.get("address"), "address", 300)
    if session.get(RmaReceipt, rma_number) is not None:
        raise refuse(Conflict, "rma", "RMA {rma} was received already.", rma=rma_number)
    ticket = session.scalars(select(Ticket).where(Ticket.number == rma.ticket_number)).first()
    payload = {"condition": condition, "received_by": actor.username}
    try:
        with session.begin_nested():
            runtime.deliver_message(session, "device_received", rma.ticket_number, payload,
                                    sender=Sender.acting(actor))
        notified = True
    except MessageNotCorrelated:
        notified = False  # the ticket no longer waits (cancelled, or booked in by another way): keep the record
    session.add(RmaReceipt(rma_number=rma_number, ticket_number=rma.ticket_number, received_at=now,
                           received_by=actor.username, condition=condition, process_notified=notified))
    shipment = Shipment(ticket_number=rma.ticket_number, rma_number=rma_number,
                        ship_to_name=ticket.customer.name[:120] if ticket else "", ship_to_address=address,
                        status="to_ship", created_at=now, created_by=actor.username)
    session.add(shipment)
    session.flush()
    write_system_event(session, PendingEvent("rma.received", actor.username, now, {
        "rma": rma_number, "ticket": rma.ticket_number, "condition": condition, "process_notified": notified,
        "shipment": shipment.id}), stream=AUDIT_STREAM)
    return Receipt(rma_number, rma.ticket_number, notified, shipment.id)


def ship(session: Session, shipment_id: int, form: dict[str, Any], actor: Actor, now: datetime) -> Shipment:
    """Mark a parcel shipped with its carrier and tracking number; book out the ticket's parts sent with it."""
    shipment = session.get(Shipment, shipment_id)
    if shipment is None:
        raise refuse(NotFound, "shipment", "There is no shipment {id}.", id=shipment_id)
    carrier = text(form.get("carrier"), "carrier", 60)
    tracking = text(form.get("tracking_number"), "tracking_number", 60)
    claimed = session.execute(update(Shipment).where(Shipment.id == shipment_id, Shipment.status == "to_ship")
                              .values(status="shipped", carrier=carrier, tracking_number=tracking, shipped_at=now,
                                      shipped_by=actor.username)
                              .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if not claimed:
        raise refuse(Conflict, "shipment", "Shipment {id} was shipped already.", id=shipment_id)
    moved: list[StockMovement] = []
    if form.get("include_parts"):
        why = Why(actor.username, f"sent to the customer with shipment {shipment_id}", tracking,
                  shipment.ticket_number)
        for reservation in sorted(held_reservations(session, shipment.ticket_number),
                                  key=lambda r: (r.sku, r.warehouse, r.id)):
            amount = reservation.held
            reservation.consumed += amount
            unreserve(session, reservation.sku, reservation.warehouse, amount, back_to_free=False)
            moved.append(record_movement(session, "ship", reservation.sku, reservation.warehouse, amount, now, why))
    session.flush()
    write_system_event(session, PendingEvent("shipment.shipped", actor.username, now, {
        "shipment": shipment_id, "ticket": shipment.ticket_number, "carrier": carrier, "tracking_number": tracking,
        "parts": [m.id for m in moved]}), stream=AUDIT_STREAM)
    audit_movements(session, moved, now, actor.username)
    session.refresh(shipment)
    return shipment
