"""One trigger on one instance: act, run engine steps until everything waits, save.

Everything a trigger does — the workflow state, derived rows, incidents and audit
events — is written in the caller's transaction; either all of it lands or none.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import delivery, projection, store
from .audit import PendingEvent, jsonable, write_instance_events
from .conditional import fire_conditions
from .errors import ScriptError
from .models import Incident, Instance
from .registry import reserved_assignee
from .service import ServiceRunner
from .spiff import AftersalesScriptEngine, UncaughtBusinessError, private_copy, release_idle_event_subprocesses
from .writes import Writes

if TYPE_CHECKING:
    from .runtime import Runtime

MAX_ENGINE_PASSES = 1000
_EXPRESSION = re.compile(r"Error evaluating expression '(.*)'$", re.S)


def data_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Return what changed between two data snapshots: ``{"set": {...}, "unset": [...]}``."""
    changed = {k: v for k, v in after.items() if k not in before or before[k] != v}
    removed = sorted(k for k in before if k not in after)
    delta: dict[str, Any] = {}
    if changed:
        delta["set"] = changed
    if removed:
        delta["unset"] = removed
    return delta


def element_type(task: Task) -> str:
    """Return the BPMN element type of a task (``UserTask``, ``ExclusiveGateway`` …)."""
    return type(task.task_spec).__name__


