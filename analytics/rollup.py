"""Daily roll-ups of the KPI facts: what the dashboard sums instead of the tickets themselves.

A figure over a quarter of a million-ticket year would scan a quarter million facts;
its roll-up is at most (days × channels × product lines × priorities) rows, however many
tickets there are. The counters are those of :mod:`analytics.queries` that do not
depend on the moment they are read (what does — a response overdue *now*, a ticket open
longer than the target *now* — is counted live among the open tickets). Each refresh
batch rebuilds the days its tickets and tasks fall on, in the same transaction, with
one ``INSERT … SELECT … GROUP BY`` per table; a change of the settings that counters
depend on rebuilds every day.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Date, Float, Integer, String, case, delete, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base

from .facts import KpiState, KpiTask, KpiTicket, target_seconds

T, K = KpiTicket, KpiTask
DIMS = ("channel", "product_line", "priority")
RESOLUTION_EDGES = (4, 8, 24, 48, 72, 168)
RESPONSE_EDGES = (1, 4, 8, 24, 48)


def _count(cond: Any) -> Any:
    return func.sum(case((cond, 1), else_=0))


def ticket_counters(over_target_seconds: float) -> dict[str, Any]:
    """Return the roll-up's columns as aggregates over ``kpi_ticket`` (name → expression)."""
    resolved_ok = (T.status == "closed") & (T.outcome == "resolved")
    counters: dict[str, Any] = {
        "tickets": func.count(), "open": _count(T.status == "open"), "closed": _count(T.status == "closed"),
        "responded": _count(T.first_response_at.is_not(None)), "response_met": _count(T.response_met.is_(True)),
        "response_failed": _count(T.response_met.is_(False)), "resolved": _count(T.resolution_seconds.is_not(None)),
        "over_target": _count(T.resolution_seconds > over_target_seconds),
        "resolution_met": _count(T.resolution_met.is_(True)),
        "resolution_missed": _count(T.resolution_met.is_(False)), "resolved_ok": _count(resolved_ok),
        "fcr": _count(resolved_ok & T.fcr.is_(True)), "repeat": _count(T.contacts > 1),
        "parts": _count(T.parts_needed.is_(True)), "backordered": _count(T.backordered.is_(True)),
        "qa_reviewed": _count(T.qa_score.is_not(None)), "breached": _count(T.sla_breached.is_(True)),
        "reopened": _count(T.reopened > 0),
        "response_seconds": func.coalesce(func.sum(T.first_response_seconds), 0.0),
        "resolution_seconds": func.coalesce(func.sum(T.resolution_seconds), 0.0),
        "repeat_contacts": func.coalesce(func.sum(T.contacts - 1), 0),
        "qa_total": func.coalesce(func.sum(T.qa_score), 0.0),
        "labour_cost": func.coalesce(func.sum(T.labour_cost), 0.0),
        "parts_cost": func.coalesce(func.sum(T.parts_cost), 0.0),
        "handling_cost": func.coalesce(func.sum(T.handling_cost), 0.0),
    }
    counters |= {f"csat_{n}": _count(T.csat == n) for n in range(1, 6)}
    counters |= {f"nps_{n}": _count(T.nps == n) for n in range(0, 11)}
    counters |= _buckets("res", T.resolution_seconds, RESOLUTION_EDGES)
    counters |= _buckets("resp", T.first_response_seconds, RESPONSE_EDGES)
    return counters


def _buckets(prefix: str, column: Any, edges: tuple[int, ...]) -> dict[str, Any]:
    bounds = [None, *edges, None]
    out = {}
    for i, (low, high) in enumerate(zip(bounds, bounds[1:], strict=False)):
        cond = column.is_not(None)
        if low is not None:
            cond = cond & (column >= low * 3600)
        if high is not None:
            cond = cond & (column < high * 3600)
        out[f"{prefix}_{i}"] = _count(cond)
    return out


SUMS = {"response_seconds", "resolution_seconds", "qa_total", "labour_cost", "parts_cost", "handling_cost"}
COUNTERS = tuple(ticket_counters(0.0))


def _columns() -> dict[str, Any]:
    return {name: (mapped_column(Float, default=0.0) if name in SUMS else mapped_column(Integer, default=0))
            for name in COUNTERS}


