"""Read-side queries for the CLI, the web UI and the API (no SpiffWorkflow, plain SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .errors import NotFound
from .identity import Actor
from .models import Deployment, Incident, Instance, ProcessDefinition, Timer, WorkItem


@dataclass(frozen=True)
class TaskFilter:
    """What a tasklist asks for."""

    scope: str = "mine"  # mine | group | all
    priority: str | None = None
    stage: str | None = None
    channel: str | None = None
    business_key: str | None = None
    sort: str = "due_at"
    descending: bool = False
    limit: int = 50
    offset: int = 0


SORTABLE = {"due_at": WorkItem.due_at, "created_at": WorkItem.created_at, "priority": WorkItem.priority,
            "business_key": WorkItem.business_key, "name": WorkItem.name, "stage": WorkItem.stage,
            "channel": WorkItem.channel, "customer_tier": WorkItem.customer_tier}


def tasks_in_scope(actor: Actor, scope: str) -> Any:
    """Return the query of the work items in a tasklist tab: ``mine``, ``group``, ``all`` (else mine or group)."""
    query = select(WorkItem)
    if scope == "mine":
        return query.where(WorkItem.assignee == actor.username)
    if scope == "group":
        return query.where(WorkItem.role.in_(sorted(actor.roles)), WorkItem.assignee.is_(None))
    if scope == "all" and actor.is_supervisor:
        return query
    return query.where(or_(WorkItem.assignee == actor.username, WorkItem.role.in_(sorted(actor.roles))))


def list_tasks(session: Session, actor: Actor, flt: TaskFilter = TaskFilter()) -> tuple[list[WorkItem], int]:
    """Return one page of the actor's tasklist and the total count."""
    query = tasks_in_scope(actor, flt.scope)
    for column, value in ((WorkItem.priority, flt.priority), (WorkItem.stage, flt.stage),
                          (WorkItem.channel, flt.channel), (WorkItem.business_key, flt.business_key)):
        if value:
            query = query.where(column == value)
    column = SORTABLE.get(flt.sort, WorkItem.due_at)
    return page_of_tasks(session, query, column.desc() if flt.descending else column.asc(), flt.limit, flt.offset)


def page_of_tasks(session: Session, query: Any, order: Any, limit: int, offset: int,
                  total: int | None = None) -> tuple[list[WorkItem], int]:
    """Return one page of a work-item query in ``order`` (then oldest first) and how many match in all
    (counted unless ``total`` is given).

    The page's task ids are sorted first and only those rows read whole: the database sorts keys,
    not every matching row with its texts (at 12,000 open tasks and page 200 that halves the sort)."""
    if total is None:
        total = count_of(session, query)
    ids = list(session.scalars(query.with_only_columns(WorkItem.task_id)
                               .order_by(order.nulls_last(), WorkItem.created_at, WorkItem.task_id)
                               .limit(limit).offset(offset)))
    return tasks_by_id(session, ids), total


def count_of(session: Session, query: Any) -> int:
    """Return how many rows a work-item query matches."""
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def tasks_by_id(session: Session, ids: list[str]) -> list[WorkItem]:
    """Return the work items of ``ids`` in that order (one statement; a task done meanwhile is left out)."""
    if not ids:
        return []
    rows = {row.task_id: row for row in session.scalars(select(WorkItem).where(WorkItem.task_id.in_(ids)))}
    return [rows[task_id] for task_id in ids if task_id in rows]


def tasks_of_instance(session: Session, actor: Actor, instance_id: int) -> list[WorkItem]:
    """Return the ready tasks of one instance that ``actor`` may work on (theirs or their roles'),
    in tasklist order: one statement, no count."""
    query = tasks_in_scope(actor, "any").where(WorkItem.instance_id == instance_id)
    return list(session.scalars(query.order_by(WorkItem.due_at.asc().nulls_last(), WorkItem.created_at,
                                               WorkItem.task_id)))


def count_tasks(session: Session, actor: Actor) -> dict[str, int]:
    """Return the number of tasks per tasklist tab."""
    counts = {}
    for scope in ("mine", "group", "all"):
        if scope == "all" and not actor.is_supervisor:
            continue
        query = tasks_in_scope(actor, scope)
        counts[scope] = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return counts


def get_work_item(session: Session, task_id: str) -> WorkItem:
    """Return a ready task's work item."""
    item = session.get(WorkItem, task_id)
    if item is None:
        raise NotFound("task {task_id} is not waiting for anyone", params={"task_id": task_id})
    return item


