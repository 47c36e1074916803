"""Median and p90 of every time the dashboard shows, per row of its tables.

A figure that filters and groups by at most one dimension reads them from the per-day
histograms (:mod:`analytics.histogram`, :mod:`analytics.daily`): a few thousand rows for
any range, however many tickets, each percentile the middle of the bucket the nearest
rank falls in, with its error (``…_error``: the exact value is within that share of it).
A ticket time over exactly two dimensions (a channel's product lines, a team's channels)
reads the histograms of that pair (:data:`analytics.daily.PAIRS`) the same way. Three or
more at once, and task times over two or more, read the facts of the filter's tickets (and
tasks) and give exact nearest-rank figures (``…_error`` absent), grouped in Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import case, literal_column, select
from sqlalchemy.orm import Session

from .daily import ALL, DIMS, answering_rows, day_conditions, group_of, one_dimension, task_dimension
from .facts import PERIODS, KpiTask, KpiTicket
from .histogram import COLUMNS, H, summed
from .histogram import spread as bucket_spread

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
    per group the median and p90 of the first-response and resolution times, in hours (with their
    errors when read from the histograms)."""
    groupings = list(dict.fromkeys(bys))
    for by in groupings:
        if by not in (*PERIODS, *DIMS):
            raise ValueError(f"cannot group times by {by!r}")
    out: dict[str | None, dict[Any, dict[str, Any]]] = {}
    exact = []
    if one_dimension(flt) == (ALL, None):  # no dimension filtered: one read of the days for every grouping
        out.update(_whole_times(session, flt, [by for by in groupings if by in PERIODS][:1],
                                [by for by in groupings if by in DIMS]))
    for by in (None, *groupings):
        if by in out:
            continue
        rows = answering_rows(H, flt, by)
        if rows is None:
            exact.append(by)
        else:
            out[by] = _histogram_times(session, *rows)
    if exact:
        found = exact_ticket_times(session, flt, [by for by in exact if by is not None])
        out.update({by: found[by] for by in exact})
    return out


def _histogram_times(session: Session, conds: list[Any], key: Any, which: int | None = None
                     ) -> dict[Any, dict[str, Any]]:
    """Return per value of ``key`` (None: one group) the ticket times' median and p90 from the histogram rows
    matching ``conds`` (``which``: the key is a pair's value, grouped by its first or second part)."""
    keys = [H.measure, *([key] if key is not None else [])]
    rows = session.execute(select(*keys, *summed()).where(H.measure.in_(TICKET_TIMES), *conds).group_by(*keys))
    counts: dict[Any, dict[str, list[int]]] = defaultdict(lambda: {name: [0] * len(COLUMNS) for name in TICKET_TIMES})
    for row in rows:
        counts[group_of(row[1], which) if key is not None else None][row[0]] = _counts(row, len(keys))
    if key is None and None not in counts:
        counts[None]  # noqa: B018  (the tiles have their empty group)
    return _spreads(counts)


def _whole_times(session: Session, flt: Any, periods: list[str], dims: list[str]
                 ) -> dict[str | None, dict[Any, dict[str, Any]]]:
    """Return what :func:`_histogram_times` returns for all of the filter's tickets (under None), per period
    (``periods``: none or one) and per value of each of ``dims``, when the filter names no dimension: from one
    read of the histogram rows of those dimensions' days (every ticket's counts, grouped by period, summed)."""
    every = H.dim == literal_column(f"'{ALL}'")  # inline: PostgreSQL matches the grouping to the selected column
    keys = [H.measure, H.dim, H.value, *([case((every, getattr(H, periods[0])), else_=None)] if periods else [])]
    conds = [H.measure.in_(TICKET_TIMES), H.dim.in_((ALL, *dims)), *day_conditions(H, flt, ALL, None)[1:]]
    counts: dict[str | None, dict[Any, dict[str, list[int]]]] = {
        by: defaultdict(lambda: {name: [0] * len(COLUMNS) for name in TICKET_TIMES}) for by in (None, *periods, *dims)}
    counts[None][None]  # noqa: B018  (the tiles have their empty group)
    for row in session.execute(select(*keys, *summed()).where(*conds).group_by(*keys)):
        found = _counts(row, len(keys))
        if row[1] != ALL:
            counts[row[1]][row[2]][row[0]] = found
            continue
        for by, key in [(None, None), *([(periods[0], row[3])] if periods else [])]:
            total = counts[by][key][row[0]]
            total[:] = [a + b for a, b in zip(total, found, strict=True)]
    return {by: _spreads(groups) for by, groups in counts.items()}


def _counts(row: Any, skip: int) -> list[int]:
    """Return the bucket counts of a row that selected ``skip`` keys, then the :func:`summed` columns."""
    return [int(v or 0) for v in row[skip:]]


def _spreads(counts: dict[Any, dict[str, list[int]]]) -> dict[Any, dict[str, Any]]:
    return {k: {f: v for name in TICKET_TIMES for f, v in bucket_spread(lists[name], name).items()}
            for k, lists in counts.items()}


def exact_ticket_times(session: Session, flt: Any, bys: Iterable[str]) -> dict[str | None, dict[Any, dict[str, Any]]]:
    """Return what :func:`ticket_times` returns, exactly, from the facts of the filter's tickets.

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
    time of the runs completed in the filter's dates: from the histograms (with errors) unless the filter
    names two dimensions or more."""
    source = task_dimension(flt)
    if source is None:
        return exact_task_times(session, flt)
    conds = [H.measure.in_(("waiting", "working")), *day_conditions(H, flt, *source)]
    if flt.team:
        conds.append(H.role == flt.team)
    counts: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(dict)
    for row in session.execute(select(H.element_id, H.role, H.measure, *summed()).where(*conds)
                               .group_by(H.element_id, H.role, H.measure)):
        counts[(row[0], row[1])][row[2]] = _counts(row, 3)
    empty = [0] * len(COLUMNS)
    return {key: {**bucket_spread(c.get("waiting", empty), "waiting"), **bucket_spread(c.get("working", empty),
                                                                                        "working", 60.0)}
            for key, c in counts.items()}


def exact_task_times(session: Session, flt: Any) -> dict[tuple[str, str], dict[str, float | None]]:
    """Return what :func:`task_times` returns, exactly, from the task facts."""
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
