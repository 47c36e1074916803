"""Derived rows of an instance, recomputed from its workflow at the end of each trigger.

Work items (ready human tasks), timers and message and signal subscriptions are
rewritten only where they changed, so a trigger that leaves them alone costs no statements;
work items join the trigger's one write (:mod:`engine.writes`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Table, bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .audit import canonical
from .driver_sql import Prepared
from .models import Instance, MessageSubscription, SignalSubscription, Timer, WorkItem
from .spiff import INTERRUPTED
from .writes import Writes

SUMMARY_KEYS = ("priority", "customer_tier", "channel", "fault_category", "product_line")


def role_for_lane(lane: str | None) -> str | None:
    """Return the role a lane maps to: its name in lower snake case ("QA Review" → "qa_review")."""
    if not lane:
        return None
    return re.sub(r"[^a-z0-9]+", "_", lane.strip().lower()).strip("_") or None


def lookup(data: dict[str, Any], key: str) -> Any:
    """Find ``key`` at the top of task data, or one level down (``customer.tier`` style)."""
    if key in data:
        return data[key]
    head, _, tail = key.partition("_")
    nested = data.get(head)
    if isinstance(nested, dict) and tail in nested:
        return nested[tail]
    return None


def task_name(task: Task) -> str:
    """Return a task's display name (its BPMN name, else its id)."""
    return task.task_spec.bpmn_name or task.task_spec.name


def stage_of(task: Task) -> str:
    """Return the stage a task belongs to: the enclosing subprocess or call activity, or the process."""
    workflow = task.workflow
    if workflow.parent_task_id is not None:
        parent = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
        return task_name(parent)
    return workflow.spec.description or workflow.spec.name


def _timer_due(task: Task) -> datetime | None:
    value = task.internal_data.get("event_value")
    if isinstance(value, str):
        try:
            return TimerEventDefinition.parse_time_or_duration(value)
        except (ValueError, TypeError):
            return None
    if isinstance(value, dict) and isinstance(value.get("next"), str):
        return TimerEventDefinition.parse_time_or_duration(value["next"])
    return None


def event_definitions(task: Task) -> list[tuple[str, Any]]:
    """Return (element id, definition) of the events a catching task waits for: an event-based
    gateway waits for the events of the catch events after it, named by their ids."""
    spec = task.task_spec
    evdef = getattr(spec, "event_definition", None)
    if isinstance(evdef, MultipleEventDefinition) and len(spec.outputs) == len(evdef.event_definitions):
        return [(out.name, d) for out, d in zip(spec.outputs, evdef.event_definitions, strict=True)]
    if isinstance(evdef, MultipleEventDefinition):
        return [(spec.name, d) for d in evdef.event_definitions]
    return [] if evdef is None else [(spec.name, evdef)]


def _element_name(task: Task, element_id: str) -> str:
    """Return the display name of ``element_id`` (a branch of the event-based gateway ``task``, or
    the task itself)."""
    if element_id == task.task_spec.name:
        return task_name(task)
    spec = task.workflow.spec.task_specs.get(element_id)
    return (spec.bpmn_name if spec is not None else None) or element_id


def waiting_event_tasks(workflow: BpmnWorkflow) -> list[Task]:
    """Return the tasks waiting for an event, across subprocesses."""
    return [t for t in workflow.event_manager.tasks.values() if t.state == TaskState.WAITING]


def event_subprocess_starts(workflow: BpmnWorkflow, kind: type[Any]) -> list[tuple[str, Any]]:
    """Return (start event id, definition) of the ``kind`` starts (message, signal) of the process's
    event subprocesses."""
    found = []
    for name in workflow.spec.start.trigger_specs:
        sp_spec = workflow.subprocess_specs.get(name)
        for start in getattr(sp_spec, "bpmn_start_events", []):
            if isinstance(start.event_definition, kind):
                found.append((start.name, start.event_definition))
    return found


def event_subprocess_messages(workflow: BpmnWorkflow) -> list[tuple[str, MessageEventDefinition]]:
    """Return (start event id, definition) of the message starts of the process's event subprocesses."""
    return event_subprocess_starts(workflow, MessageEventDefinition)


