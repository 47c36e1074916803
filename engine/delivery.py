"""Messages and signals that cross instances, delivered in the transaction that threw them.

A message throw event or send task whose catcher is not in its own instance, and every
signal throw, leave SpiffWorkflow as external events (``workflow.bpmn_events``; throws
inside subprocesses and call activities go to the top workflow's list too). At the end of
each trigger (:meth:`engine.trigger.Trigger.finish`) :func:`take_thrown` takes them out
before the state is saved, and :func:`dispatch` delivers them once it is, in the caller's
transaction:

* a **message** goes to the other instances waiting for its name and correlation key
  (catch events, receive tasks, event-subprocess starts: ``message_subscription`` rows);
  when none waits, it starts an instance of every deployed process whose start event
  catches it (the payload reaches the data through its ``messageVariable``); when there is
  none either, it is recorded as undelivered — an ``undelivered_messages`` row and
  ``message.undelivered`` on the sender's trail. A catcher that comes later does not get it.
* a **signal** goes to every other instance waiting for it (catch, boundary and
  event-subprocess start events: ``signal_subscription`` rows) and starts an instance of
  every deployed process with a signal start event for it. SpiffWorkflow only lists the
  signals nobody in the throwing instance caught; :func:`watch` records every one, so a
  signal caught at home reaches the other instances as well.

A delivery runs the receiver's own trigger, which may throw again. A chain deeper than
:data:`MAX_DEPTH` (process models that pass messages or signals around in a circle) is
refused with :class:`~engine.errors.DeliveryLoop`, and the whole transaction rolls back.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.exceptions import WorkflowException
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import clock, projection
from .audit import PendingEvent, jsonable, write_instance_events, write_system_event
from .db import after_commit
from .errors import DeliveryLoop, FormValidationError, InvalidInput, MessageNotCorrelated, PermissionDenied
from .identity import SUPERVISING, Actor
from .message_contracts import check_delivery
from .models import (
    Deployment,
    Instance,
    MessageSubscription,
    ProcessDefinition,
    SignalSubscription,
    UndeliveredMessage,
)

if TYPE_CHECKING:
    from .runtime import Runtime
    from .trigger import Trigger

#: how many instances deep one transaction's deliveries may chain
MAX_DEPTH = 16
DEFINITIONS: dict[str, type[Any]] = {"message": MessageEventDefinition, "signal": SignalEventDefinition}
_CHAIN = "aftersales.delivery_chain"


@dataclass(frozen=True)
class Thrown:
    """A message or signal an instance threw for others."""

    kind: str  # message | signal
    name: str
    payload: Any
    correlations: dict[str, Any]
    key: str | None  # messages: the correlation key they are routed by
    element_id: str | None  # the throw event or send task

    def describe(self) -> str:
        """Return the event as people read it: ``message 'quote_sent' (key AS-1)``."""
        return f"{self.kind} {self.name!r}" + (f" (key {self.key})" if self.key else "")


@dataclass(frozen=True)
class Outcome:
    """Which instances a message or signal reached, and which it started."""

    received: list[int]
    started: list[int]

    def to_dict(self) -> dict[str, Any]:
        """Return the outcome as JSON-able data."""
        return {"received": self.received, "started": self.started}


# --- taking thrown events out of a workflow ---------------------------------------------------
def watch(workflow: BpmnWorkflow) -> list[BpmnEvent]:
    """Record every message and signal ``workflow`` throws from now on (the list returned grows)."""
    thrown: list[BpmnEvent] = []
    catch = BpmnWorkflow.catch

    def recording_catch(event: BpmnEvent) -> None:
        if isinstance(event.event_definition, (MessageEventDefinition, SignalEventDefinition)):
            thrown.append(event)
        catch(workflow, event)

    vars(workflow)["catch"] = recording_catch  # what the throw events call: top_workflow.catch(event)
    return thrown


def take_thrown(workflow: BpmnWorkflow, watched: list[BpmnEvent], instance: Instance) -> list[Thrown]:
    """Take the messages and signals meant for other instances out of ``workflow``, in throw order.

    Messages come from the external event list (what the instance did not catch itself);
    signals from ``watched`` (all of them), plus any signal left in the list by a state
    saved before this module existed.
    """
    pending = workflow.bpmn_events
    crossing = [e for e in pending if isinstance(e.event_definition, (MessageEventDefinition,
                                                                       SignalEventDefinition))]
    if not crossing and not watched:
        return []
    listed = {id(e) for e in crossing}
    seen = {id(e) for e in watched}
    events = [e for e in watched if id(e) in listed or isinstance(e.event_definition, SignalEventDefinition)]
    events += [e for e in crossing if id(e) not in seen]
    workflow.bpmn_events = [e for e in pending if id(e) not in listed]
    watched.clear()
    return [_thrown(workflow, e, instance) for e in events]


def _thrown(workflow: BpmnWorkflow, event: BpmnEvent, instance: Instance) -> Thrown:
    evdef = event.event_definition
    kind = "signal" if isinstance(evdef, SignalEventDefinition) else "message"
    payload = jsonable(event.payload if event.payload is not None else {})
    key = None
    if kind == "message":
        key = projection.correlation_key(event.correlations) or instance.business_key
    return Thrown(kind, evdef.name, payload, copy.deepcopy(event.correlations), key, _thrower(workflow, evdef))


def _thrower(workflow: BpmnWorkflow, evdef: Any) -> str | None:
    """Return the id of the element whose event definition this is (the specs share the object)."""
    for spec in (workflow.spec, *workflow.subprocess_specs.values()):
        for task_spec in spec.task_specs.values():
            if getattr(task_spec, "event_definition", None) is evdef:
                return str(task_spec.name)
    return None


# --- delivering ------------------------------------------------------------------------------
def dispatch(trigger: Trigger, thrown: list[Thrown]) -> None:
    """Deliver what the trigger's instance threw (its state is saved), then note where it went."""
    if not thrown:
        return
    session, sender = trigger.session, trigger.instance
    saved = sender.version
    notes: list[PendingEvent] = []
    with _hop(session, sender, thrown):
        for event in thrown:
            outcome = deliver(trigger.rt, session, event, trigger.actor, sender)
            notes.append(_note(session, trigger, event, outcome))
    write_instance_events(session, sender, notes)
    session.flush()
    if sender.version == saved + 1:  # nothing in the chain came back to the sender: its workflow is current
        instance_id, version, workflow = sender.id, sender.version, trigger.workflow
        after_commit(session, lambda: trigger.rt.instances.put(instance_id, version, workflow))


