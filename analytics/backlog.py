"""The backlog — open tickets now by priority and stage, and how many of them are over the resolution
target — read from counters kept as the facts are written, not counted among the open tickets.

:class:`KpiBacklog` counts the open tickets per dimension value (``dim`` ``all``: every ticket; the pairs of
:data:`analytics.daily.PAIRS` too), business day opened, priority, stage and the hour the ticket goes over
the resolution target in (an epoch hour number; :data:`NEVER` for an open ticket whose resolution is
already recorded). It is kept with the roll-ups by the difference a refresh batch's tickets make
(:func:`analytics.rollup.by_delta`) in the transaction that wrote the facts, or rebuilt (:func:`rebuild`).
At a moment ``now`` the open tickets are the sum of the counts, those
over target the counts of the hours already past plus the tickets going over in the current hour before
``now``, counted from the facts by the index of the moment opened: exact, however long the backlog. A
filter on three dimensions or more is counted from the facts (:func:`backlog` returns None).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Index, Integer, String, case, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base
from handlers.dispatch import PRIORITIES

from .daily import ALL, DIMS, PAIRS, answering_rows
from .facts import KpiTicket
from .overdue import dimension_sql, epoch_hour, going_late_this_hour, hour_sql, recount, refill, restriction

T = KpiTicket
#: the hour of an open ticket that never goes over the target (its resolution is recorded)
NEVER = 2_000_000_000
COLUMNS = ("dim", "value", "day", "priority", "stage", "hour", "n")


class KpiBacklog(Base):
    """How many open tickets of one business day, dimension value, priority and stage go over the resolution
    target in one hour (``stage`` ``''``: none)."""

    __tablename__ = "kpi_backlog"
    __table_args__ = (Index("ix_kpi_backlog_day", "day"),)

    dim: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    priority: Mapped[str] = mapped_column(String(16), primary_key=True)
    stage: Mapped[str] = mapped_column(String(200), primary_key=True)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


def counting(sqlite: bool, over_seconds: float, dim: str, within: str | None) -> str:
    """Return the SQL that counts the open tickets for one dimension from the facts (of the days
    ``:open_days`` or the tickets ``:open_tickets``, :func:`analytics.overdue.restriction`) — the columns of
    :data:`COLUMNS`."""
    over = hour_sql(sqlite, "f.opened_at", int(round(over_seconds)))
    hour = f"CASE WHEN f.resolution_seconds IS NULL THEN {over} ELSE {NEVER} END"
    conds = ["f.status = 'open'", *restriction(within)]
    join, value = dimension_sql(dim, within)
    keys = ", ".join([*([] if dim == ALL else [value]), "f.day", "f.priority", "COALESCE(f.stage, '')", hour])
    return (f"SELECT '{dim}' AS dim, {value} AS value, f.day AS day, f.priority AS priority, "
            f"COALESCE(f.stage, '') AS stage, {hour} AS hour, COUNT(*) AS n "
            f"FROM kpi_ticket f{join} WHERE {' AND '.join(conds)} GROUP BY {keys}")


def _selects(sqlite: bool, over: float, within: str | None) -> list[str]:
    return [counting(sqlite, over, dim, within) for dim in (ALL, *DIMS, *PAIRS.values())]


#: how a batch's open tickets are counted into :class:`KpiBacklog` (:func:`analytics.overdue.recount_together`)
PART = (_selects, COLUMNS)


def recounted(session: Session, settings: dict[str, Any], days: list[date] | None,
              tickets: list[int] | None = None) -> list[dict[str, Any]]:
    """Return the rows :class:`KpiBacklog` should hold for ``days`` (or all), counted from the facts (only those
    of ``tickets`` when given: what they add to the table)."""
    return recount(session, settings, days, _selects, tickets)


def rebuild(session: Session, settings: dict[str, Any], days: Iterable[date] | None) -> None:
    """Recount the open tickets of ``days`` (every day when None) into :class:`KpiBacklog`, one ``INSERT …
    SELECT … GROUP BY`` per dimension."""
    refill(session, settings, days, KpiBacklog, COLUMNS, _selects)


def backlog(session: Session, settings: dict[str, Any], now: datetime, flt: Any) -> list[dict[str, Any]] | None:
    """Return the filter's open tickets at ``now`` by priority and stage, with how many are over the resolution
    target (its dimensions only: the date range does not filter), or None when the filter names three
    dimensions or more (count those from the facts)."""
    rows = answering_rows(KpiBacklog, replace(flt, start=None, end=None))
    if rows is None:
        return None
    B, hour = KpiBacklog, epoch_hour(now)
    counts: dict[tuple[str, str | None], list[int]] = defaultdict(lambda: [0, 0])
    for priority, stage, n, past in session.execute(
            select(B.priority, B.stage, func.sum(B.n), func.sum(case((B.hour < hour, B.n), else_=0)))
            .where(*rows[0]).group_by(B.priority, B.stage)):
        counts[(priority, stage or None)] = [int(n or 0), int(past or 0)]
    for priority, stage, n in _this_hour(session, settings, now, flt):
        counts[(priority, stage or None)][1] += int(n)
    return ordered({k: v for k, v in counts.items() if v[0]})


def _this_hour(session: Session, settings: dict[str, Any], now: datetime, flt: Any) -> list[Any]:
    """Count from the facts the filter's open tickets going over the target in the current hour, before
    ``now``, by priority and stage."""
    from .queries import ticket_conditions  # the filter's own conditions (queries imports this module)

    return list(session.execute(
        select(T.priority, T.stage, func.count())
        .where(T.status == "open", going_late_this_hour(settings, now), *ticket_conditions(flt, dated=False))
        .group_by(T.priority, T.stage)))


def by_urgency(priority: str | None) -> tuple[int, str]:
    """Sort priorities as staff read them: urgent, high, medium, low, then any other by name, none last."""
    rank = PRIORITIES.index(priority) if priority in PRIORITIES else len(PRIORITIES) + (priority is None)
    return rank, priority or ""


def ordered(counts: dict[tuple[str, str | None], list[int]]) -> list[dict[str, Any]]:
    """Return the backlog's rows from ``{(priority, stage): [open, over target]}``, by urgency then stage (no
    stage first), on every database alike."""
    return [{"priority": p, "stage": s, "open": n, "open_over_target": o}
            for (p, s), (n, o) in sorted(counts.items(), key=lambda kv: (by_urgency(kv[0][0]), kv[0][1] is not None,
                                                                          kv[0][1] or ""))]
