"""The trail, read a second way: each ticket recounted from its audit events, for ``kpi verify``.

Nothing here reads the KPI facts or roll-ups. An instance's trail gives its arrival
(``instance.created``), what every step set (the ticket number, the SLA clocks' successive
states as their start/pause/resume/stop steps returned them, the closure), its human tasks
(ready, claimed, completed, with their role) and the SLA breaches the watch delivered; the
survey answers, parts movements and contacts come from their own tables.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import AuditEvent

from .facts import period_keys


@dataclass
class TrailTask:
    """One human task of the trail: ready, claimed (the last claim standing), completed."""

    element_id: str
    name: str
    role: str
    ready_at: datetime
    claimed_at: datetime | None = None
    completed_at: datetime | None = None

    @property
    def waiting(self) -> float:
        end = self.claimed_at or self.completed_at
        return max(0.0, (end - self.ready_at).total_seconds()) if end else 0.0

    @property
    def working(self) -> float:
        if self.completed_at is None or self.claimed_at is None:
            return 0.0
        return max(0.0, (self.completed_at - self.claimed_at).total_seconds())


@dataclass
class Trail:
    """What one instance's audit trail says: arrival, data set by each step, human tasks, breaches."""

    created_at: datetime | None = None
    created: dict[str, Any] = field(default_factory=dict)
    sets: list[tuple[datetime, str | None, dict[str, Any]]] = field(default_factory=list)
    completed: dict[str, list[datetime]] = field(default_factory=dict)
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[str, TrailTask] = field(default_factory=dict)
    breaches: set[str] = field(default_factory=set)
    ended: bool = False

    def read(self, kind: str, at: datetime, task_id: str | None, element_id: str | None, data: dict[str, Any]) -> None:
        """Take in one event."""
        if kind == "instance.created":
            self.created_at, self.created = at, dict(data.get("data") or {})
        elif kind in ("instance.completed", "instance.cancelled"):
            self.ended = True
        elif kind == "task.ready" and task_id:
            self.tasks[task_id] = TrailTask(element_id or "", str(data.get("name") or element_id),
                                        str(data.get("role") or "none"), at)
        elif kind == "task.claimed" and task_id in self.tasks:
            self.tasks[task_id].claimed_at = at
        elif kind == "task.unclaimed" and task_id in self.tasks:
            self.tasks[task_id].claimed_at = None
        elif kind == "task.completed":
            if task_id in self.tasks:
                self.tasks[task_id].completed_at = at
            if element_id:
                self.completed.setdefault(element_id, []).append(at)
                if isinstance(data.get("form"), dict):
                    self.forms[element_id] = data["form"]
            changed = (data.get("delta") or {}).get("set")
            if isinstance(changed, dict):
                self.sets.append((at, element_id, changed))
        elif kind == "message.received" and data.get("message") == "sla_breached":
            self.breaches.add(str((data.get("payload") or {}).get("kind")))
        elif kind == "sla.breached":
            self.breaches.add(str(data.get("kind")))

    def first_set(self, name: str, value: Any) -> datetime | None:
        """Return when a step first set ``name`` to ``value``."""
        return next((at for at, _, changed in self.sets if changed.get(name) == value), None)

    def values(self, test: Any) -> list[tuple[datetime, dict[str, Any]]]:
        """Return every dict a step set that passes ``test``, in order, with when."""
        return [(at, v) for at, _, changed in self.sets for v in changed.values() if isinstance(v, dict) and test(v)]

    def clock(self, kind: str) -> list[tuple[datetime, dict[str, Any]]]:
        """Return the successive states of the ``kind`` SLA clock that the clock's steps wrote."""
        return self.values(lambda v: v.get("kind") == kind and "status" in v and "pauses" in v)


def read_trails(session: Session, instance_ids: set[int]) -> dict[int, Trail]:
    trails: dict[int, Trail] = defaultdict(Trail)
    ids = sorted(instance_ids)
    for chunk in range(0, len(ids), 500):
        rows = session.execute(select(AuditEvent.instance_id, AuditEvent.kind, AuditEvent.at, AuditEvent.task_id,
                                      AuditEvent.element_id, AuditEvent.data)
                               .where(AuditEvent.instance_id.in_(ids[chunk:chunk + 500]), AuditEvent.kind.in_(KINDS))
                               .order_by(AuditEvent.instance_id, AuditEvent.seq))
        for instance_id, kind, at, task_id, element_id, data in rows:
            trails[instance_id].read(kind, at, task_id, element_id, data or {})
    return trails


KINDS = ("instance.created", "instance.completed", "instance.cancelled", "task.ready", "task.claimed",
         "task.unclaimed", "task.completed", "message.received", "sla.breached")


# --- each ticket, recounted -------------------------------------------------------------------
def _at(text: Any) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) and text else None


