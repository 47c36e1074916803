"""The KPIs: SQL aggregates over the fact tables, filtered and grouped in the database.

Every figure is a count or a sum that the database groups (by period, channel, product
line, priority, team, stage or task type) from the per-day roll-ups — those by one
dimension (:mod:`analytics.daily`) when the figure filters and groups by at most one, else
the cube (:mod:`analytics.rollup`); shares and averages are derived from those few
numbers, medians and p90s from the per-day histograms (:mod:`analytics.timings`). Every figure names the drill-down
(:data:`DRILLS`) that lists the tickets behind it, so a number can always be checked.

A ticket belongs to the period in which it was opened (its business day); a task to the
period in which it was completed. A team is a lane's role: a ticket belongs to every
team that worked on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, exists, func, literal_column, or_, select, text, true
from sqlalchemy.orm import Session, aliased

from engine.db import UTCDateTime, is_sqlite
from handlers.values import local_date

from .backlog import backlog as rolled_backlog
from .backlog import by_urgency
from .backlog import ordered as ordered_backlog
from .daily import KpiDay, KpiTaskDay, day_conditions, group_column, one_dimension, task_dimension
from .facts import PERIODS, KpiTask, KpiTicket, kpi_settings, period_key, period_start, target_seconds
from .overdue import overdue
from .rollup import COUNTERS, RESOLUTION_EDGES, RESPONSE_EDGES, KpiDaily, KpiDailyTeam, KpiTaskDaily
from .timings import task_times, ticket_times, with_ticket_times
from .unregistered import KNOWN, applies, waiting_counts, waiting_requests

T = KpiTicket
DIMENSIONS = ("channel", "product_line", "priority", "team")
WINDOWS = {"day": 30, "week": 7 * 12, "month": 365, "quarter": 365 * 2}
#: the count each KPI rests on (for the "n =" of a tile and an alert's minimum)
BASIS = {"response_sla_share": "response_judged", "response_avg_hours": "responded",
         "response_median_hours": "responded", "resolution_avg_hours": "resolved",
         "response_p90_hours": "responded", "resolution_p90_hours": "resolved",
         "resolution_median_hours": "resolved", "over_target_share": "resolved",
         "resolution_sla_share": "resolution_judged", "fcr_share": "resolved_ok", "csat_satisfied_share": "surveyed",
         "nps": "nps_answered", "repeat_contact_share": "tickets", "backorder_share": "parts",
         "qa_score": "qa_reviewed", "cost_per_ticket": "tickets", "tickets": "tickets", "open": "open"}


@dataclass(frozen=True)
class KpiFilter:
    """Which tickets a figure counts: a date range split into periods, and dimension values."""

    period: str = "week"
    start: date | None = None
    end: date | None = None
    channel: str | None = None
    product_line: str | None = None
    priority: str | None = None
    team: str | None = None

    def bounded(self, now: datetime) -> KpiFilter:
        """Return the filter with its date range filled in (the last few periods up to today)."""
        if self.period not in PERIODS:
            raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {self.period!r}")
        end = self.end or local_date(now)
        start = self.start or period_start(period_key(end - timedelta(days=WINDOWS[self.period]), self.period),
                                           self.period)
        return replace(self, start=min(start, end), end=end)

    def args(self) -> dict[str, str]:
        """Return the filter as query-string arguments (empty values left out)."""
        values = {"period": self.period, "start": self.start.isoformat() if self.start else None,
                  "end": self.end.isoformat() if self.end else None, "channel": self.channel,
                  "product_line": self.product_line, "priority": self.priority, "team": self.team}
        return {k: v for k, v in values.items() if v}


@dataclass
class Context:
    """The settings and the moment figures are computed for."""

    now: datetime
    settings: dict[str, Any] = field(default_factory=dict)
    #: what was read once for this moment and may be shared by the figures computed with it
    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, session: Session, now: datetime) -> Context:
        """Read the KPI settings for ``now``."""
        return cls(now, kpi_settings(session))

    def target(self, name: str) -> float:
        """Return a target of ``data/kpi.json`` (hours for durations, 0–1 for shares)."""
        return float(self.settings["targets"][name])

    @property
    def scales(self) -> dict[str, int]:
        """Return the CSAT/NPS scale thresholds."""
        return self.settings["scales"]

    @property
    def params(self) -> dict[str, datetime]:
        """Return the values of the time-dependent conditions' bind parameters."""
        over = target_seconds(self.settings, "resolution_hours")
        return {"kpi_now": self.now, "kpi_late_before": self.now - timedelta(seconds=over)}

    @property
    def key(self) -> tuple[Any, ...]:
        """Return what the conditions depend on besides the time (to reuse them)."""
        return (target_seconds(self.settings, "resolution_hours"), tuple(sorted(self.scales.items())))