def sla_due(task: Task) -> datetime | None:
    """Return the earliest timer attached to the task or to a subprocess enclosing it."""
    dues: list[datetime] = []
    current: Task | None = task
    while current is not None:
        parent = current.parent
        if parent is not None:
            for sibling in parent.children:
                if sibling is current or sibling.state != TaskState.WAITING:
                    continue
                evdef = getattr(sibling.task_spec, "event_definition", None)
                if isinstance(evdef, TimerEventDefinition):
                    due = _timer_due(sibling)
                    if due is not None:
                        dues.append(due)
        workflow = current.workflow
        current = (workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
                   if workflow.parent_task_id is not None else None)
    return min(dues) if dues else None


@dataclass(frozen=True)
class WorkItemRow:
    """The desired work-item row of a ready human task."""

    task_id: str
    element_id: str
    name: str
    lane: str | None
    role: str | None
    form: str | None
    stage: str
    priority: str | None
    customer_tier: str | None
    channel: str | None
    due_at: datetime | None


def all_tasks(workflow: BpmnWorkflow) -> list[Task]:
    """Return every task of the workflow and its subprocesses (plain dict walk, no tree iterator)."""
    tasks = list(workflow.tasks.values())
    for sub in workflow.subprocesses.values():
        tasks.extend(sub.tasks.values())
    return tasks


def tasks_in_state(workflow: BpmnWorkflow, state: int) -> list[Task]:
    """Return the tasks in ``state``, subprocesses included, in a stable order."""
    return [t for t in all_tasks(workflow) if t._state == state]


_STATE_OF = attrgetter("_state")


def is_completed(workflow: BpmnWorkflow) -> bool:
    """Tell whether the workflow has no unfinished task left, as ``workflow.is_completed()`` does (and
    like it, note so on the workflow), in one pass over its tasks: SpiffWorkflow walks the task tree
    with its iterator, about a microsecond a task, on every call; and that walk stops 1,000 levels
    down, so a long loop would look completed to it."""
    if not workflow.completed and min(map(_STATE_OF, workflow.tasks.values()), default=TaskState.COMPLETED) \
            >= TaskState.COMPLETED:  # a finished state (completed, error, cancelled) is every unfinished one's above
        workflow.completed = True
    return bool(workflow.completed)


def ready_human_tasks(workflow: BpmnWorkflow) -> list[Task]:
    """Return the READY manual (user, manual, none) tasks, subprocesses included."""
    return [t for t in tasks_in_state(workflow, TaskState.READY) if t.task_spec.manual]


def work_item_for(task: Task) -> WorkItemRow:
    """Describe a ready human task as a work-item row."""
    spec = task.task_spec
    props = (spec.extensions or {}).get("properties", {}) if hasattr(spec, "extensions") else {}
    lane = _lane_of(task)
    return WorkItemRow(
        task_id=str(task.id), element_id=spec.name, name=task_name(task), lane=lane,
        role=role_for_lane(lane), form=props.get("formJsonSchemaFilename"), stage=stage_of(task),
        priority=_str(lookup(task.data, "priority")), customer_tier=_str(lookup(task.data, "customer_tier")),
        channel=_str(lookup(task.data, "channel")),
        due_at=sla_due(task) or running_clock_due(task.data) or _iso(lookup(task.data, "sla_due_at")),
    )


def running_clock_due(data: dict[str, Any]) -> datetime | None:
    """Return the earliest due time of the running SLA clocks kept in task data (``sla.*`` results)."""
    dues = [_iso(v.get("due_at")) for v in data.values()
            if isinstance(v, dict) and v.get("status") == "running" and "due_at" in v and "kind" in v]
    return min((d for d in dues if d is not None), default=None)


def _lane_of(task: Task) -> str | None:
    """Return the task's lane; a task in a lane-less subprocess inherits its caller's lane."""
    current: Task | None = task
    while current is not None:
        lane = getattr(current.task_spec, "lane", None)
        if lane:
            return lane
        workflow = current.workflow
        current = (workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
                   if workflow.parent_task_id is not None else None)
    return None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)[:64]


