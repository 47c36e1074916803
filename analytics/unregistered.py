"""Requests that arrived but have no ticket yet: they count for the first response from arrival.

A web or e-mail request (or a call an agent has not yet typed in) starts the intake process
the moment it arrives; its ticket is opened when it is registered. Until then it has no
facts, yet the customer is already waiting for an answer — so the response figures count
it, live, from the moment it arrived: overdue (a missed response) once the first-response
target has passed. Read straight from the instances (a handful at any time), not the facts.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from engine.models import Instance
from handlers.ticketing import Contact, Ticket
from handlers.values import business_timezone

from .facts import period_keys, target_seconds

#: the dimensions an unregistered request already has (from what arrived); others are not known yet
KNOWN = ("channel",)
#: the states of an instance that has not ended (completed and cancelled are the others)
RUNNING = ("active", "incident")


def waiting_requests(session: Session, settings: dict[str, Any], start: Any = None, end: Any = None,
                     channel: str | None = None) -> list[dict[str, Any]]:
    """Return the requests not registered yet that arrived between ``start`` and ``end`` (business days):
    instance, arrival, channel, period keys, and since when the first response is overdue."""
    processes = settings["signals"].get("intake_process", ["after_sales"])
    # the running states named (not "not ended"): the instances' status index then finds them
    conds = [Instance.process_id.in_(processes), Instance.status.in_(RUNNING),
             ~exists().where(Ticket.instance_id == Instance.id), ~exists().where(Contact.instance_id == Instance.id)]
    zone = business_timezone()
    if start is not None:
        conds.append(Instance.started_at >= datetime.combine(start, time(), zone))
    if end is not None:
        conds.append(Instance.started_at < datetime.combine(end + timedelta(days=1), time(), zone))
    target = timedelta(seconds=target_seconds(settings, "first_response_hours"))
    out = []
    for instance_id, started_at, summary in session.execute(
            select(Instance.id, Instance.started_at, Instance.summary).where(*conds).order_by(Instance.started_at)):
        ch = (summary or {}).get("channel") or "unknown"
        if channel and ch != channel:
            continue
        out.append({"instance_id": instance_id, "arrived_at": started_at, "channel": ch,
                    "due_at": started_at + target, **period_keys(started_at)})
    return out


def applies(flt: Any) -> bool:
    """Tell whether a filter can hold unregistered requests (they have no line, priority or team yet)."""
    return not (flt.product_line or flt.priority or flt.team)


def waiting_counts(requests: list[dict[str, Any]], now: datetime, by: str | None = None) -> dict[Any, dict[str, int]]:
    """Return per group (or under None) how many requests wait unregistered and how many are overdue."""
    waiting: Counter[Any] = Counter()
    overdue: Counter[Any] = Counter()
    for r in requests:
        key = r[by] if by else None
        waiting[key] += 1
        overdue[key] += r["due_at"] < now
    return {k: {"unregistered": waiting[k], "unregistered_overdue": overdue[k]} for k in waiting}