# --- conditions ----------------------------------------------------------------------------
NOW = bindparam("kpi_now", type_=UTCDateTime())
LATE_BEFORE = bindparam("kpi_late_before", type_=UTCDateTime())
_built: dict[tuple[Any, ...], dict[str, ColumnElement[bool]]] = {}


def _missed() -> ColumnElement[bool]:
    overdue = and_(T.response_met.is_(None), T.first_response_at.is_(None), T.response_due_at < NOW)
    return or_(T.response_met.is_(False), overdue)


def _resolved_ok() -> ColumnElement[bool]:
    return and_(T.status == "closed", T.outcome == "resolved")


def drills(ctx: Context) -> dict[str, ColumnElement[bool]]:
    """Return the drill-down conditions, by name: which tickets stand behind a figure.

    Conditions on the time read the bind parameters of :attr:`Context.params`."""
    if ctx.key not in _built:
        _built[ctx.key] = _drills(ctx)
    return _built[ctx.key]


def _drills(ctx: Context) -> dict[str, ColumnElement[bool]]:
    s = ctx.scales
    over = target_seconds(ctx.settings, "resolution_hours")
    return {
        "all": true(), "open": T.status == "open", "closed": T.status == "closed",
        "responded": T.first_response_at.is_not(None), "response_met": T.response_met.is_(True),
        "response_missed": _missed(), "resolved": T.resolution_seconds.is_not(None),
        "over_target": T.resolution_seconds > over, "open_over_target": and_(
            T.status == "open", T.resolution_seconds.is_(None), T.opened_at < LATE_BEFORE),
        "resolution_met": T.resolution_met.is_(True), "resolution_missed": T.resolution_met.is_(False),
        "resolved_ok": _resolved_ok(), "fcr": and_(_resolved_ok(), T.fcr.is_(True)),
        "not_fcr": and_(_resolved_ok(), T.fcr.is_(False)), "surveyed": T.csat.is_not(None),
        "satisfied": T.csat >= s["satisfied_csat_min"], "dissatisfied": T.csat < s["satisfied_csat_min"],
        "nps_answered": T.nps.is_not(None), "promoters": T.nps >= s["promoter_nps_min"],
        "detractors": T.nps <= s["detractor_nps_max"], "repeat": T.contacts > 1, "parts": T.parts_needed.is_(True),
        "backordered": T.backordered.is_(True), "qa_reviewed": T.qa_score.is_not(None),
        "breached": T.sla_breached.is_(True), "reopened": T.reopened > 0,
    }


def _team(team: str) -> ColumnElement[bool]:
    worked = aliased(KpiTask)  # its own name: the outer query may join the tasks too
    return exists().where(worked.ticket_id == T.ticket_id, worked.role == team)


def ticket_conditions(flt: KpiFilter, dated: bool = True, by_moment: bool = False) -> list[ColumnElement[bool]]:
    """Return the WHERE conditions of a ticket filter (its date range unless ``dated`` is false; with
    ``by_moment`` the range is also said on ``opened_at``, a day either side, and the business day is
    compared in a way no index serves, so that a query walks the index of the moment opened)."""
    conds: list[ColumnElement[bool]] = []
    day: Any = func.coalesce(T.day, T.day) if by_moment else T.day
    if dated and flt.start:
        conds.append(day >= flt.start)
        if by_moment:
            conds.append(T.opened_at >= datetime.combine(flt.start, datetime.min.time(), UTC) - timedelta(days=1))
    if dated and flt.end:
        conds.append(day <= flt.end)
        if by_moment:
            conds.append(T.opened_at < datetime.combine(flt.end, datetime.min.time(), UTC) + timedelta(days=2))
    for dim in ("channel", "product_line", "priority"):
        value = getattr(flt, dim)
        if value:
            conds.append(getattr(T, dim) == value)
    if flt.team:
        conds.append(_team(flt.team))
    return conds


