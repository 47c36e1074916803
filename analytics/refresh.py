"""Keeping the KPI facts current: the facts of every instance that changed are rewritten.

An instance changed when its optimistic ``version`` differs from the one its facts were
computed from (``kpi_source``). The scan walks ``instance.updated_at`` from a watermark,
less a grace period for transactions that committed late, so a pass reads only what is
new. A ticket's facts come from its own instance's trail and from the instances of its
repeat contacts; work on a ticket is timed with :func:`engine.trace.runs_of`, the same
waiting/working split as the process owner's heatmap.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.db import Database, is_sqlite
from engine.models import AuditEvent, DeploymentFile, Instance, WorkItem
from engine.trace import Run, runs_of
from handlers.parts import Backorder, Part, Reservation
from handlers.sla import SlaClock
from handlers.survey import Response
from handlers.ticketing import Contact, Product, Ticket
from handlers.warranty import Model

from .facts import KpiSource, KpiState, KpiTask, KpiTicket, kpi_settings, period_keys, target_seconds
from .rollup import by_delta, roll_up, settings_key

GRACE = timedelta(minutes=10)
BATCH = 200
EVENT_KINDS = ("task.ready", "task.claimed", "task.unclaimed", "task.completed", "task.failed", "timer.fired")


def lock_state(session: Session, name: str) -> KpiState | None:
    """Take the bookmark row ``name`` for this transaction (None when another worker holds it)."""
    dialect = sqlite if is_sqlite(session) else postgresql
    session.execute(dialect.insert(KpiState).values(name=name, at=None).on_conflict_do_nothing())
    query = select(KpiState).where(KpiState.name == name)
    if not is_sqlite(session):
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query).one_or_none()


def _changed(session: Session, since: datetime | None, limit: int) -> list[Any]:
    query = (select(Instance.id, Instance.updated_at)
             .outerjoin(KpiSource, KpiSource.instance_id == Instance.id)
             .where(or_(KpiSource.version.is_(None), KpiSource.version != Instance.version)))
    if since is not None:
        query = query.where(Instance.updated_at >= since - GRACE)
    return list(session.execute(query.order_by(Instance.updated_at, Instance.id).limit(limit)))


def refresh(db: Database, now: datetime, batch: int = BATCH, max_batches: int = 25) -> int:
    """Rewrite the facts of instances changed since the last pass; return how many instances."""
    with db.transaction(write=False) as session:  # most passes find nothing: no write lock for them
        stale = session.get(KpiState, settings_key(kpi_settings(session))) is None
        if not stale and not _changed(session, session.scalar(select(KpiState.at).where(KpiState.name == "facts")),
                                      1):
            return 0
    if stale:  # roll-ups built with other settings or before a roll-up table existed: every day again
        with db.transaction() as session:
            if lock_state(session, "facts") is not None:
                roll_up(session, kpi_settings(session), None)
    done = 0
    for _ in range(max_batches):
        with db.transaction() as session:
            state = lock_state(session, "facts")
            if state is None:
                return done
            rows = _changed(session, state.at, batch)
            if rows:
                refresh_instances(session, [r.id for r in rows], now)
                newest = max(r.updated_at for r in rows)
                state.at = newest if state.at is None else max(state.at, newest)
            done += len(rows)
        if len(rows) < batch:
            break
    return done


# --- computing the facts ----------------------------------------------------------------------
@dataclass
class _Trail:
    """What the trail of one instance says, for the facts."""

    runs: list[Run]
    roles: dict[str, str]
    completed: dict[str, list[datetime]] = field(default_factory=dict)
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def human(self) -> list[Run]:
        """Return the runs of human tasks (those that were ever ready for someone)."""
        return [r for r in self.runs if r.ready_at is not None]


def _trails(session: Session, instance_ids: Iterable[int]) -> dict[int, _Trail]:
    events: dict[int, list[Any]] = defaultdict(list)
    rows = session.execute(select(AuditEvent.instance_id, AuditEvent.seq, AuditEvent.at, AuditEvent.actor,
                                  AuditEvent.kind, AuditEvent.task_id, AuditEvent.element_id, AuditEvent.data)
                           .where(AuditEvent.instance_id.in_(list(instance_ids)),
                                  AuditEvent.kind.in_(EVENT_KINDS))
                           .order_by(AuditEvent.instance_id, AuditEvent.seq))
    for row in rows:
        events[row.instance_id].append(row)
    trails = {}
    for instance_id, evs in events.items():
        trail = _Trail(runs_of(evs), {e.task_id: str((e.data or {}).get("role") or "none")
                                      for e in evs if e.kind == "task.ready"})
        for e in evs:
            if e.kind == "task.completed" and e.element_id:
                trail.completed.setdefault(e.element_id, []).append(e.at)
                if isinstance((e.data or {}).get("form"), dict):
                    trail.forms[e.element_id] = e.data["form"]
        trails[instance_id] = trail
    return trails


def _by_ticket(rows: Iterable[Any], key: str = "ticket_id") -> dict[Any, list[Any]]:
    out: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        out[getattr(row, key)].append(row)
    return out


def refresh_instances(session: Session, instance_ids: list[int], now: datetime) -> None:
    """Recompute the ticket and task facts of ``instance_ids`` (and of the tickets they touch)."""
    settings = kpi_settings(session)
    ids = set(instance_ids)
    tickets = session.execute(
        select(Ticket.id, Ticket.number, Ticket.instance_id, Ticket.channel, Ticket.fault, Ticket.status,
               Ticket.outcome, Ticket.opened_at, Ticket.closed_at, Product.model)
        .join(Product, Product.id == Ticket.product_id)
        .where(or_(Ticket.instance_id.in_(ids),
                   Ticket.id.in_(select(Contact.ticket_id).where(Contact.instance_id.in_(ids)))))).all()
    ticket_ids = [t.id for t in tickets]
    contacts = session.execute(select(Contact.ticket_id, Contact.instance_id, Contact.channel)
                               .where(Contact.ticket_id.in_(ticket_ids))).all()
    all_ids = ids | {t.instance_id for t in tickets} | {c.instance_id for c in contacts}
    instances = {i.id: i for i in session.execute(
        select(Instance.id, Instance.process_id, Instance.summary, Instance.version, Instance.started_at)
        .where(Instance.id.in_(all_ids)))}
    trails = _trails(session, all_ids)
    batch = _Batch(settings, now, _Context.load(session, tickets), trails, _by_ticket(contacts),
                   {task: role for trail in trails.values() for task, role in trail.roles.items()})
    facts = [batch.ticket_fact(t, instances.get(t.instance_id)) for t in tickets]
    _keep_process_stages(session, facts)
    owner = {t.instance_id: t.id for t in tickets} | {c.instance_id: c.ticket_id for c in contacts}
    by_id = {f["ticket_id"]: f for f in facts}
    tasks = [_task_fact(run, batch.roles.get(run.task_id, "none"), instance_id, instances[instance_id].process_id,
                        by_id.get(owner.get(instance_id, -1)))
             for instance_id, trail in trails.items() if instance_id in instances for run in trail.human]
    with by_delta(session, settings, ticket_ids, all_ids):  # the roll-ups less what these facts made, plus the new
        session.execute(delete(KpiTicket).where(KpiTicket.ticket_id.in_(ticket_ids)))
        session.execute(delete(KpiTask).where(KpiTask.instance_id.in_(all_ids)))
        if facts:
            session.execute(insert(KpiTicket), facts)
        if tasks:
            session.execute(insert(KpiTask), tasks)
    session.execute(delete(KpiSource).where(KpiSource.instance_id.in_(all_ids)))
    session.execute(insert(KpiSource), [{"instance_id": i, "version": instances[i].version, "refreshed_at": now}
                                         for i in instances])


EVENT_SUBPROCESS = re.compile(rb'<(?:\w+:)?subProcess\b[^>]*\btriggeredByEvent="true"[^>]*>')
NAME = re.compile(rb'\bname="([^"]*)"')
_event_names: dict[str, frozenset[str]] = {}


def event_subprocess_names(session: Session) -> frozenset[str]:
    """Return the names of the deployed processes' event subprocesses (SLA warning, repeat contact …):
    a task in one of them does not say which stage of the process the ticket is in."""
    rows = session.execute(select(DeploymentFile.sha256, DeploymentFile.content)
                           .where(DeploymentFile.path.like("%.bpmn"))).all()
    names: set[str] = set()
    for sha, content in rows:
        if sha not in _event_names:
            _event_names[sha] = frozenset(
                m.group(1).decode("utf-8") for tag in EVENT_SUBPROCESS.findall(bytes(content))
                if (m := NAME.search(tag)))
        names |= _event_names[sha]
    return frozenset(names)


def _keep_process_stages(session: Session, facts: list[dict[str, Any]]) -> None:
    """Give an open ticket whose first ready task is in an event subprocess the stage it is in: that
    of another of its open tasks, else the stage its facts had before, else none ("—")."""
    events = event_subprocess_names(session)
    stray = {f["instance_id"]: f for f in facts if f["stage"] in events}
    if not stray:
        return
    items = session.execute(select(WorkItem.instance_id, WorkItem.stage)
                            .where(WorkItem.instance_id.in_(list(stray))).order_by(WorkItem.created_at))
    before = dict(session.execute(select(KpiTicket.instance_id, KpiTicket.stage)
                                  .where(KpiTicket.instance_id.in_(list(stray)))).all())
    found: dict[int, str] = {}
    for instance_id, stage in items:
        if stage and stage not in events:
            found.setdefault(instance_id, stage)
    for instance_id, fact in stray.items():
        old = before.get(instance_id)
        fact["stage"] = found.get(instance_id) or (old if old and old not in events else "—")


@dataclass
class _Context:
    """The handler tables' rows behind a batch of tickets."""

    clocks: dict[int, dict[str, SlaClock]]
    surveys: dict[str, Any]
    parts: dict[str, tuple[bool, bool, float]]
    lines: dict[str, str]

    @classmethod
    def load(cls, session: Session, tickets: Sequence[Any]) -> _Context:
        """Read clocks, latest surveys, parts and product lines of ``tickets`` in a few queries."""
        numbers = [t.number for t in tickets]
        clocks: dict[int, dict[str, SlaClock]] = defaultdict(dict)
        for clock in session.scalars(select(SlaClock).where(SlaClock.instance_id.in_([t.instance_id
                                                                                      for t in tickets]))):
            clocks[clock.instance_id][clock.kind] = clock
        surveys = {r.ticket_number: r for r in session.execute(
            select(Response.ticket_number, Response.csat, Response.nps)
            .where(Response.ticket_number.in_(numbers)).order_by(Response.id))}
        cost = dict(session.execute(select(Reservation.ticket_number, func.sum(Reservation.consumed * Part.price))
                                    .join(Part, Part.sku == Reservation.sku)
                                    .where(Reservation.ticket_number.in_(numbers))
                                    .group_by(Reservation.ticket_number)).all())
        backordered = set(session.scalars(select(Backorder.ticket_number).where(Backorder.ticket_number.in_(numbers))))
        parts = {n: (True, n in backordered, float(cost.get(n) or 0)) for n in set(cost) | backordered}
        lines = dict(session.execute(select(Model.code, Model.product_line)
                                     .where(Model.code.in_({t.model for t in tickets}))).all())
        return cls(clocks, surveys, parts, lines)


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    return None if a is None or b is None else max(0.0, (b - a).total_seconds())