def _paused(states: list[tuple[datetime, dict[str, Any]]]) -> float:
    """Add up the pauses of a clock from its successive states: each pause (by its start) ends where a
    later state says it ended, or when the clock was stopped (stopping resumes a paused clock)."""
    ends: dict[str, datetime | None] = {}
    for at, state in states:
        for pause in state.get("pauses") or []:
            if pause.get("from"):
                ends[pause["from"]] = _at(pause.get("to")) or ends.get(pause["from"])
        if state.get("status") in ("met", "breached"):
            ends = {start: end or at for start, end in ends.items()}
    return sum((end - _at(start)).total_seconds() for start, end in ends.items()  # type: ignore[operator]
               if end is not None)


def _judged(states: list[tuple[datetime, dict[str, Any]]], breached: bool) -> tuple[bool | None, datetime | None]:
    """Return whether a clock's target was met (None: not yet judged) and when it stopped."""
    stop = next(((at, s) for at, s in states if s["status"] in ("met", "breached")), None)
    if breached or (stop and stop[1]["status"] == "breached"):
        return False, stop[0] if stop else None
    return (True, stop[0]) if stop else (None, None)


@dataclass
class Recount:
    """The settings, the moment and the trails a verification recounts from."""

    settings: dict[str, Any]
    now: datetime
    trails: dict[int, Trail]

    def ticket(self, t: Any, contacts: list[Any], survey: Any, parts: tuple[bool, bool, float],
               line: str, priority: str) -> dict[str, Any]:
        """Return what the trail says of ticket ``t`` (the fields the figures are made of)."""
        signals, trail = self.settings["signals"], self.trails[t.instance_id]
        opened = trail.first_set("ticket_number", t.number) or t.opened_at
        arrived = min(trail.created_at or opened, opened)
        closure = trail.values(lambda v: "closed_at" in v and "outcome" in v)
        closed_at, outcome = (_at(closure[0][1]["closed_at"]), closure[0][1]["outcome"]) if closure else (None, None)
        status = "closed" if closure else "open"
        response, resolution = trail.clock("response"), trail.clock("resolution")
        response_met, stopped = _judged(response, "response" in trail.breaches)
        resolution_met, _ = _judged(resolution, "resolution" in trail.breaches)
        target = self.settings["targets"]["first_response_hours"] * 3600.0
        if response:
            first = stopped
            last = response[-1][1]
            due = _at(last.get("due_at")) if last["status"] == "running" else None
        else:
            humans = [r for r in trail.tasks.values() if r.completed_at and r.ready_at >= opened
                      and r.element_id not in signals["intake"]]
            first = min((r.completed_at for r in humans), default=None)  # type: ignore[type-var]
            due = arrived + timedelta(seconds=target)
            response_met = None if first is None else (first - arrived).total_seconds() <= target
        ends = [at for e in signals["resolution"] for at in trail.completed.get(e, [])]
        resolved = None if outcome == "cancelled" else (max(ends) if ends else closed_at)
        paused = _paused(resolution)
        reopened = sum(len(trail.completed.get(e, [])) for e in signals["reopen"])
        fcr = (status == "closed" and outcome == "resolved" and reopened == 0 and len(contacts) <= 1
               and any(trail.completed.get(e) for e in signals["first_contact_resolution"])
               and sum(len(trail.completed.get(e, [])) for e in signals["resolution"]) <= 1)
        qa_rule = signals["qa_score"]
        qa = trail.forms.get(qa_rule["element"], {}).get(qa_rule["field"])
        worked = [r for c in contacts if c.instance_id != t.instance_id and c.instance_id in self.trails
                  for r in self.trails[c.instance_id].tasks.values()] + list(trail.tasks.values())
        costs = self.settings["costs"]
        rates, handling = costs["labour_per_hour"], costs["handling_per_contact"]
        return {
            "number": t.number, **period_keys(opened), "opened_at": opened, "channel": t.channel,
            "product_line": line, "priority": priority, "status": status, "outcome": outcome,
            "first_response": None if first is None else max(0.0, (first - arrived).total_seconds()),
            "response_met": response_met, "response_due_at": due,
            "resolution": None if resolved is None else max(0.0, (resolved - opened).total_seconds() - paused),
            "resolution_met": resolution_met, "fcr": fcr, "contacts": max(1, len(contacts)),
            "csat": survey.csat if survey else None, "nps": survey.nps if survey else None,
            "qa": float(qa) if isinstance(qa, int | float) and not isinstance(qa, bool) else None,
            "parts": parts[0], "backordered": parts[1], "parts_cost": parts[2],
            "labour_cost": sum(r.working / 3600 * float(rates.get(r.role, rates.get("default", 0))) for r in worked),
            "handling_cost": sum(float(handling.get(c.channel, handling.get("default", 0))) for c in contacts),
            "teams": {r.role for r in worked},
        }


