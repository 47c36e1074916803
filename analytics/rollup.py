"""Daily roll-ups of the KPI facts: what the dashboard sums instead of the tickets themselves.

A figure over a quarter of a million-ticket year would scan a quarter million facts;
its roll-up is at most (days × channels × product lines × priorities) rows, however many
tickets there are. The counters are those of :mod:`analytics.queries` that do not
depend on the moment they are read (what does — a response overdue *now*, a ticket open
longer than the target *now*, the backlog by priority and stage — is counted per hour it falls due in,
:mod:`analytics.overdue`, :mod:`analytics.backlog`).

Each refresh batch updates every roll-up table by the difference its tickets make, in the
transaction that rewrites their facts (:func:`by_delta`): the rows the batch's facts made
are counted before they are replaced, the rows the new ones make after — with each table's
own counting SELECT restricted to the batch's tickets and instances — and the difference is
merged with ``INSERT … ON CONFLICT (key) DO UPDATE SET column = column + excluded.column``;
a row left counting no fact is deleted, so a table holds what a rebuild holds. Every column
is a sum or a count but a task type's ``name`` (the greatest of its tasks'): a batch that
brings a greater one sets it, a row that may have lost its greatest has it recounted from the
facts (:func:`merge`). A batch costs what its own tickets count, however many tickets share
their days. The first build, a change of the settings that counters depend on and
``aftersales rollups rebuild`` rebuild every day with one ``INSERT … SELECT … GROUP BY`` per
table (:func:`roll_up`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base

from .backlog import PART as BACKLOG_PART
from .backlog import rebuild as rebuild_backlog
from .counters import COUNTERS, RESOLUTION_EDGES, RESPONSE_EDGES, counter_columns, ticket_counters
from .daily import ALL, PAIRS, histogram_rows, rebuild
from .facts import KpiState, KpiTask, KpiTicket, target_seconds
from .histogram import COLUMNS as BUCKET_COLUMNS
from .histogram import EDGES
from .overdue import PART as OPEN_PART
from .overdue import rebuild as rebuild_open
from .overdue import recount_together

__all__ = ["COUNTERS", "RESOLUTION_EDGES", "RESPONSE_EDGES", "KpiDaily", "KpiDailyTeam", "KpiTaskDaily", "by_delta",
           "roll_up", "settings_key"]

T, K = KpiTicket, KpiTask
DIMS = ("channel", "product_line", "priority")
#: a refresh batch: the ids of its tickets and of the instances whose tasks it rewrites
Batch = tuple[list[int], list[int]]
BATCH_TICKETS = bindparam("batch_tickets", expanding=True, type_=Integer())
BATCH_INSTANCES = bindparam("batch_instances", expanding=True, type_=Integer())


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


def cube_selects(settings: dict[str, Any], chosen: list[date] | None,
                 batch: bool = False) -> list[tuple[Any, list[str], Any]]:
    """Return each cube table with the columns it fills and the SELECT that counts them from the facts (of
    the days ``chosen``, or all; with ``batch`` only the facts of the tickets ``:batch_tickets`` and the tasks
    of the instances ``:batch_instances``)."""
    return _cube_selects(target_seconds(settings, "resolution_hours"), chosen, batch)


@cache  # a batch's SELECTs are built once: sixty aggregates take a while to put together
def _batch_select(over: float) -> tuple[Any, list[str], dict[int, Any]]:
    """Return a batch's cube rows in one ``UNION ALL``, each with a leading number saying whose they are: the
    tickets' (0, team ``''``), the teams' (1), the tasks' (2); the columns a row has not are NULL. With the names
    of the columns after the lead and the tables by lead."""
    (daily, _, tickets), (team, names, teams), (task, task_names, tasks) = _cube_selects(over, None, True)
    values = names[8:]
    nulls = [null()] * len(values)
    t, w, k = list(tickets.selected_columns), list(teams.selected_columns), list(tasks.selected_columns)
    none = [cast(null(), c.type) for c in k[10:]]  # typed: PostgreSQL makes text of two untyped NULLs
    query = union_all(
        tickets.with_only_columns(literal_column("0"), *t[:7], literal_column("''"), null(), null(), null(), *t[7:],
                                  *none),
        teams.with_only_columns(literal_column("1"), *w[:8], null(), null(), null(), *w[8:], *none),
        tasks.with_only_columns(literal_column("2"), *k[:7], null(), *k[7:10], *nulls, *k[10:]))
    return query, [*names[:8], *task_names[7:10], *values, *task_names[10:]], {0: daily, 1: team, 2: task}


def _cube_selects(over: float, chosen: list[date] | None, batch: bool) -> list[tuple[Any, list[str], Any]]:
    counters = ticket_counters(over)
    periods = [T.day, T.week, T.month, T.quarter, T.channel, T.product_line, T.priority]
    worked = select(K.ticket_id, K.role).where(K.ticket_id.is_not(None))
    if chosen is not None:  # only the tasks of the tickets of those days (an index on ticket_id, role)
        worked = worked.where(K.ticket_id.in_(select(T.ticket_id).where(T.day.in_(chosen))))
    if batch:
        worked = worked.where(K.ticket_id.in_(BATCH_TICKETS))
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
    if batch:
        out = [(table, names, query.where(K.instance_id.in_(BATCH_INSTANCES) if table is KpiTaskDaily
                                          else T.ticket_id.in_(BATCH_TICKETS))) for table, names, query in out]
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


# --- by delta: what a batch's tickets took away and add ------------------------------------------------
PERIOD_VALUES = ("week", "month", "quarter")
TASK_VALUES = ("runs", "waiting_runs", "waiting_seconds", "working_seconds")


@dataclass(frozen=True)
class _Spec:
    """How a roll-up table's rows are merged: its key (the primary key), the columns a key determines (the
    periods of its day), whether a task type's name rides along, the columns summed, and the one that counts
    its facts (zero: the row is gone, as a rebuild would not make it)."""

    keys: tuple[str, ...]
    carried: tuple[str, ...]
    named: bool
    values: tuple[str, ...]
    present: tuple[str, ...]


SPECS = {
    "kpi_daily": _Spec(("day", *DIMS), PERIOD_VALUES, False, COUNTERS, ("tickets",)),
    "kpi_daily_team": _Spec(("day", *DIMS, "team"), PERIOD_VALUES, False, COUNTERS, ("tickets",)),
    "kpi_task_daily": _Spec(("day", *DIMS, "element_id", "role"), PERIOD_VALUES, True, TASK_VALUES, ("runs",)),
    "kpi_day": _Spec(("dim", "day", "value"), PERIOD_VALUES, False, COUNTERS, ("tickets",)),
    "kpi_task_day": _Spec(("dim", "day", "value", "element_id", "role"), PERIOD_VALUES, True, TASK_VALUES,
                          ("runs",)),
    "kpi_histogram": _Spec(("measure", "dim", "day", "value", "element_id", "role"), PERIOD_VALUES, False,
                           BUCKET_COLUMNS, BUCKET_COLUMNS),
    "kpi_open": _Spec(("kind", "hour", "dim", "value", "day"), PERIOD_VALUES, False, ("n",), ("n",)),
    "kpi_backlog": _Spec(("dim", "value", "day", "priority", "stage", "hour"), (), False, ("n",), ("n",)),
}
#: per table, the numbers of the columns that count its facts
PRESENT = {name: frozenset(i for i, v in enumerate(spec.values) if v in spec.present) for name, spec in SPECS.items()}
#: the number of the cube's column that counts the open tickets
OPEN = COUNTERS.index("open")
#: per table, by key: the carried values, the task names (a set, or None) and the values by column number
#: (sparse: a histogram row counts in a few of its two hundred buckets)
Rows = dict[str, dict[tuple[Any, ...], list[Any]]]


def _add(rows: dict[tuple[Any, ...], list[Any]], key: tuple[Any, ...], carried: list[Any], names: Any,
         values: dict[int, Any]) -> None:
    row = rows.get(key)
    if row is None:
        rows[key] = [carried, set(names) if names is not None else None, dict(values)]
        return
    if names is not None:
        row[1] |= names
    summed = row[2]
    for i, v in values.items():
        summed[i] = summed.get(i, 0) + v


def _sparse(values: Iterable[Any]) -> dict[int, Any]:
    """Return the non-zero ``values`` by column number (PostgreSQL's SUM of a bigint, a numeric, as a float)."""
    return {i: float(v) if isinstance(v, Decimal) else v for i, v in enumerate(values) if v}


def contributions(session: Session, settings: dict[str, Any], batch: Batch) -> Rows:
    """Return every roll-up row the facts of ``batch`` alone make (tickets by id, tasks by instance id): what a
    rebuild would count for them, with the same SELECTs (the one-dimension days summed from the cube's)."""
    out: Rows = {name: {} for name in SPECS}
    params = {"batch_tickets": batch[0], "batch_instances": batch[1]}
    query, names, tables = _batch_select(target_seconds(settings, "resolution_hours"))
    where = {n: i + 1 for i, n in enumerate(names)}
    layout = {}
    for lead, table in tables.items():
        spec = SPECS[table.__tablename__]
        first = where[spec.values[0]]
        layout[lead] = (out[table.__tablename__], [where[k] for k in spec.keys], [where[c] for c in spec.carried],
                        where["name"] if spec.named else None, first, first + len(spec.values))
    for found in session.execute(query, params):
        rows, keys, carried, named, first, last = layout[found[0]]
        _add(rows, tuple(found[i] for i in keys), [found[i] for i in carried],
             {found[named]} if named is not None else None, _sparse(found[first:last]))
    for source, target, dims in (("kpi_daily", "kpi_day", (ALL, *DIMS)), ("kpi_daily_team", "kpi_day", ("team",)),
                                 ("kpi_task_daily", "kpi_task_day", (ALL, *DIMS))):
        task = source == "kpi_task_daily"
        for key, (carried, names, values) in out[source].items():
            day, *rest = key
            for dim in dims:
                value = "" if dim == ALL else rest[3] if dim == "team" else rest[DIMS.index(dim)]
                tail = tuple(rest[3:5]) if task else ()
                _add(out[target], (dim, day, value, *tail), carried, names, values)
    for key, (week, month, quarter, counts) in histogram_rows(session, None, batch, sparse=True).items():
        _add(out["kpi_histogram"], key, [week, month, quarter], None, counts)
    if not any(values.get(OPEN) for _, _, values in out["kpi_daily"].values()):
        return out  # none of its tickets open: nothing to count overdue or in the backlog
    for name, rows in zip(("kpi_open", "kpi_backlog"), recount_together(session, settings, batch[0],
                                                                          [OPEN_PART, BACKLOG_PART]), strict=True):
        spec = SPECS[name]
        for row in rows:
            _add(out[name], tuple(row[k] for k in spec.keys), [row[c] for c in spec.carried], None,
                 _sparse(row[v] for v in spec.values))
    return out


@contextmanager
def by_delta(session: Session, settings: dict[str, Any], ticket_ids: Iterable[int],
             instance_ids: Iterable[int]) -> Iterator[None]:
    """Keep the roll-ups current while the block rewrites the facts of ``ticket_ids`` and the tasks of
    ``instance_ids`` (new tasks belonging to those tickets): the rows those facts made are taken away before,
    the rows they make after are added, and a row left with no fact is deleted — what a rebuild of their days
    would hold, at the cost of the batch's own facts, not of its days'. Roll-ups built with other settings
    (or never) are rebuilt whole after the block instead."""
    if session.get(KpiState, settings_key(settings)) is None:
        yield
        roll_up(session, settings, None)
        return
    instances = sorted(set(instance_ids))
    tickets = set(ticket_ids)
    if instances:  # a ticket whose tasks are rewritten counts them among its teams
        tickets |= set(session.scalars(select(K.ticket_id).where(K.instance_id.in_(instances),
                                                                 K.ticket_id.is_not(None)).distinct()))
    batch = (sorted(tickets), instances)
    before = contributions(session, settings, batch)
    yield
    merge(session, before, contributions(session, settings, batch))


def merge(session: Session, before: Rows, after: Rows) -> None:
    """Add ``after`` less ``before`` to each roll-up table, one upsert statement per table for its changed rows
    (``INSERT … ON CONFLICT (key) DO UPDATE SET column = column + excluded.column``); delete the rows a decrease
    left counting nothing (:func:`_upsert` says which may have been); recount the task names a row may have
    lost (a name is the greatest of its tasks', not a sum)."""
    renamed: dict[str, list[tuple[Any, ...]]] = {}
    for name, spec in SPECS.items():
        changes, emptied, renamed[name] = [], [], []
        old, new = before[name], after[name]
        present = PRESENT[name]
        for key in old.keys() | new.keys():
            was, now = old.get(key), new.get(key)
            a, b = (was[2] if was else {}), (now[2] if now else {})
            diff = {i: d for i in a.keys() | b.keys() if (d := b.get(i, 0) - a.get(i, 0))}
            names = None
            if spec.named:
                names = now[1] if now else set()
                if was is not None and (now is None or len(names) != 1 or was[1] != names):
                    renamed[name].append(key)  # the greatest name may have gone: counted again below
            if not diff and not (names and (was is None or was[1] != names)):
                continue
            name_value = [next(iter(sorted(names)), "")] if spec.named else []
            dense = [0] * len(spec.values)
            for i, d in diff.items():
                dense[i] = d
            changes.append((*key, *(now or was)[0], *name_value, *dense))
            if any(d < 0 for i, d in diff.items() if i in present):
                emptied.append(key)
        _delete_empty(session, name, spec, _upsert(session, name, spec, changes, emptied))
    _rename(session, renamed)


def _sql_values(session: Session, rows: list[tuple[Any, ...]], dated: int) -> list[tuple[Any, ...]]:
    """Return ``rows`` as the driver takes them: on SQLite the dates among the first ``dated`` values as ISO text."""
    if session.connection().dialect.name != "sqlite":
        return rows
    return [(*(v.isoformat() if isinstance(v, date) else v for v in row[:dated]), *row[dated:]) for row in rows]


#: the most parameters one statement binds (SQLite's limit is 32,766, PostgreSQL's 65,535)
PARAMETERS = 30_000
#: the most rows an upsert on PostgreSQL reads back with RETURNING (a batch of a few tickets)
RETURNING = 16


def _upsert(session: Session, name: str, spec: _Spec, rows: list[tuple[Any, ...]],
            emptying: list[tuple[Any, ...]]) -> list[Any]:
    """Merge ``rows`` into the table ``name`` and return the keys of the rows to delete if they count nothing,
    of those ``emptying`` (a decrease may have emptied them): on PostgreSQL, for at most :data:`RETURNING` rows,
    the ones that do, read back with ``RETURNING`` in a multi-row statement (a driver's executemany returns no
    rows; a round trip spared); else all of them (a multi-row upsert is parsed and its parameters bound anew
    for each number of rows: with two hundred columns a row that costs more than the DELETE it would spare)."""
    if not rows:
        return []
    connection = session.connection()
    rows = _sql_values(session, rows, len(spec.keys) + len(spec.carried))
    if not emptying or connection.dialect.name == "sqlite" or len(rows) > RETURNING:
        connection.exec_driver_sql(_upserting(connection.dialect, name), rows)
        return _sql_values(session, emptying, len(spec.keys))
    width, keys = len(rows[0]), len(spec.keys)
    step = max(1, PARAMETERS // width)
    emptied = []
    for start in range(0, len(rows), step):
        chunk = rows[start:start + step]
        found = connection.exec_driver_sql(_upserting(connection.dialect, name, len(chunk)),
                                           tuple(v for row in chunk for v in row))
        emptied += [tuple(r[:keys]) for r in found if not r[keys]]
    return emptied


@cache  # two hundred columns quoted: once per database, table and number of rows
def _upserting(dialect: Any, name: str, returning: int = 0) -> str:
    """Return the upsert of one row into ``name`` (``returning``: of that many rows, returning each row's key and
    the sum of its columns that count facts)."""
    spec, quote = SPECS[name], dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    columns = [*spec.keys, *spec.carried, *(["name"] if spec.named else []), *spec.values]
    sets = [f"{quote(v)} = {name}.{quote(v)} + excluded.{quote(v)}" for v in spec.values]
    if spec.named:  # a name the batch brings and the row lacks: the greater one
        sets.append(f"name = CASE WHEN excluded.name > {name}.name THEN excluded.name ELSE {name}.name END")
    row = f"({', '.join([mark] * len(columns))})"
    sql = (f"INSERT INTO {name} ({', '.join(quote(c) for c in columns)}) VALUES {', '.join([row] * max(1, returning))}"
           f" ON CONFLICT ({', '.join(quote(k) for k in spec.keys)}) DO UPDATE SET {', '.join(sets)}")
    if returning:
        sql += (f" RETURNING {', '.join(quote(k) for k in spec.keys)}, "
                f"{' + '.join(quote(c) for c in spec.present)}")
    return sql


def _delete_empty(session: Session, name: str, spec: _Spec, keys: list[tuple[Any, ...]]) -> None:
    """Delete the rows ``keys`` (as the database returned them) if they count nothing."""
    if keys:
        connection = session.connection()
        connection.exec_driver_sql(_deleting(connection.dialect, name), keys)


@cache
def _deleting(dialect: Any, name: str) -> str:
    spec, quote = SPECS[name], dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    where = " AND ".join(f"{quote(k)} = {mark}" for k in spec.keys)
    return f"DELETE FROM {name} WHERE {where} AND {' + '.join(quote(c) for c in spec.present)} = 0"


def _rename(session: Session, renamed: dict[str, list[tuple[Any, ...]]]) -> None:
    """Set the name of each task row in ``renamed`` to the greatest of its tasks' again, one ``UPDATE`` per table
    (a row deleted as empty is not there to update): the cube's from the task facts, the one-dimension days'
    from the cube (renamed first)."""
    for name, keys in renamed.items():
        if keys:
            session.connection().exec_driver_sql(_renaming(session.connection().dialect.paramstyle, name),
                                                 _sql_values(session, keys, len(keys[0])))


@cache
def _renaming(paramstyle: str, name: str) -> str:
    mark = "?" if paramstyle == "qmark" else "%s"
    where = " AND ".join(f"{k} = {mark}" for k in SPECS[name].keys)
    if name == "kpi_task_daily":
        source = ("SELECT MAX(k.name) FROM kpi_task k WHERE k.completed_at IS NOT NULL AND k.day = r.day"
                  " AND k.element_id = r.element_id AND k.role = r.role"
                  + "".join(f" AND COALESCE(k.{d}, '—') = r.{d}" for d in DIMS))
    else:
        source = ("SELECT MAX(c.name) FROM kpi_task_daily c WHERE c.day = r.day AND c.element_id = r.element_id"
                  f" AND c.role = r.role AND (r.dim = '{ALL}'"
                  + "".join(f" OR (r.dim = '{d}' AND c.{d} = r.value)" for d in DIMS) + ")")
    return f"UPDATE {name} AS r SET name = COALESCE(({source}), r.name) WHERE {where}"