class Trigger:
    """The work of one transaction on one instance."""

    def __init__(self, rt: Runtime, session: Session, instance: Instance, workflow: BpmnWorkflow,
                 actor: str, now: datetime, attempts: dict[str, int] | None = None) -> None:
        self.rt = rt
        self.session = session
        self.instance = instance
        self.workflow = workflow
        self.actor = actor
        self.now = now
        self.events: list[PendingEvent] = []
        self.services = ServiceRunner(session, instance, now, actor, attempts)
        self.script_failures: dict[str, BaseException] = {}
        workflow.script_engine = AftersalesScriptEngine(self.services)
        self.thrown = delivery.watch(workflow)
        self._snapshots: dict[str, dict[str, Any]] = {}
        self._current: Task | None = None
        self._ended_before = instance.status in ("completed", "cancelled")

    # --- audit ---------------------------------------------------------------------------
    def audit(self, kind: str, data: dict[str, Any] | None = None, task: Task | None = None,
              actor: str | None = None) -> None:
        """Queue an audit event for this trigger."""
        self.events.append(PendingEvent(
            kind=kind, actor=actor or self.actor, at=self.now, data=data or {},
            task_id=str(task.id) if task is not None else None,
            element_id=task.task_spec.name if task is not None else None,
        ))

    def _will_complete(self, task: Task) -> None:
        self._current = task
        if task.task_spec.bpmn_id is not None:
            self._snapshots[str(task.id)] = private_copy(task.data)

    def _did_complete(self, task: Task) -> None:
        self._current = None
        before = self._snapshots.pop(str(task.id), {})
        if task.task_spec.bpmn_id is None:
            return  # SpiffWorkflow's internal tasks (Start, joins, EndJoin) are not BPMN elements
        if task.state == TaskState.COMPLETED:
            evdef = getattr(task.task_spec, "event_definition", None)
            kind = "timer.fired" if isinstance(evdef, TimerEventDefinition) else "task.completed"
            self.audit(kind, {"name": projection.task_name(task), "type": element_type(task),
                              "delta": data_delta(before, task.data)}, task, actor="system")
        elif task.state == TaskState.STARTED:
            self.audit("task.started", {"name": projection.task_name(task), "type": element_type(task)},
                       task, actor="system")

    def complete_human_task(self, task: Task, data: dict[str, Any], actor: str) -> None:
        """Merge form data into a ready human task and complete it."""
        before = task.data  # not changed below: the form is merged into a copy
        # merge into the task's own copy: restored data may share lists with finished tasks' data,
        # which an in-place merge would change behind the state log's back
        task.data = private_copy(before)
        add = getattr(task.task_spec, "add_data_from_form", None)
        if add is not None:
            add(task, data)
        else:
            task.data.update(data)
        try:
            task.run()
        except SpiffWorkflowException as exc:
            raise ScriptError(f"completing {projection.task_name(task)!r} failed: {exc}",
                              task=task.task_spec.name) from exc
        self.audit("task.completed", {"name": projection.task_name(task), "type": element_type(task),
                                      "form": jsonable(data), "delta": data_delta(before, task.data)},
                   task, actor=actor)

    # --- running -------------------------------------------------------------------------
    def advance(self) -> None:
        """Fire due timers and run engine steps until everything waits or fails; then fire the
        conditional events the new data satisfies and end scopes held up only by idle event
        subprocesses, and run on until nothing more changes."""
        wf = self.workflow
        for _ in range(MAX_ENGINE_PASSES):
            try:
                wf.refresh_timers()
                wf.do_engine_steps(will_complete_task=self._will_complete,
                                   did_complete_task=self._did_complete)
                if not (fire_conditions(wf) | release_idle_event_subprocesses(wf)):
                    return
            except (SpiffWorkflowException, UncaughtBusinessError, Exception) as exc:  # noqa: B014
                self._record_failure(exc)
        raise WorkflowException("the engine did not settle after many failing passes")

    def _record_failure(self, exc: BaseException) -> None:
        current = self._current
        self._current = None
        if current is not None and current.state == TaskState.COMPLETED:
            self._did_complete(current)
        failed = [t for t in projection.tasks_in_state(self.workflow, TaskState.ERROR)
                  if str(t.id) not in self.script_failures]
        if not failed:
            raise exc  # not tied to a task: let the whole trigger roll back
        for task in failed:
            self.script_failures[str(task.id)] = exc
            self.audit("task.failed", {"name": projection.task_name(task), "type": element_type(task),
                                       "error": _describe(exc)}, task, actor="system")

    # --- finishing -----------------------------------------------------------------------
    def finish(self) -> None:
        """Save state, derived rows, incidents and audit events, then deliver the messages and
        signals the instance threw to the others (then the caller commits)."""
        outgoing = delivery.take_thrown(self.workflow, self.thrown, self.instance)
        with self.session.no_autoflush:
            self._finish()
        delivery.dispatch(self, outgoing)

    def _finish(self) -> None:
        wf, inst = self.workflow, self.instance
        ended = projection.is_completed(wf)  # one pass over the tasks, not SpiffWorkflow's tree walk
        errored = [] if ended else projection.tasks_in_state(wf, TaskState.ERROR)
        ready = projection.ready_human_tasks(wf)
        self._sync_incidents(errored, ended)
        if ended:
            inst.status = "completed" if wf.success else "cancelled"
            inst.ended_at = inst.ended_at or self.now
            ended_now = not any(e.kind in ("instance.completed", "instance.cancelled") for e in self.events)
            if ended_now and not self._ended_before:
                self.audit("instance.completed" if wf.success else "instance.cancelled", {}, actor="system")
        elif errored:
            inst.status = "incident"
        else:
            inst.status = "active"
        writes = Writes()
        owners: dict[str, str] = {}

        def assign(item: projection.WorkItemRow) -> str | None:
            owner = reserved_assignee(self.session, inst.business_key, item.element_id, item.role)
            if owner:  # a dispatched visit is its technician's from the start
                owners[item.task_id] = owner
            return owner

        new_items = projection.sync(self.session, inst, wf, self.now, ready, writes, assign)
        for item in new_items:
            self.events.append(PendingEvent("task.ready", "system", self.now,
                                            {"name": item.name, "lane": item.lane, "role": item.role},
                                            item.task_id, item.element_id))
            if item.task_id in owners:
                self.events.append(PendingEvent("task.reassigned", "system", self.now,
                                                {"from": None, "to": owners[item.task_id],
                                                 "reason": "dispatched visit", "name": item.name},
                                                item.task_id, item.element_id))
        inst.summary = projection.summarize(wf, ready)
        inst.updated_at = self.now
        write_instance_events(self.session, inst, self.events, writes)
        writes.flush(self.session)  # audit events, roll-ups, work items: one statement on PostgreSQL
        store.save(self.session, inst, wf, self.rt.instances)

    def _sync_incidents(self, error_tasks: list[Task], ended: bool = False) -> None:
        """Open, update and resolve incidents; an instance that ended leaves none open."""
        inst = self.instance
        errored = {str(t.id): t for t in error_tasks}
        if not errored and inst.status != "incident":
            return  # open incidents come with the status "incident" (set below), so there are none to resolve
        open_incidents = {i.task_id: i for i in self.session.scalars(
            select(Incident).where(Incident.instance_id == inst.id, Incident.status != "resolved"))}
        settings = self.rt.settings
        for task_id, task in errored.items():
            exc = self.script_failures.get(task_id)
            failure = self.services.failures.get(task_id)
            incident = open_incidents.get(task_id)
            if exc is None and incident is not None:
                continue  # failed in an earlier trigger and not retried now
            error = failure.error if failure is not None else exc
            retryable = failure is not None and failure.retryable
            if incident is None:
                incident = Incident(instance_id=inst.id, task_id=task_id, element_id=task.task_spec.name,
                                    element_name=projection.task_name(task), attempts=0,
                                    created_at=self.now, details={})
                self.session.add(incident)
            incident.attempts += 1
            incident.error_type = _error_type(error)
            incident.message = _describe(error)
            incident.details = {"operator": failure.operator if failure else None,
                                "expression": _expression(error),
                                "task_trace": getattr(error, "task_trace", None),
                                "line": getattr(error, "line_number", None) or None}
            incident.updated_at = self.now
            if retryable and incident.attempts < settings.handler_max_attempts:
                incident.status = "retrying"
                backoff = settings.handler_backoff_seconds * 2 ** (incident.attempts - 1)
                incident.next_retry_at = self.now + timedelta(seconds=backoff)
            else:
                incident.status = "open"
                incident.next_retry_at = None
            self.audit("incident.opened" if incident.attempts == 1 else "incident.failed_again",
                       {"attempts": incident.attempts, "status": incident.status,
                        "error": incident.message}, task, actor="system")
        for task_id, incident in open_incidents.items():
            if task_id not in errored:
                incident.status = "resolved"
                incident.resolved_at = self.now
                incident.updated_at = self.now
                incident.next_retry_at = None
                data: dict[str, Any] = {"incident": incident.id}
                if ended:
                    data["reason"] = "instance ended"
                self.events.append(PendingEvent("incident.resolved", self.actor, self.now,
                                                data, task_id, incident.element_id))