def deliver(rt: Runtime, session: Session, event: Thrown, actor: str, sender: Instance | None = None) -> Outcome:
    """Deliver a message (to its waiting receivers, else to the processes it starts) or a signal
    (to every instance waiting for it, and to the processes it starts)."""
    origin = sender.id if sender is not None else None
    if event.kind == "message" and origin is not None:
        _check_thrown_payload(session, event, sender)
    if event.kind == "message":
        column = MessageSubscription.instance_id
        where = [MessageSubscription.message_name == event.name,
                 MessageSubscription.correlation_key == event.key if event.key is not None
                 else MessageSubscription.correlation_key.is_(None)]
    else:
        column = SignalSubscription.instance_id
        where = [SignalSubscription.signal_name == event.name]
    if origin is not None:
        where.append(column != origin)
    running = Instance.status.not_in(("completed", "cancelled"))
    targets = sorted(set(session.scalars(select(column).join(Instance, Instance.id == column).where(*where, running))))
    received = [i for i in targets if receive(rt, session, i, event, actor, origin)]
    started: list[int] = []
    if event.kind == "signal" or not received:
        started = [_start(rt, session, pid, dep, element, event, actor, origin)
                   for pid, dep, element in start_events(rt, session, event.kind, event.name)]
    return Outcome(received, started)


def _check_thrown_payload(session: Session, event: Thrown, sender: Instance) -> None:
    """Hold a message one process throws to another to the receivers' contract, as any other sender.

    A payload the contract refuses rolls the whole trigger back, naming the throwing element and the field.
    """
    try:
        check_delivery(session, event.name, event.key, event.payload if isinstance(event.payload, dict) else {},
                       None)
    except FormValidationError as exc:
        raise FormValidationError("{event} thrown by '{element_id}' of {value}: {message}",
                                  exc.errors, task=event.element_id, message_name=event.name,
                                  params={"event": event.describe(), "element_id": event.element_id,
                                          "value": sender.business_key or sender.id, "message": exc.message}) from None


