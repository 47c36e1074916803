"""Lists of tickets with filters: state, stage, priority, channel, assignee, SLA, dates, product.

Every filter is SQL on the instance row (its ``summary`` holds stage, priority and channel)
and on the rows beside it (open work items, SLA clocks, the ticketing handler's product),
so a page of 50 or an export of thousands costs one query; customers' names are masked
for roles that do not see them (``engine.privacy.ROLE_SEES``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.identity import Actor
from engine.models import Instance, WorkItem
from engine.privacy import mask_value, sees
from handlers import ticketing as tk
from handlers.sla import SlaClock

from .tasklist import escape_like

STATES = ("active", "incident", "completed", "cancelled")
SLA_FILTERS = ("breached", "at_risk")
SUMMARY_FILTERS = ("stage", "priority", "channel")


@dataclass(frozen=True)
class TicketFilter:
    """One ticket list request: filters, page and page size."""

    state: str | None = None
    stage: str | None = None
    priority: str | None = None
    channel: str | None = None
    assignee: str | None = None
    sla: str | None = None  # breached | at_risk
    opened_from: datetime | None = None
    opened_before: datetime | None = None
    product: str | None = None
    page: int = 1
    per_page: int = 50

    def check(self) -> None:
        """Refuse a filter value no ticket can have, naming the filter."""
        if self.state and self.state not in STATES:
            raise InvalidInput("state: choose one of {states}", field="state", params={"states": ", ".join(STATES)})
        if self.sla and self.sla not in SLA_FILTERS:
            raise InvalidInput("sla: choose one of {sla_filters}",
                               field="sla", params={"sla_filters": ", ".join(SLA_FILTERS)})
        if self.opened_from and self.opened_before and self.opened_before <= self.opened_from:
            raise InvalidInput("opened_to: the end date is before the start date", field="opened_to")


@dataclass
class TicketRow:
    """One ticket in a list."""

    key: str
    instance_id: int
    status: str
    stage: str
    priority: str
    channel: str
    customer: str
    product: str
    assignees: list[str]
    opened_at: datetime
    sla_due: datetime | None
    breached: bool


@dataclass
class TicketListPage:
    """A page of tickets and how many match in all."""

    rows: list[TicketRow]
    total: int


def _conditions(f: TicketFilter, now: datetime, soon: timedelta) -> list[Any]:
    where: list[Any] = [Instance.business_key.is_not(None)]
    if f.state:
        where.append(Instance.status == f.state)
    for name in SUMMARY_FILTERS:
        value = getattr(f, name)
        if value:
            where.append(Instance.summary[name].as_string() == value)
    if f.assignee:
        where.append(exists().where(WorkItem.instance_id == Instance.id, WorkItem.assignee == f.assignee))
    if f.sla == "breached":
        where.append(exists().where(SlaClock.instance_id == Instance.id, or_(
            SlaClock.status == "breached", and_(SlaClock.status == "running", SlaClock.due_at < now))))
    elif f.sla == "at_risk":
        where.append(exists().where(SlaClock.instance_id == Instance.id, SlaClock.status == "running",
                                    SlaClock.due_at >= now,
                                    or_(SlaClock.warn_at <= now, SlaClock.due_at < now + soon)))
    if f.opened_from:
        where.append(Instance.started_at >= f.opened_from)
    if f.opened_before:
        where.append(Instance.started_at < f.opened_before)
    if f.product:
        like = f"%{escape_like(f.product.lower())}%"
        where.append(exists().where(
            tk.Ticket.number == Instance.business_key, tk.Product.id == tk.Ticket.product_id,
            or_(func.lower(tk.Product.model).like(like, escape="\\"),
                func.lower(tk.Product.serial_number).like(like, escape="\\"))))
    return where


def list_tickets(session: Session, actor: Actor, f: TicketFilter, now: datetime, soon_seconds: int = 4 * 3600,
                 everything: bool = False) -> TicketListPage:
    """Return one page (or, with ``everything``, up to 10 000) of the tickets matching ``f``, newest first."""
    f.check()
    where = _conditions(f, now, timedelta(seconds=soon_seconds))
    total = session.scalar(select(func.count()).select_from(Instance).where(*where)) or 0
    query = select(Instance.id, Instance.business_key, Instance.status, Instance.summary, Instance.started_at)\
        .where(*where).order_by(Instance.started_at.desc(), Instance.id.desc())
    query = query.limit(10_000) if everything else query.offset((f.page - 1) * f.per_page).limit(f.per_page)
    found = session.execute(query).all()
    ids = [r.id for r in found]
    keys = [r.business_key for r in found]
    assignees: dict[int, list[str]] = {}
    for instance_id, who in session.execute(select(WorkItem.instance_id, WorkItem.assignee)
                                            .where(WorkItem.instance_id.in_(ids), WorkItem.assignee.is_not(None))):
        assignees.setdefault(instance_id, []).append(who)
    clocks: dict[int, tuple[datetime | None, bool]] = {}
    for clock in session.scalars(select(SlaClock).where(SlaClock.instance_id.in_(ids))):
        due, breached = clocks.get(clock.instance_id, (None, False))
        if clock.status == "running" and clock.due_at and (due is None or clock.due_at < due):
            due = clock.due_at
        clocks[clock.instance_id] = (due, breached or clock.status == "breached"
                                     or bool(clock.status == "running" and clock.due_at and clock.due_at < now))
    people = {t.number: t for t in session.scalars(select(tk.Ticket).where(tk.Ticket.number.in_(keys)))}
    shows_names = "name" in sees(actor)
    rows = []
    for r in found:
        summary = r.summary or {}
        ticket = people.get(r.business_key)
        name = ticket.customer.name if ticket else ""
        due, breached = clocks.get(r.id, (None, False))
        rows.append(TicketRow(
            key=r.business_key, instance_id=r.id, status=r.status, stage=str(summary.get("stage") or ""),
            priority=str(summary.get("priority") or ""), channel=str(summary.get("channel") or ""),
            customer=name if shows_names or not name else str(mask_value(name)),
            product=f"{ticket.product.model} {ticket.product.serial_number}".strip() if ticket else "",
            assignees=sorted(set(assignees.get(r.id, []))), opened_at=r.started_at, sla_due=due, breached=breached))
    return TicketListPage(rows, total)


def ticket_choices(session: Session) -> dict[str, list[str]]:
    """Return the values the ticket list's filters offer: stages, priorities, channels and assignees seen."""
    choices: dict[str, list[str]] = {}
    for name in SUMMARY_FILTERS:
        column = Instance.summary[name].as_string()
        values = session.scalars(select(column).where(column.is_not(None)).distinct().limit(100))
        choices[name] = sorted(v for v in values if v)
    choices["assignee"] = sorted(v for v in session.scalars(
        select(WorkItem.assignee).where(WorkItem.assignee.is_not(None)).distinct().limit(200)) if v)
    return choices
