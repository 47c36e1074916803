"""Open tickets falling overdue, counted as the facts are written: "response overdue" and "open over
target" without scanning the backlog.

An open ticket still waiting for its first response becomes overdue at its ``response_due_at``; one not
resolved yet is over target from ``opened_at`` + the resolution target on. :class:`KpiOpen` counts them
per hour they fall due in (an epoch hour number), per business day opened and per dimension value
(``dim`` ``all``: every ticket), kept with the roll-ups by the difference a refresh batch's tickets
make (:func:`recounted` of those tickets, :func:`analytics.rollup.by_delta`) in the transaction that
wrote the facts, or rebuilt (:func:`rebuild`). At a moment ``now`` a figure is the counts of the
hours already over plus the tickets falling due in the current hour before ``now``, counted from the
facts by index: exact, however long the backlog. Pairs of dimensions (a channel's product lines) have
their rows too (``dim`` and ``value`` as :data:`analytics.daily.PAIRS`); a filter on three dimensions or more
counts the open tickets from the facts (:func:`overdue` returns None).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Date, Index, Integer, String, and_, bindparam, delete, func, literal, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base, is_sqlite

from .daily import ALL, DIMS, PAIRS, SEPARATOR, answering_rows, group_of
from .facts import KpiTask, KpiTicket, target_seconds

T, K = KpiTicket, KpiTask
#: the kinds of overdue counted, and the figure each gives
KINDS = {"response": "response_overdue", "late": "open_over_target"}
PERIOD_NAMES = ("day", "week", "month", "quarter")


class KpiOpen(Base):
    """How many open tickets of one business day (and dimension value) fall overdue in one hour."""

    __tablename__ = "kpi_open"
    __table_args__ = (Index("ix_kpi_open_day", "day"), Index("ix_kpi_open_dim_value_day", "dim", "value", "day"))

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True)
    dim: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    week: Mapped[date] = mapped_column(Date)
    month: Mapped[str] = mapped_column(String(7))
    quarter: Mapped[str] = mapped_column(String(7))
    n: Mapped[int] = mapped_column(Integer)


def epoch_hour(moment: datetime) -> int:
    """Return the number of the hour since the epoch that ``moment`` falls in."""
    return int(moment.timestamp()) // 3600


def hour_sql(sqlite: bool, column: str, offset: int) -> str:
    """Return the SQL of the epoch hour that ``column`` plus ``offset`` seconds falls in."""
    if sqlite:  # naive UTC text; strftime('%s') gives whole seconds, floored, as PostgreSQL's FLOOR does
        return f"((CAST(strftime('%s', {column}) AS INTEGER) + {offset}) / 3600)"
    return f"CAST(FLOOR((EXTRACT(EPOCH FROM {column}) + {offset}) / 3600) AS INTEGER)"


def counting(sqlite: bool, over_seconds: float, kind: str, dim: str, within: str | None) -> str:
    """Return the SQL that counts one kind's open tickets for one dimension from the facts (of the days
    ``:open_days`` or the tickets ``:open_tickets`` as :func:`restriction` says) — columns kind, hour, dim,
    value, day, week, month, quarter, n."""
    if kind == "response":
        hour = hour_sql(sqlite, "f.response_due_at", 0)
        conds = ["f.response_met IS NULL", "f.first_response_at IS NULL", "f.response_due_at IS NOT NULL"]
    else:
        hour = hour_sql(sqlite, "f.opened_at", int(round(over_seconds)))
        conds = ["f.resolution_seconds IS NULL"]
    conds.insert(0, "f.status = 'open'")
    conds += restriction(within)
    join, value = dimension_sql(dim, within)
    periods = ", ".join(f"f.{p}" for p in PERIOD_NAMES)
    keys = ", ".join([hour, *([] if dim == ALL else [value]), periods])
    return (f"SELECT '{kind}' AS kind, {hour} AS hour, '{dim}' AS dim, {value} AS value, {periods}, COUNT(*) AS n "
            f"FROM kpi_ticket f{join} WHERE {' AND '.join(conds)} GROUP BY {keys}")


#: what a count is of: every fact (None), the facts of the days ``:open_days`` or of the tickets ``:open_tickets``
DAYS, TICKETS = "days", "tickets"


def restriction(within: str | None) -> list[str]:
    """Return the conditions on the facts ``f`` that a count ``within`` the days or tickets adds."""
    return {None: [], DAYS: ["f.day IN :open_days"], TICKETS: ["f.ticket_id IN :open_tickets"]}[within]


def dimension_sql(dim: str, within: str | None) -> tuple[str, str]:
    """Return the JOIN (to the teams that worked on a ticket ``f``, of the days ``:open_days`` or the tickets
    ``:open_tickets`` as ``within`` says) and the value expression of a dimension or pair named ``dim`` (``''``
    for ``all``)."""
    join, value = "", "''"
    pair = next((p for p, name in PAIRS.items() if name == dim), None)
    if dim == "team" or (pair and "team" in pair):
        worked = "SELECT DISTINCT ticket_id, role FROM kpi_task WHERE ticket_id IS NOT NULL"
        if within == DAYS:
            worked += " AND ticket_id IN (SELECT ticket_id FROM kpi_ticket WHERE day IN :open_days)"
        elif within == TICKETS:
            worked += " AND ticket_id IN :open_tickets"
        join, value = f" JOIN ({worked}) w ON w.ticket_id = f.ticket_id", "w.role"
    if pair:
        value = f" || '{SEPARATOR}' || ".join("w.role" if d == "team" else f"f.{d}" for d in pair)
    elif dim not in (ALL, "team"):
        value = f"f.{dim}"
    return join, value


@cache  # the same few dozen statements at every refresh batch
def _statement(sql: str, within: str | None) -> Any:
    statement = text(sql)
    if within == DAYS:
        return statement.bindparams(bindparam("open_days", expanding=True, type_=Date()))
    if within == TICKETS:
        return statement.bindparams(bindparam("open_tickets", expanding=True, type_=Integer()))
    return statement


def _selects(sqlite: bool, over: float, within: str | None) -> list[str]:
    return [counting(sqlite, over, kind, dim, within) for kind in KINDS for dim in (ALL, *DIMS, *PAIRS.values())]


def recounted(session: Session, settings: dict[str, Any], days: list[date] | None,
              tickets: list[int] | None = None) -> list[dict[str, Any]]:
    """Return the rows :class:`KpiOpen` should hold for ``days`` (or all), counted from the facts (only those of
    ``tickets`` when given: what they add to the table)."""
    return recount(session, settings, days, _selects, tickets)


def rebuild(session: Session, settings: dict[str, Any], days: Iterable[date] | None) -> None:
    """Recount the open tickets of ``days`` (every day when None) into :class:`KpiOpen`, one ``INSERT …
    SELECT … GROUP BY`` per kind and dimension."""
    refill(session, settings, days, KpiOpen, OPEN_COLUMNS, _selects)


#: the columns :func:`counting` gives
OPEN_COLUMNS = ("kind", "hour", "dim", "value", "day", "week", "month", "quarter", "n")
#: how a batch's open tickets are counted into :class:`KpiOpen` (:func:`recount_together`)
PART = (_selects, OPEN_COLUMNS)


def recount_together(session: Session, settings: dict[str, Any], tickets: list[int],
                     parts: list[tuple[Callable[[bool, float, str | None], list[str]], tuple[str, ...]]]
                     ) -> list[list[dict[str, Any]]]:
    """Return, per part ``(selects, columns)``, the rows its SELECTs count from the facts of ``tickets`` (as
    :func:`recount`), every part's in one statement: the parts' columns side by side, NULL where a part has none,
    a leading number saying whose a row is."""
    out: list[list[dict[str, Any]]] = [[] for _ in parts]
    if not tickets:
        return out
    sqlite, over = is_sqlite(session), target_seconds(settings, "resolution_hours")
    for row in session.execute(_together(sqlite, over, tuple(parts)), {"open_tickets": tickets}):
        mapping = row._mapping
        part = mapping["part"]
        out[part].append(_dated({c: mapping[c] for c in parts[part][1]}))
    return out


@cache
def _together(sqlite: bool, over: float, parts: tuple[Any, ...]) -> Any:
    every = list(dict.fromkeys(c for _, columns in parts for c in columns))
    sql = " UNION ALL ".join(
        f"SELECT {n} AS part, {', '.join(f'x.{c}' if c in columns else f'NULL AS {c}' for c in every)} FROM "
        f"({' UNION ALL '.join(selects(sqlite, over, TICKETS))}) x" for n, (selects, columns) in enumerate(parts))
    return _statement(sql, TICKETS)


def recount(session: Session, settings: dict[str, Any], days: list[date] | None,
            selects: Callable[[bool, float, str | None], list[str]],
            tickets: list[int] | None = None) -> list[dict[str, Any]]:
    """Return the rows counted from the facts by ``selects(sqlite, resolution target seconds, within)`` (of the
    days ``days``, or all; of the ``tickets`` only when given), their dates as dates."""
    sqlite, over = is_sqlite(session), target_seconds(settings, "resolution_hours")
    within = TICKETS if tickets is not None else None if days is None else DAYS
    params = {TICKETS: {"open_tickets": tickets}, DAYS: {"open_days": days}, None: {}}[within]
    if within == TICKETS and not tickets:
        return []
    statements = selects(sqlite, over, within)
    if within == TICKETS:  # a batch's few rows: one statement for every dimension
        statements = [" UNION ALL ".join(statements)]
    out = []
    for sql in statements:
        out += [_dated(r._mapping) for r in session.execute(_statement(sql, within), params)]
    return out


def refill(session: Session, settings: dict[str, Any], days: Iterable[date] | None, table: Any,
           columns: tuple[str, ...], selects: Callable[[bool, float, str | None], list[str]]) -> None:
    """Delete ``table``'s rows of ``days`` (every day when None) and insert the rows ``selects`` count (as
    :func:`recount`) into ``columns``, one ``INSERT … SELECT`` each."""
    chosen = None if days is None else sorted(set(days))
    wipe = delete(table)
    if chosen is not None:
        wipe = wipe.where(table.day.in_(chosen))
    session.execute(wipe)
    sqlite, over = is_sqlite(session), target_seconds(settings, "resolution_hours")
    params = {} if chosen is None else {"open_days": chosen}
    within = None if chosen is None else DAYS
    for sql in selects(sqlite, over, within):
        insert = f"INSERT INTO {table.__tablename__} ({', '.join(columns)}) {sql}"
        session.execute(_statement(insert, within), params)


def _dated(mapping: Any) -> dict[str, Any]:
    row = dict(mapping)
    for name in ("day", "week"):  # SQLite's dates come back as text through text()
        if isinstance(row.get(name), str):
            row[name] = date.fromisoformat(row[name])
    return row


def overdue(session: Session, settings: dict[str, Any], now: datetime, flt: Any,
            by: str | None = None) -> dict[Any, dict[str, int]] | None:
    """Return per value of ``by`` (None: one group) how many of the filter's open tickets are overdue for
    their response and over the resolution target at ``now`` (None when the filter and ``by`` rest on two
    dimensions or more: count those from the facts)."""
    rows = answering_rows(KpiOpen, flt, by)
    if rows is None:
        return None
    conds, key, which = rows
    key = literal(None) if key is None else key
    hour = epoch_hour(now)
    out: dict[Any, dict[str, int]] = defaultdict(lambda: dict.fromkeys(KINDS.values(), 0))
    for k, kind, n in session.execute(
            select(key, KpiOpen.kind, func.sum(KpiOpen.n)).where(*conds, KpiOpen.hour < hour)
            .group_by(key, KpiOpen.kind)):
        out[group_of(k, which)][KINDS[kind]] += int(n or 0)
    for kind, n_by_key in _this_hour(session, settings, now, flt, by).items():
        for k, n in n_by_key.items():
            out[k][KINDS[kind]] += n
    if by is None:
        out[None]  # noqa: B018  (the tiles have their group, zero or not)
    return dict(out)


def going_late_this_hour(settings: dict[str, Any], now: datetime) -> Any:
    """Return the condition of an unresolved ticket going over the resolution target in ``now``'s hour, before
    ``now`` (on the moment it opened, so the index of that moment finds it)."""
    start = datetime.fromtimestamp(epoch_hour(now) * 3600, UTC)
    over = timedelta(seconds=round(target_seconds(settings, "resolution_hours")))
    return and_(T.resolution_seconds.is_(None), T.opened_at >= start - over, T.opened_at < now - over)


def _this_hour(session: Session, settings: dict[str, Any], now: datetime, flt: Any,
               by: str | None) -> dict[str, dict[Any, int]]:
    """Count from the facts the open tickets falling due in the current hour, before ``now``."""
    from .queries import ticket_conditions  # the filter's own conditions (queries imports this module)

    start = datetime.fromtimestamp(epoch_hour(now) * 3600, UTC)
    windows = {
        "response": and_(T.response_met.is_(None), T.first_response_at.is_(None), T.response_due_at >= start,
                         T.response_due_at < now),
        "late": going_late_this_hour(settings, now)}
    out: dict[str, dict[Any, int]] = {}
    for kind, window in windows.items():
        conds = [T.status == "open", window, *ticket_conditions(flt, by_moment=True)]  # by the hour's index
        if by == "team":
            query = (select(K.role, func.count(func.distinct(T.ticket_id))).join(K, K.ticket_id == T.ticket_id)
                     .where(*conds).group_by(K.role))
        elif by:
            query = select(getattr(T, by), func.count()).where(*conds).group_by(getattr(T, by))
        else:
            query = select(literal(None), func.count()).where(*conds)
        out[kind] = {k: int(n) for k, n in session.execute(query) if n}
    return out