def receive(rt: Runtime, session: Session, instance_id: int, event: Thrown, actor: str,
            origin: int | None = None) -> bool:
    """Hand one instance a message or signal and run it on; False when it does not wait for it."""
    instance, trigger = rt._begin(session, instance_id, actor)
    wf = trigger.workflow
    kind = DEFINITIONS[event.kind]
    waiting = [(t, d) for t in projection.waiting_event_tasks(wf) for _, d in projection.event_definitions(t)
               if isinstance(d, kind) and d.name == event.name]
    task, element = None, None
    if waiting:
        task, evdef = waiting[0]
        correlations = evdef.details(task).correlations
    else:
        starts = [(e, d) for e, d in projection.event_subprocess_starts(wf, kind) if d.name == event.name]
        if not starts or wf.is_completed():
            return False
        (element, evdef), correlations = starts[0], wf.correlations
    before = set(wf.subprocesses)
    try:
        wf.send_event(BpmnEvent(evdef, payload=copy.deepcopy(event.payload), correlations=correlations))
    except WorkflowException:
        return False
    seed_event_subprocesses(wf, before)
    trigger.audit(f"{event.kind}.received", _received(event, origin), task)
    if element is not None:
        trigger.events[-1].element_id = element
    trigger.advance()
    trigger.finish()
    return True


def _received(event: Thrown, origin: int | None) -> dict[str, Any]:
    data: dict[str, Any] = {event.kind: event.name, "payload": event.payload}
    if event.kind == "message":
        data["key"] = event.key
    if origin is not None:
        data["from_instance"] = origin
    return data


def seed_event_subprocesses(workflow: BpmnWorkflow, before: set[Any]) -> None:
    """Give event subprocesses an event just started (not in ``before``) the process's current data,
    not its start data (catching completes no task, so the current data is still that of before)."""
    started = set(workflow.subprocesses) - before
    if not started:
        return
    data, start_data = projection.current_data(workflow), workflow.task_tree.data
    for sp_id in started:
        tasks = [workflow.get_task_from_id(sp_id), *workflow.subprocesses[sp_id].tasks.values()]
        for task in tasks:
            own = {k: v for k, v in task.data.items() if k not in start_data or start_data[k] != v}
            task.data = {**copy.deepcopy(data), **own}


def start_events(rt: Runtime, session: Session, kind: str, name: str) -> list[tuple[str, int, str]]:
    """Return (process id, deployment id, start event id) of the deployed processes (newest version
    of each) whose start event catches the message or signal ``name``."""
    rows = session.execute(select(ProcessDefinition.process_id, ProcessDefinition.deployment_id)
                           .join(Deployment).where(ProcessDefinition.kind == "process")
                           .order_by(Deployment.activated_at.desc(), Deployment.id.desc()))
    newest: dict[str, int] = {}
    for process_id, deployment_id in rows:
        newest.setdefault(process_id, deployment_id)
    cls, found = DEFINITIONS[kind], []
    for process_id, deployment_id in sorted(newest.items()):
        spec = rt.specs.get(session, deployment_id).get(process_id)
        for start in getattr(spec, "bpmn_start_events", []):
            evdef = getattr(start, "event_definition", None)
            if isinstance(evdef, cls) and evdef.name == name:
                found.append((process_id, deployment_id, str(start.name)))
    return found


def _start(rt: Runtime, session: Session, process_id: str, deployment_id: int, element_id: str, event: Thrown,
           actor: str, origin: int | None) -> int:
    """Start an instance of a process whose start event catches ``event``, and hand it the event."""

    def hand_over(trigger: Trigger) -> None:
        wf = trigger.workflow
        task = next((t for t in projection.waiting_event_tasks(wf) if t.task_spec.name == element_id), None)
        if task is None:
            raise MessageNotCorrelated("process '{process_id}' does not wait at its start event '{element_id}'",
                                       params={"process_id": process_id, "element_id": element_id})
        wf.send_event(BpmnEvent(task.task_spec.event_definition, payload=copy.deepcopy(event.payload),
                                correlations=event.correlations))
        trigger.audit(f"{event.kind}.received", _received(event, origin), task)

    key = event.key if event.kind == "message" and event.key and len(event.key) <= 64 else None
    return rt.start(session, process_id, {}, key, actor, deployment_id=deployment_id, receive=hand_over).instance_id


