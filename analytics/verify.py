"""``kpi verify``: every figure of the dashboard computed a second way, straight from the trail.

The dashboard sums roll-ups of facts (:mod:`analytics.rollup`, :mod:`analytics.facts`);
this module recomputes the same figures without reading either — from the audit trail
(arrivals, registrations, human tasks, the SLA clocks' start/pause/stop results, closures),
the survey answers and the parts movements — and lists every figure that differs
(counts exactly, times within a second, a median or p90 read from the histograms within the
error it is shown with). It also recounts the roll-ups of those days from the facts
(:func:`analytics.drift.drift`) and lists every roll-up value that drifted. Each run is kept
(:class:`KpiVerification`) so the dashboard can say when its figures were last verified and whether they matched.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base
from engine.errors import InvalidInput
from engine.models import AuditEvent, Instance
from handlers.parts import Backorder, Part, StockMovement
from handlers.survey import Response
from handlers.ticketing import Contact, Product, Ticket
from handlers.values import business_timezone
from handlers.warranty import Model

from .dashboard import BREAKDOWNS, COLUMNS, COST_COLUMNS, HANDLE_COLUMNS, P90, TILES, dashboard
from .drift import drift
from .facts import PERIODS, kpi_settings, period_keys
from .queries import BASIS, KpiFilter
from .recount import Recount, Trail, TrailTask, read_trails
from .timings import spread
from .unregistered import KNOWN


class KpiVerification(Base):
    """One run of ``kpi verify``: when, by whom, over which dates, and the figures that differed."""

    __tablename__ = "kpi_verification"
    __table_args__ = (Index("ix_kpi_verification_ran_at", "ran_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ran_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    figures: Mapped[int]
    mismatches: Mapped[int]
    details: Mapped[list[Any]]


# --- the figures, from the recounted tickets -----------------------------------------------------
def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def figures_of(rows: list[dict[str, Any]], waiting: list[dict[str, Any]], settings: dict[str, Any],
               now: datetime) -> dict[str, Any]:
    """Return the figures of a table row (or the tiles) over recounted tickets and unregistered requests."""
    scales, over = settings["scales"], settings["targets"]["resolution_hours"] * 3600.0
    responded = [r["first_response"] for r in rows if r["first_response"] is not None]
    resolved = [r["resolution"] for r in rows if r["resolution"] is not None]
    overdue = sum(r["status"] == "open" and r["response_met"] is None and r["first_response"] is None
                  and r["response_due_at"] is not None and r["response_due_at"] < now for r in rows)
    met = sum(r["response_met"] is True for r in rows)
    missed = sum(r["response_met"] is False for r in rows) + overdue + sum(w["due_at"] < now for w in waiting)
    res_met = sum(r["resolution_met"] is True for r in rows)
    res_judged = res_met + sum(r["resolution_met"] is False for r in rows)
    ok = [r for r in rows if r["status"] == "closed" and r["outcome"] == "resolved"]
    csat = [r["csat"] for r in rows if r["csat"] is not None]
    nps = [r["nps"] for r in rows if r["nps"] is not None]
    qa = [r["qa"] for r in rows if r["qa"] is not None]
    parts = [r for r in rows if r["parts"]]
    costs = {k: sum(r[k] for r in rows) for k in ("labour_cost", "parts_cost", "handling_cost")}
    total = sum(costs.values())
    promoters = sum(n >= scales["promoter_nps_min"] for n in nps)
    detractors = sum(n <= scales["detractor_nps_max"] for n in nps)
    return {
        "tickets": len(rows), "open": sum(r["status"] == "open" for r in rows),
        "responded": len(responded), "resolved": len(resolved), "resolved_ok": len(ok), "surveyed": len(csat),
        "nps_answered": len(nps), "parts": len(parts), "qa_reviewed": len(qa), "unregistered": len(waiting),
        "response_judged": met + missed, "resolution_judged": res_judged,
        "response_sla_share": _share(met, met + missed),
        **spread(responded, "response"), **spread(resolved, "resolution"),
        "over_target_share": _share(sum(s > over for s in resolved), len(resolved)),
        "resolution_sla_share": _share(res_met, res_judged),
        "fcr_share": _share(sum(r["fcr"] for r in ok), len(ok)),
        "csat_satisfied_share": _share(sum(c >= scales["satisfied_csat_min"] for c in csat), len(csat)),
        "nps": None if not nps else (promoters - detractors) / len(nps) * 100,
        "repeat_contact_share": _share(sum(r["contacts"] > 1 for r in rows), len(rows)),
        "backorder_share": _share(sum(r["backordered"] for r in parts), len(parts)),
        "qa_score": _share(sum(qa), len(qa)), **costs, "cost_total": total, "cost_per_ticket": _share(total, len(rows)),
    }


def _tasks_figures(tasks: list[TrailTask]) -> dict[str, Any]:
    working = [t.working for t in tasks]
    return {"runs": len(tasks), **spread([t.waiting for t in tasks], "waiting"),
            **spread(working, "working", 60.0), "working_total_hours": sum(working) / 3600}


def expected_figures(session: Session, flt: KpiFilter, now: datetime) -> dict[str, Any]:
    """Recount every figure the dashboard shows for ``flt`` (dates only) from the trail, surveys and parts."""
    settings = kpi_settings(session)
    zone = business_timezone()
    since = datetime.combine(flt.start, time(), zone)  # type: ignore[arg-type]
    until = datetime.combine(flt.end + timedelta(days=1), time(), zone)  # type: ignore[operator]
    tickets = session.execute(select(Ticket.id, Ticket.number, Ticket.instance_id, Ticket.channel, Ticket.opened_at,
                                     Ticket.status, Product.model).join(Product, Product.id == Ticket.product_id)
                              ).all()
    touched = set(session.scalars(select(AuditEvent.instance_id).where(AuditEvent.at >= since, AuditEvent.at < until,
                                                                       AuditEvent.instance_id.is_not(None))
                                  .distinct()))
    contacts = defaultdict(list)
    for c in session.execute(select(Contact.ticket_id, Contact.instance_id, Contact.channel).order_by(Contact.id)):
        contacts[c.ticket_id].append(c)
    attached = {c.instance_id for cs in contacts.values() for c in cs} | {t.instance_id for t in tickets}
    # the tickets a figure can count: opened (or worked) in the dates, or open now (the backlog)
    tickets = [t for t in tickets if t.instance_id in touched or t.status != "closed"]
    wanted = touched | {t.instance_id for t in tickets} | {c.instance_id for t in tickets for c in contacts[t.id]}
    trails = read_trails(session, wanted)
    instances = {i.id: i for i in session.execute(select(Instance.id, Instance.process_id, Instance.summary))}
    numbers = [t.number for t in tickets]
    surveys = {r.ticket_number: r for r in session.execute(
        select(Response.ticket_number, Response.csat, Response.nps).order_by(Response.id))}
    price = dict(session.execute(select(Part.sku, Part.price)).all())
    moved: dict[str, list[Any]] = defaultdict(list)
    for m in session.execute(select(StockMovement.ticket_number, StockMovement.kind, StockMovement.sku,
                                    StockMovement.on_hand_change).where(StockMovement.ticket_number.in_(numbers))):
        moved[m.ticket_number].append(m)
    backordered = set(session.scalars(select(Backorder.ticket_number).where(Backorder.ticket_number.in_(numbers))))
    lines = dict(session.execute(select(Model.code, Model.product_line)).all())
    recount = Recount(settings, now, trails)
    rows = []
    for t in tickets:
        ms = moved.get(t.number, [])
        cost = sum(-m.on_hand_change * float(price.get(m.sku) or 0) for m in ms if m.kind == "consume")
        parts = (bool(ms) and any(m.kind == "reserve" for m in ms) or t.number in backordered,
                 t.number in backordered, float(cost))
        summary = (instances.get(t.instance_id).summary if t.instance_id in instances else None) or {}
        rows.append(recount.ticket(t, contacts.get(t.id, []), surveys.get(t.number), parts,
                                   lines.get(t.model, "unknown"), summary.get("priority") or "unknown"))
    processes = settings["signals"].get("intake_process", ["after_sales"])
    target = timedelta(hours=settings["targets"]["first_response_hours"])
    waiting = [{"due_at": tr.created_at + target, "channel": tr.created.get("channel") or "unknown",
                **period_keys(tr.created_at)}
               for i, tr in trails.items() if tr.created_at and since <= tr.created_at < until and not tr.ended
               and i not in attached and i in instances and instances[i].process_id in processes]
    return _tables(rows, waiting, trails, settings, now, flt, since, until)


def _tables(rows: list[dict[str, Any]], waiting: list[dict[str, Any]], trails: dict[int, Trail],
            settings: dict[str, Any], now: datetime, flt: KpiFilter, since: datetime,
            until: datetime) -> dict[str, Any]:
    """Lay recounted figures out under the names :func:`shown_figures` gives the dashboard's."""
    chosen = [r for r in rows if flt.start <= r["day"] <= flt.end]  # type: ignore[operator]
    out: dict[str, Any] = {}
    total = figures_of(chosen, waiting, settings, now)
    for tile in TILES:
        out[f"tiles.{tile.key}"] = total.get(tile.key)
        out[f"tiles.{tile.key}.n"] = total.get(BASIS.get(tile.key, "tickets")) or 0
        if tile.key in P90:
            out[f"tiles.{tile.key}.p90"] = total.get(P90[tile.key])
    for by in (flt.period, *BREAKDOWNS):
        keyed = (lambda r: r["teams"]) if by == "team" else (lambda r, b=by: [r[b]])  # type: ignore[misc]
        groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for r in chosen:
            for key in keyed(r):
                groups[key].append(r)
        queued: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        if by in (*PERIODS, *KNOWN):
            for w in waiting:
                queued[w[by]].append(w)
        for key in set(groups) | set(queued):
            figures = figures_of(groups.get(key, []), queued.get(key, []), settings, now)
            name = "trend" if by == flt.period else by
            _put(out, name, _key(key), figures, COLUMNS)
            if by == "channel":
                _put(out, "cost", _key(key), figures, COST_COLUMNS)
    done: dict[tuple[str, str], list[TrailTask]] = defaultdict(list)
    for trail in trails.values():
        for task in trail.tasks.values():
            if task.completed_at and since <= task.completed_at < until:
                done[(task.element_id, task.role)].append(task)
    for (element, role), tasks in done.items():
        _put(out, "handle_times", f"{element}/{role}", _tasks_figures(tasks), HANDLE_COLUMNS)
    over = timedelta(hours=settings["targets"]["resolution_hours"])
    for r in rows:
        if r["status"] == "open":
            name = f"backlog[{r['priority']}]"
            out[f"{name}.open"] = out.get(f"{name}.open", 0) + 1
            out[f"{name}.open_over_target"] = (out.get(f"{name}.open_over_target", 0)
                                               + (r["resolution"] is None and r["opened_at"] < now - over))
    return out


