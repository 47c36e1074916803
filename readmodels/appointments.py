"""What the technician's day and the supervisor's dispatch board read: visits, their customers,
parts held for them, their on-site tasks, and the windows that were missed.

A visit is a ``dispatch_assignment`` row that is open. Its window was *missed* when the
window has ended (by the engine's clock, passed in as ``now``) and the ticket's on-site task
(:data:`handlers.dispatch.ON_SITE_TASKS`) is still waiting to be done.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import store
from engine.errors import InvalidInput, NotFound
from engine.identity import Actor
from engine.models import WorkItem
from engine.privacy import mask_value, visible_categories
from handlers.dispatch import MANUAL_ASSIGNMENT, ON_SITE_TASKS, Assignment, Technician
from handlers.parts import Part, Reservation
from handlers.ticketing import Ticket
from handlers.values import business_timezone, local_date

from .tickets import find_ticket, instance_data

BOARD_DAYS = 7


@dataclass
class Visit:
    """One appointment as a page shows it (personal data already masked for the reader)."""

    id: int
    ticket: str
    technician: str
    starts_at: datetime
    ends_at: datetime
    missed: bool = False
    customer: str = ""
    phone: str | None = None
    address: str | None = None
    region: str | None = None
    product: str = ""
    fault: str = ""
    parts: list[tuple[str, str, str, int]] = field(default_factory=list)  # sku, name, name_zh, held
    task_id: str | None = None
    task_name: str | None = None


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Return the start and end of a business-calendar day as aware datetimes."""
    start = datetime.combine(day, time(0), business_timezone())
    return start, start + timedelta(days=1)


def parse_day(value: str | None, now: datetime) -> date:
    """Return the day asked for in a query string (YYYY-MM-DD), today when empty."""
    if not value:
        return local_date(now)
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput("day must be a date like 2026-03-02, got '{value}'",
                           field="day", params={"value": value[:20]}) from exc


def _on_site_tasks(session: Session, tickets: list[str]) -> dict[str, WorkItem]:
    if not tickets:
        return {}
    rows = session.scalars(select(WorkItem).where(WorkItem.business_key.in_(tickets),
                                                  WorkItem.element_id.in_(ON_SITE_TASKS)))
    return {w.business_key or "": w for w in rows}


def _visits(session: Session, query: Any, now: datetime) -> list[Visit]:
    rows = list(session.scalars(query.order_by(Assignment.starts_at, Assignment.id)))
    tasks = _on_site_tasks(session, sorted({r.ticket_number for r in rows}))
    out = []
    for r in rows:
        task = tasks.get(r.ticket_number)
        out.append(Visit(r.id, r.ticket_number, r.technician, r.starts_at, r.ends_at,
                         missed=task is not None and r.ends_at < now,
                         task_id=task.task_id if task else None, task_name=task.name if task else None))
    return out


def _open_between(start: datetime, end: datetime) -> Any:
    return select(Assignment).where(Assignment.status == "open", Assignment.starts_at < end,
                                    Assignment.ends_at > start)


def technicians(session: Session) -> dict[str, Technician]:
    """Return the active technicians by username, by region and username."""
    return {t.username: t for t in session.scalars(select(Technician).where(Technician.active.is_(True))
                                                   .order_by(Technician.region, Technician.username))}


def my_day(session: Session, specs: store.SpecCache, actor: Actor, technician: str, day: date,
           now: datetime) -> list[Visit]:
    """Return a technician's visits of ``day`` in time order, with customer, product, fault and parts."""
    if session.get(Technician, technician) is None:
        raise NotFound("there is no technician '{technician}'", field="tech", params={"technician": technician})
    start, end = day_bounds(day)
    visits = _visits(session, _open_between(start, end).where(Assignment.technician == technician), now)
    visible = visible_categories(actor.roles)
    for visit in visits:
        _describe(session, specs, visit, visible)
    return visits


