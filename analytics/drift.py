"""The roll-ups against a recount from the facts: what ``kpi verify`` reports when a roll-up drifted.

Every roll-up row of the days checked — the cube (:mod:`analytics.rollup`), the days by one
dimension and the histograms (:mod:`analytics.daily`), the open tickets falling overdue by hour
(:mod:`analytics.overdue`) and the backlog by priority, stage and hour over target
(:mod:`analytics.backlog`) — is counted again from the ticket and task facts with the very SELECTs
a rebuild uses (the one-dimension counters straight from the facts, not from the cube), and each value
that differs is listed: the roll-up's beside the recount's. A row missing on either side differs in every column.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .backlog import KpiBacklog
from .backlog import recounted as backlog_recount
from .counters import COUNTERS, ticket_counters
from .daily import ALL, DIMS, TASK_DIMS, KpiDay, KpiTaskDay, histogram_rows, histograms
from .facts import KpiTask, KpiTicket, target_seconds
from .histogram import COLUMNS, H
from .overdue import KpiOpen
from .overdue import recounted as open_recount
from .rollup import cube_selects

T, K = KpiTicket, KpiTask
PERIODS = ("day", "week", "month", "quarter")
TASK_VALUES = ("name", "runs", "waiting_runs", "waiting_seconds", "working_seconds")


def _day_recount(settings: dict[str, Any], dim: str, days: list[date]) -> tuple[list[str], Any]:
    counters = ticket_counters(target_seconds(settings, "resolution_hours"))
    periods = [T.day, T.week, T.month, T.quarter]
    if dim == "team":
        teams = (select(K.ticket_id, K.role).where(K.ticket_id.in_(select(T.ticket_id).where(T.day.in_(days))))
                 .distinct().subquery())
        query = (select(*periods, teams.c.role, *counters.values()).join(teams, teams.c.ticket_id == T.ticket_id)
                 .group_by(*periods, teams.c.role))
    elif dim == ALL:
        query = select(*periods, *counters.values()).group_by(*periods)
    else:
        query = select(*periods, getattr(T, dim), *counters.values()).group_by(*periods, getattr(T, dim))
    names = [*PERIODS, *([] if dim == ALL else ["value"]), *counters]
    return names, query.where(T.day.in_(days))


def _task_recount(dim: str, days: list[date]) -> tuple[list[str], Any]:
    periods = [K.day, K.week, K.month, K.quarter]
    keys = [*periods, *([] if dim == ALL else [func.coalesce(getattr(K, dim), "—")]), K.element_id, K.role]
    query = (select(*keys, func.max(K.name), func.count(), func.count(K.waiting_seconds),
                    func.coalesce(func.sum(K.waiting_seconds), 0.0), func.coalesce(func.sum(K.working_seconds), 0.0))
             .where(K.completed_at.is_not(None), K.day.in_(days)).group_by(*keys))
    names = [*PERIODS, *([] if dim == ALL else ["value"]), "element_id", "role", *TASK_VALUES]
    return names, query


def _rows(session: Session, names: list[str], query: Any, fixed: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**fixed, **dict(zip(names, row, strict=True))} for row in session.execute(query)]


def _stored(session: Session, table: Any, days: list[date], **where: Any) -> list[dict[str, Any]]:
    conds = [table.day.in_(days), *(getattr(table, k) == v for k, v in where.items())]
    return [dict(r._mapping) for r in session.execute(select(*table.__table__.c).where(*conds))]


def _differences(name: str, keys: tuple[str, ...], values: tuple[str, ...], stored: list[dict[str, Any]],
                 recounted: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def keyed(rows: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
        return {tuple(str(r.get(k, "")) for k in keys): r for r in rows}

    have, want = keyed(stored), keyed(recounted)
    out = []
    for key in sorted(set(have) | set(want)):
        a, b = have.get(key, {}), want.get(key, {})
        for column in values:
            x, y = a.get(column), b.get(column)
            if column != "name" and not (x or y):
                continue  # an absent row and a row of zeros say the same
            if column == "name" or x is None or y is None:
                same = x == y
            else:
                same = abs(float(x) - float(y)) <= 1e-6 * max(1.0, abs(float(y)))
            if not same:
                out.append({"figure": f"roll-up {name}[{'/'.join(key)}].{column}", "dashboard": x, "trail": y})
    return out


def drift(session: Session, settings: dict[str, Any], start: date, end: date) -> list[dict[str, Any]]:
    """Return every roll-up value of the days from ``start`` to ``end`` that differs from its recount from the
    facts (``dashboard``: the roll-up's, ``trail``: the recount's)."""
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    out: list[dict[str, Any]] = []
    for table, names, query in cube_selects(settings, days):
        keys = tuple(c.name for c in table.__table__.primary_key.columns)
        values = tuple(n for n in names if n not in keys and n not in PERIODS)
        out += _differences(table.__tablename__, keys, values, _stored(session, table, days),
                            _rows(session, names, query, {}))
    for dim in (ALL, *DIMS):
        names, query = _day_recount(settings, dim, days)
        out += _differences("kpi_day", ("dim", "day", "value"), COUNTERS, _stored(session, KpiDay, days, dim=dim),
                            _rows(session, names, query, {"dim": dim, "value": ""}))
    for dim in (ALL, *TASK_DIMS):
        names, query = _task_recount(dim, days)
        out += _differences("kpi_task_day", ("dim", "day", "value", "element_id", "role"), TASK_VALUES,
                            _stored(session, KpiTaskDay, days, dim=dim),
                            _rows(session, names, query, {"dim": dim, "value": ""}))
    histograms_recounted: dict[tuple[str, str], list[dict[str, Any]]] = {key: [] for key in histograms()}
    for (measure, dim, day, value, element, role), (_, _, _, counts) in histogram_rows(session, days).items():
        histograms_recounted[(measure, dim)].append({"measure": measure, "dim": dim, "day": day, "value": value,
                                          "element_id": element, "role": role, **dict(zip(COLUMNS, counts,
                                                                                          strict=True))})
    for (measure, dim), rows in histograms_recounted.items():
        out += _differences("kpi_histogram", ("measure", "dim", "day", "value", "element_id", "role"), COLUMNS,
                            _stored(session, H, days, measure=measure, dim=dim), rows)
    out += _differences("kpi_open", ("kind", "hour", "dim", "value", "day"), ("n",), _stored(session, KpiOpen, days),
                        open_recount(session, settings, days))
    out += _differences("kpi_backlog", ("dim", "value", "day", "priority", "stage", "hour"), ("n",),
                        _stored(session, KpiBacklog, days), backlog_recount(session, settings, days))
    return out