def _key(key: Any) -> str:
    return key.isoformat() if isinstance(key, date) else str(key)


def _put(out: dict[str, Any], table: str, key: str, values: dict[str, Any], columns: Any,
         errors: dict[str, float] | None = None) -> None:
    for column in columns:
        name = f"{table}[{key}].{column[0]}"
        out[name] = values.get(column[0])
        if column[0] in P90:
            out[f"{name}.p90"] = values.get(P90[column[0]])
            if errors is not None:
                errors[name] = values.get(f"{column[0]}_error") or 0.0
                errors[f"{name}.p90"] = values.get(f"{P90[column[0]]}_error") or 0.0


# --- the dashboard's figures, as shown ----------------------------------------------------------
def shown_figures(session: Session, flt: KpiFilter, now: datetime,
                  errors: dict[str, float] | None = None) -> dict[str, Any]:
    """Return every figure the dashboard shows for ``flt``, named as :func:`expected_figures` names them (and
    into ``errors`` the relative error each approximate median and p90 is shown with)."""
    board = dashboard(session, flt, now)
    errors = {} if errors is None else errors
    out: dict[str, Any] = {}
    for tile in board.tiles:
        out[f"tiles.{tile['key']}"] = tile["value"]
        out[f"tiles.{tile['key']}.n"] = tile["basis"] or 0
        if tile["key"] in P90:
            out[f"tiles.{tile['key']}.p90"] = tile["p90"]
            errors[f"tiles.{tile['key']}"] = tile["error"] or 0.0
            errors[f"tiles.{tile['key']}.p90"] = tile["p90_error"] or 0.0
    for row in board.trend:
        _put(out, "trend", _key(row["key"]), row, COLUMNS, errors)
    for by, table in board.breakdowns.items():
        for row in table:
            _put(out, by, _key(row["key"]), row, COLUMNS, errors)
            if by == "channel":
                _put(out, "cost", _key(row["key"]), row, COST_COLUMNS, errors)
    for row in board.handle_times:
        _put(out, "handle_times", f"{row['element_id']}/{row['role']}", row, HANDLE_COLUMNS, errors)
    for row in board.backlog:
        for column in ("open", "open_over_target"):
            name = f"backlog[{row['priority']}].{column}"
            out[name] = out.get(name, 0) + row[column]
    return out


