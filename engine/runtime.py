"""The engine's public operations: start, complete, message, signal, timers, cancel, retry.

Each operation is one trigger in the caller's transaction (``Database.transaction()``):
lock the instance, load, act, run engine steps until everything waits, save, write
derived rows and audit events. Concurrent triggers on one instance serialize on the
instance row; the loser sees the task already completed, or a version conflict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import clock, delivery, duties, forms, spiff, store
from .audit import PendingEvent, instance_stream, write_instance_events
from .config import Settings
from .db import after_commit
from .errors import (
    IncidentError,
    InstanceEnded,
    InvalidInput,
    MessageNotCorrelated,
    NotFound,
    PermissionDenied,
    TaskClaimed,
    TaskNotReady,
)
from .identity import Actor
from .message_contracts import Sender, check_delivery
from .models import (
    AuditEvent,
    Incident,
    Instance,
    MessageSubscription,
    User,
    WorkItem,
)
from .pilots import Choice, choose_definition, find_definition
from .registry import reserved_assignee
from .trigger import Trigger

clock.install()


@dataclass(frozen=True)
class StartResult:
    """The outcome of starting an instance."""

    instance_id: int
    business_key: str | None
    status: str


class Runtime:
    """Runs process instances; holds the process-wide spec and instance caches."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.specs = store.SpecCache()
        self.instances = store.InstanceCache(settings.instance_cache_size)

    # --- start -----------------------------------------------------------------------------
    def start(self, session: Session, process_id: str, data: dict[str, Any] | None = None,
              business_key: str | None = None, actor: str = "system",
              deployment_id: int | None = None, receive: Callable[[Trigger], None] | None = None) -> StartResult:
        """Start an instance of ``process_id`` (latest active deployment) and run it until it waits.

        ``receive`` hands the new instance the message or signal its start event waits for
        (:mod:`engine.delivery`), and the instance runs on from there in the same trigger.
        """
        data = check_data(data or {}, "start data")
        choice = (Choice(find_definition(session, process_id, deployment_id)) if deployment_id is not None
                  else choose_definition(session, process_id, data))
        definition = choice.definition
        specs = self.specs.get(session, definition.deployment_id)
        deps = self.specs.dependencies(session, definition.deployment_id, process_id)
        workflow = spiff.new_workflow(specs[process_id], {n: specs[n] for n in deps})
        workflow.task_tree.data.update(data)
        now = clock.now()
        instance = Instance(business_key=business_key, deployment_id=definition.deployment_id,
                            process_id=process_id, status="active", started_at=now, started_by=actor,
                            updated_at=now, summary={}, projection={},
                            serializer_version=spiff.SERIALIZER_VERSION)
        session.add(instance)
        session.flush()
        trigger = Trigger(self, session, instance, workflow, actor, now)
        created = {"process_id": process_id, "deployment_id": definition.deployment_id,
                   "business_key": business_key, "data": data}
        pilot = choice.record(session, instance.id)
        trigger.audit("instance.created", {**created, "pilot": pilot} if pilot else created)
        trigger.advance()
        if receive is not None:
            receive(trigger)
            trigger.advance()
        trigger.finish()
        return StartResult(instance.id, instance.business_key, instance.status)

    # --- human tasks -----------------------------------------------------------------------
    def complete_task(self, session: Session, task_id: str, actor: Actor,
                      data: dict[str, Any] | None = None) -> Instance:
        """Complete a ready human task with form data, as ``actor``."""
        data = check_data(data or {}, "form data")
        found = store.lock_work_item(session, task_id)
        item, locked = found if found is not None else (self._work_item(session, task_id), None)
        authorize(actor, item)
        self._check_reserved(session, item, actor)
        duties.check_performer(session, item, actor.username, self._duty_rule(session, item, locked))
        if item.assignee not in (None, actor.username):
            raise TaskClaimed("task '{task}' of {ticket} is claimed by {user}", task=task_id, params={
                "task": item.name, "ticket": item.business_key or item.instance_id, "user": item.assignee})
        instance, trigger = self._begin(session, item.instance_id, actor.username, instance=locked)
        task = self._ready_task(trigger, task_id)
        schema_file = item.form
        if schema_file:
            schema = forms.load_json_file(session, instance.deployment_id, schema_file)
            forms.validate(schema, data, where=item.name, session=session, scope=dict(task.data))
        elif data:
            raise InvalidInput("task '{task}' has no form; it takes no data", task=task_id,
                               params={"task": item.name})
        trigger.complete_human_task(task, data, actor.username)
        trigger.advance()
        trigger.finish()
        return instance

    def claim(self, session: Session, task_id: str, actor: Actor) -> WorkItem:
        """Take a ready task for ``actor``."""
        item = self._work_item(session, task_id)
        authorize(actor, item)
        self._check_reserved(session, item, actor)
        duties.check_performer(session, item, actor.username, self._duty_rule(session, item))
        if item.assignee == actor.username:
            return item
        if item.assignee is not None:
            raise TaskClaimed("task '{task}' is already claimed by {user}", task=task_id,
                              params={"task": item.name, "user": item.assignee})
        return self._assign(session, item, actor.username, actor.username, "task.claimed", None)

    def unclaim(self, session: Session, task_id: str, actor: Actor) -> WorkItem:
        """Give a claimed task back to its group."""
        item = self._work_item(session, task_id)
        authorize(actor, item)
        if item.assignee != actor.username and not actor.is_supervisor:
            raise TaskClaimed("task '{task}' is claimed by {user}", task=task_id,
                              params={"task": item.name, "user": item.assignee})
        if not actor.is_supervisor and reserved_assignee(session, item.business_key, item.element_id, item.role):
            raise TaskClaimed("task '{task}' of {ticket} is the visit dispatched to {user}; only a supervisor can "
                              "give it to someone else",
                              task=task_id,
                              params={"task": item.name, "ticket": item.business_key, "user": item.assignee})
        return self._assign(session, item, None, actor.username, "task.unclaimed", None)

    @staticmethod
    def _check_reserved(session: Session, item: WorkItem, actor: Actor) -> None:
        """Refuse a task reserved for another user (a dispatched visit) unless a supervisor acts."""
        reserved = reserved_assignee(session, item.business_key, item.element_id, item.role)
        owner = item.assignee or reserved  # a supervisor's reassignment wins over the dispatch
        if reserved and owner != actor.username and not actor.is_supervisor:
            raise TaskClaimed("task '{task}' of {ticket} is the visit dispatched to {user}; only a supervisor can "
                              "reassign it",
                              task=item.task_id, assignee=owner,
                              params={"task": item.name, "ticket": item.business_key, "user": owner})

    def _duty_rule(self, session: Session, item: WorkItem, instance: Instance | None = None) -> duties.Rule | None:
        """Return the four-eyes rule of the item's task (engine.duties), from the spec cache."""
        deployment_id = instance.deployment_id if instance is not None else session.scalar(
            select(Instance.deployment_id).where(Instance.id == item.instance_id))
        return duties.rule_in(self.specs.get(session, deployment_id), item.element_id)

    def reassign(self, session: Session, task_id: str, actor: Actor, assignee: str | None,
                 reason: str) -> WorkItem:
        """Give a task to another user (supervisors only), with a reason for the trail."""
        if not actor.is_supervisor:
            raise PermissionDenied("only supervisors may reassign tasks")
        if not reason.strip():
            raise InvalidInput("a reason is required to reassign a task", field="reason")
        item = self._work_item(session, task_id)
        if assignee is not None:
            target = session.scalars(select(User).where(User.username == assignee, User.active.is_(True))).first()
            if target is None:
                raise InvalidInput("there is no active user '{user}'", field="assignee", params={"user": assignee})
            if not Actor.of(target).may_work_in(item.role):
                raise InvalidInput("{user} does not hold role '{role}' for '{task}'", field="assignee",
                                   params={"user": assignee, "role": item.role, "task": item.name})
            duties.check_performer(session, item, assignee, self._duty_rule(session, item), by=actor.username)
        return self._assign(session, item, assignee, actor.username, "task.reassigned", reason.strip())

    def _assign(self, session: Session, item: WorkItem, assignee: str | None, by: str, kind: str,
                reason: str | None) -> WorkItem:
        instance = store.lock_instance(session, item.instance_id)
        instance_id, version = instance.id, instance.version
        session.refresh(item)
        now = clock.now()
        previous = item.assignee
        item.assignee, item.claimed_at = assignee, (now if assignee else None)
        write_instance_events(session, instance, [PendingEvent(
            kind, by, now, {"from": previous, "to": assignee, "reason": reason, "name": item.name},
            item.task_id, item.element_id)])
        instance.updated_at = now
        session.flush()  # the row's version moves on (once or twice); the workflow's state does not
        moved = instance.version
        after_commit(session, lambda: self.instances.advance(instance_id, version, moved))
        return item

    # --- messages, timers ------------------------------------------------------------------
    def deliver_message(self, session: Session, name: str, key: str, payload: dict[str, Any] | None = None,
                        actor: str = "system", *, sender: Sender | None = None) -> list[int]:
        """Deliver message ``name`` to every instance waiting for it with correlation ``key``.

        ``sender`` is who sends it (default: the trusted in-process service ``actor``); the
        message's contract must allow the sender and accept the payload before anything is locked.
        """
        payload = check_data(payload or {}, "message payload")
        sender = sender or Sender.system(actor)
        actor = sender.name
        check_delivery(session, name, key, payload, sender)
        subs = list(session.scalars(select(MessageSubscription).where(
            MessageSubscription.message_name == name, MessageSubscription.correlation_key == str(key))
            .order_by(MessageSubscription.instance_id)))
        if not subs:
            raise MessageNotCorrelated("no instance is waiting for message '{message}' with key '{key}'",
                                       message_name=name, key=key, params={"message": name, "key": key})
        message = delivery.Thrown("message", name, payload, {}, str(key), None)
        delivered = [instance_id for instance_id in sorted({s.instance_id for s in subs})
                     if delivery.receive(self, session, instance_id, message, actor)]
        if not delivered:
            raise MessageNotCorrelated("no instance is waiting for message '{message}' with key '{key}'",
                                       message_name=name, key=key, params={"message": name, "key": key})
        return delivered

    def signal(self, session: Session, name: str, payload: dict[str, Any] | None, actor: Actor) -> delivery.Outcome:
        """Broadcast signal ``name`` (supervisors and admins only) to every instance waiting for it,
        and start the processes it starts."""
        delivery.authorize_signal(actor)
        return delivery.broadcast(self, session, name, check_data(payload or {}, "signal payload"), actor.username)

    def fire_timers(self, session: Session, instance_id: int, actor: str = "worker") -> Instance:
        """Fire every due timer of an instance and run it on."""
        instance, trigger = self._begin(session, instance_id, actor)
        trigger.advance()
        trigger.finish()
        return instance

    def record_event(self, session: Session, instance_id: int, kind: str, data: dict[str, Any],
                     actor: str = "system") -> None:
        """Append an audit event to an instance's trail without touching its workflow."""
        instance = store.lock_instance(session, instance_id)
        now = clock.now()
        write_instance_events(session, instance, [PendingEvent(kind, actor, now, data)])
        instance.updated_at = now
        session.flush()

    # --- cancel, incidents -----------------------------------------------------------------
    def cancel(self, session: Session, instance_id: int, actor: str, reason: str = "") -> Instance:
        """Cancel a running instance."""
        instance, trigger = self._begin(session, instance_id, actor)
        trigger.workflow.cancel()
        trigger.audit("instance.cancelled", {"reason": reason})
        trigger.finish()
        return instance

    def retry(self, session: Session, incident_id: int, actor: str = "system") -> Incident:
        """Run a failed task again; the incident resolves if it now succeeds."""
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise NotFound("incident {incident} does not exist", params={"incident": incident_id})
        ended = session.scalar(select(Instance.status).where(Instance.id == incident.instance_id))
        if ended in ("completed", "cancelled"):
            raise InstanceEnded("incident {incident} belongs to instance {instance}, which has already ended "
                                "({status}); there is nothing to retry",
                                incident=incident_id, instance=incident.instance_id, status=ended,
                                params={"incident": incident_id, "instance": incident.instance_id, "status": ended})
        if incident.status == "resolved":
            raise IncidentError("incident {incident} is already resolved", params={"incident": incident_id})
        instance, trigger = self._begin(session, incident.instance_id, actor,
                                        attempts={incident.task_id: incident.attempts})
        try:
            task = trigger.workflow.get_task_from_id(UUID(incident.task_id))
        except Exception as exc:
            raise IncidentError("task of incident {incident} is gone from the instance",
                                params={"incident": incident_id}) from exc
        if task.state != TaskState.ERROR:
            raise IncidentError("task of incident {incident} is not failed any more", params={"incident": incident_id})
        trigger.audit("incident.retried", {"incident": incident_id, "attempt": incident.attempts + 1}, task)
        task.reset_branch(None)
        trigger.advance()
        trigger.finish()
        return incident

    # --- helpers ---------------------------------------------------------------------------
    def _begin(self, session: Session, instance_id: int, actor: str, attempts: dict[str, int] | None = None,
               instance: Instance | None = None) -> tuple[Instance, Trigger]:
        """Lock the instance (unless ``instance``, its row, is locked already), check it out, begin a trigger."""
        if instance is None:
            instance = store.lock_instance(session, instance_id)
        if instance.status in ("completed", "cancelled"):
            raise InstanceEnded("instance {instance} has already ended ({status}); nothing can change it any more",
                                instance=instance_id, status=instance.status,
                                params={"instance": instance.business_key or instance_id, "status": instance.status})
        workflow = store.checkout(session, instance, self.specs, self.instances)
        return instance, Trigger(self, session, instance, workflow, actor, clock.now(), attempts)

    def _work_item(self, session: Session, task_id: str) -> WorkItem:
        item = session.get(WorkItem, task_id)
        if item is not None:
            return item
        seen = session.execute(select(Instance.id, Instance.business_key, Instance.status)
                               .join(AuditEvent, AuditEvent.instance_id == Instance.id)
                               .where(AuditEvent.task_id == task_id).limit(1)).first()
        if seen is not None and seen.status in ("completed", "cancelled"):
            raise InstanceEnded("task {task} belongs to {instance}, which has already ended ({status})",
                                task=task_id, instance=seen.id, status=seen.status,
                                params={"task": task_id, "instance": seen.business_key or seen.id,
                                        "status": seen.status})
        done = session.scalar(select(AuditEvent.kind).where(
            AuditEvent.task_id == task_id, AuditEvent.kind.in_(("task.completed", "task.cancelled")))
            .limit(1))
        if done:
            raise TaskNotReady("task {task} was already completed", task=task_id, params={"task": task_id})
        raise NotFound("task {task} does not exist or is not waiting for anyone", task=task_id,
                       params={"task": task_id})

    def _ready_task(self, trigger: Trigger, task_id: str) -> Any:
        try:
            task = trigger.workflow.get_task_from_id(UUID(task_id))
        except Exception as exc:
            raise NotFound("task {task_id} is not part of instance {instance}",
                           params={"task_id": task_id, "instance": trigger.instance.id}) from exc
        if task.state != TaskState.READY:
            state = TaskState.get_name(task.state).lower()
            raise TaskNotReady("task '{task}' is {state}, not ready (already completed?)", task=task_id,
                               params={"task": projection_name(task), "state": state})
        return task