def _count(cond: ColumnElement[bool]) -> Any:
    return func.sum(case((cond, 1), else_=0))


# --- figures: roll-ups summed, plus what depends on the moment, counted live among open tickets ------
def _rollup(flt: KpiFilter) -> Any:
    return KpiDailyTeam if flt.team else KpiDaily


def rollup_conditions(flt: KpiFilter, table: Any = None) -> list[ColumnElement[bool]]:
    """Return the WHERE conditions of a filter on a roll-up table (the filter's own by default)."""
    table = table if table is not None else _rollup(flt)
    conds: list[ColumnElement[bool]] = []
    if flt.start:
        conds.append(table.day >= flt.start)
    if flt.end:
        conds.append(table.day <= flt.end)
    for dim in ("channel", "product_line", "priority"):
        if getattr(flt, dim):
            conds.append(getattr(table, dim) == getattr(flt, dim))
    if flt.team and hasattr(table, "team"):
        conds.append(table.team == flt.team)
    return conds


@cache  # sixty expressions per roll-up table, built once rather than per query
def _summed(table: Any) -> list[Any]:
    return [func.coalesce(func.sum(getattr(table, name)), 0).label(name) for name in COUNTERS]


def _live(ctx: Context, distinct: bool = False) -> list[Any]:
    d = drills(ctx)
    overdue = and_(T.response_met.is_(None), T.first_response_at.is_(None), T.response_due_at < NOW)
    if distinct:  # rows repeat a ticket (joined to its tasks): count tickets, not rows
        return [func.count(func.distinct(case((cond, T.ticket_id)))).label(name) for name, cond in
                (("response_overdue", overdue), ("open_over_target", d["open_over_target"]))]
    return [_count(overdue).label("response_overdue"), _count(d["open_over_target"]).label("open_over_target")]


def _scores(row: dict[str, Any], ctx: Context) -> dict[str, Any]:
    s = ctx.scales
    csat = {n: row.get(f"csat_{n}") or 0 for n in range(1, 6)}
    nps = {n: row.get(f"nps_{n}") or 0 for n in range(0, 11)}
    return {"surveyed": sum(csat.values()),
            "satisfied": sum(v for n, v in csat.items() if n >= s["satisfied_csat_min"]),
            "nps_answered": sum(nps.values()),
            "promoters": sum(v for n, v in nps.items() if n >= s["promoter_nps_min"]),
            "detractors": sum(v for n, v in nps.items() if n <= s["detractor_nps_max"]),
            "response_missed": ((row.get("response_failed") or 0) + (row.get("response_overdue") or 0)
                                + (row.get("unregistered_overdue") or 0))}


def _share(part: float | None, whole: float | None) -> float | None:
    return None if not whole else float(part or 0) / float(whole)


def derive(row: dict[str, Any]) -> dict[str, Any]:
    """Turn a row of counts and sums into the KPI values (shares 0–1, hours, NPS points, money)."""
    n = {k: (v or 0) for k, v in row.items()}
    cost = float(n["labour_cost"]) + float(n["parts_cost"]) + float(n["handling_cost"])
    nps = _share(n["promoters"] - n["detractors"], n["nps_answered"])
    return {
        **row, "response_judged": n["response_met"] + n["response_missed"],
        "resolution_judged": n["resolution_met"] + n["resolution_missed"],
        "response_sla_share": _share(n["response_met"], n["response_met"] + n["response_missed"]),
        "response_avg_hours": _share(n["response_seconds"], n["responded"] * 3600),
        "resolution_avg_hours": _share(n["resolution_seconds"], n["resolved"] * 3600),
        "over_target_share": _share(n["over_target"], n["resolved"]),
        "resolution_sla_share": _share(n["resolution_met"], n["resolution_met"] + n["resolution_missed"]),
        "fcr_share": _share(n["fcr"], n["resolved_ok"]),
        "csat_satisfied_share": _share(n["satisfied"], n["surveyed"]),
        "nps": None if nps is None else nps * 100,
        "repeat_contact_share": _share(n["repeat"], n["tickets"]),
        "backorder_share": _share(n["backordered"], n["parts"]),
        "qa_score": _share(n["qa_total"], n["qa_reviewed"]),
        "cost_total": cost, "cost_per_ticket": _share(cost, n["tickets"]),
    }


