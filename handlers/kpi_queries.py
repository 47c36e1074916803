"""The KPIs: SQL aggregates over the fact tables, filtered and grouped in the database.

Every figure is a count or a sum that the database groups (by period, channel, product
line, priority, team, stage or task type); shares and averages are derived from those
few numbers, medians read with one ordered ``OFFSET``. Every figure names the drill-down
(:data:`DRILLS`) that lists the tickets behind it, so a number can always be checked.

A ticket belongs to the period in which it was opened (its business day); a task to the
period in which it was completed. A team is a lane's role: a ticket belongs to every
team that worked on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, exists, func, literal, or_, select, true
from sqlalchemy.orm import Session

from engine.db import UTCDateTime

from .kpi import PERIODS, KpiTask, KpiTicket, kpi_settings, period_key, period_start, target_seconds
from .values import local_date

T = KpiTicket
DIMENSIONS = ("channel", "product_line", "priority", "team")
WINDOWS = {"day": 30, "week": 7 * 12, "month": 365, "quarter": 365 * 2}
RESOLUTION_BUCKETS = (4, 8, 24, 48, 72, 168)
RESPONSE_BUCKETS = (1, 4, 8, 24, 48)
#: the count each KPI rests on (for the "n =" of a tile and an alert's minimum)
BASIS = {"response_sla_share": "response_judged", "response_avg_hours": "responded",
         "response_median_hours": "responded", "resolution_avg_hours": "resolved",
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
_built: dict[tuple[Any, ...], tuple[dict[str, ColumnElement[bool]], list[Any]]] = {}


def _missed() -> ColumnElement[bool]:
    overdue = and_(T.response_met.is_(None), T.first_response_at.is_(None), T.response_due_at < NOW)
    return or_(T.response_met.is_(False), overdue)


def _resolved_ok() -> ColumnElement[bool]:
    return and_(T.status == "closed", T.outcome == "resolved")


def drills(ctx: Context) -> dict[str, ColumnElement[bool]]:
    """Return the drill-down conditions, by name: which tickets stand behind a figure.

    Conditions on the time read the bind parameters of :attr:`Context.params`."""
    return _build(ctx)[0]


def _build(ctx: Context) -> tuple[dict[str, ColumnElement[bool]], list[Any]]:
    if ctx.key not in _built:
        conditions = _drills(ctx)
        _built[ctx.key] = conditions, _columns(conditions)
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
    return exists().where(KpiTask.ticket_id == T.ticket_id, KpiTask.role == team)


def ticket_conditions(flt: KpiFilter, dated: bool = True) -> list[ColumnElement[bool]]:
    """Return the WHERE conditions of a ticket filter (its date range unless ``dated`` is false)."""
    conds: list[ColumnElement[bool]] = []
    if dated and flt.start:
        conds.append(T.day >= flt.start)
    if dated and flt.end:
        conds.append(T.day <= flt.end)
    for dim in ("channel", "product_line", "priority"):
        value = getattr(flt, dim)
        if value:
            conds.append(getattr(T, dim) == value)
    if flt.team:
        conds.append(_team(flt.team))
    return conds


def _count(cond: ColumnElement[bool]) -> Any:
    return func.sum(case((cond, 1), else_=0))


def _columns(d: dict[str, ColumnElement[bool]]) -> list[Any]:
    counted = ("open", "closed", "responded", "response_met", "response_missed", "resolved", "over_target",
               "open_over_target", "resolution_met", "resolution_missed", "resolved_ok", "fcr", "surveyed",
               "satisfied", "nps_answered", "promoters", "detractors", "repeat", "parts", "backordered",
               "qa_reviewed", "breached", "reopened")
    return [func.count().label("tickets"), *(_count(d[name]).label(name) for name in counted),
            func.sum(T.first_response_seconds).label("response_seconds"),
            func.sum(T.resolution_seconds).label("resolution_seconds"),
            func.sum(T.contacts - 1).label("repeat_contacts"), func.sum(T.qa_score).label("qa_total"),
            func.sum(T.labour_cost).label("labour_cost"), func.sum(T.parts_cost).label("parts_cost"),
            func.sum(T.handling_cost).label("handling_cost")]


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
        "repeat_contact_share": _share(n["repeat_contacts"], n["tickets"]),
        "backorder_share": _share(n["backordered"], n["parts"]),
        "qa_score": _share(n["qa_total"], n["qa_reviewed"]),
        "cost_total": cost, "cost_per_ticket": _share(cost, n["tickets"]),
    }


def _rows(session: Session, ctx: Context, query: Any) -> list[dict[str, Any]]:
    return [derive(dict(r._mapping)) for r in session.execute(query, ctx.params)]


def aggregate(session: Session, ctx: Context, flt: KpiFilter) -> dict[str, Any]:
    """Return the KPIs over the filter's tickets (counts, shares, averages)."""
    return _rows(session, ctx, select(*_build(ctx)[1]).where(*ticket_conditions(flt)))[0]


