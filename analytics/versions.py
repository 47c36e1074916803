"""The figures of process versions side by side: a pilot's two sides, or a what-if's two runs.

Read from the KPI facts (:class:`analytics.facts.KpiTicket`) joined to the instance's
deployment: per version the tickets, SLA attainment, resolution time median and p90,
first-contact resolution, CSAT, cost per ticket and how many tickets took each route
(their outcome). Percentiles are taken in Python, the same way on both databases.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.models import Instance
from engine.pilots import PilotStart
from handlers.warranty import Model, ProductLine

from .facts import DEFAULTS, KpiTicket

T = KpiTicket


def _percentile(values: list[float], share: float) -> float | None:
    """Return the nearest-rank percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(share * len(ordered) + 0.999999) - 1))]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def figures_of(rows: list[Any]) -> dict[str, Any]:
    """Return one version's figures from its tickets' fact rows."""
    judged = [r for r in rows if r.resolution_met is not None]
    hours = [r.resolution_seconds / 3600 for r in rows if r.resolution_seconds is not None]
    resolved = [r for r in rows if r.resolved_at is not None]
    surveyed = [r.csat for r in rows if r.csat is not None]
    satisfied_min = DEFAULTS["scales"]["satisfied_csat_min"]
    cost = sum(float(r.labour_cost) + float(r.parts_cost) + float(r.handling_cost) for r in rows)
    return {
        "tickets": len(rows), "closed": sum(r.closed_at is not None for r in rows),
        "sla_attainment": _share(sum(bool(r.resolution_met) for r in judged), len(judged)),
        "resolution_median_hours": _percentile(hours, 0.5), "resolution_p90_hours": _percentile(hours, 0.9),
        "fcr_share": _share(sum(bool(r.fcr) for r in resolved), len(resolved)),
        "csat_average": sum(surveyed) / len(surveyed) if surveyed else None,
        "csat_satisfied_share": _share(sum(c >= satisfied_min for c in surveyed), len(surveyed)),
        "cost_per_ticket": cost / len(rows) if rows else None,
        "routes": dict(sorted(Counter(r.outcome or r.status for r in rows).items())),
    }


def _by_deployment(session: Session, *conditions: ColumnElement[bool]) -> dict[int, dict[str, Any]]:
    rows = session.execute(select(Instance.deployment_id, T.resolution_met, T.resolution_seconds, T.resolved_at,
                                  T.closed_at, T.fcr, T.csat, T.labour_cost, T.parts_cost, T.handling_cost,
                                  T.outcome, T.status)
                           .join(Instance, Instance.id == T.instance_id).where(*conditions)).all()
    grouped: dict[int, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.deployment_id, []).append(row)
    return {dep: figures_of(items) for dep, items in grouped.items()}


def version_figures(session: Session, deployment_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Return the figures of every ticket of each of ``deployment_ids`` (each present, maybe empty)."""
    found = _by_deployment(session, Instance.deployment_id.in_(deployment_ids))
    return {dep: found.get(dep) or figures_of([]) for dep in deployment_ids}


def pilot_figures(session: Session, pilot_id: int, deployment_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Return the figures of the tickets a pilot routed, per version they started on (and still run on)."""
    started = select(PilotStart.instance_id).where(PilotStart.pilot_id == pilot_id)
    found = _by_deployment(session, T.instance_id.in_(started))
    return {dep: found.get(dep) or figures_of([]) for dep in deployment_ids}


def product_line_models(session: Session, product_line: str) -> list[str]:
    """Return the model codes of a product line, refusing a line the catalogue does not know."""
    models = sorted(session.scalars(select(Model.code).where(Model.product_line == product_line)))
    if not models:
        known = sorted(session.scalars(select(ProductLine.code)))
        raise InvalidInput("product line '{product_line}' is not in the catalogue; known: {known}" if known else
                           "product line '{product_line}' is not in the catalogue", field="product_line",
                           params={"product_line": product_line, "known": ", ".join(known)})
    return models