def get_instance(session: Session, instance_id: int) -> Instance:
    """Return an instance row."""
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise NotFound("instance {instance_id} does not exist", params={"instance_id": instance_id})
    return instance


def find_instances(session: Session, status: str | None = None, business_key: str | None = None,
                   process_id: str | None = None, limit: int = 100, offset: int = 0) -> list[Instance]:
    """Return instances, newest first, optionally filtered."""
    query = select(Instance)
    if status:
        query = query.where(Instance.status == status)
    if business_key:
        query = query.where(Instance.business_key == business_key)
    if process_id:
        query = query.where(Instance.process_id == process_id)
    return list(session.scalars(query.order_by(Instance.id.desc()).limit(limit).offset(offset)))


def instance_view(session: Session, instance: Instance) -> dict[str, Any]:
    """Return an instance as JSON-able data with its open tasks, timers and incidents."""
    tasks = session.scalars(select(WorkItem).where(WorkItem.instance_id == instance.id))
    timers = session.scalars(select(Timer).where(Timer.instance_id == instance.id).order_by(Timer.due_at))
    incidents = session.scalars(select(Incident).where(Incident.instance_id == instance.id,
                                                       Incident.status != "resolved"))
    return {
        "id": instance.id, "business_key": instance.business_key, "process_id": instance.process_id,
        "deployment_id": instance.deployment_id, "status": instance.status,
        "started_at": instance.started_at.isoformat(), "started_by": instance.started_by,
        "ended_at": instance.ended_at.isoformat() if instance.ended_at else None,
        "summary": instance.summary, "version": instance.version, "audit_events": instance.audit_seq,
        "tasks": [work_item_view(t) for t in tasks],
        "timers": [{"element_id": t.element_id, "name": t.name, "due_at": t.due_at.isoformat()} for t in timers],
        "incidents": [incident_view(i) for i in incidents],
    }


def work_item_view(item: WorkItem) -> dict[str, Any]:
    """Return a work item as JSON-able data."""
    return {"task_id": item.task_id, "instance_id": item.instance_id, "business_key": item.business_key,
            "element_id": item.element_id, "name": item.name, "lane": item.lane, "role": item.role,
            "stage": item.stage, "priority": item.priority, "customer_tier": item.customer_tier,
            "channel": item.channel, "form": item.form,
            "due_at": item.due_at.isoformat() if item.due_at else None, "assignee": item.assignee,
            "created_at": item.created_at.isoformat()}


def incident_view(incident: Incident) -> dict[str, Any]:
    """Return an incident as JSON-able data."""
    return {"id": incident.id, "instance_id": incident.instance_id, "task_id": incident.task_id,
            "element_id": incident.element_id, "element_name": incident.element_name,
            "error_type": incident.error_type, "message": incident.message, "attempts": incident.attempts,
            "status": incident.status,
            "next_retry_at": incident.next_retry_at.isoformat() if incident.next_retry_at else None}


def list_incidents(session: Session, status: str | None = None) -> list[Incident]:
    """Return incidents, unresolved first."""
    condition = Incident.status == status if status else Incident.status != "resolved"
    query = select(Incident).where(condition)
    return list(session.scalars(query.order_by(Incident.created_at.desc(), Incident.id.desc())))


def list_definitions(session: Session) -> list[dict[str, Any]]:
    """Return every deployed process and decision with its deployment version."""
    counts = dict(session.execute(select(Instance.deployment_id, func.count()).group_by(Instance.deployment_id)).all())
    rows = session.execute(select(ProcessDefinition, Deployment).join(Deployment)
                           .order_by(ProcessDefinition.process_id, Deployment.version.desc()))
    return [{"process_id": p.process_id, "name": p.name, "kind": p.kind, "file": p.file,
             "deployment_id": d.id, "bundle": d.name, "version": d.version, "content_hash": d.content_hash,
             "deployed_at": d.deployed_at.isoformat(), "deployed_by": d.deployed_by,
             "instances": counts.get(d.id, 0)} for p, d in rows]


def list_open_tasks(session: Session, limit: int = 1000) -> list[WorkItem]:
    """Return every ready human task (operators' view), oldest first."""
    return list(session.scalars(select(WorkItem).order_by(WorkItem.created_at, WorkItem.task_id).limit(limit)))
