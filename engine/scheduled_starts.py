"""Timer start events of top-level processes: the worker starts instances on their schedule.

A process whose start event carries a timer is started by the schedule of the newest
deployment that holds it (older deployments' schedules stop when a new one is deployed):

* ``timeDate`` — once, at that moment;
* ``timeDuration`` — once, that long after the deployment was activated;
* ``timeCycle`` (``R3/PT1H``, ``R/P1D``, ``R/2026-03-02T08:00:00Z/P1D``) — at every
  occurrence, counted from its start date or, without one, from the deployment's activation;
  ``R<n>`` starts at most *n* instances.

Each instance the schedule starts records it (``started_by`` is ``timer:<start event id>``),
in the same transaction as the start, so a worker that restarts — or a second worker —
never starts an occurrence twice; the deployment row is locked while one worker decides.
After an outage, one instance covers every occurrence that fell due meanwhile (like a
timer that fires late), and the schedule goes on from there.

An instance started by hand (``aftersales start``) of such a process starts at once: the
timer is the schedule, not a wait inside the instance (:func:`engine.spiff.new_workflow`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .db import Database, is_sqlite
from .models import Deployment, Instance, ProcessDefinition
from .runtime import Runtime
from .sandbox import RestrictedEnvironment
from .spiff import CYCLE_TIMERS, top_level_timer_starts

ACTOR_PREFIX = "timer:"


@dataclass(frozen=True)
class Schedule:
    """When a timer start event starts instances: the first occurrence, the period, how many."""

    first: datetime
    period: timedelta | None  # None: once
    limit: int | None  # None: without end

    def next_after(self, last: datetime | None) -> datetime:
        """Return the first occurrence later than ``last`` (the first one when nothing ran yet)."""
        if last is None or last < self.first or self.period is None:
            return self.first
        steps = int((last - self.first) / self.period) + 1
        return self.first + steps * self.period


def schedule_of(expression: str, cycle: bool, activated_at: datetime) -> Schedule:
    """Read a timer start event's (evaluated) expression as a schedule anchored at ``activated_at``."""
    if not cycle:
        value = TimerEventDefinition.parse_time_or_duration(expression)
        if isinstance(value, datetime):
            return Schedule(value, None, 1)
        return Schedule(activated_at + TimerEventDefinition.get_timedelta_from_start(value, activated_at), None, 1)
    parts = expression.upper().replace("--", "/").strip().lstrip("R").split("/")
    cycles = int(parts[0]) if parts[0] else -1
    start = next((TimerEventDefinition.get_datetime(p) for p in parts[1:] if not p.startswith("P")), None)
    duration = next(p for p in parts[1:] if p.startswith("P"))
    period = TimerEventDefinition.get_timedelta_from_start(
        TimerEventDefinition.parse_iso_duration(duration), start or activated_at)
    return Schedule(start if start is not None else activated_at + period, period, None if cycles < 0 else cycles)


def start_due(db: Database, runtime: Runtime, now: datetime) -> int:
    """Start an instance for every timer start event whose next occurrence is due; return how many.

    Deciding is a read; only a process with a due occurrence takes a write transaction, in
    which the deployment row is locked and the decision taken again.
    """
    with db.transaction(write=False) as session:
        due = [(d, p) for d, p in _latest_definitions(session) if _due_starts(session, runtime, d, p, now)]
    started = 0
    for deployment_id, process_id in due:
        with db.transaction() as session:
            query = select(Deployment.id).where(Deployment.id == deployment_id)
            session.execute(query if is_sqlite(session) else query.with_for_update())
            for actor in _due_starts(session, runtime, deployment_id, process_id, now):
                runtime.start(session, process_id, {}, None, actor, deployment_id=deployment_id)
                started += 1
    return started


def _latest_definitions(session: Session) -> list[tuple[int, str]]:
    """Return (deployment id, process id) of each process in the newest deployment holding it."""
    rows = session.execute(select(ProcessDefinition.process_id, Deployment.id)
                           .join(Deployment, ProcessDefinition.deployment_id == Deployment.id)
                           .where(ProcessDefinition.kind == "process")
                           .order_by(Deployment.activated_at.desc(), Deployment.id.desc())).all()
    latest: dict[str, int] = {}
    for process_id, deployment_id in rows:
        latest.setdefault(process_id, deployment_id)
    return sorted((d, p) for p, d in latest.items())


def _due_starts(session: Session, runtime: Runtime, deployment_id: int, process_id: str,
                now: datetime) -> list[str]:
    """Return the actors (``timer:<start event>``) of the process's timer start events due now."""
    spec = runtime.specs.get(session, deployment_id).get(process_id)
    starts = top_level_timer_starts(spec) if spec is not None else []
    if not starts:
        return []
    activated_at = session.scalar(select(Deployment.activated_at).where(Deployment.id == deployment_id))
    due = []
    for start in starts:
        actor = (ACTOR_PREFIX + start.name)[:64]
        schedule = schedule_of(_evaluate(start.event_definition.expression),
                               isinstance(start.event_definition, CYCLE_TIMERS), activated_at)
        count, last = session.execute(select(func.count(Instance.id), func.max(Instance.started_at)).where(
            Instance.deployment_id == deployment_id, Instance.process_id == process_id,
            Instance.started_by == actor)).one()
        if (schedule.limit is None or count < schedule.limit) and schedule.next_after(last) <= now:
            due.append(actor)
    return due


def _evaluate(expression: str) -> str:
    """Evaluate a start timer's expression (a literal, or one using the sandbox's date helpers)."""
    value: Any = RestrictedEnvironment().evaluate(expression, {})
    return value.isoformat() if isinstance(value, datetime) else str(value)
