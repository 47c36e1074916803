"""The tasklist: tabs, filters, sort and pages over ``work_item``; reassignment targets."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select, union_all
from sqlalchemy.orm import Session

from engine import duties
from engine.errors import InvalidInput, NotFound, PermissionDenied
from engine.identity import Actor
from engine.models import (
    Role,
    User,
    UserRole,
    WorkItem,
)
from engine.queries import count_of, count_tasks, page_of_tasks, tasks_by_id, tasks_in_scope
from handlers.sla import SlaClock

PRIORITY_RANK = {"urgent": 0, "high": 1, "medium": 2, "low": 3}
TIER_RANK = {"vip": 0, "normal": 1}


# --- tasklist ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Worklist:
    """One tasklist request: tab, filters, sort and page."""

    scope: str = "mine"  # mine | group | all
    name: str | None = None
    priority: str | None = None
    stage: str | None = None
    channel: str | None = None
    customer_tier: str | None = None
    ticket: str | None = None
    sla: str | None = None  # breached | soon
    sort: str = "due_at"
    descending: bool = False
    page: int = 1
    per_page: int = 50


def running_clock_due() -> Any:
    """Return, as a subquery, each instance's earliest running SLA clock: ``instance_id``, ``due_at``.

    Joined once to the tasklist rather than asked per task: a correlated subquery costs a lookup
    per open task, and on PostgreSQL its estimated cost alone switches on JIT compilation."""
    return (select(SlaClock.instance_id, func.min(SlaClock.due_at).label("due_at"))
            .where(SlaClock.status == "running").group_by(SlaClock.instance_id).subquery("running_clock"))


def shown_due(clock: Any) -> Any:
    """Return the due time the tasklist shows, as SQL: the task's own, else its ticket's running SLA clock
    (``clock``: :func:`running_clock_due`, joined on the task's instance).

    Sorting and the breached / due-soon filters use this same expression, so a task whose
    ticket is overdue sorts and filters as overdue although it has no timer of its own.
    """
    return func.coalesce(WorkItem.due_at, clock.c.due_at)


def _sort_columns() -> dict[str, Any]:
    return {
        "created_at": WorkItem.created_at,
        "name": WorkItem.name,
        "business_key": WorkItem.business_key,
        "stage": WorkItem.stage,
        "channel": WorkItem.channel,
        "priority": case(PRIORITY_RANK, value=WorkItem.priority, else_=9),
        "customer_tier": case(TIER_RANK, value=WorkItem.customer_tier, else_=9),
    }


def _scope(actor: Actor, scope: str) -> Any:
    if scope == "all" and not actor.is_supervisor:
        raise PermissionDenied("only supervisors see every open task")
    return tasks_in_scope(actor, scope if scope in ("group", "all") else "mine")


def filtered(wl: Worklist) -> bool:
    """Tell whether ``wl`` narrows its tab with a filter (else its total is the tab's count)."""
    return any((wl.name, wl.priority, wl.stage, wl.channel, wl.customer_tier, wl.ticket, wl.sla))


def list_worklist(
    session: Session, actor: Actor, wl: Worklist, now: datetime, soon_seconds: int = 4 * 3600,
    total: int | None = None,
) -> tuple[list[WorkItem], int]:
    """Return one page of a tasklist tab and the number of matching tasks (``total`` when the caller
    already counted them)."""
    query = _scope(actor, wl.scope)
    for column, value in (
        (WorkItem.name, wl.name),
        (WorkItem.priority, wl.priority),
        (WorkItem.stage, wl.stage),
        (WorkItem.channel, wl.channel),
        (WorkItem.customer_tier, wl.customer_tier),
    ):
        if value:
            query = query.where(column == value)
    if wl.ticket:
        query = query.where(
            WorkItem.business_key.like(f"{escape_like(wl.ticket.strip())}%", escape="\\")
        )
    plain = query  # without the running clocks
    limit, offset = wl.per_page, (max(1, wl.page) - 1) * wl.per_page
    column = _sort_columns().get(wl.sort)
    if column is None or wl.sla in ("breached", "soon"):  # the shown due time needs the running clocks
        clock = running_clock_due()
        due = shown_due(clock)
        query = query.outerjoin(clock, clock.c.instance_id == WorkItem.instance_id).where(
            *_sla_condition(due, wl.sla, now, soon_seconds))
        column = due if column is None else column
        if total is None:
            total = count_of(session, query)
        if column is due and total >= DUE_PARTS_FROM:
            return tasks_by_id(session, due_page(session, plain, wl, now, soon_seconds, limit, offset)), total
    order = column.desc() if wl.descending else column.asc()
    return page_of_tasks(session, query, order, limit, offset, total)


#: from this many matching tasks on, a page in due order is found in parts (:func:`due_page`); fewer are
#: sorted whole, along the tab's own index (a tab of 0 tasks would otherwise walk the due index to its end)
DUE_PARTS_FROM = 500


def _sla_condition(due: Any, sla: str | None, now: datetime, soon_seconds: int) -> list[Any]:
    if sla == "breached":
        return [due < now]
    if sla == "soon":
        return [due >= now, due < now + timedelta(seconds=soon_seconds)]
    return []


def due_page(session: Session, query: Any, wl: Worklist, now: datetime, soon_seconds: int,
             limit: int, offset: int) -> list[str]:
    """Return the task ids of one page of ``query`` in shown-due order (then oldest first).

    The shown due time is the task's own, else its ticket's running SLA clock, else none (last).
    Sorting that expression takes every matching task, so the page is found in three parts
    instead, each in its own order and cut at the page's end: tasks with a due time of their own
    (read along ``ix_work_item_due_order``), tasks due by their ticket's clock, tasks due never. The
    page is then cut from those at most 3 × (offset + limit) ids: at 14,600 open tasks on
    PostgreSQL the first page's ids take 1.1 ms (EXPLAIN ANALYZE) instead of a 34 ms sort of
    them all; a deep page still sorts about as many as it skips.
    """
    clock = running_clock_due()
    k = offset + limit
    direction = (lambda c: c.desc()) if wl.descending else (lambda c: c.asc())
    parts = [(query.where(WorkItem.due_at.is_not(None)), WorkItem.due_at),
             (query.join(clock, clock.c.instance_id == WorkItem.instance_id)
              .where(WorkItem.due_at.is_(None), clock.c.due_at.is_not(None)), clock.c.due_at)]
    if wl.sla not in ("breached", "soon"):  # due never: neither breached nor due soon
        parts.append((query.outerjoin(clock, clock.c.instance_id == WorkItem.instance_id)
                      .where(WorkItem.due_at.is_(None), clock.c.due_at.is_(None)), WorkItem.due_at))
    branches = [select(part.where(*_sla_condition(due, wl.sla, now, soon_seconds))
                       .with_only_columns(WorkItem.task_id, due.label("due"), WorkItem.created_at)
                       .order_by(direction(due), WorkItem.created_at, WorkItem.task_id).limit(k).subquery())
                for part, due in parts]
    ordered = union_all(*branches).subquery("due_order")
    return list(session.scalars(select(ordered.c.task_id)
                                .order_by(direction(ordered.c.due).nulls_last(), ordered.c.created_at,
                                          ordered.c.task_id).limit(limit).offset(offset)))


CHOICES_TTL = 60.0  # seconds; the distinct values take a full scan of work_item
_choices: dict[str, tuple[float, dict[str, list[str]]]] = {}
_choices_lock = threading.Lock()


def worklist_choices(session: Session) -> dict[str, list[str]]:
    """Return the values the tasklist filters offer (task names, stages, channels …).

    They change only when processes change, so they are kept for ``CHOICES_TTL`` seconds
    per database: with 100,000 open tasks the three distinct scans cost about 80 ms.
    """
    key = str(session.get_bind().url)
    now = time.monotonic()
    cached = _choices.get(key)
    if cached is not None and now - cached[0] < CHOICES_TTL:
        return cached[1]
    out: dict[str, list[str]] = {}
    for name, column in (("name", WorkItem.name), ("stage", WorkItem.stage), ("channel", WorkItem.channel)):
        out[name] = sorted(v for v in session.scalars(select(column).distinct().limit(200)) if v)
    out["priority"] = list(PRIORITY_RANK)
    out["customer_tier"] = list(TIER_RANK)
    with _choices_lock:
        _choices[key] = (now, out)
    return out


def forget_choices() -> None:
    """Drop the cached filter choices (tests, or after a deployment)."""
    with _choices_lock:
        _choices.clear()


@dataclass
class TasklistPage:
    """One tasklist page: its rows, the matching total, the count per tab and filter choices."""

    items: list[WorkItem]
    total: int
    counts: dict[str, int]
    choices: dict[str, list[str]]
    clock_due: dict[int, datetime] = field(default_factory=dict)
    barred: dict[str, duties.Conflict] = field(default_factory=dict)  # rows the reader may not do (four eyes)

    def due(self, item: WorkItem) -> datetime | None:
        """Return when the item's SLA is due: its own timer, else its ticket's running SLA clock."""
        return item.due_at or self.clock_due.get(item.instance_id)


def tasklist_page(
    session: Session, actor: Actor, wl: Worklist, now: datetime, soon_seconds: int = 4 * 3600
) -> TasklistPage:
    """Return everything the tasklist page shows for ``wl``."""
    counts = count_tasks(session, actor)
    known = None if filtered(wl) else counts.get(wl.scope)  # the tab's own count: not counted twice
    items, total = list_worklist(session, actor, wl, now, soon_seconds, known)
    clocks = running_clocks(session, [i.instance_id for i in items if i.due_at is None])
    return TasklistPage(items, total, counts, worklist_choices(session), clocks,
                        duties.barred_items(session, items, actor.username))


def running_clocks(session: Session, instance_ids: list[int]) -> dict[int, datetime]:
    """Return the earliest due time of the running SLA clocks (the sla handler's) per instance."""
    if not instance_ids:
        return {}
    rows = session.execute(select(SlaClock.instance_id, func.min(SlaClock.due_at))
                           .where(SlaClock.instance_id.in_(instance_ids), SlaClock.status == "running")
                           .group_by(SlaClock.instance_id))
    return {instance_id: due for instance_id, due in rows if due is not None}


def users_with_role(session: Session, role: str | None) -> list[tuple[str, str]]:
    """Return ``(username, display name)`` of active users holding ``role`` (any role when None)."""
    query = select(User.username, User.display_name).where(User.active.is_(True))
    if role:
        query = (
            query.join(UserRole, UserRole.user_id == User.id)
            .join(Role, Role.id == UserRole.role_id)
            .where(or_(Role.name == role, Role.name.in_(("supervisor",))))
        )
    return [(u, n) for u, n in session.execute(query.distinct().order_by(User.username))]


def check_assignee(session: Session, username: str, role: str | None) -> None:
    """Refuse a reassignment target that does not exist, is inactive or lacks the lane's role."""
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None or not user.active:
        raise InvalidInput("user '{username}' does not exist or is inactive",
                           field="assignee", params={"username": username})
    if not Actor.of(user).may_work_in(role):
        raise InvalidInput("user '{username}' does not hold the role '{role}' of this task",
                           field="assignee", params={"username": username, "role": role})


def task_role(session: Session, task_id: str) -> str | None:
    """Return the role of a ready task's lane."""
    item = session.get(WorkItem, task_id)
    if item is None:
        raise NotFound("task {task_id} is not waiting for anyone", task=task_id, params={"task_id": task_id})
    return item.role


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
