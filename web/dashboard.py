"""The KPI dashboard for supervisors and process owners: tiles, charts, tables, drill-downs, CSV.

Thin views over :mod:`analytics.dashboard` and :mod:`analytics.queries`. The page is
rendered with every number linked to the tickets behind it; the charts are drawn by
``static/js/dashboard.js`` (Chart.js, served locally) from ``/dashboard/data.json``.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, flash, g, jsonify, redirect, render_template, request, url_for

from analytics import catalogue
from analytics.dashboard import (
    BACKLOG_COLUMNS,
    COLUMNS,
    COST_COLUMNS,
    HANDLE_COLUMNS,
    P90,
    TABLES,
    chart_data,
    dashboard,
    line_names,
    table_rows,
)
from analytics.histogram import ERROR as HISTOGRAM_ERROR
from analytics.people import COLUMNS as PERSON_COLUMNS
from analytics.people import person_rows
from analytics.queries import PERIODS, Context, Drill, KpiFilter, drills, tickets_behind
from analytics.verify import last_verification, verify
from engine import clock
from engine.errors import InvalidInput, NotFound, PermissionDenied
from readmodels.element_names import element_names
from readmodels.texts import reader_texts

from . import get_services
from .access import STAFF, current_actor, roles_required
from .i18n import current_language, use_bundle_texts
from .i18n import translate as _
from .rendering import csv_response

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
READERS = frozenset({"supervisor", "process_owner", "admin", "auditor"})
#: who may run ``kpi verify`` from the dashboard
VERIFIERS = frozenset({"auditor", "supervisor"})
#: who reads everyone's personal figures (each person also reads their own)
PEOPLE_READERS = frozenset({"supervisor"})
PER_PAGE = 100


def _date(name: str) -> date | None:
    text = request.values.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(_("{name} must be a date like 2026-03-31", name=name), field=name) from None


def _filter() -> KpiFilter:
    period = request.values.get("period", "week")
    if period not in PERIODS:
        raise InvalidInput(_("period must be day, week, month or quarter"), field="period")
    dims = {d: (request.values.get(d, "").strip()[:64] or None)
            for d in ("channel", "product_line", "priority", "team")}
    return KpiFilter(period=period, start=_date("start"), end=_date("end"), **dims)


def labels() -> dict[str, str]:
    """Return the translated names of the figures, units and dimensions the page and charts show."""
    language = current_language()
    return {
        **catalogue.names(language), "partial": catalogue.ui_texts(language)["partial"],
        "channel": _("Channel"), "product_line": _("Product line"), "stage": _("Stage"),
        "priority": _("Priority"), "team": _("Team"), "day": _("Day"), "week": _("Week"), "month": _("Month"),
        "quarter": _("Quarter"), "waiting": _("Waiting, mean (h)"), "working": _("Working, mean (min)"),
        "resolution_hours": _("Resolution time (hours)"), "first_response_hours": _("First response (hours)"),
        "csat": _("CSAT answers (1–5)"), "nps_answers": _("NPS answers (0–10)"), "target": _("Target"),
        "trend": _("Trend"), "handle_times": _("Handle time per task type"), "backlog": _("Backlog"),
        "cost": _("Cost per channel"),
    }


@bp.app_template_filter("kpi")
def kpi_format(value: Any, unit: str = "count", currency: str = "") -> str:
    """Format a figure for its unit (— when there is none)."""
    if value is None:
        return "—"
    number = float(value)
    formats = {"share": f"{number * 100:.1f} %", "hours": f"{number:.1f} h", "minutes": f"{number:.1f} min",
               "points": f"{number:+.0f}", "score": f"{number:.2f}",
               "money": f"{number:,.0f} {currency}".strip(), "count": f"{number:,.0f}"}
    return formats.get(unit, f"{number:g}")


@bp.app_template_filter("kpi_error")
def kpi_error(error: float | None) -> str:
    """Format the relative error of an approximate figure in per cent (4.8 for ±4.8 %)."""
    return "" if error is None else f"{error * 100:.1f}"


#: the characters a query value keeps unquoted (werkzeug's, so a link reads as ``url_for`` builds it)
_QUERY_SAFE = "!$'()*,/:;?@"


@bp.app_template_global("kpi_link")
def kpi_link(endpoint: str, args: dict[str, str], **changes: Any) -> str:
    """Return a dashboard URL keeping the page's filter, with ``changes`` on top (None drops a key).

    The page links every figure (hundreds of links): for an endpoint without path arguments the URL of
    the filter alone is built once per request, and query arguments that neither replace nor drop the
    filter's are appended to it as ``url_for`` appends them."""
    if all(v is not None and k not in args and not k.startswith("_") for k, v in changes.items()):
        known = g.setdefault("kpi_links", {})
        base_key = (endpoint, tuple(args.items()))
        base = known.get(base_key)
        if base is None:
            rules = list(current_app.url_map.iter_rules(endpoint))
            plain = bool(rules) and not any(r.arguments for r in rules)
            base = known[base_key] = (url_for(endpoint, **{k: v for k, v in args.items() if v is not None})
                                      if plain else "")
        if base:
            if not changes:
                return base
            return base + ("&" if "?" in base else "?") + urlencode(list(changes.items()), safe=_QUERY_SAFE)
    merged = {**args, **changes}
    return url_for(endpoint, **{k: v for k, v in merged.items() if v is not None})