def _cause(error: BaseException) -> BaseException | None:
    """Return the exception that made SpiffWorkflow raise ``error`` (its own wrappers drop it)."""
    inner = getattr(error, "exception", None)
    if isinstance(inner, BaseException):
        return inner
    if not isinstance(error, SpiffWorkflowException):
        return None  # our own errors say what they mean
    cause = error.__cause__ or error.__context__
    while isinstance(cause, SpiffWorkflowException) and (cause.__cause__ or cause.__context__):
        cause = cause.__cause__ or cause.__context__
    return cause


def _expression(error: BaseException | None) -> str | None:
    """Return the expression SpiffWorkflow failed to evaluate, if that was the failure."""
    match = _EXPRESSION.match(str(error.args[0]) if error is not None and error.args else "")
    return match.group(1) if match else None


def _error_type(error: BaseException | None) -> str:
    if error is None:
        return "Unknown"
    if isinstance(error, UncaughtBusinessError):
        return f"BusinessError:{error.error.code}"
    cause = _cause(error)
    return type(cause).__name__ if cause is not None else type(error).__name__


def _describe(error: BaseException | None) -> str:
    """Return what went wrong with its real cause, e.g. ``… 'amount < 100': NameError: name 'amount' …``."""
    if error is None:
        return "unknown error"
    text = str(error.args[0] if error.args and isinstance(error.args[0], str) else error).strip()
    cause = _cause(error)
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text.rstrip('.')}: {type(cause).__name__}: {cause}"
    notes = getattr(error, "__notes__", None) or getattr(error, "notes", None)
    if notes:
        extra = [str(n).strip() for n in notes if str(n).strip() not in text]
        if extra:
            text += " (" + "; ".join(extra) + ")"
    return text[:2000]
