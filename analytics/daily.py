"""Per-day roll-ups by at most one dimension, and the duration histograms the medians are read from.

The cube of :mod:`analytics.rollup` (day × channel × product line × priority) fills up as
tickets grow: a handful of rows a day at ten thousand tickets a year, a hundred and twenty
at a million. A figure that filters or groups by at most one dimension reads these
tables instead, whose rows a day are as many as the dimension's values whatever the
number of tickets: :class:`KpiDay` (the ticket counters per day, for all tickets —
``dim`` ``all`` — and per channel, product line, priority, team), :class:`KpiTaskDay`
(task runs and times per task type, for all and per channel, line, priority) and
:data:`analytics.histogram.KpiHistogram` (the bucketed first-response and resolution
times, and the tasks' waiting and working times, per the same keys). A filter on two or
more dimensions reads the cube; its medians the facts (the filters narrow them).

They are kept with the cube by the difference a refresh batch's tickets make
(:func:`analytics.rollup.by_delta`: the batch's counters summed from its cube rows, its
histograms counted from its facts) in the refresh's transaction, or rebuilt with it
(:func:`rebuild`): the counters summed from the cube, the histograms counted from the
facts. :func:`drift` recounts them all from the facts for ``kpi verify``. The ticket times'
histograms are also kept per pair of dimensions (:data:`PAIRS`), so that a median over two
(a channel's product lines) is read from them too, not from the facts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import (
    Date,
    Float,
    Index,
    Integer,
    String,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base

from .counters import COUNTERS, counter_columns
from .facts import KpiTask, KpiTicket
from .histogram import BUCKETS, KpiHistogram, bucket_of, bucket_text
from .histogram import COLUMNS as BUCKET_COLUMNS

T, K, H = KpiTicket, KpiTask, KpiHistogram
ALL = "all"
DIMS = ("channel", "product_line", "priority", "team")
TASK_DIMS = ("channel", "product_line", "priority")
#: the histograms' measures: the ticket's times (by dimension) and the task's (by task type and dimension)
TICKET_MEASURES = {"response": T.first_response_seconds, "resolution": T.resolution_seconds}
TASK_MEASURES = ("waiting", "working")
#: the ticket times are also kept per pair of dimensions (a channel's product lines, …): ``dim`` names the
#: pair in its short form, ``value`` joins the two values with ``|`` in the order of :data:`DIMS`
SHORT = {"channel": "c", "product_line": "l", "priority": "p", "team": "t"}
PAIRS = {(a, b): f"{SHORT[a]}+{SHORT[b]}" for i, a in enumerate(DIMS) for b in DIMS[i + 1:]}
SEPARATOR = "|"
PERIOD_NAMES = ("day", "week", "month", "quarter")


class _DayKeys:
    dim: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)
    week: Mapped[date] = mapped_column(Date)
    month: Mapped[str] = mapped_column(String(7))
    quarter: Mapped[str] = mapped_column(String(7))


KpiDay = type("KpiDay", (_DayKeys, Base), {
    "__tablename__": "kpi_day", "__table_args__": (Index("ix_kpi_day_day", "day"),),
    "__doc__": "The ticket counters of one business day: of all tickets (``dim`` ``all``) or of one value of "
               "one dimension.", **counter_columns()})
D: Any = KpiDay


class KpiTaskDay(Base):
    """Runs, waiting and working time of one task type on one day: of all its runs or of one dimension value."""

    __tablename__ = "kpi_task_day"
    __table_args__ = (Index("ix_kpi_task_day_day", "day"),)

    dim: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)
    element_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)
    week: Mapped[date] = mapped_column(Date)
    month: Mapped[str] = mapped_column(String(7))
    quarter: Mapped[str] = mapped_column(String(7))
    name: Mapped[str] = mapped_column(String(300))
    runs: Mapped[int] = mapped_column(Integer)
    waiting_runs: Mapped[int] = mapped_column(Integer)
    waiting_seconds: Mapped[float] = mapped_column(Float)
    working_seconds: Mapped[float] = mapped_column(Float)


# --- which rows answer a figure ---------------------------------------------------------------------
def one_dimension(flt: Any, by: str | None = None) -> tuple[str, str | None] | None:
    """Return the dimension a figure over ``flt`` grouped by ``by`` rests on and the filter's value of it
    (``("all", None)`` for none), or None when it rests on two or more (the cube answers)."""
    dims = {d for d in DIMS if getattr(flt, d)}
    if by in DIMS:
        dims.add(by)
    if len(dims) > 1:
        return None
    if not dims:
        return ALL, None
    dim = dims.pop()
    return dim, getattr(flt, dim)


def task_dimension(flt: Any) -> tuple[str, str | None] | None:
    """Return the dimension a task figure over ``flt`` rests on (a team is the task's role), or None for two
    or more."""
    dims = [d for d in TASK_DIMS if getattr(flt, d)]
    if len(dims) > 1:
        return None
    return (dims[0], getattr(flt, dims[0])) if dims else (ALL, None)


def day_conditions(table: Any, flt: Any, dim: str, value: str | None) -> list[Any]:
    """Return the WHERE conditions on a one-dimension table: the dimension, its value, the dates."""
    conds = [table.dim == dim]
    if value is not None:
        conds.append(table.value == value)
    if flt.start:
        conds.append(table.day >= flt.start)
    if flt.end:
        conds.append(table.day <= flt.end)
    return conds


def pair_dimension(flt: Any, by: str | None = None) -> tuple[str, list[str | None], int | None] | None:
    """Return the pair of dimensions a ticket time over ``flt`` grouped by ``by`` rests on when it rests on exactly
    two: the pair's ``dim``, the filter's value of each (None: any) and which of the two ``by`` is (None: a
    period or no grouping); else None."""
    dims = [d for d in DIMS if getattr(flt, d) or d == by]
    if len(dims) != 2:
        return None
    return PAIRS[(dims[0], dims[1])], [getattr(flt, d) for d in dims], dims.index(by) if by in dims else None


def pair_conditions(table: Any, flt: Any, dim: str, values: list[str | None]) -> list[Any]:
    """Return the WHERE conditions on the pairs' rows: the pair, the values the filter names, the dates."""
    first, second = values
    conds = [table.dim == dim]
    if first is not None and second is not None:
        conds.append(table.value == f"{first}{SEPARATOR}{second}")
    elif first is not None:
        conds.append(table.value.startswith(f"{first}{SEPARATOR}", autoescape=True))
    elif second is not None:
        conds.append(table.value.endswith(f"{SEPARATOR}{second}", autoescape=True))
    if flt.start:
        conds.append(table.day >= flt.start)
    if flt.end:
        conds.append(table.day <= flt.end)
    return conds


def answering_rows(table: Any, flt: Any, by: str | None = None) -> tuple[list[Any], Any, int | None] | None:
    """Return what answers a figure over ``flt`` grouped by ``by`` from a per-day table with ``dim`` and ``value``
    (the histograms, the open tickets' counters): the WHERE conditions, the column to group by (None: one
    group) and which part of a pair's value the group is (None: all of it, :func:`group_of`); None when the
    figure rests on three dimensions or more."""
    source = one_dimension(flt, by)
    if source is not None:
        return day_conditions(table, flt, *source), group_column(table, by) if by else None, None
    pair = pair_dimension(flt, by)
    if pair is None:
        return None
    dim, values, which = pair
    key = (table.value if which is not None else group_column(table, by)) if by else None
    return pair_conditions(table, flt, dim, values), key, which


def group_of(key: Any, which: int | None) -> Any:
    """Return the group a row's key stands for (the part ``which`` of a pair's value)."""
    return key.split(SEPARATOR)[which] if which is not None and key is not None else key


def group_column(table: Any, by: str) -> Any:
    """Return the column of a one-dimension table that groups by ``by`` (a period or the dimension)."""
    return table.value if by in DIMS else getattr(table, by)


# --- building them ----------------------------------------------------------------------------------
DAYS = bindparam("rollup_days", expanding=True)


def _text(value: str) -> Any:
    return literal_column(f"'{value}'")  # our own constant names, inline (PostgreSQL types them)


def _teams(days: bool) -> Any:
    worked = select(K.ticket_id, K.role).where(K.ticket_id.is_not(None))
    if days:
        worked = worked.where(K.ticket_id.in_(select(T.ticket_id).where(T.day.in_(DAYS))))
    return worked.distinct().subquery()


@cache
def _day_counters(dim: str, days: bool, cube: Any, team_cube: Any) -> Any:
    source = team_cube if dim == "team" else cube
    periods = [getattr(source, p) for p in PERIOD_NAMES]
    keys = periods if dim == ALL else [*periods, getattr(source, dim)]
    value = _text("") if dim == ALL else getattr(source, dim)
    query = select(_text(dim), *periods, value, *(func.sum(getattr(source, c)) for c in COUNTERS)).group_by(*keys)
    if days:
        query = query.where(source.day.in_(DAYS))
    return insert(D.__table__).from_select(["dim", *PERIOD_NAMES, "value", *COUNTERS], query)


@cache
def _task_counters(dim: str, days: bool, task_cube: Any) -> Any:
    C = task_cube
    periods = [getattr(C, p) for p in PERIOD_NAMES]
    tail = [C.element_id, C.role]
    keys = [*periods, *tail] if dim == ALL else [*periods, getattr(C, dim), *tail]
    value = _text("") if dim == ALL else getattr(C, dim)
    query = select(_text(dim), *periods, value, *tail, func.max(C.name), func.sum(C.runs), func.sum(C.waiting_runs),
                   func.sum(C.waiting_seconds), func.sum(C.working_seconds)).group_by(*keys)
    if days:
        query = query.where(C.day.in_(DAYS))
    names = ["dim", *PERIOD_NAMES, "value", "element_id", "role", "name", "runs", "waiting_runs", "waiting_seconds",
             "working_seconds"]
    return insert(KpiTaskDay.__table__).from_select(names, query)


#: the facts' table and the SQL of the duration behind each measure (a task with no working time worked none)
SOURCES = {"response": ("kpi_ticket", "f.first_response_seconds"), "resolution": ("kpi_ticket", "f.resolution_seconds"),
           "waiting": ("kpi_task", "f.waiting_seconds"), "working": ("kpi_task", "COALESCE(f.working_seconds, 0.0)")}


def histogram_counts(measure: str, team: bool, days: bool, batch: bool = False, tagged: bool = False) -> str:
    """Return the SQL that counts one measure's facts per day, bucket and every dimension at once (the team
    apart: a ticket counts once per team) — columns day, week, month, quarter, element_id, role, channel,
    product_line, priority (or the team), bucket, n.

    Written as text (the bucket is a binary search of CASEs that SQLAlchemy would take long to compile;
    every constant is ours; the days are an expanding parameter). Each fact's bucket is computed once;
    the per-dimension rows are summed from these in Python (:func:`histogram_rows`). With ``batch`` only the
    facts of the tickets ``:rollup_tickets`` (a task time: of the instances ``:rollup_instances``) count. With
    ``tagged`` the measure and whether the rows are a team's lead, four dimension columns follow (a
    non-team row's fourth ``''``) and the duration itself stands for the bucket (a batch's few facts are
    bucketed in Python, :func:`analytics.histogram.bucket_of`, as the SQL would): every measure's rows then
    share one shape, for one short ``UNION ALL``."""
    table, duration = SOURCES[measure]
    task = table == "kpi_task"
    conds = ["f.completed_at IS NOT NULL"] if task else []
    if measure != "working":
        conds.append(f"{duration} IS NOT NULL")
    if days:
        conds.append("f.day IN :rollup_days")
    if batch:
        conds.append("f.instance_id IN :rollup_instances" if task else "f.ticket_id IN :rollup_tickets")
    join = ""
    if team:
        worked = "SELECT DISTINCT ticket_id, role FROM kpi_task WHERE ticket_id IS NOT NULL"
        if days:
            worked += " AND ticket_id IN (SELECT ticket_id FROM kpi_ticket WHERE day IN :rollup_days)"
        if batch:
            worked += " AND ticket_id IN :rollup_tickets"
        join = f" JOIN ({worked}) w ON w.ticket_id = f.ticket_id"
        dims = ["w.role", *(f"f.{d}" for d in TASK_DIMS)]
    elif task:
        dims = [f"COALESCE(f.{d}, '—')" for d in TASK_DIMS]
    else:
        dims = [f"f.{d}" for d in TASK_DIMS]
    element_role = ["f.element_id", "f.role"] if task else ["''", "''"]
    keys = [f"f.{p}" for p in PERIOD_NAMES] + (element_role if task else []) + dims
    tag = f"'{measure}' AS measure, {int(team)} AS team, " if tagged else ""
    bucket = duration if tagged else bucket_text(duration)
    shown = dims if team or not tagged else [*dims, "''"]
    return (f"SELECT {tag}{', '.join(f'f.{p}' for p in PERIOD_NAMES)}, {', '.join(element_role)}, {', '.join(shown)}, "
            f"{bucket} AS bucket, COUNT(*) AS n FROM {table} f{join} "
            f"WHERE {' AND '.join(conds)} GROUP BY {', '.join(keys)}, bucket")


def histograms() -> list[tuple[str, str]]:
    """Return every (measure, dimension) the histograms keep."""
    return ([(m, dim) for m in TICKET_MEASURES for dim in (ALL, *DIMS, *PAIRS.values())]
            + [(m, dim) for m in TASK_MEASURES for dim in (ALL, *TASK_DIMS)])


def _grains(measure: str, team: bool, values: list[str]) -> list[tuple[str, str]]:
    """Return the (dim, value) rows one counted row of :func:`histogram_counts` adds to: all tickets and each
    dimension, or the team; a ticket time also each pair of dimensions."""
    if team:
        role, *others = values
        out = [("team", role)]
        if measure in TICKET_MEASURES:
            out += [(PAIRS[(d, "team")], f"{v}{SEPARATOR}{role}") for d, v in zip(TASK_DIMS, others, strict=True)]
        return out
    out = [(ALL, ""), *zip(TASK_DIMS, values, strict=True)]
    if measure in TICKET_MEASURES:
        out += [(PAIRS[(a, b)], f"{values[i]}{SEPARATOR}{values[j]}") for i, a in enumerate(TASK_DIMS)
                for j, b in enumerate(TASK_DIMS) if i < j]
    return out


@cache
def _counting(measure: str, team: bool, days: bool, batch: bool = False) -> Any:
    statement = text(histogram_counts(measure, team, days, batch))
    if days:
        statement = statement.bindparams(bindparam("rollup_days", expanding=True, type_=Date()))
    if batch:
        name = "rollup_tickets" if measure in TICKET_MEASURES else "rollup_instances"
        statement = statement.bindparams(bindparam(name, expanding=True, type_=Integer()))
    return statement


def histogram_rows(session: Session, days: list[date] | None, batch: tuple[list[int], list[int]] | None = None,
                   sparse: bool = False) -> dict[tuple[Any, ...], list[Any]]:
    """Return every histogram row, counted from the facts (of ``days``, or all; of a ``batch``'s ticket ids and
    instance ids only when given): by key (measure, dim, day, value, element, role) the week, month, quarter
    and the count per bucket (``sparse``: by bucket, the buckets counted only)."""
    params: dict[str, Any] = {} if days is None else {"rollup_days": days}
    if batch is not None:
        params |= {"rollup_tickets": batch[0], "rollup_instances": batch[1]}
    rows: dict[tuple[Any, ...], list[Any]] = {}
    if batch is not None and days is None:  # a batch's few rows: every measure in one statement
        if not (batch[0] or batch[1]):
            return rows
        for measure, team, day, week, month, quarter, element, role, *values, seconds, n in session.execute(
                _batch_counting(bool(batch[0]), bool(batch[1])), {k: v for k, v in params.items() if v}):
            team = bool(team)
            _count_into(rows, measure, team, values if team else values[:3], (day, week, month, quarter, element,
                                                                              role), bucket_of(seconds), n, sparse)
        return rows
    passes = [(m, False) for m in (*TICKET_MEASURES, *TASK_MEASURES)] + [(m, True) for m in TICKET_MEASURES]
    for measure, team in passes:
        if batch is not None and not batch[measure not in TICKET_MEASURES]:
            continue  # no ticket (no instance) of the batch: nothing counted
        statement = _counting(measure, team, days is not None, batch is not None)
        for day, week, month, quarter, element, role, *values, bucket, n in session.execute(
                statement, params):
            _count_into(rows, measure, team, values, (day, week, month, quarter, element, role), bucket, n, sparse)
    return rows


def _count_into(rows: dict[tuple[Any, ...], list[Any]], measure: str, team: bool, values: list[str],
                periods: tuple[Any, ...], bucket: int, n: int, sparse: bool) -> None:
    """Add one counted row of :func:`histogram_counts` to every histogram row it counts in."""
    day, week, month, quarter, element, role = periods
    for dim, value in _grains(measure, team, values):
        key = (measure, dim, _date(day), value, element, role)
        row = rows.get(key)
        if row is None:
            row = rows[key] = [_date(week), month, quarter, defaultdict(int) if sparse else [0] * BUCKETS]
        row[3][bucket] += n


@cache
def _batch_counting(tickets: bool, instances: bool) -> Any:
    """Return the one statement that counts every measure of a batch (of its tickets, of its instances)."""
    passes = ([(m, False) for m in TICKET_MEASURES] if tickets else []) + (
        [(m, False) for m in TASK_MEASURES] if instances else []) + (
        [(m, True) for m in TICKET_MEASURES] if tickets else [])
    statement = text(" UNION ALL ".join(histogram_counts(m, team, False, True, tagged=True) for m, team in passes))
    names = (["rollup_tickets"] if tickets else []) + (["rollup_instances"] if instances else [])
    return statement.bindparams(*(bindparam(name, expanding=True, type_=Integer()) for name in names))


@cache  # a few hundred days, met once per histogram row
def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)  # SQLite's text, through text()