def _counted(flt: KpiFilter, by: str | None = None) -> tuple[Any, list[ColumnElement[bool]], Any]:
    """Return the roll-up table that answers ``flt`` grouped by ``by``, its conditions and its grouping column:
    the days by one dimension when one is enough, else the cube (with the teams when one is named)."""
    source = one_dimension(flt, by)
    if source is not None:
        return KpiDay, day_conditions(KpiDay, flt, *source), group_column(KpiDay, by) if by else None
    table = KpiDailyTeam if by == "team" or flt.team else KpiDaily
    return table, rollup_conditions(flt, table), getattr(table, by) if by else None


#: the figures that depend on the moment as well as on the facts (open tickets falling overdue, requests not
#: registered yet) and those derived from them: :func:`aggregate` without ``live`` leaves them out
LIVE_COUNTS = ("response_overdue", "open_over_target", "unregistered", "unregistered_overdue")
LIVE_FIGURES = frozenset({*LIVE_COUNTS, "response_missed", "response_judged", "response_sla_share"})


def aggregate(session: Session, ctx: Context, flt: KpiFilter, live: bool = True) -> dict[str, Any]:
    """Return the KPIs over the filter's tickets (counts, shares, averages); with ``live`` false only those
    summed from the roll-ups (one statement): :data:`LIVE_FIGURES` are left out, not read."""
    table, conds, _ = _counted(flt)
    row = dict(session.execute(select(*_summed(table)).where(*conds)).one()._mapping)
    if not live:
        row.update(dict.fromkeys(LIVE_COUNTS, 0))
        return {k: v for k, v in derive({**row, **_scores(row, ctx)}).items() if k not in LIVE_FIGURES}
    counted = overdue(session, ctx.settings, ctx.now, flt)
    if counted is not None:
        row.update(counted[None])
    else:  # two dimensions or more: among the filter's open tickets
        row.update(session.execute(select(*_live(ctx)).where(T.status == "open", *ticket_conditions(flt)),
                                   ctx.params).one()._mapping)
    row.update(unregistered=0, unregistered_overdue=0)
    if applies(flt):
        row.update(waiting_counts(_waiting(session, ctx, flt), ctx.now).get(None, {}))
    return derive({**row, **_scores(row, ctx)})


def _waiting(session: Session, ctx: Context, flt: KpiFilter) -> list[dict[str, Any]]:
    """Return the requests waiting for registration in the filter's dates (read once per context)."""
    key = ("waiting", flt.start, flt.end, flt.channel)
    if key not in ctx.memo:
        ctx.memo[key] = waiting_requests(session, ctx.settings, flt.start, flt.end, flt.channel)
    return ctx.memo[key]


def measures(session: Session, ctx: Context, flt: KpiFilter, times: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return every KPI over the filter's tickets (counts, shares, averages, medians; ``times``: the
    medians and p90s :func:`analytics.timings.ticket_times` already read for all of them)."""
    row = aggregate(session, ctx, flt)
    if times is None:
        times = ticket_times(session, flt, ())[None].get(None, {})
    row.update({f"{name}_{label}_hours{tail}": times.get(f"{name}_{label}_hours{tail}")
                for name in ("response", "resolution") for label in ("median", "p90") for tail in ("", "_error")})
    return row


def _group_column(by: str) -> Any:
    if by in PERIODS or by in ("channel", "product_line", "priority", "stage", "tier", "fault_category"):
        return getattr(T, by)
    raise ValueError(f"cannot group tickets by {by!r}")


def grouped(session: Session, ctx: Context, flt: KpiFilter, by: str, medians: bool = True,
            times: dict[Any, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Return the KPIs per value of ``by`` (a period, a dimension or ``team``), in key order; with the
    median and p90 times of each row unless ``medians`` is false (``times``: those already read)."""
    if by not in (*PERIODS, "channel", "product_line", "priority", "team"):
        raise ValueError(f"cannot group figures by {by!r}")
    rows = _sums_by(session, ctx, flt, by)
    for k, counts in _overdue_by(session, ctx, flt, by).items():
        if k in rows:
            rows[k].update(counts)
    if applies(flt) and by in (*PERIODS, *KNOWN):  # requests waiting for registration: their own rows if need be
        for k, counts in waiting_counts(_waiting(session, ctx, flt), ctx.now, by).items():
            rows.setdefault(k, {name: 0 for name in COUNTERS}).update(counts)
    out = []
    for k in sorted(rows, key=lambda v: (v is None, by_urgency(v) if by == "priority" else v)):
        row = rows[k]
        for name in ("response_overdue", "open_over_target", "unregistered", "unregistered_overdue"):
            row.setdefault(name, 0)
        row = derive({**row, **_scores(row, ctx)})
        row["key"] = k.isoformat() if isinstance(k, date) else k
        out.append(row)
    return with_ticket_times(session, flt, by, out, times) if medians else out