# --- comparing, keeping the result -------------------------------------------------------------
def tolerance(name: str) -> float:
    """Return how far two values of the figure ``name`` may differ: counts none, times a second."""
    column = name.removesuffix(".p90").removesuffix(".n").rsplit(".", 1)[-1]
    if name.endswith(".n"):
        return 0.0
    if column.endswith("_hours"):
        return 1 / 3600 + 1e-9
    if column.endswith("_minutes"):
        return 1 / 60 + 1e-9
    if "cost" in column:
        return 0.005
    if column.endswith("_share") or column in ("nps", "qa_score"):
        return 1e-9
    return 0.0


def compare(expected: dict[str, Any], shown: dict[str, Any],
            errors: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """Return every figure whose shown value differs from the recounted one (beyond its tolerance, or for a
    median read from a histogram beyond the relative error in ``errors`` it is shown with)."""
    out = []
    errors = errors or {}
    for name in sorted(set(expected) | set(shown)):
        a, b = expected.get(name), shown.get(name)
        if a is None and b is None:
            continue
        allowed = tolerance(name)
        if b is not None and errors.get(name):
            allowed = max(allowed, abs(float(b)) * errors[name] * (1 + 1e-9))
        if a is None or b is None or abs(float(a) - float(b)) > allowed:
            out.append({"figure": name, "dashboard": b, "trail": a})
    return out


@dataclass
class Verification:
    """What one ``kpi verify`` found."""

    start: date
    end: date
    figures: int
    mismatches: list[dict[str, Any]]

    @property
    def matched(self) -> bool:
        """Tell whether every figure matched."""
        return not self.mismatches


def verify(session: Session, now: datetime, actor: str, start: date | None = None,
           end: date | None = None) -> Verification:
    """Recount the dashboard's figures between ``start`` and ``end`` from the trail, compare, keep the result."""
    if start and end and start > end:
        raise InvalidInput("--from {start} is after --to {end}", field="from", params={"start": start, "end": end})
    flt = KpiFilter(period="week", start=start, end=end).bounded(now)
    expected = expected_figures(session, flt, now)
    errors: dict[str, float] = {}
    shown = shown_figures(session, flt, now, errors)
    drifted = drift(session, kpi_settings(session), flt.start, flt.end)  # type: ignore[arg-type]
    result = Verification(flt.start, flt.end, len(set(expected) | set(shown)),  # type: ignore[arg-type]
                          compare(expected, shown, errors) + drifted)
    session.add(KpiVerification(ran_at=now, actor=actor[:64], start=result.start, end=result.end,
                                figures=result.figures, mismatches=len(result.mismatches),
                                details=_jsonable(result.mismatches[:200])))
    return result


def _jsonable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in row.items()} for row in rows]


def last_verification(session: Session) -> KpiVerification | None:
    """Return the latest run of ``kpi verify`` (None when it never ran)."""
    return session.scalars(select(KpiVerification).order_by(KpiVerification.ran_at.desc(),
                                                            KpiVerification.id.desc()).limit(1)).first()