def _insert_histograms(session: Session, rows: dict[tuple[Any, ...], list[Any]]) -> None:
    """Insert histogram rows with the driver's own executemany (two hundred parameters a row: SQLAlchemy's
    processing of each would cost more than the database's work)."""
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    iso = connection.dialect.name == "sqlite"  # SQLite keeps dates as ISO text
    columns = ["measure", "dim", "day", "value", "element_id", "role", "week", "month", "quarter", *BUCKET_COLUMNS]
    sql = f"INSERT INTO kpi_histogram ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    batch = []
    for (measure, dim, day, value, element, role), (week, month, quarter, counts) in rows.items():
        batch.append((measure, dim, day.isoformat() if iso else day, value, element, role,
                      week.isoformat() if iso else week, month, quarter, *counts))
        if len(batch) == 2000:
            connection.exec_driver_sql(sql, batch)
            batch = []
    if batch:
        connection.exec_driver_sql(sql, batch)


def rebuild(session: Session, days: Iterable[date] | None, cube: Any, team_cube: Any, task_cube: Any) -> None:
    """Rebuild the one-dimension days and the histograms of ``days`` (every day when None): the counters from
    the cube just rebuilt, the histograms from the facts."""
    chosen = None if days is None else sorted(set(days))
    params = {} if chosen is None else {"rollup_days": chosen}
    for table in (D, KpiTaskDay, H):
        wipe = delete(table)
        if chosen is not None:
            wipe = wipe.where(table.day.in_(chosen))
        session.execute(wipe)
    dated = chosen is not None
    for dim in (ALL, *DIMS):
        session.execute(_day_counters(dim, dated, cube, team_cube), params)
    for dim in (ALL, *TASK_DIMS):
        session.execute(_task_counters(dim, dated, task_cube), params)
    _insert_histograms(session, histogram_rows(session, chosen))