def _use_texts(session: Any) -> None:
    """Let the page name stages and tasks in the reader's language."""
    use_bundle_texts(reader_texts(session, current_language(), get_services().settings.processes_dir / "data"))


@bp.get("/")
@roles_required(READERS)
def index():  # type: ignore[no-untyped-def]
    """Show the KPIs of the filter: tiles, charts, tables, alerts."""
    flt = _filter()
    with get_services().db.transaction(write=False) as session:
        board = dashboard(session, flt, clock.now(), current_language())
        checked = last_verification(session)
        _use_texts(session)
    return render_template("dashboard/index.html", d=board, f=board.filter, args=board.filter.args(),
                           checked=checked, may_verify=bool(current_actor().roles & VERIFIERS),
                           line_names=board.line_names, handle_columns=HANDLE_COLUMNS,
                           backlog_columns=BACKLOG_COLUMNS, ui=catalogue.ui_texts(current_language()),
                           labels=labels(), columns=COLUMNS, cost_columns=COST_COLUMNS, periods=PERIODS, p90=P90,
                           approx_error=HISTOGRAM_ERROR)


@bp.get("/data.json")
@roles_required(READERS)
def data():  # type: ignore[no-untyped-def]
    """Return the chart series of the filter, with translated labels and drill-down links."""
    flt = _filter()
    with get_services().db.transaction(write=False) as session:
        series = chart_data(session, flt, clock.now())
        _use_texts(session)
    for row in series.get("handle_times", []):  # the chart names each task type in the reader's words
        row["name"] = _(row["name"])
    for row in series.get("breakdowns", {}).get("channel", []):  # and each channel (the cost chart's bars)
        row["name"] = _group_name("channel", row["key"], {})
    args = flt.bounded(clock.now()).args()
    series["labels"] = labels()
    series["links"] = {
        "trend": url_for("dashboard.tickets", by=flt.period, **args),
        **{by: url_for("dashboard.tickets", by=by, **args) for by in series["breakdowns"]},
        "handle_times": url_for("dashboard.tickets", **args),
    }
    return jsonify(series)


@bp.get("/tickets")
@roles_required(READERS)
def tickets():  # type: ignore[no-untyped-def]
    """List the tickets behind a figure (a drill-down, optionally one group or one task type)."""
    flt = _filter()
    kpi = request.args.get("kpi", "all")
    by, group = request.args.get("by") or None, request.args.get("group")
    element = request.args.get("element") or None
    now_only = request.args.get("scope") == "now"  # the backlog: open now, whenever opened
    page = max(1, request.args.get("page", 1, type=int) or 1)
    now = clock.now()
    with get_services().db.transaction(write=False) as session:
        ctx = Context.of(session, now)
        if kpi not in drills(ctx):
            raise InvalidInput(_("unknown figure {kpi}", kpi=kpi), field="kpi")
        bounded = flt.bounded(now)
        drill = Drill(kpi, by, group, element, dated=not now_only)
        try:
            rows, total = tickets_behind(session, ctx, bounded, drill, page, PER_PAGE)
        except ValueError as exc:
            raise InvalidInput(str(exc), field="by") from exc
        _use_texts(session)
        lines = line_names(session, current_language())
        element_name = element_names(session).get(element) if element else None
    return render_template("dashboard/tickets.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
                           kpi=kpi, by=by, group=group, element=element, f=bounded, now_only=now_only,
                           element_name=element_name,
                           kpi_name=catalogue.drill_names(current_language()).get(kpi, kpi),
                           group_name=_group_name(by, group, lines), line_names=lines,
                           args={**bounded.args(), **({"scope": "now"} if now_only else {})}, labels=labels())