def projection_name(task: Any) -> str:
    """Return a task's display name."""
    return task.task_spec.bpmn_name or task.task_spec.name


def authorize(actor: Actor, item: WorkItem) -> None:
    """Refuse unless ``actor`` holds the role of the task's lane."""
    if not actor.may_work_in(item.role):
        raise PermissionDenied("{user} may not work on '{task}' (lane '{lane}' needs role '{role}')",
                               task=item.task_id, params={"user": actor.username, "task": item.name,
                                                          "lane": item.lane, "role": item.role})


def check_data(data: Any, what: str) -> dict[str, Any]:
    """Refuse data that is not a JSON object or that SpiffWorkflow could not store."""
    if not isinstance(data, dict):
        raise InvalidInput("{what} must be a JSON object, got {type}",
                           params={"what": what, "type": type(data).__name__})
    bad = _find_reserved(data, "")
    if bad:
        raise InvalidInput("{what} may not use the reserved key 'typename' (at {bad})",
                           field=bad, params={"what": what, "bad": bad})
    return data


def _find_reserved(value: Any, path: str) -> str | None:
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}/{key}"
            if key == "typename":
                return here
            found = _find_reserved(item, here)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _find_reserved(item, f"{path}/{index}")
            if found:
                return found
    return None


__all__ = ["Runtime", "StartResult", "authorize", "find_definition", "instance_stream"]