class _Periods:
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    week: Mapped[date] = mapped_column(Date, index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    quarter: Mapped[str] = mapped_column(String(7), index=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    product_line: Mapped[str] = mapped_column(String(32), primary_key=True)
    priority: Mapped[str] = mapped_column(String(16), primary_key=True)


KpiDaily = type("KpiDaily", (_Periods, Base), {
    "__tablename__": "kpi_daily", "__doc__": "The ticket counters of one business day and one channel, line, priority.",
    **_columns()})
KpiDailyTeam = type("KpiDailyTeam", (_Periods, Base), {
    "__tablename__": "kpi_daily_team", "__doc__": "The same counters over the tickets one team worked on.",
    "team": mapped_column(String(64), primary_key=True), **_columns()})


class KpiTaskDaily(_Periods, Base):
    """Runs, waiting and working time of one task type on one day (completed tasks)."""

    __tablename__ = "kpi_task_daily"

    element_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    runs: Mapped[int]
    waiting_runs: Mapped[int]
    waiting_seconds: Mapped[float]
    working_seconds: Mapped[float]


def settings_key(settings: dict[str, Any]) -> str:
    """Return the state name that says the roll-ups were built with these settings."""
    relevant = json.dumps({"over": target_seconds(settings, "resolution_hours")}, sort_keys=True)
    return "rollup:" + hashlib.sha256(relevant.encode()).hexdigest()[:16]


def roll_up(session: Session, settings: dict[str, Any], days: Iterable[date] | None) -> None:
    """Rebuild the roll-ups of ``days`` (every day when None) from the facts."""
    key = settings_key(settings)
    if session.get(KpiState, key) is None:  # built with other settings (or never): rebuild them all
        session.execute(delete(KpiState).where(KpiState.name.like("rollup:%")))
        session.add(KpiState(name=key, at=None))
        days = None
    chosen = None if days is None else sorted(set(days))
    if chosen is not None and not chosen:
        return
    counters = ticket_counters(target_seconds(settings, "resolution_hours"))
    periods = [T.day, T.week, T.month, T.quarter, T.channel, T.product_line, T.priority]
    worked = select(K.ticket_id, K.role).where(K.ticket_id.is_not(None))
    if chosen is not None:  # only the tasks of the tickets of those days (an index on ticket_id, role)
        worked = worked.where(K.ticket_id.in_(select(T.ticket_id).where(T.day.in_(chosen))))
    teams = worked.distinct().subquery()
    task_periods = [K.day, K.week, K.month, K.quarter, func.coalesce(K.channel, "—"),
                    func.coalesce(K.product_line, "—"), func.coalesce(K.priority, "—")]
    for table, day_column in ((KpiDaily, T.day), (KpiDailyTeam, T.day), (KpiTaskDaily, K.day)):
        wipe = delete(table)
        if chosen is not None:
            wipe = wipe.where(table.day.in_(chosen))  # type: ignore[attr-defined]
        session.execute(wipe)
        if table is KpiDaily:
            query = select(*periods, *counters.values()).group_by(*periods)
            names = [*(c.key for c in periods), *counters]
        elif table is KpiDailyTeam:
            query = (select(*periods, teams.c.role, *counters.values()).join(teams, teams.c.ticket_id == T.ticket_id)
                     .group_by(*periods, teams.c.role))
            names = [*(c.key for c in periods), "team", *counters]
        else:
            query = (select(*task_periods, K.element_id, K.role, func.max(K.name), func.count(),
                            func.count(K.waiting_seconds), func.coalesce(func.sum(K.waiting_seconds), 0.0),
                            func.coalesce(func.sum(K.working_seconds), 0.0))
                     .where(K.completed_at.is_not(None)).group_by(*task_periods, K.element_id, K.role))
            names = ["day", "week", "month", "quarter", *DIMS, "element_id", "role", "name", "runs", "waiting_runs",
                     "waiting_seconds", "working_seconds"]
        if chosen is not None:
            query = query.where(day_column.in_(chosen))
        session.execute(insert(table).from_select(names, query))


def days_of(session: Session, ticket_ids: Iterable[int], instance_ids: Iterable[int]) -> set[date]:
    """Return the days the facts of these tickets and these instances' tasks fall on now."""
    tickets, instances = list(ticket_ids), list(instance_ids)
    days = set(session.scalars(select(T.day).where(T.ticket_id.in_(tickets)).distinct())) if tickets else set()
    if instances:
        days |= set(session.scalars(select(K.day).where(K.instance_id.in_(instances)).distinct()))
    return days