def _describe(session: Session, specs: store.SpecCache, visit: Visit, visible: frozenset[str]) -> None:
    """Fill in the customer (masked as the reader must see it), product, fault and held parts."""
    ticket = session.scalars(select(Ticket).where(Ticket.number == visit.ticket)).first()
    if ticket is None:
        return
    data = instance_data(session, specs, find_ticket(session, visit.ticket))
    person = data.get("customer") if isinstance(data.get("customer"), dict) else {}

    def shown(kind: str, value: Any) -> Any:
        return value if value in (None, "") or kind in visible else mask_value(value)

    visit.customer = shown("name", person.get("name") or ticket.customer.name)
    visit.phone = shown("phone", person.get("phone") or ticket.customer.phone)  # as the customer gave it
    visit.address = shown("address", person.get("address")) or None
    visit.region = person.get("region")
    visit.product = f"{ticket.product.model} · {ticket.product.serial_number}"
    visit.fault = str((ticket.fault or {}).get("description", ""))
    held = session.execute(select(Reservation.sku, Part.name, Part.name_zh,
                                  func.sum(Reservation.quantity - Reservation.consumed - Reservation.released))
                           .join(Part, Part.sku == Reservation.sku).where(Reservation.ticket_number == visit.ticket)
                           .group_by(Reservation.sku, Part.name, Part.name_zh).order_by(Reservation.sku))
    visit.parts = [(sku, name, name_zh, int(n)) for sku, name, name_zh, n in held if n and n > 0]


@dataclass
class Board:
    """A week of technicians × days: visits per cell, open load per technician, missed windows."""

    days: list[date]
    technicians: list[Technician]
    cells: dict[tuple[str, date], list[Visit]]
    load: dict[str, int]
    missed: list[Visit]
    on_leave: dict[tuple[str, date], bool]
    waiting: list[WorkItem] = field(default_factory=list)

    @property
    def movable(self) -> list[Visit]:
        """Return every visit the board can move: this week's and the missed ones, once each, in time order."""
        seen = {v.id: v for cell in self.cells.values() for v in cell}
        seen.update({v.id: v for v in self.missed})
        return sorted(seen.values(), key=lambda v: (v.starts_at, v.id))


def dispatch_board(session: Session, first: date, now: datetime, days: int = BOARD_DAYS) -> Board:
    """Return the dispatch board from ``first`` for ``days`` days, and every missed window."""
    dates = [first + timedelta(days=i) for i in range(days)]
    techs = list(technicians(session).values())
    start, _ = day_bounds(dates[0])
    _, end = day_bounds(dates[-1])
    cells: dict[tuple[str, date], list[Visit]] = {}
    for visit in _visits(session, _open_between(start, end), now):
        cells.setdefault((visit.technician, local_date(visit.starts_at)), []).append(visit)
    load = {t.username: sum(len(cells.get((t.username, d), [])) for d in dates) for t in techs}
    leave = {(t.username, d): any(date.fromisoformat(p["from"]) <= d <= date.fromisoformat(p["to"])
                                  for p in t.leave) for t in techs for d in dates}
    waiting = list(session.scalars(select(WorkItem).where(WorkItem.element_id == MANUAL_ASSIGNMENT)
                                   .order_by(WorkItem.created_at, WorkItem.task_id)))
    return Board(dates, techs, cells, load, missed_visits(session, now), leave, waiting)


def missed_visits(session: Session, now: datetime) -> list[Visit]:
    """Return the open visits whose window has ended while their on-site task still waits."""
    query = select(Assignment).where(Assignment.status == "open", Assignment.ends_at < now)
    return [v for v in _visits(session, query, now) if v.missed]


def visit(session: Session, visit_id: int) -> Visit:
    """Return one open visit."""
    row = session.get(Assignment, visit_id)
    if row is None or row.status != "open":
        raise NotFound("visit {visit_id} is not open", field="visit", params={"visit_id": visit_id})
    return Visit(row.id, row.ticket_number, row.technician, row.starts_at, row.ends_at)


def ticket_of_task(session: Session, task_id: str) -> str:
    """Return the ticket number of a ready task (refused when the task has none)."""
    item = session.get(WorkItem, task_id)
    if item is None:
        raise NotFound("task {task_id} is not waiting for anyone", task=task_id, params={"task_id": task_id})
    if not item.business_key:
        raise InvalidInput("task '{name}' belongs to no ticket; a photo needs one",
                           field="photo", params={"name": item.name})
    return item.business_key