def _group_name(by: str | None, group: str | None, lines: dict[str, str]) -> str:
    """Return a group's value as a reader reads it: a product line's name, a translated channel,
    priority or team, "not set" for an unknown one."""
    if not group or group == "unknown":
        return catalogue.ui_texts(current_language())["unknown"]
    if by == "product_line":  # a line not in the catalogue (any more) is read from its code
        return lines.get(group) or _(group.replace("_", " ").capitalize())
    if by in ("channel", "priority", "team", "stage"):
        return _(group)
    return group


@bp.get("/kpi/")
@roles_required(READERS)
def definitions():  # type: ignore[no-untyped-def]
    """List every figure of the dashboard with its definition (the KPI catalogue)."""
    language = current_language()
    entries = [catalogue.entry(key, language) for key in catalogue.figure_keys()]
    return render_template("dashboard/kpi_index.html", entries=entries, ui=catalogue.ui_texts(language))


@bp.get("/kpi/<key>")
@roles_required(READERS)
def definition(key: str):  # type: ignore[no-untyped-def]
    """Show what one figure measures: definition, population, formula, statistic, unit, target, events, exclusions."""
    language = current_language()
    if key not in catalogue.figure_keys():
        raise InvalidInput(_("unknown figure {kpi}", kpi=key), field="key")
    entry = catalogue.entry(key, language)
    with get_services().db.transaction(write=False) as session:
        targets = Context.of(session, clock.now()).settings["targets"]
    target = targets.get(entry["target"]) if entry["target"] else None
    return render_template("dashboard/kpi.html", e=entry, target=target, ui=catalogue.ui_texts(language),
                           target_unit=_target_unit(entry))


def _target_unit(entry: dict[str, Any]) -> str:
    return "hours" if str(entry["target"] or "").endswith("_hours") else entry["unit"]


@bp.get("/export/<table>.csv")
@roles_required(READERS)
def export(table: str):  # type: ignore[no-untyped-def]
    """Download one table of the dashboard as CSV."""
    if table not in TABLES:
        raise InvalidInput(_("unknown table {table}", table=table), field="table")
    flt = _filter()
    with get_services().db.transaction(write=False) as session:
        header, rows = table_rows(session, flt, table, clock.now())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([[_csv(v) for v in row] for row in rows])
    return csv_response(out.getvalue(), f"kpi-{table}.csv")


def _csv(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    return "" if value is None else value


@bp.post("/verify")
@roles_required(VERIFIERS)
def run_verification():  # type: ignore[no-untyped-def]
    """Recount the figures of the dashboard's dates from the trail (``kpi verify``) and keep the result."""
    flt = _filter()
    now = clock.now()
    with get_services().db.transaction() as session:
        result = verify(session, now, current_actor().username, flt.start, flt.end)
    if result.matched:
        flash(_("All {count} figures match the audit trail.", count=result.figures), "ok")
    else:
        flash(_("{count} of {total} figures differ from the audit trail.", count=len(result.mismatches),
                total=result.figures), "error")
    return redirect(url_for("dashboard.index", **flt.args()) + "#verification")


def _person_range() -> KpiFilter:
    return _filter().bounded(clock.now())


@bp.get("/people/")
@roles_required(PEOPLE_READERS)
def people():  # type: ignore[no-untyped-def]
    """Show every agent's and technician's figures against the response standard (supervisors)."""
    flt = _person_range()
    with get_services().db.transaction(write=False) as session:
        rows = person_rows(session, flt.start, flt.end, clock.now())
    return render_template("dashboard/people.html", rows=rows, f=flt, args=flt.args(), person=None,
                           columns=PERSON_COLUMNS, labels=labels(), ui=catalogue.ui_texts(current_language()),
                           p90=P90)


@bp.get("/people/<username>")
@roles_required(STAFF)
def person(username: str):  # type: ignore[no-untyped-def]
    """Show one person's figures: to that person and to supervisors only."""
    actor = current_actor()
    if actor.username != username and not actor.roles & PEOPLE_READERS:
        raise PermissionDenied(_("only {name} and supervisors see these figures", name=username))
    flt = _person_range()
    with get_services().db.transaction(write=False) as session:
        rows = person_rows(session, flt.start, flt.end, clock.now(), username)
    if not rows and actor.username != username:
        raise NotFound(_("{name} completed no agent or technician task from {start} to {end}", name=username,
                         start=flt.start, end=flt.end))
    return render_template("dashboard/people.html", rows=rows, f=flt, args=flt.args(), person=username,
                           columns=PERSON_COLUMNS, labels=labels(), ui=catalogue.ui_texts(current_language()),
                           p90=P90)