def _last(trail: _Trail | None, elements: list[str]) -> datetime | None:
    times = [t for e in elements for t in (trail.completed.get(e, []) if trail else [])]
    return max(times) if times else None


def _count(trail: _Trail | None, elements: list[str]) -> int:
    return sum(len(trail.completed.get(e, [])) for e in elements) if trail else 0


def _arrived(t: Any, instance: Any) -> datetime:
    """Return when the request arrived: its instance's start (a web or e-mail request may wait for
    registration, which opens the ticket), never after the ticket was opened."""
    started = instance.started_at if instance is not None else None
    return min(started, t.opened_at) if started is not None else t.opened_at


def _first_contact_resolution(t: Any, trail: _Trail | None, signals: dict[str, Any], reopened: int,
                              contacts: int) -> bool:
    """Resolved at the first contact: closed as resolved, ended at the first-contact signal, with no
    further contact, no reopening and the work ended once (not resolved again in a later round)."""
    return (t.status == "closed" and t.outcome == "resolved" and reopened == 0 and contacts <= 1
            and bool(_count(trail, signals["first_contact_resolution"]))
            and _count(trail, signals["resolution"]) <= 1)


def _clock_met(clock: SlaClock | None) -> bool | None:
    if clock is None:
        return None
    if clock.breached_at is not None or clock.status == "breached":
        return False
    return True if clock.status == "met" else None


