"""The counters of the KPI roll-ups: each a SUM over ticket facts, the same in every roll-up table.

Shared by the cube (:mod:`analytics.rollup`) and the one-dimension days (:mod:`analytics.daily`),
so that both keep exactly the columns :mod:`analytics.queries` sums.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer, case, func
from sqlalchemy.orm import mapped_column

from .facts import KpiTicket

T = KpiTicket
DIMS = ("channel", "product_line", "priority")
RESOLUTION_EDGES = (4, 8, 24, 48, 72, 168)
RESPONSE_EDGES = (1, 4, 8, 24, 48)


def _count(cond: Any) -> Any:
    return func.sum(case((cond, 1), else_=0))


def ticket_counters(over_target_seconds: float) -> dict[str, Any]:
    """Return the roll-up's columns as aggregates over ``kpi_ticket`` (name → expression)."""
    resolved_ok = (T.status == "closed") & (T.outcome == "resolved")
    counters: dict[str, Any] = {
        "tickets": func.count(), "open": _count(T.status == "open"), "closed": _count(T.status == "closed"),
        "responded": _count(T.first_response_at.is_not(None)), "response_met": _count(T.response_met.is_(True)),
        "response_failed": _count(T.response_met.is_(False)), "resolved": _count(T.resolution_seconds.is_not(None)),
        "over_target": _count(T.resolution_seconds > over_target_seconds),
        "resolution_met": _count(T.resolution_met.is_(True)),
        "resolution_missed": _count(T.resolution_met.is_(False)), "resolved_ok": _count(resolved_ok),
        "fcr": _count(resolved_ok & T.fcr.is_(True)), "repeat": _count(T.contacts > 1),
        "parts": _count(T.parts_needed.is_(True)), "backordered": _count(T.backordered.is_(True)),
        "qa_reviewed": _count(T.qa_score.is_not(None)), "breached": _count(T.sla_breached.is_(True)),
        "reopened": _count(T.reopened > 0),
        "response_seconds": func.coalesce(func.sum(T.first_response_seconds), 0.0),
        "resolution_seconds": func.coalesce(func.sum(T.resolution_seconds), 0.0),
        "repeat_contacts": func.coalesce(func.sum(T.contacts - 1), 0),
        "qa_total": func.coalesce(func.sum(T.qa_score), 0.0),
        "labour_cost": func.coalesce(func.sum(T.labour_cost), 0.0),
        "parts_cost": func.coalesce(func.sum(T.parts_cost), 0.0),
        "handling_cost": func.coalesce(func.sum(T.handling_cost), 0.0),
    }
    counters |= {f"csat_{n}": _count(T.csat == n) for n in range(1, 6)}
    counters |= {f"nps_{n}": _count(T.nps == n) for n in range(0, 11)}
    counters |= _buckets("res", T.resolution_seconds, RESOLUTION_EDGES)
    counters |= _buckets("resp", T.first_response_seconds, RESPONSE_EDGES)
    return counters


def _buckets(prefix: str, column: Any, edges: tuple[int, ...]) -> dict[str, Any]:
    bounds = [None, *edges, None]
    out = {}
    for i, (low, high) in enumerate(zip(bounds, bounds[1:], strict=False)):
        cond = column.is_not(None)
        if low is not None:
            cond = cond & (column >= low * 3600)
        if high is not None:
            cond = cond & (column < high * 3600)
        out[f"{prefix}_{i}"] = _count(cond)
    return out


SUMS = {"response_seconds", "resolution_seconds", "qa_total", "labour_cost", "parts_cost", "handling_cost"}
COUNTERS = tuple(ticket_counters(0.0))


def counter_columns() -> dict[str, Any]:
    """Return a mapped column per counter (sums as floats, counts as integers)."""
    return {name: (mapped_column(Float, default=0.0) if name in SUMS else mapped_column(Integer, default=0))
            for name in COUNTERS}
