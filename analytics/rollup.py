"""Daily roll-ups of the KPI facts: what the dashboard sums instead of the tickets themselves.

A figure over a quarter of a million-ticket year would scan a quarter million facts;
its roll-up is at most (days × channels × product lines × priorities) rows, however many
tickets there are. The counters are those of :mod:`analytics.queries` that do not
depend on the moment they are read (what does — a response overdue *now*, a ticket open
longer than the target *now*, the backlog by priority and stage — is counted per hour it falls due in,
:mod:`analytics.overdue`, :mod:`analytics.backlog`). Each refresh
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

from sqlalchemy import Date, String, delete, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base

from .backlog import rebuild as rebuild_backlog
from .counters import COUNTERS, RESOLUTION_EDGES, RESPONSE_EDGES, counter_columns, ticket_counters
from .daily import PAIRS, rebuild
from .facts import KpiState, KpiTask, KpiTicket, target_seconds
from .histogram import EDGES
from .overdue import rebuild as rebuild_open

__all__ = ["COUNTERS", "RESOLUTION_EDGES", "RESPONSE_EDGES", "KpiDaily", "KpiDailyTeam", "KpiTaskDaily", "days_of",
           "roll_up", "settings_key"]

T, K = KpiTicket, KpiTask
DIMS = ("channel", "product_line", "priority")


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
    **counter_columns()})
KpiDailyTeam = type("KpiDailyTeam", (_Periods, Base), {
    "__tablename__": "kpi_daily_team", "__doc__": "The same counters over the tickets one team worked on.",
    "team": mapped_column(String(64), primary_key=True), **counter_columns()})


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


#: the roll-up tables besides the cube (a new one, new buckets or new pairs rebuild every day once)
TABLES = ("kpi_day", "kpi_task_day", "kpi_histogram", "kpi_open", "kpi_backlog")


def settings_key(settings: dict[str, Any]) -> str:
    """Return the state name that says the roll-ups were built with these settings."""
    relevant = json.dumps({"over": target_seconds(settings, "resolution_hours"), "tables": TABLES,
                           "edges": EDGES, "pairs": sorted(PAIRS.values())}, sort_keys=True)
    return "rollup:" + hashlib.sha256(relevant.encode()).hexdigest()[:16]


def cube_selects(settings: dict[str, Any], chosen: list[date] | None) -> list[tuple[Any, list[str], Any]]:
    """Return each cube table with the columns it fills and the SELECT that counts them from the facts (of
    the days ``chosen``, or all)."""
    counters = ticket_counters(target_seconds(settings, "resolution_hours"))
    periods = [T.day, T.week, T.month, T.quarter, T.channel, T.product_line, T.priority]
    worked = select(K.ticket_id, K.role).where(K.ticket_id.is_not(None))
    if chosen is not None:  # only the tasks of the tickets of those days (an index on ticket_id, role)
        worked = worked.where(K.ticket_id.in_(select(T.ticket_id).where(T.day.in_(chosen))))
    teams = worked.distinct().subquery()
    task_periods = [K.day, K.week, K.month, K.quarter, func.coalesce(K.channel, "—"),
                    func.coalesce(K.product_line, "—"), func.coalesce(K.priority, "—")]
    out: list[tuple[Any, list[str], Any]] = [
        (KpiDaily, [*(c.key for c in periods), *counters], select(*periods, *counters.values()).group_by(*periods)),
        (KpiDailyTeam, [*(c.key for c in periods), "team", *counters],
         select(*periods, teams.c.role, *counters.values()).join(teams, teams.c.ticket_id == T.ticket_id)
         .group_by(*periods, teams.c.role)),
        (KpiTaskDaily, ["day", "week", "month", "quarter", *DIMS, "element_id", "role", "name", "runs",
                        "waiting_runs", "waiting_seconds", "working_seconds"],
         select(*task_periods, K.element_id, K.role, func.max(K.name), func.count(), func.count(K.waiting_seconds),
                func.coalesce(func.sum(K.waiting_seconds), 0.0), func.coalesce(func.sum(K.working_seconds), 0.0))
         .where(K.completed_at.is_not(None)).group_by(*task_periods, K.element_id, K.role))]
    if chosen is None:
        return out
    return [(table, names, query.where((K.day if table is KpiTaskDaily else T.day).in_(chosen)))
            for table, names, query in out]


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
    for table, names, query in cube_selects(settings, chosen):
        wipe = delete(table)
        if chosen is not None:
            wipe = wipe.where(table.day.in_(chosen))
        session.execute(wipe)
        session.execute(insert(table).from_select(names, query))
    rebuild(session, chosen, KpiDaily, KpiDailyTeam, KpiTaskDaily)
    rebuild_open(session, settings, chosen)
    rebuild_backlog(session, settings, chosen)


def days_of(session: Session, ticket_ids: Iterable[int], instance_ids: Iterable[int]) -> set[date]:
    """Return the days the facts of these tickets and these instances' tasks fall on now."""
    tickets, instances = list(ticket_ids), list(instance_ids)
    days = set(session.scalars(select(T.day).where(T.ticket_id.in_(tickets)).distinct())) if tickets else set()
    if instances:
        days |= set(session.scalars(select(K.day).where(K.instance_id.in_(instances)).distinct()))
    return days