def _sums_by(session: Session, ctx: Context, flt: KpiFilter, by: str) -> dict[Any, dict[str, Any]]:
    """Return the roll-ups' sums per value of ``by``: the dimensions the dashboard breaks its figures down by are
    read together when the filter names none (one read of their days, kept in ``ctx.memo``)."""
    if by in DIMENSIONS and one_dimension(flt, by) == (by, None):
        key = ("sums by dimension", flt.start, flt.end)
        if key not in ctx.memo:
            conds = [KpiDay.dim.in_(DIMENSIONS), *day_conditions(KpiDay, flt, "all", None)[1:]]
            found: dict[str, dict[Any, dict[str, Any]]] = {dim: {} for dim in DIMENSIONS}
            for r in session.execute(select(KpiDay.dim, KpiDay.value.label("key"), *_summed(KpiDay))
                                     .where(*conds).group_by(KpiDay.dim, KpiDay.value)):
                row = dict(r._mapping)
                found[row.pop("dim")][r.key] = row
            ctx.memo[key] = found
        return {k: dict(row) for k, row in ctx.memo[key][by].items()}
    table, conds, column = _counted(flt, by)
    return {r.key: dict(r._mapping) for r in session.execute(
        select(column.label("key"), *_summed(table)).where(*conds).group_by(column))}


def _overdue_by(session: Session, ctx: Context, flt: KpiFilter, by: str) -> dict[Any, dict[str, int]]:
    """Return per value of ``by`` the open tickets overdue now: from the counters by hour
    (:mod:`analytics.overdue`), or for two dimensions and more among the filter's open tickets."""
    counted = overdue(session, ctx.settings, ctx.now, flt, by)
    if counted is not None:
        return counted
    if by == "team":  # from the open tickets to their tasks (by index), each ticket once per team
        live_key: Any = KpiTask.role
        live = (select(live_key.label("key"), *_live(ctx, distinct=True))
                .join(KpiTask, KpiTask.ticket_id == T.ticket_id).where(T.status == "open", *ticket_conditions(flt)))
    else:
        live_key = getattr(T, by)
        live = select(live_key.label("key"), *_live(ctx)).where(T.status == "open", *ticket_conditions(flt))
    return {r.key: {"response_overdue": r.response_overdue, "open_over_target": r.open_over_target}
            for r in session.execute(live.group_by(live_key), ctx.params)}


def period_end(key: Any, period: str) -> date:
    """Return the last day of the period with ``key``."""
    start = period_start(key, period)
    probe = start + timedelta(days={"day": 1, "week": 7, "month": 32, "quarter": 95}[period])
    return period_start(period_key(probe, period), period) - timedelta(days=1)


