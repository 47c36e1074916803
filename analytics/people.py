"""Per person: each agent's and technician's figures, with the dashboard's own definitions.

The performance review the business runs: for everyone who completed agent or technician
tasks in the dates chosen, the first-response time (median, p90, and the share within the
24 h response standard), handle time (median, p90), first-contact resolution, CSAT, QA
score and resolution-SLA attainment of the tickets they worked on. Who answers fewer than
the target share (``response_sla_share``, 90 %) of their tickets within the standard
(``first_response_hours``, 24 h) is flagged to be offered training.

A person's tickets are those on which they completed a task in the dates; a ticket
worked by two people counts for both. Personal figures: shown to the person and to
supervisors only (the web layer checks who asks).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .facts import KpiTask, KpiTicket, kpi_settings, target_seconds
from .timings import spread

T, K = KpiTicket, KpiTask
ROLES = ("agent", "technician")
#: the columns of the per-person table: (value key, unit); times show their p90 beside the median
COLUMNS = (("tickets_worked", "count"), ("response_median_hours", "hours"), ("response_within_standard_share", "share"),
           ("working_median_minutes", "minutes"), ("fcr_share", "share"), ("csat_satisfied_share", "share"),
           ("qa_score", "score"), ("resolution_sla_share", "share"))


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def person_rows(session: Session, start: Any, end: Any, now: datetime,
                username: str | None = None) -> list[dict[str, Any]]:
    """Return the figures of every agent and technician (or of ``username``) over tasks completed
    between the business days ``start`` and ``end``, by name."""
    settings = kpi_settings(session)
    standard = target_seconds(settings, "first_response_hours")
    wanted = float(settings["targets"]["response_sla_share"])
    satisfied = settings["scales"]["satisfied_csat_min"]
    conds = [K.completed_at.is_not(None), K.actor.is_not(None), K.role.in_(ROLES), K.day >= start, K.day <= end]
    if username is not None:
        conds.append(K.actor == username)
    work: dict[str, list[float]] = defaultdict(list)
    tickets: dict[str, set[int]] = defaultdict(set)
    roles: dict[str, set[str]] = defaultdict(set)
    for actor, role, ticket_id, working in session.execute(
            select(K.actor, K.role, K.ticket_id, K.working_seconds).where(*conds)):
        work[actor].append(float(working or 0.0))
        roles[actor].add(role)
        if ticket_id is not None:
            tickets[actor].add(ticket_id)
    ids = sorted({t for ts in tickets.values() for t in ts})
    facts = {}
    for chunk in range(0, len(ids), 500):
        facts.update({f.ticket_id: f for f in session.execute(
            select(T.ticket_id, T.status, T.outcome, T.first_response_seconds, T.resolution_met, T.fcr, T.csat,
                   T.qa_score).where(T.ticket_id.in_(ids[chunk:chunk + 500])))})
    out = []
    for actor in sorted(work):
        mine = [facts[t] for t in tickets[actor] if t in facts]
        responses = [float(f.first_response_seconds) for f in mine if f.first_response_seconds is not None]
        ok = [f for f in mine if f.status == "closed" and f.outcome == "resolved"]
        csat = [f.csat for f in mine if f.csat is not None]
        qa = [float(f.qa_score) for f in mine if f.qa_score is not None]
        judged = [f.resolution_met for f in mine if f.resolution_met is not None]
        within = _share(sum(s <= standard for s in responses), len(responses))
        out.append({
            "username": actor, "roles": sorted(roles[actor]), "tasks": len(work[actor]), "tickets_worked": len(mine),
            "responded": len(responses), **spread(responses, "response"), "response_within_standard_share": within,
            **spread(work[actor], "working", 60.0), "resolved_ok": len(ok),
            "fcr_share": _share(sum(bool(f.fcr) for f in ok), len(ok)), "surveyed": len(csat),
            "csat_satisfied_share": _share(sum(c >= satisfied for c in csat), len(csat)), "qa_reviewed": len(qa),
            "qa_score": sum(qa) / len(qa) if qa else None, "resolution_judged": len(judged),
            "resolution_sla_share": _share(sum(bool(m) for m in judged), len(judged)),
            "training": within is not None and within < wanted,
            "standard_hours": standard / 3600, "standard_share": wanted,
        })
    return out
