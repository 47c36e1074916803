"""Median and p90 of every time the dashboard shows, per row of its tables.

The roll-ups hold sums and counts (enough for shares and means); a median or a 90th
percentile needs the values themselves. These are read from the facts of the filter's
tickets (and tasks), grouped in Python with the nearest-rank rule of
:func:`analytics.queries._percentile`, so a row's median is the tile's median of that row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .facts import PERIODS, KpiTask, KpiTicket

T, K = KpiTicket, KpiTask
#: the times of a ticket, in seconds, and the names their median and p90 take (in hours)
TICKET_TIMES = {"response": T.first_response_seconds, "resolution": T.resolution_seconds}


def nearest_rank(values: Iterable[float], q: float) -> float | None:
    """Return the smallest value with at least ``q`` of the values at or below it (None when empty)."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, -int(-q * len(ordered) // 1))  # ceil(q · n)
    return ordered[rank - 1]


def spread(values: list[float], name: str, scale: float = 3600.0) -> dict[str, float | None]:
    """Return ``{name}_median_…`` and ``{name}_p90_…`` of ``values`` (seconds) in hours (or ``scale``)."""
    unit = "hours" if scale == 3600.0 else "minutes"
    out: dict[str, float | None] = {}
    for label, q in (("median", 0.5), ("p90", 0.9)):
        value = nearest_rank(values, q)
        out[f"{name}_{label}_{unit}"] = None if value is None else value / scale
    return out


def ticket_times_by(session: Session, flt: Any, by: str) -> dict[Any, dict[str, float | None]]:
    """Return per value of ``by`` (a period, channel, product line, priority or team) the median and
    p90 of the first-response and resolution times of the filter's tickets, in hours."""
    return ticket_times(session, flt, (by,))[by]


def ticket_times(session: Session, flt: Any, bys: Iterable[str]) -> dict[str | None, dict[Any, dict[str, Any]]]:
    """Return, for each grouping of ``bys`` and under ``None`` for all of the filter's tickets together,
    per group the median and p90 of the first-response and resolution times, in hours.

    The filter's tickets are read once, however many groupings are asked for (a team's tickets
    from the tasks of those tickets, by index), and each group's values sorted in Python:
    exact nearest-rank figures, the same as the tile's."""
    from .queries import ticket_conditions  # the filter's own conditions (queries imports this module)

    groupings = list(dict.fromkeys(bys))
    for by in groupings:
        if by not in (*PERIODS, "channel", "product_line", "priority", "team"):
            raise ValueError(f"cannot group times by {by!r}")
    columns = [getattr(T, by) for by in groupings if by != "team"]
    conds = [*ticket_conditions(flt), (T.first_response_seconds.is_not(None) | T.resolution_seconds.is_not(None))]
    rows = session.execute(select(T.ticket_id, *TICKET_TIMES.values(), *columns).where(*conds)).all()
    values: dict[str | None, dict[Any, dict[str, list[float]]]] = {
        by: defaultdict(lambda: {name: [] for name in TICKET_TIMES}) for by in (None, *groupings)}
    plain = [by for by in groupings if by != "team"]
    teams: dict[int, list[str]] = defaultdict(list)
    if "team" in groupings and rows:
        for ticket_id, role in session.execute(
                select(K.ticket_id, K.role).join(T, T.ticket_id == K.ticket_id).where(*conds).distinct()):
            teams[ticket_id].append(role)
    for row in rows:
        times = row[1:3]
        targets = [values[None][None], *(values[by][row[3 + i]] for i, by in enumerate(plain))]
        targets += [values["team"][role] for role in teams.get(row[0], ())]
        for name, value in zip(TICKET_TIMES, times, strict=True):
            if value is not None:
                for target in targets:
                    target[name].append(value)
    return {by: {k: {field: v for name in TICKET_TIMES for field, v in spread(lists[name], name).items()}
                 for k, lists in groups.items()} for by, groups in values.items()}


def task_times(session: Session, flt: Any) -> dict[tuple[str, str], dict[str, float | None]]:
    """Return per task type (element, role) the median and p90 of waiting (hours) and working (minutes)
    time of the runs completed in the filter's dates."""
    conds = [K.completed_at.is_not(None)]
    if flt.start:
        conds.append(K.day >= flt.start)
    if flt.end:
        conds.append(K.day <= flt.end)
    for dim in ("channel", "product_line", "priority"):
        if getattr(flt, dim):
            conds.append(getattr(K, dim) == getattr(flt, dim))
    if flt.team:
        conds.append(K.role == flt.team)
    waits: dict[tuple[str, str], list[float]] = defaultdict(list)
    works: dict[tuple[str, str], list[float]] = defaultdict(list)
    for element, role, waiting, working in session.execute(
            select(K.element_id, K.role, K.waiting_seconds, K.working_seconds).where(*conds)):
        if waiting is not None:
            waits[(element, role)].append(float(waiting))
        works[(element, role)].append(float(working or 0.0))
    return {key: {**spread(waits[key], "waiting"), **spread(works[key], "working", 60.0)} for key in works}


def with_ticket_times(session: Session, flt: Any, by: str, rows: list[dict[str, Any]],
                      times: dict[Any, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Add the median and p90 of the times to each row of a table grouped by ``by`` (``times``: those
    :func:`ticket_times` already read for ``by``)."""
    times = ticket_times_by(session, flt, by) if times is None else times
    empty = {f"{name}_{label}_hours": None for name in TICKET_TIMES for label in ("median", "p90")}
    for row in rows:
        key = row["key"]
        found = times.get(key)
        if found is None and by in ("day", "week") and isinstance(key, str):
            found = times.get(date.fromisoformat(key))
        row.update(found or empty)
    return rows