def _note(session: Session, trigger: Trigger, event: Thrown, outcome: Outcome) -> PendingEvent:
    """Return the sender's audit event for one delivery; record a message nobody took."""
    if event.kind == "signal":
        return PendingEvent("signal.sent", trigger.actor, trigger.now,
                            {"signal": event.name, "to": outcome.received, "started": outcome.started},
                            element_id=event.element_id)
    if outcome.received or outcome.started:
        return PendingEvent("message.sent", trigger.actor, trigger.now,
                            {"message": event.name, "key": event.key, "to": outcome.received,
                             "started": outcome.started}, element_id=event.element_id)
    session.add(UndeliveredMessage(at=trigger.now, instance_id=trigger.instance.id, element_id=event.element_id,
                                   message_name=event.name, correlation_key=event.key, payload=event.payload))
    return PendingEvent("message.undelivered", trigger.actor, trigger.now,
                        {"message": event.name, "key": event.key, "payload": event.payload},
                        element_id=event.element_id)


@contextmanager
def _hop(session: Session, sender: Instance, thrown: list[Thrown]) -> Iterator[None]:
    """Count one more instance in this transaction's chain of deliveries; refuse a chain too deep."""
    chain: list[tuple[int, str]] = session.info.setdefault(_CHAIN, [])
    what = ", ".join(t.describe() for t in thrown)
    if len(chain) >= MAX_DEPTH:
        raise DeliveryLoop(f"{what} thrown by process {sender.process_id!r} would be delivery {len(chain) + 1} "
                           f"in one chain (at most {MAX_DEPTH}): the process models pass messages or signals "
                           f"around in a loop — {' → '.join(hop for _, hop in chain[:3])} → … Nothing was changed.",
                           process=sender.process_id, instance=chain[0][0])
    chain.append((sender.id, f"instance {sender.id} ({sender.process_id}) threw {what}"))
    try:
        yield
    finally:
        chain.pop()


# --- signals from outside -------------------------------------------------------------------
def authorize_signal(actor: Actor) -> None:
    """Refuse unless ``actor`` may broadcast signals from outside (supervisors and admins)."""
    if not actor.roles & SUPERVISING:
        raise PermissionDenied("{username} may not broadcast signals (needs the role {roles})",
                               params={"username": actor.username, "roles": " or ".join(sorted(SUPERVISING))})


def broadcast(rt: Runtime, session: Session, name: str, payload: dict[str, Any], actor: str) -> Outcome:
    """Broadcast signal ``name`` from outside (staff, an integration) and note it on the ``signals`` trail."""
    if not name.strip() or len(name) > 200:
        raise InvalidInput("a signal name has 1 to 200 characters", field="name")
    event = Thrown("signal", name, jsonable(payload), {}, None, None)
    outcome = deliver(rt, session, event, actor)
    write_system_event(session, PendingEvent("signal.broadcast", actor, clock.now(), {
        "signal": name, "payload": event.payload, **outcome.to_dict()}), stream="signals")
    return outcome


# --- what nobody received -------------------------------------------------------------------
def undelivered(session: Session, limit: int = 100, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Return one page of undelivered messages, newest first, with their total."""
    total = session.scalar(select(func.count()).select_from(UndeliveredMessage)) or 0
    rows = session.execute(select(UndeliveredMessage, Instance.business_key, Instance.process_id)
                           .join(Instance, Instance.id == UndeliveredMessage.instance_id)
                           .order_by(UndeliveredMessage.at.desc(), UndeliveredMessage.id.desc())
                           .limit(limit).offset(offset))
    return [{"id": u.id, "at": u.at, "instance_id": u.instance_id, "business_key": key, "process_id": pid,
             "element_id": u.element_id, "message": u.message_name, "correlation_key": u.correlation_key,
             "payload": u.payload} for u, key, pid in rows], total