def measures(session: Session, ctx: Context, flt: KpiFilter) -> dict[str, Any]:
    """Return every KPI over the filter's tickets (counts, shares, averages, medians)."""
    row = aggregate(session, ctx, flt)
    row["response_median_hours"] = _median(session, T.first_response_seconds, flt)
    row["resolution_median_hours"] = _median(session, T.resolution_seconds, flt)
    return row


def _median(session: Session, column: Any, flt: KpiFilter) -> float | None:
    conds = [*ticket_conditions(flt), column.is_not(None)]
    n = session.scalar(select(func.count()).select_from(T).where(*conds)) or 0
    if not n:
        return None
    value = session.scalar(select(column).where(*conds).order_by(column).offset((n - 1) // 2).limit(1))
    return None if value is None else float(value) / 3600


def _group_column(by: str) -> Any:
    if by in PERIODS:
        return getattr(T, by)
    if by in ("channel", "product_line", "priority", "stage", "tier", "fault_category"):
        return getattr(T, by)
    raise ValueError(f"cannot group tickets by {by!r}")


def grouped(session: Session, ctx: Context, flt: KpiFilter, by: str) -> list[dict[str, Any]]:
    """Return the KPIs per value of ``by`` (a period, a dimension or ``team``), in key order."""
    if by == "team":
        teams = select(KpiTask.ticket_id, KpiTask.role).where(KpiTask.ticket_id.is_not(None)).distinct().subquery()
        query = (select(teams.c.role.label("key"), *_build(ctx)[1]).join(teams, teams.c.ticket_id == T.ticket_id)
                 .where(*ticket_conditions(replace(flt, team=None))))
        if flt.team:
            query = query.where(teams.c.role == flt.team)
        query = query.group_by(teams.c.role).order_by(teams.c.role)
    else:
        column = _group_column(by)
        query = select(column.label("key"), *_build(ctx)[1]).where(*ticket_conditions(flt)).group_by(column)
        query = query.order_by(column)
    rows = _rows(session, ctx, query)
    for row in rows:
        row["key"] = row["key"].isoformat() if isinstance(row["key"], date) else row["key"]
    return rows


def trend(session: Session, ctx: Context, flt: KpiFilter) -> list[dict[str, Any]]:
    """Return the KPIs per period of the filter (day, week, month or quarter)."""
    return grouped(session, ctx, flt, flt.period)


def backlog(session: Session, ctx: Context, flt: KpiFilter) -> list[dict[str, Any]]:
    """Return the open tickets by priority and stage, now (dimensions filter; the date range does not)."""
    over = drills(ctx)["open_over_target"]
    rows = session.execute(select(T.priority, T.stage, func.count().label("open"), _count(over).label("over"))
                           .where(T.status == "open", *ticket_conditions(flt, dated=False))
                           .group_by(T.priority, T.stage).order_by(T.priority, T.stage), ctx.params)
    return [{"priority": p, "stage": s, "open": n, "open_over_target": o or 0} for p, s, n, o in rows]


def handle_times(session: Session, flt: KpiFilter) -> list[dict[str, Any]]:
    """Return per task type: runs, average waiting and working (handle) time, total working hours."""
    K = KpiTask
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
    rows = session.execute(select(K.element_id, func.max(K.name), K.role, func.count(), func.avg(K.waiting_seconds),
                                  func.avg(K.working_seconds), func.sum(K.working_seconds))
                           .where(*conds).group_by(K.element_id, K.role).order_by(func.sum(K.working_seconds).desc()))
    return [{"element_id": e, "name": name, "role": role, "runs": n,
             "waiting_avg_hours": None if w is None else float(w) / 3600,
             "working_avg_minutes": None if h is None else float(h) / 60,
             "working_total_hours": float(total or 0) / 3600} for e, name, role, n, w, h, total in rows]


def _buckets(column: Any, edges: tuple[int, ...]) -> Any:
    whens = [(column < edge * 3600, literal(i)) for i, edge in enumerate(edges)]
    return case(*whens, else_=literal(len(edges)))


def distributions(session: Session, ctx: Context, flt: KpiFilter) -> dict[str, Any]:
    """Return histograms: resolution and first-response hours, CSAT 1–5, NPS 0–10."""
    conds = ticket_conditions(flt)

    def histogram(column: Any, edges: tuple[int, ...]) -> list[dict[str, Any]]:
        bucket = _buckets(column, edges).label("bucket")
        counts = dict(session.execute(select(bucket, func.count()).where(*conds, column.is_not(None))
                                      .group_by(bucket)).all())
        labels = [f"< {edges[0]} h", *(f"{a}–{b} h" for a, b in zip(edges, edges[1:], strict=False)),
                  f"≥ {edges[-1]} h"]
        return [{"label": label, "count": counts.get(i, 0)} for i, label in enumerate(labels)]

    def scores(column: Any, low: int, high: int) -> list[dict[str, Any]]:
        counts = dict(session.execute(select(column, func.count()).where(*conds, column.is_not(None))
                                      .group_by(column)).all())
        return [{"label": str(v), "count": counts.get(v, 0)} for v in range(low, high + 1)]

    return {"resolution_hours": histogram(T.resolution_seconds, RESOLUTION_BUCKETS),
            "first_response_hours": histogram(T.first_response_seconds, RESPONSE_BUCKETS),
            "csat": scores(T.csat, 1, 5), "nps": scores(T.nps, 0, 10)}


def choices(session: Session) -> dict[str, list[str]]:
    """Return the values the dashboard's filters offer."""
    def distinct(column: Any) -> list[str]:
        return sorted(v for v in session.scalars(select(column).distinct()) if v)

    return {"period": list(PERIODS), "channel": distinct(T.channel), "product_line": distinct(T.product_line),
            "priority": distinct(T.priority), "team": distinct(KpiTask.role)}


# --- the tickets behind a figure ------------------------------------------------------------
@dataclass(frozen=True)
class Drill:
    """Which tickets to list: a drill-down, within a filter, optionally one group or task type."""

    kpi: str = "all"
    group_by: str | None = None
    group: str | None = None
    element: str | None = None
    dated: bool = True


def drill_conditions(ctx: Context, flt: KpiFilter, drill: Drill) -> list[ColumnElement[bool]]:
    """Return the WHERE conditions of the tickets behind a figure."""
    known = drills(ctx)
    if drill.kpi not in known:
        raise ValueError(f"unknown figure {drill.kpi!r}; known: {', '.join(sorted(known))}")
    conds = [*ticket_conditions(flt, dated=drill.dated), known[drill.kpi]]
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


def tickets_behind(session: Session, ctx: Context, flt: KpiFilter, drill: Drill, page: int = 1,
                   per_page: int = 100) -> tuple[list[dict[str, Any]], int]:
    """Return one page of the tickets behind a figure (newest first) and how many there are."""
    conds = drill_conditions(ctx, flt, drill)
    total = session.scalar(select(func.count()).select_from(T).where(*conds), ctx.params) or 0
    rows = session.scalars(select(T).where(*conds).order_by(T.opened_at.desc(), T.ticket_id.desc())
                           .limit(per_page).offset((max(1, page) - 1) * per_page), ctx.params)
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