def trend(session: Session, ctx: Context, flt: KpiFilter, medians: bool = True,
          times: dict[Any, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Return the KPIs per period of the filter (day, week, month or quarter).

    A period not over yet (it ends after today) or cut by the filter's range is marked
    ``partial``: its tickets are still being worked, so its figures are not comparable yet."""
    today = local_date(ctx.now)
    rows = grouped(session, ctx, flt, flt.period, medians, times)
    for row in rows:
        start, end = period_start(row["key"], flt.period), period_end(row["key"], flt.period)
        row["partial"] = end >= today or bool(flt.start and flt.start > start) or bool(flt.end and flt.end < end)
    return rows


def backlog(session: Session, ctx: Context, flt: KpiFilter) -> list[dict[str, Any]]:
    """Return the open tickets by priority and stage, now (dimensions filter; the date range does not): from
    the open tickets' counters by hour (:mod:`analytics.backlog`), from the facts for three dimensions."""
    rolled = rolled_backlog(session, ctx.settings, ctx.now, flt)
    if rolled is not None:
        return rolled
    over = drills(ctx)["open_over_target"]
    rows = session.execute(select(T.priority, T.stage, func.count().label("open"), _count(over).label("over"))
                           .where(T.status == "open", *ticket_conditions(flt, dated=False))
                           .group_by(T.priority, T.stage), ctx.params)
    return ordered_backlog({(p, s): [n, o or 0] for p, s, n, o in rows})


def handle_times(session: Session, flt: KpiFilter, medians: bool = True) -> list[dict[str, Any]]:
    """Return per task type: runs, average waiting and working (handle) time, total working hours (and
    the median and p90 of each time unless ``medians`` is false)."""
    source = task_dimension(flt)
    if source is None:
        D: Any = KpiTaskDaily
        conds = rollup_conditions(replace(flt, team=None), D)
    else:
        D = KpiTaskDay
        conds = day_conditions(D, flt, *source)
    if flt.team:
        conds.append(D.role == flt.team)
    runs, waited = func.sum(D.runs), func.sum(D.waiting_runs)
    rows = session.execute(select(D.element_id, func.max(D.name), D.role, runs, waited, func.sum(D.waiting_seconds),
                                  func.sum(D.working_seconds)).where(*conds).group_by(D.element_id, D.role)
                           .order_by(func.sum(D.working_seconds).desc(), D.element_id))
    times = task_times(session, flt) if medians else {}
    return [{"element_id": e, "name": name, "role": role, "runs": int(n or 0),
             "waiting_avg_hours": _share(w, (nw or 0) * 3600), "working_avg_minutes": _share(h, (n or 0) * 60),
             "working_total_hours": float(h or 0) / 3600, **times.get((e, role), {})}
            for e, name, role, n, nw, w, h in rows]


def distributions(session: Session, ctx: Context, flt: KpiFilter) -> dict[str, Any]:
    """Return histograms: resolution and first-response hours, CSAT 1–5, NPS 0–10."""
    table, conds, _ = _counted(flt)
    row = session.execute(select(*_summed(table)).where(*conds)).one()._mapping

    def histogram(prefix: str, edges: tuple[int, ...]) -> list[dict[str, Any]]:
        labels = [f"< {edges[0]} h", *(f"{a}–{b} h" for a, b in zip(edges, edges[1:], strict=False)),
                  f"≥ {edges[-1]} h"]
        return [{"label": label, "count": int(row[f"{prefix}_{i}"] or 0)} for i, label in enumerate(labels)]

    return {"resolution_hours": histogram("res", RESOLUTION_EDGES),
            "first_response_hours": histogram("resp", RESPONSE_EDGES),
            "csat": [{"label": str(n), "count": int(row[f"csat_{n}"] or 0)} for n in range(1, 6)],
            "nps": [{"label": str(n), "count": int(row[f"nps_{n}"] or 0)} for n in range(0, 11)]}


def choices(session: Session) -> dict[str, list[str]]:
    """Return the values the dashboard's filters offer."""
    dims = ("channel", "product_line", "priority")  # a dimension's days: a row per value a day
    values = (select(KpiDay.dim, KpiDay.value).where(KpiDay.dim.in_(dims)).distinct()
              .union_all(select(literal_column("'team'"), KpiTaskDay.role).where(KpiTaskDay.dim == "all").distinct()))
    found: dict[str, list[str]] = {dim: [] for dim in (*dims, "team")}
    for dim, value in session.execute(values):
        if value:
            found[dim].append(value)
    return {"period": list(PERIODS), **{dim: sorted(found[dim], key=by_urgency if dim == "priority" else None)
                                        for dim in (*dims, "team")}}


# --- the tickets behind a figure ------------------------------------------------------------
@dataclass(frozen=True)
class Drill:
    """Which tickets to list: a drill-down, within a filter, optionally one group or task type."""

    kpi: str = "all"
    group_by: str | None = None
    group: str | None = None
    element: str | None = None
    dated: bool = True


def drill_conditions(ctx: Context, flt: KpiFilter, drill: Drill, by_moment: bool = False) -> list[ColumnElement[bool]]:
    """Return the WHERE conditions of the tickets behind a figure (``by_moment``: as
    :func:`ticket_conditions`, for the page read newest first)."""
    known = drills(ctx)
    if drill.kpi not in known:
        raise ValueError(f"unknown figure {drill.kpi!r}; known: {', '.join(sorted(known))}")
    conds = [*ticket_conditions(flt, dated=drill.dated, by_moment=by_moment), known[drill.kpi]]
    if drill.group_by and drill.group is not None:
        if drill.group_by == "team":
            conds.append(_team(drill.group))
        else:
            column = _group_column(drill.group_by)
            value: Any = drill.group
            if drill.group_by in ("day", "week"):
                value = date.fromisoformat(drill.group)
            conds.append(column == value if drill.group != "" else column.is_(None))
    if drill.element:
        conds.append(exists().where(KpiTask.ticket_id == T.ticket_id, KpiTask.element_id == drill.element))
    return conds


#: the drill-downs that count what a roll-up counter counts, and that counter (their total is summed from the
#: per-day roll-ups, not counted among the facts; those that depend on the moment are counted)
ROLLED = {"all": "tickets", **{name: name for name in (
    "open", "closed", "responded", "response_met", "resolved", "over_target", "resolution_met", "resolution_missed",
    "resolved_ok", "fcr", "repeat", "parts", "backordered", "qa_reviewed", "breached", "reopened")}}


def rolled_total(session: Session, flt: KpiFilter, drill: Drill) -> int | None:
    """Return how many tickets are behind a figure, summed from the one-dimension days (:class:`KpiDay`, rebuilt
    with the facts in the refresh's transaction), or None when the facts must be counted: a figure that depends
    on the moment, a task type, an undated or empty group, two dimensions or more."""
    counter = ROLLED.get(drill.kpi)
    by = drill.group_by if drill.group is not None else None
    if counter is None or drill.element or not drill.dated or (by is not None and (
            drill.group == "" or by not in (*PERIODS, *DIMENSIONS))):
        return None
    source = one_dimension(flt, by)
    if source is None:
        return None
    dim, value = source
    if by in DIMENSIONS:
        if value is not None and value != drill.group:  # no ticket has two channels; it may have two teams
            return None if by == "team" else 0
        value = drill.group
    conds = day_conditions(KpiDay, flt, dim, value)
    if by in PERIODS:
        conds.append(getattr(KpiDay, by) == (date.fromisoformat(drill.group) if by in ("day", "week") else drill.group))
    return int(session.scalar(select(func.coalesce(func.sum(getattr(KpiDay, counter)), 0)).where(*conds)) or 0)


def tickets_behind(session: Session, ctx: Context, flt: KpiFilter, drill: Drill, page: int = 1,
                   per_page: int = 100) -> tuple[list[dict[str, Any]], int]:
    """Return one page of the tickets behind a figure (newest first) and how many there are (summed from the
    roll-ups when a counter counts them, :func:`rolled_total`)."""
    conds = drill_conditions(ctx, flt, drill)
    total = rolled_total(session, flt, drill)
    if total is None:
        total = session.scalar(select(func.count()).select_from(T).where(*conds), ctx.params) or 0
    newest = drill_conditions(ctx, flt, drill, by_moment=True)  # along the index of the moment opened
    postgres = not is_sqlite(session)
    if postgres:  # PostgreSQL expects a figure's few rows, reads the whole range and sorts it (3x slower at 30x
        session.execute(text("SET LOCAL enable_sort = off"))  # the tickets): walk the index newest first instead
    rows = list(session.scalars(select(T).where(*newest).order_by(T.opened_at.desc(), T.ticket_id.desc())
                                .limit(per_page).offset((max(1, page) - 1) * per_page), ctx.params))
    if postgres:
        session.execute(text("SET LOCAL enable_sort = on"))
    return [ticket_row(r) for r in rows], total


def ticket_row(r: KpiTicket) -> dict[str, Any]:
    """Return the facts of one ticket as the drill-down lists them."""
    hours = (lambda s: None if s is None else s / 3600)  # noqa: E731
    return {"number": r.number, "opened_at": r.opened_at, "channel": r.channel, "product_line": r.product_line,
            "priority": r.priority, "status": r.status, "outcome": r.outcome, "stage": r.stage,
            "first_response_hours": hours(r.first_response_seconds), "response_met": r.response_met,
            "resolution_hours": hours(r.resolution_seconds), "paused_hours": hours(r.paused_seconds),
            "fcr": r.fcr, "reopened": r.reopened, "contacts": r.contacts, "csat": r.csat, "nps": r.nps,
            "qa_score": r.qa_score, "backordered": r.backordered,
            "cost": r.labour_cost + r.parts_cost + r.handling_cost}

