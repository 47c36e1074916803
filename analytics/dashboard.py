"""What the KPI dashboard shows: tiles with targets and colours, tables, chart series, CSV rows.

Plain data for the web layer (labels are English keys it translates). Each tile and each
table cell names the drill-down behind it (:data:`analytics.queries.DRILLS` by name,
plus the group it belongs to), so the page can link every number to its tickets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.warranty import ProductLine

from .alerts import FAILED_RULE, FAILED_RULE_TITLES, KpiAlert, alert_rules, shown_alerts, title_of
from .people import COLUMNS as PERSON_COLUMNS
from .queries import (
    BASIS,
    Context,
    KpiFilter,
    backlog,
    choices,
    distributions,
    grouped,
    handle_times,
    measures,
    trend,
)
from .timings import ticket_times

BREAKDOWNS = ("channel", "product_line", "priority", "team")
#: the fewest measurements a period not over yet is drawn from: one survey in a week just begun is no 0 % or
#: 100 % (a period that is over is drawn from what it has, none when it has no measurement)
TREND_MIN_BASIS = 3
TABLES = ("trend", *BREAKDOWNS, "handle_times", "backlog", "cost")


@dataclass(frozen=True)
class Tile:
    """One headline figure: its value key, unit, target and which tickets stand behind it."""

    key: str
    unit: str  # count, share, hours, points, score, money
    target: str | None = None
    better: str | None = None  # "higher" or "lower"
    drill: str = "all"


TILES = (
    Tile("tickets", "count", drill="all"),
    Tile("response_median_hours", "hours", "first_response_hours", "lower", "responded"),
    Tile("response_sla_share", "share", "response_sla_share", "higher", "response_missed"),
    Tile("resolution_median_hours", "hours", "resolution_hours", "lower", "resolved"),
    Tile("over_target_share", "share", "over_target_share", "lower", "over_target"),
    Tile("resolution_sla_share", "share", "resolution_sla_share", "higher", "resolution_missed"),
    Tile("fcr_share", "share", "fcr_share", "higher", "not_fcr"),
    Tile("csat_satisfied_share", "share", "csat_satisfied_share", "higher", "dissatisfied"),
    Tile("nps", "points", "nps", "higher", "detractors"),
    Tile("repeat_contact_share", "share", "repeat_contact_share", "lower", "repeat"),
    Tile("backorder_share", "share", "backorder_share", "lower", "backordered"),
    Tile("qa_score", "score", "qa_score", "higher", "qa_reviewed"),
    Tile("open", "count", drill="open"),
    Tile("cost_per_ticket", "money", drill="all"),
)
#: the columns of the per-period and per-dimension tables: (value key, unit, drill-down)
COLUMNS = (
    ("tickets", "count", "all"),
    ("response_sla_share", "share", "response_missed"),
    ("response_median_hours", "hours", "responded"),
    ("resolution_median_hours", "hours", "resolved"),
    ("over_target_share", "share", "over_target"),
    ("fcr_share", "share", "not_fcr"),
    ("csat_satisfied_share", "share", "dissatisfied"),
    ("nps", "points", "detractors"),
    ("repeat_contact_share", "share", "repeat"),
    ("backorder_share", "share", "backordered"),
    ("qa_score", "score", "qa_reviewed"),
    ("open", "count", "open"),
    ("cost_per_ticket", "money", "all"),
)
COST_COLUMNS = (
    ("tickets", "count", "all"),
    ("labour_cost", "money", "all"),
    ("parts_cost", "money", "parts"),
    ("handling_cost", "money", "all"),
    ("cost_total", "money", "all"),
    ("cost_per_ticket", "money", "all"),
)


#: the columns of the handle-time table (per task type) and of the backlog (per priority and stage)
HANDLE_COLUMNS = (("runs", "count"), ("waiting_median_hours", "hours"), ("working_median_minutes", "minutes"),
                  ("working_total_hours", "hours"))
BACKLOG_COLUMNS = (("backlog_open", "count", "open"), ("open_over_target", "count", "open_over_target"))
#: a time (tile or table cell) shown with its 90th percentile beside the median
P90 = {"response_median_hours": "response_p90_hours", "resolution_median_hours": "resolution_p90_hours",
       "waiting_median_hours": "waiting_p90_hours", "working_median_minutes": "working_p90_minutes"}


def shown_figures() -> set[str]:
    """Return the keys of every figure the dashboard shows (tiles and table columns)."""
    return ({t.key for t in TILES}
            | {c[0] for c in (*COLUMNS, *COST_COLUMNS, *HANDLE_COLUMNS, *BACKLOG_COLUMNS, *PERSON_COLUMNS)})


def status(tile: Tile, value: float | None, target: float | None) -> str:
    """Return ``ok``, ``warn``, ``bad`` against the target (``none`` without value or target)."""
    if value is None or target is None or tile.better is None:
        return "none"
    gap = (value - target) if tile.better == "higher" else (target - value)
    if gap >= 0:
        return "ok"
    margin = {"share": 0.05, "points": 10.0, "score": 0.3}.get(tile.unit, abs(target) * 0.25)
    return "warn" if -gap <= margin else "bad"


def tiles(ctx: Context, values: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the headline tiles: value, target, colour, the count it rests on, its drill-down."""
    out = []
    for tile in TILES:
        value = values.get(tile.key)
        target = ctx.target(tile.target) if tile.target else None
        out.append({"key": tile.key, "unit": tile.unit, "value": value, "target": target,
                    "better": tile.better, "status": status(tile, value, target), "drill": tile.drill,
                    "p90": values.get(P90[tile.key]) if tile.key in P90 else None,
                    "error": values.get(f"{tile.key}_error"),
                    "p90_error": values.get(f"{P90[tile.key]}_error") if tile.key in P90 else None,
                    "unregistered": values.get("unregistered") or 0,
                    "basis": values.get(BASIS.get(tile.key, "tickets"))})
    return out