def _iso(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else None
    return None


def _fingerprint(rows: list[Any]) -> str:
    return hashlib.sha1(canonical([asdict(r) for r in rows]).encode()).hexdigest()


@dataclass(frozen=True)
class TimerRow:
    """The desired row of a waiting timer."""

    task_id: str
    element_id: str
    name: str
    due_at: datetime


@dataclass(frozen=True)
class SubscriptionRow:
    """The desired row of a waiting message event."""

    task_id: str
    element_id: str
    message_name: str
    correlation_key: str | None


@dataclass(frozen=True)
class SignalRow:
    """The desired row of a waiting signal event."""

    task_id: str
    element_id: str
    signal_name: str


def correlation_key(correlations: dict[str, Any]) -> str | None:
    """Flatten a workflow's correlation mapping into the key messages are routed by."""
    values: dict[str, Any] = {}
    for props in correlations.values():
        if isinstance(props, dict):
            values.update(props)
    if not values:
        return None
    if len(values) == 1:
        return str(next(iter(values.values())))
    return "|".join(f"{k}={values[k]}" for k in sorted(values))


def sync(session: Session, instance: Instance, workflow: BpmnWorkflow, now: datetime,
         ready: list[Task], writes: Writes, assign: Callable[[WorkItemRow], str | None] | None = None
         ) -> list[WorkItemRow]:
    """Bring work items, timers and subscriptions in line with ``workflow``; return new work items.

    Work items go to ``writes`` (the trigger's one write), each new one with the assignee
    ``assign`` names for it (a dispatched visit is its technician's from the start).
    """
    fingerprints = dict(instance.projection or {})
    items = sorted((work_item_for(t) for t in ready), key=lambda r: r.task_id)
    timers: list[TimerRow] = []
    subs: list[SubscriptionRow] = []
    signals: list[SignalRow] = []
    for task in waiting_event_tasks(workflow):
        for element_id, evdef in event_definitions(task):
            if isinstance(evdef, TimerEventDefinition):
                due = _timer_due(task)
                if due is not None:
                    timers.append(TimerRow(str(task.id), element_id, _element_name(task, element_id), due))
            elif isinstance(evdef, MessageEventDefinition):
                key = correlation_key(task.workflow.top_workflow.correlations) or instance.business_key
                subs.append(SubscriptionRow(str(task.id), element_id, evdef.name, key))
            elif isinstance(evdef, SignalEventDefinition):
                signals.append(SignalRow(str(task.id), element_id, evdef.name))
    if not is_completed(workflow) and INTERRUPTED not in workflow.task_tree.internal_data:
        for element_id, evdef in event_subprocess_messages(workflow):
            subs.append(SubscriptionRow(str(workflow.task_tree.id), element_id, evdef.name,
                                        correlation_key(workflow.correlations) or instance.business_key))
        for element_id, evdef in event_subprocess_starts(workflow, SignalEventDefinition):
            signals.append(SignalRow(str(workflow.task_tree.id), element_id, evdef.name))
    timers.sort(key=lambda r: r.task_id)
    subs.sort(key=lambda r: r.task_id)
    signals.sort(key=lambda r: (r.task_id, r.element_id))

    item_fps = {r.task_id: _fingerprint([r])[:32] + (instance.business_key or "") for r in items}
    new_items = _sync_work_items(writes, session.get_bind().dialect.name, instance, items,
                                 fingerprints.get("work_items") or {}, item_fps, now, assign)
    fingerprints["work_items"] = item_fps
    # an instance never saved has no rows of these to replace (they are written with its state)
    unknown = _NO_ROWS if instance.state_seq == 0 else None
    parts: list[tuple[str, Table, list[Any]]] = [
        ("timers", Timer.__table__, timers), ("subscriptions", MessageSubscription.__table__, subs),
        ("signals", SignalSubscription.__table__, signals)]
    for key, table, rows in parts:
        fp = _fingerprint(rows)
        if fingerprints.get(key, _NO_ROWS if key == "signals" else unknown) != fp:
            _replace_rows(session, table, instance.id, rows)
        fingerprints[key] = fp
    instance.projection = fingerprints
    instance.next_timer_at = min((t.due_at for t in timers), default=None)
    return new_items


#: the fingerprint of no rows
_NO_ROWS = _fingerprint([])
#: per table the DELETE of an instance's rows, and per table and columns the INSERT of rows, compiled once
_REPLACE: dict[tuple[str, ...], Prepared] = {}


def _replace_rows(session: Session, table: Table, instance_id: int, rows: list[Any]) -> None:
    """Replace an instance's rows of ``table`` (timers, subscriptions) with ``rows`` (dataclasses)."""
    remove = _REPLACE.get((table.name,))
    if remove is None:
        remove = _REPLACE[(table.name,)] = Prepared(delete(table).where(table.c.instance_id == bindparam("i")))
    remove.execute(session, {"i": instance_id})
    if not rows:
        return
    values = [{**asdict(r), "instance_id": instance_id} for r in rows]
    key = (table.name, *sorted(values[0]))
    insert = _REPLACE.get(key)
    if insert is None:
        insert = _REPLACE[key] = Prepared(table.insert(), column_keys=key[1:])
    insert.execute(session, values)


def _sync_work_items(writes: Writes, dialect: str, instance: Instance, rows: list[WorkItemRow],
                     stored: dict[str, str], wanted_fps: dict[str, str], now: datetime,
                     assign: Callable[[WorkItemRow], str | None] | None) -> list[WorkItemRow]:
    """Write only the differences, the gone rows in one DELETE and the new and changed in one INSERT or
    upsert; ``stored`` holds the fingerprints of the rows as last written."""
    wanted = {r.task_id: r for r in rows}
    gone = [tid for tid in stored if tid not in wanted]
    if gone:
        writes.delete(WorkItem.__table__, "task_id", gone)
    new = [r for tid, r in wanted.items() if tid not in stored]
    changed = [r for tid, r in wanted.items() if tid in stored and stored[tid] != wanted_fps[tid]]
    rows = []
    for r in new:
        owner = assign(r) if assign is not None else None
        rows.append({**asdict(r), "instance_id": instance.id, "business_key": instance.business_key,
                     "created_at": now, "assignee": owner, "claimed_at": now if owner else None})
    # a changed row keeps its assignee, claim and creation time: the upsert sets only what the task says
    rows += [{**asdict(r), "instance_id": instance.id, "business_key": instance.business_key,
              "created_at": now, "assignee": None, "claimed_at": None} for r in changed]
    if changed:
        writes.upsert(_work_item_upsert(dialect), rows)
    else:
        writes.insert(WorkItem.__table__, rows)
    return new


_upserts: dict[str, Any] = {}
#: what a work item takes from its task when the task changes (not who holds it, nor since when)
_DESCRIBED = ("business_key", *WorkItemRow.__dataclass_fields__)


def _work_item_upsert(dialect: str) -> Any:
    """Return the work-item upsert of a dialect (new rows inserted, changed rows updated, one statement)."""
    built = _upserts.get(dialect)
    if built is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(WorkItem.__table__)
        built = _upserts[dialect] = statement.on_conflict_do_update(
            index_elements=["task_id"], set_={c: statement.excluded[c] for c in _DESCRIBED if c != "task_id"})
    return built


def summarize(workflow: BpmnWorkflow, ready: list[Task]) -> dict[str, Any]:
    """Return the few facts listings show without loading the workflow."""
    data = current_data(workflow)
    summary: dict[str, Any] = {k: _str(lookup(data, k)) for k in SUMMARY_KEYS}
    waiting = waiting_event_tasks(workflow)
    summary["current"] = sorted({task_name(t) for t in ready} | {task_name(t) for t in waiting})[:10]
    summary["stage"] = stage_of(ready[0]) if ready else (stage_of(waiting[0]) if waiting else None)
    return summary


def current_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """Return the instance's data as of now: the data of the task that completed last, call
    activities and subprocesses included (``workflow.data`` is only filled at the end)."""
    if is_completed(workflow) and workflow.data:
        return workflow.data
    latest: Task | None = None
    completed = TaskState.COMPLETED
    for task in all_tasks(workflow):  # the first of the latest, as max() would pick
        if task._state == completed and (latest is None or task.last_state_change > latest.last_state_change) \
                and task.task_spec.bpmn_id is not None:
            latest = task
    return dict(workflow.task_tree.data if latest is None else latest.data)