@dataclass
class _Batch:
    """One refresh batch: settings, the handler rows and the trails of its instances."""

    settings: dict[str, Any]
    now: datetime
    ctx: _Context
    trails: dict[int, _Trail]
    contacts_of: dict[int, list[Any]]
    roles: dict[str, str]

    def ticket_fact(self, t: Any, instance: Any) -> dict[str, Any]:
        """Return the fact row of ticket ``t``."""
        signals = self.settings["signals"]
        summary = (instance.summary if instance is not None else None) or {}
        trail = self.trails.get(t.instance_id)
        clocks = self.ctx.clocks.get(t.instance_id, {})
        resolution = clocks.get("resolution")
        cancelled = t.outcome == "cancelled"  # work that never ended has no resolution time
        resolved = None if cancelled else _last(trail, signals["resolution"]) or t.closed_at
        paused = float(resolution.paused_seconds) if resolution is not None else 0.0
        gross = _seconds(t.opened_at, resolved)
        reopened = _count(trail, signals["reopen"])
        contacts = self.contacts_of.get(t.id, [])
        survey = self.ctx.surveys.get(t.number)
        qa = (trail.forms.get(signals["qa_score"]["element"], {}) if trail else {}).get(signals["qa_score"]["field"])
        parts_needed, backordered, parts_cost = self.ctx.parts.get(t.number, (False, False, 0.0))
        open_ = t.status != "closed"
        return {
            "ticket_id": t.id, "number": t.number, "instance_id": t.instance_id, "opened_at": t.opened_at,
            "closed_at": t.closed_at, **period_keys(t.opened_at), "channel": t.channel,
            "product_line": self.ctx.lines.get(t.model, "unknown"), "priority": summary.get("priority") or "unknown",
            "tier": summary.get("customer_tier") or "normal",
            "fault_category": summary.get("fault_category") or (t.fault or {}).get("category") or "unknown",
            "status": "open" if open_ else "closed", "outcome": t.outcome,
            "stage": (summary.get("stage") or "—") if open_ else None,
            **self._first_response(t, trail, clocks.get("response"), _arrived(t, instance)),
            "resolved_at": resolved, "paused_seconds": paused,
            "resolution_seconds": None if gross is None else max(0.0, gross - paused),
            "resolution_met": _clock_met(resolution),
            "sla_breached": any(_clock_met(c) is False for c in clocks.values()),
            "fcr": _first_contact_resolution(t, trail, signals, reopened, len(contacts)),
            "reopened": reopened, "contacts": max(1, len(contacts)),
            "csat": survey.csat if survey else None, "nps": survey.nps if survey else None,
            "qa_score": float(qa) if isinstance(qa, int | float) and not isinstance(qa, bool) else None,
            "parts_needed": parts_needed, "backordered": backordered, "parts_cost": parts_cost,
            **self._work_costs(t, trail, contacts), "refreshed_at": self.now,
        }

    def _first_response(self, t: Any, trail: _Trail | None, clock: SlaClock | None,
                        arrived: datetime) -> dict[str, Any]:
        """Time the first response from the moment the request arrived (registered or not yet): to the
        response clock's stop, else to the first human task after intake."""
        target = target_seconds(self.settings, "first_response_hours")
        if clock is not None:
            first = clock.stopped_at
            due = clock.due_at if clock.status == "running" else None
            met = _clock_met(clock)
        else:
            intake = self.settings["signals"]["intake"]
            first = min((r.completed_at for r in (trail.human if trail else []) if r.completed_at and r.ready_at
                         and r.ready_at >= t.opened_at and r.element_id not in intake), default=None)
            due = arrived + timedelta(seconds=target)
            met = None if first is None else (first - arrived).total_seconds() <= target
        return {"first_response_at": first, "first_response_seconds": _seconds(arrived, first),
                "response_due_at": due, "response_met": met}

    def _work_costs(self, t: Any, trail: _Trail | None, contacts: list[Any]) -> dict[str, float]:
        """Add up working time at each role's rate (repeat contacts' intake included) and channel handling."""
        costs = self.settings["costs"]
        rates, handling = costs["labour_per_hour"], costs["handling_per_contact"]
        human = [r for c in contacts if c.instance_id != t.instance_id and c.instance_id in self.trails
                 for r in self.trails[c.instance_id].human] + (trail.human if trail else [])
        default = rates.get("default", 0)
        labour = [(r.working_seconds or 0.0, float(rates.get(self.roles.get(r.task_id, "none"), default)))
                  for r in human]
        return {"labour_seconds": sum(s for s, _ in labour), "labour_cost": sum(s / 3600 * r for s, r in labour),
                "handling_cost": sum(float(handling.get(c.channel, handling.get("default", 0))) for c in contacts)}


def _task_fact(run: Run, role: str, instance_id: int, process_id: str,
               ticket: dict[str, Any] | None) -> dict[str, Any]:
    assert run.ready_at is not None
    moment = run.completed_at or run.ready_at
    return {"task_id": run.task_id, "instance_id": instance_id, "ticket_id": ticket["ticket_id"] if ticket else None,
            "process_id": process_id, "element_id": run.element_id, "name": run.name[:300], "role": role,
            "actor": run.actor if run.completed_at else None, "ready_at": run.ready_at,
            "claimed_at": run.claimed_at, "completed_at": run.completed_at,
            "waiting_seconds": run.waiting_seconds if run.completed_at or run.claimed_at else None,
            "working_seconds": run.working_seconds, **period_keys(moment),
            "channel": ticket["channel"] if ticket else None,
            "product_line": ticket["product_line"] if ticket else None,
            "priority": ticket["priority"] if ticket else None}