@dataclass
class Dashboard:
    """Everything the dashboard page shows for one filter."""

    filter: KpiFilter
    tiles: list[dict[str, Any]]
    trend: list[dict[str, Any]]
    breakdowns: dict[str, list[dict[str, Any]]]
    handle_times: list[dict[str, Any]]
    backlog: list[dict[str, Any]]
    alerts: list[KpiAlert]
    recent_alerts: list[KpiAlert]
    choices: dict[str, list[str]]
    targets: dict[str, Any]
    currency: str
    alert_titles: dict[str, str]
    line_names: dict[str, str]


def dashboard(session: Session, flt: KpiFilter, now: datetime, language: str = "en") -> Dashboard:
    """Compute the dashboard for a filter (its date range filled in); alert titles in ``language``."""
    flt = flt.bounded(now)
    ctx = Context.of(session, now)
    times = ticket_times(session, flt, (flt.period, *BREAKDOWNS))  # one read for every median shown
    values = measures(session, ctx, flt, times[None].get(None, {}))
    titles = {rule["id"]: title_of(rule, language) for rule in alert_rules(session)}
    titles[FAILED_RULE] = FAILED_RULE_TITLES.get(language, FAILED_RULE_TITLES["en"])
    lines = line_names(session, language)
    active, recent = shown_alerts(session, 20, 10)
    return Dashboard(flt, tiles(ctx, values), trend(session, ctx, flt, times=times[flt.period]),
                     {by: grouped(session, ctx, flt, by, times=times[by]) for by in BREAKDOWNS},
                     handle_times(session, flt),
                     backlog(session, ctx, flt), active, recent,
                     choices(session), dict(ctx.settings["targets"]), ctx.settings["costs"].get("currency", ""),
                     titles, lines)


def line_names(session: Session, language: str = "en") -> dict[str, str]:
    """Return the product lines' names in ``language``, by code."""
    return {code: (zh if language == "zh" and zh else name) for code, name, zh in session.execute(
        select(ProductLine.code, ProductLine.name, ProductLine.name_zh))}


def chart_data(session: Session, flt: KpiFilter, now: datetime) -> dict[str, Any]:
    """Return the series the dashboard's charts draw (trend, distributions, breakdowns, handle times):
    sums and counts from the roll-ups, no medians (the charts draw none)."""
    flt = flt.bounded(now)
    ctx = Context.of(session, now)
    keep = ("key", "partial", "tickets", "open", "response_sla_share", "over_target_share", "fcr_share",
            "csat_satisfied_share", "nps", "resolution_avg_hours", "response_avg_hours", "cost_per_ticket",
            "labour_cost", "parts_cost", "handling_cost")
    slim = (lambda rows: [{k: r.get(k) for k in keep} for r in rows])  # noqa: E731
    periods = trend(session, ctx, flt, medians=False)
    return {"period": flt.period,
            "trend": [gapped(row, full) for row, full in zip(slim(periods), periods, strict=True)],
            "distributions": distributions(session, ctx, flt),
            "breakdowns": {by: slim(grouped(session, ctx, flt, by, medians=False)) for by in BREAKDOWNS},
            "handle_times": handle_times(session, flt, medians=False)[:15],
            "targets": dict(ctx.settings["targets"])}


def gapped(row: dict[str, Any], counts: dict[str, Any]) -> dict[str, Any]:
    """Say on how many tickets each figure of a trend point rests (``n``) and leave out (None: a gap in
    the chart's line) those of a period not over yet measured on fewer than :data:`TREND_MIN_BASIS`."""
    measured = {k: BASIS[k] for k in row if BASIS.get(k) not in (None, "tickets", "open")}
    n = {k: int(counts.get(basis) or 0) for k, basis in measured.items()}
    least = TREND_MIN_BASIS if row["partial"] else 1
    return {**row, **{k: None for k in measured if n[k] < least}, "n": n}


def table_rows(session: Session, flt: KpiFilter, table: str, now: datetime) -> tuple[list[str], list[list[Any]]]:
    """Return a table of the dashboard as a header and rows (for CSV export)."""
    flt = flt.bounded(now)
    ctx = Context.of(session, now)
    if table == "handle_times":
        rows = handle_times(session, flt)
        keys = ["element_id", "name", "role", *_with_p90(c[0] for c in HANDLE_COLUMNS)]
        return keys, [[r.get(k) for k in keys] for r in rows]
    if table == "backlog":
        keys = ["priority", "stage", "open", "open_over_target"]
        return keys, [[r[k] for k in keys] for r in backlog(session, ctx, flt)]
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; known: {', '.join(TABLES)}")
    by = flt.period if table == "trend" else ("channel" if table == "cost" else table)
    columns = COST_COLUMNS if table == "cost" else COLUMNS
    keys = _with_p90(c[0] for c in columns)
    return [by, *keys], [[r["key"], *(r.get(k) for k in keys)] for r in grouped(session, ctx, flt, by)]


def _with_p90(keys: Any) -> list[str]:
    """Return the column keys with each time's p90 right after its median."""
    return [k for key in keys for k in ((key, P90[key]) if key in P90 else (key,))]
