"""Per-element execution facts of instances, from their audit trail and their workflow.

The audit trail says *when* each element ran, *who* did it and *what data changed*
(``task.ready``, ``task.claimed``, ``task.completed`` with its data delta …). The stored
workflow says *where the tokens are now* and *which path they took* (the task tree:
a task's parent is the element its token came from). Together they give an auditor the
marked diagram of one instance, and a process owner the heatmap of a version:

* ``reached`` — when the token arrived: the task became ready, or the element before it
  (an incoming flow's source, or the activity a boundary event is attached to) completed;
* waiting time — reached → claimed (user tasks), else reached → completed;
* working time — claimed → completed (user tasks that were claimed), else 0.

A run that never completes because an interrupting boundary event of its activity (or of a
subprocess around it) fired, or because its instance ended, is *interrupted*: neither an
execution nor a token still waiting there.

Data as of any step is the start data with every later delta replayed in order.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from .diagram import Graph, graph_for, graphs_of
from .errors import NotFound
from .models import AuditEvent, Instance

DATA_KINDS = ("task.completed", "timer.fired")
#: events that end an instance: whatever still runs in it stops there
ENDS = ("instance.completed", "instance.cancelled")
#: element types whose whole duration is work done inside them
CONTAINERS = frozenset({"CallActivity", "SubWorkflowTask", "TransactionSubprocess"})


@dataclass(slots=True)
class TrailEvent:
    """One audit event of an instance as the trace reads it (no ORM object, its data decoded once)."""

    seq: int
    at: datetime
    actor: str
    kind: str
    task_id: str | None
    element_id: str | None
    data: dict[str, Any]


#: what the folds below read: the ORM rows or the trace's plain ones
AnyEvent = AuditEvent | TrailEvent


# --- runs: one execution of one element --------------------------------------------------
@dataclass
class Run:
    """One execution of an element by one task."""

    task_id: str
    element_id: str
    name: str = ""
    type: str = ""
    reached_at: datetime | None = None
    ready_at: datetime | None = None
    claimed_at: datetime | None = None
    completed_at: datetime | None = None
    failed_at: datetime | None = None
    actor: str | None = None
    seq: int | None = None  # the completing event
    first_seq: int | None = None
    error: str | None = None
    interrupted: bool = False  # cut off by a boundary event or the end of its instance

    @property
    def state(self) -> str:
        """Return completed, interrupted, failed or active."""
        if self.completed_at:
            return "completed"
        return "interrupted" if self.interrupted else "failed" if self.failed_at else "active"

    @property
    def waiting_seconds(self) -> float | None:
        """Return the time from arrival to the start of work (claim, else completion; 0 for containers)."""
        start = self.claimed_at or self.completed_at
        if self.type in CONTAINERS:
            start = self.reached_at
        if self.reached_at is None or start is None:
            return None
        return max(0.0, (start - self.reached_at).total_seconds())

    @property
    def working_seconds(self) -> float | None:
        """Return claim → completion (0 when nobody claimed; a call's whole duration for containers)."""
        if self.completed_at is None:
            return None
        if self.type in CONTAINERS and self.reached_at is not None:
            return max(0.0, (self.completed_at - self.reached_at).total_seconds())
        if self.claimed_at is None:
            return 0.0
        return max(0.0, (self.completed_at - self.claimed_at).total_seconds())

    def to_dict(self) -> dict[str, Any]:
        """Return the run as JSON-able data."""
        iso = (lambda d: d.isoformat() if d else None)  # noqa: E731
        return {"task_id": self.task_id, "element_id": self.element_id, "name": self.name,
                "type": self.type, "reached_at": iso(self.reached_at), "ready_at": iso(self.ready_at),
                "claimed_at": iso(self.claimed_at), "completed_at": iso(self.completed_at),
                "failed_at": iso(self.failed_at), "actor": self.actor, "seq": self.seq,
                "error": self.error, "interrupted": self.interrupted, "waiting_seconds": self.waiting_seconds,
                "working_seconds": self.working_seconds}


def runs_of(events: Sequence[AnyEvent], graph: Graph | None = None) -> list[Run]:
    """Turn one instance's events (in order) into runs of its elements."""
    runs: dict[str, Run] = {}
    completed_at: dict[str, datetime] = {}
    reached: dict[str, datetime] = {}
    for ev in events:
        if ev.kind in ENDS:
            interrupt(runs.values())
        if not ev.task_id or not ev.element_id:
            continue
        data = ev.data or {}
        run = runs.get(ev.task_id)
        if run is None:
            run = runs[ev.task_id] = Run(ev.task_id, ev.element_id, first_seq=ev.seq)
        run.name = str(data.get("name") or run.name or ev.element_id)
        run.type = str(data.get("type") or run.type)
        if ev.kind == "task.ready":
            run.ready_at = run.reached_at = ev.at
        elif ev.kind == "task.claimed":
            run.claimed_at = ev.at
        elif ev.kind == "task.unclaimed":
            run.claimed_at = None
        elif ev.kind == "task.failed":
            run.failed_at, run.error = ev.at, str(data.get("error") or "")[:500]
        elif ev.kind in DATA_KINDS:
            run.completed_at, run.seq = ev.at, ev.seq
            run.actor = ev.actor
            run.failed_at = None
        if run.reached_at is None:
            run.reached_at = _arrival(ev.element_id, graph, completed_at, reached) or ev.at
        reached.setdefault(ev.element_id, run.reached_at)
        if ev.kind in DATA_KINDS:
            completed_at[ev.element_id] = ev.at
            reached[ev.element_id] = run.reached_at
            cut = cut_off_by(ev.element_id, graph)
            if cut is not None:
                interrupt(r for r in runs.values() if within(r.element_id, cut, graph))
    return list(runs.values())


def cut_off_by(element_id: str, graph: Graph | None) -> str | None:
    """Return the activity an interrupting boundary event ``element_id`` cuts off when it fires."""
    node = graph.nodes.get(element_id) if graph is not None else None
    return node.attached_to if node is not None and node.interrupting else None


def within(element_id: str, activity: str, graph: Graph | None) -> bool:
    """Tell whether ``element_id`` is ``activity`` or an element inside it (a subprocess's)."""
    node = graph.nodes.get(element_id) if graph is not None else None
    while element_id != activity and node is not None and node.parent is not None:
        element_id = node.parent
        node = graph.nodes.get(element_id) if graph is not None else None
    return element_id == activity


def interrupt(runs: Iterable[Run]) -> None:
    """Mark the unfinished runs of ``runs`` interrupted."""
    for run in runs:
        if run.completed_at is None:
            run.interrupted = True


def _arrival(element_id: str, graph: Graph | None, completed_at: dict[str, datetime],
             reached: dict[str, datetime]) -> datetime | None:
    if graph is None:
        return None
    node = graph.nodes.get(element_id)
    if node is None:
        return None
    if node.attached_to:
        return reached.get(node.attached_to)
    times = [completed_at[s] for s in graph.sources_of(element_id) if s in completed_at]
    return max(times) if times else None


# --- data as of a step -------------------------------------------------------------------
def apply_delta(data: dict[str, Any], delta: dict[str, Any] | None) -> None:
    """Apply one recorded ``{"set": …, "unset": […]}`` delta to ``data`` in place."""
    if not delta:
        return
    for key, value in (delta.get("set") or {}).items():
        data[key] = copy.deepcopy(value)
    for key in delta.get("unset") or []:
        data.pop(key, None)


def data_as_of(events: Sequence[AnyEvent], seq: int | None = None) -> dict[str, Any]:
    """Return the instance data after event ``seq`` (the latest when None), replayed from deltas."""
    data: dict[str, Any] = {}
    for ev in events:
        if seq is not None and ev.seq > seq:
            break
        payload = ev.data or {}
        if ev.kind == "instance.created":
            data = copy.deepcopy(payload.get("data") or {})
        elif ev.kind in DATA_KINDS:
            apply_delta(data, payload.get("delta"))
    return data


def before_and_after(events: Sequence[AnyEvent], seq: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the instance data just before and just after event ``seq``."""
    before = data_as_of(events, seq - 1)
    after = copy.deepcopy(before)
    for ev in events:
        if ev.seq == seq and ev.kind in DATA_KINDS:
            apply_delta(after, (ev.data or {}).get("delta"))
        elif ev.seq == seq and ev.kind == "instance.created":
            after = copy.deepcopy((ev.data or {}).get("data") or {})
    return before, after


def instance_events(session: Session, instance_id: int) -> list[AuditEvent]:
    """Return an instance's events in order (NotFound for an unknown instance)."""
    if session.get(Instance, instance_id) is None:
        raise NotFound("instance {instance_id} does not exist", params={"instance_id": instance_id})
    return list(session.scalars(select(AuditEvent).where(AuditEvent.stream == f"instance:{instance_id}")
                                .order_by(AuditEvent.seq)))


def trail_of(session: Session, instance_id: int) -> list[TrailEvent]:
    """Return an instance's events in order, read as plain rows (NotFound for an unknown instance).

    The data is fetched as text and decoded with orjson: decoding the JSON took most of a long
    trail's trace."""
    if session.get(Instance, instance_id) is None:
        raise NotFound("instance {instance_id} does not exist", params={"instance_id": instance_id})
    rows = session.execute(select(AuditEvent.seq, AuditEvent.at, AuditEvent.actor, AuditEvent.kind,
                                  AuditEvent.task_id, AuditEvent.element_id, cast(AuditEvent.data, Text))
                           .where(AuditEvent.stream == f"instance:{instance_id}").order_by(AuditEvent.seq))
    return [TrailEvent(seq, at, actor, kind, task_id, element_id, orjson.loads(data) if data else {})
            for seq, at, actor, kind, task_id, element_id, data in rows]


# --- heatmap ---------------------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float | None:
    """Return the ``p``-th percentile (nearest rank) of ``values``."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class ElementStats:
    """Executions and waiting/working times of one element over many instances."""

    element_id: str
    name: str = ""
    executions: int = 0
    active: int = 0
    failed: int = 0
    waiting: list[float] = field(default_factory=list)
    working: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the statistics as JSON-able data."""
        avg = (lambda v: round(sum(v) / len(v), 3) if v else None)  # noqa: E731
        return {"element_id": self.element_id, "name": self.name, "executions": self.executions,
                "active": self.active, "failed": self.failed,
                "waiting_avg": avg(self.waiting), "waiting_p90": percentile(self.waiting, 90),
                "working_avg": avg(self.working), "working_p90": percentile(self.working, 90)}


def heatmap(session: Session, deployment_id: int, process_id: str) -> dict[str, Any]:
    """Aggregate executions and waiting/working times per element of a process version."""
    graph = graph_for(session, deployment_id, process_id)
    rows = session.execute(select(Instance.id, Instance.process_id).where(Instance.deployment_id == deployment_id))
    instance_ids: list[int] = []  # the bundle's instances are scanned, those of this process counted
    started = 0
    for instance_id, started_process in rows:
        instance_ids.append(instance_id)
        started += started_process == process_id
    stats: dict[str, ElementStats] = {}
    by_instance: dict[int, list[AuditEvent]] = {}
    for start in range(0, len(instance_ids), 500):
        chunk = instance_ids[start:start + 500]
        for ev in session.scalars(select(AuditEvent).where(AuditEvent.instance_id.in_(chunk))
                                  .order_by(AuditEvent.instance_id, AuditEvent.seq)):
            by_instance.setdefault(ev.instance_id or 0, []).append(ev)
    for events in by_instance.values():
        for run in runs_of(events, graph):
            if run.element_id not in graph.nodes:
                continue
            st = stats.setdefault(run.element_id, ElementStats(run.element_id, run.name))
            if run.completed_at is not None:
                st.executions += 1
                if run.waiting_seconds is not None:
                    st.waiting.append(run.waiting_seconds)
                if run.working_seconds is not None:
                    st.working.append(run.working_seconds)
            elif run.state == "failed":
                st.failed += 1
            elif run.state == "active":
                st.active += 1
    elements = [s.to_dict() for s in sorted(stats.values(), key=lambda s: s.element_id)]
    return {"deployment_id": deployment_id, "process_id": process_id, "instances": started,
            "elements": elements, "max_executions": max((e["executions"] for e in elements), default=0),
            "max_waiting_p90": max((e["waiting_p90"] or 0 for e in elements), default=0)}


__all__ = ["Run", "runs_of", "data_as_of", "before_and_after", "heatmap", "graphs_of", "percentile"]
