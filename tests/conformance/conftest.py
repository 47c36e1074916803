"""Drive small conformance models through the real engine.

``flow`` deploys a model written as an XML string and starts instances of it; every
trigger (start, complete, message, worker pass) runs in its own transaction with the
in-memory instance cache emptied first, so each step starts from what the database holds.
Time moves only with :meth:`Flow.advance`, which then runs one worker pass (due timers,
retries and the registered jobs) exactly as ``aftersales worker`` does.

A model is one or more ``<bpmn:process>`` (plus messages, errors, signals …) given to
:func:`definitions`, or a whole ``<bpmn:definitions>`` document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import projection, store
from engine.audit import events_for
from engine.bundle import Bundle
from engine.db import Database
from engine.deploy import DeployResult, deploy
from engine.identity import Actor
from engine.models import Incident, Instance, MessageSubscription, Timer, WorkItem
from engine.runtime import Runtime
from engine.worker import PassStats, Worker

NAMESPACES = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
              'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
              'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')


def definitions(*parts: str) -> str:
    """Wrap processes and root elements (messages, errors, signals) into a BPMN document."""
    body = "\n".join(parts)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NAMESPACES} id="defs" '
            f'targetNamespace="http://example.com/conformance">\n{body}\n</bpmn:definitions>\n')


def process(process_id: str, *parts: str) -> str:
    """Return a ``<bpmn:process>`` of ``parts`` (elements and flows; incoming/outgoing are optional)."""
    inner = "\n  ".join(parts)
    return f'<bpmn:process id="{process_id}" isExecutable="true">\n  {inner}\n</bpmn:process>'


def seq(*ids: str) -> str:
    """Return sequence flows joining ``ids`` in a chain, each named ``f_<source>_<target>``."""
    return "".join(f'<bpmn:sequenceFlow id="f_{a}_{b}" sourceRef="{a}" targetRef="{b}" />'
                   for a, b in zip(ids, ids[1:], strict=False))


def cond(source: str, target: str, expression: str) -> str:
    """Return a conditional sequence flow ``f_<source>_<target>``."""
    return (f'<bpmn:sequenceFlow id="f_{source}_{target}" sourceRef="{source}" targetRef="{target}">'
            f'<bpmn:conditionExpression>{escape(expression)}</bpmn:conditionExpression></bpmn:sequenceFlow>')


ANY_FORM = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
            'name="formJsonSchemaFilename" value="any.json" /></spiffworkflow:properties></bpmn:extensionElements>')


def user(*ids: str) -> str:
    """Return user tasks with these ids (named after them), whose form takes any JSON object."""
    return "".join(f'<bpmn:userTask id="{i}" name="{i}">{ANY_FORM}</bpmn:userTask>' for i in ids)


def script(task_id: str, code: str) -> str:
    """Return a script task running ``code``."""
    return (f'<bpmn:scriptTask id="{task_id}" name="{task_id}"><bpmn:script>{escape(code)}</bpmn:script>'
            f'</bpmn:scriptTask>')


def event(tag: str, event_id: str, definition: str = "", **attrs: str) -> str:
    """Return an event element (``startEvent``, ``endEvent``, ``intermediateCatchEvent`` …)."""
    extra = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f'<bpmn:{tag} id="{event_id}" name="{event_id}"{extra}>{definition}</bpmn:{tag}>'


def timer(kind: str, expression: str) -> str:
    """Return a timer event definition: ``kind`` is timeDuration, timeDate or timeCycle; ``expression``
    is the Python expression (quote literal ISO strings)."""
    return (f'<bpmn:timerEventDefinition><bpmn:{kind} xsi:type="bpmn:tFormalExpression">{escape(expression)}'
            f'</bpmn:{kind}></bpmn:timerEventDefinition>')


def message_def(name: str, variable: str | None = None) -> str:
    """Return a message event definition for message ``name`` (declare it with :func:`message`); its
    payload lands in the variable ``variable`` (SpiffWorkflow drops payloads without one)."""
    ext = (f"<bpmn:extensionElements><spiffworkflow:messageVariable>{variable}</spiffworkflow:messageVariable>"
           f"</bpmn:extensionElements>") if variable else ""
    return f'<bpmn:messageEventDefinition messageRef="msg_{name}">{ext}</bpmn:messageEventDefinition>'


def message(name: str) -> str:
    """Return the root ``<bpmn:message>`` element for ``name`` (its id is ``msg_<name>``)."""
    return f'<bpmn:message id="msg_{name}" name="{name}" />'


def condition_def(expression: str) -> str:
    """Return a conditional event definition."""
    return (f'<bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">'
            f'{escape(expression)}</bpmn:condition></bpmn:conditionalEventDefinition>')


class Flow:
    """One test's engine: a database, a runtime, the frozen clock and a user who may work anywhere."""

    def __init__(self, database: Database, runtime: Runtime, clock: Any, actor: Actor) -> None:
        self.database = database
        self.runtime = runtime
        self.clock = clock
        self.actor = actor

    def deploy(self, xml: str, name: str = "conformance", files: dict[str, bytes] | None = None) -> DeployResult:
        """Deploy ``xml`` (a process body for :func:`definitions`, or a whole document) as a bundle.

        Every message the document declares gets a contract taking any object from the system,
        unless ``files`` brings its own ``messages.json``.
        """
        document = xml if xml.lstrip().startswith("<?xml") or "<bpmn:definitions" in xml else definitions(xml)
        names = re.findall(r'<bpmn:message id="[^"]*" name="([^"]*)"', document)
        anything = {"type": "object", "additionalProperties": True}
        contracts = {n: {"schema": anything, "senders": {"system": True}} for n in names}
        files = {"any.json": b'{"type": "object", "additionalProperties": true}',
                 "messages.json": json.dumps(contracts).encode(), **(files or {})}
        bundle = Bundle(name, {f"{name}.bpmn": document.encode(), **files})
        return self.trigger(lambda s: deploy(s, bundle, "owner"))

    def start(self, process_id: str, data: dict[str, Any] | None = None,
              business_key: str | None = None) -> Run:
        """Start an instance and return its driver."""
        result = self.trigger(lambda s: self.runtime.start(s, process_id, data or {}, business_key, "tester"))
        return Run(self, result.instance_id)

    def trigger(self, action: Callable[[Session], Any]) -> Any:
        """Run ``action`` as one transaction, starting from the database (no cached workflow)."""
        self.runtime.instances.clear()
        with self.database.transaction() as session:
            return action(session)

    def read(self, query: Callable[[Session], Any]) -> Any:
        """Run a read-only query."""
        with self.database.transaction(write=False) as session:
            return query(session)

    def message(self, name: str, key: str, payload: dict[str, Any] | None = None) -> list[int]:
        """Deliver message ``name`` with correlation ``key``; return the instances it reached."""
        return self.trigger(lambda s: self.runtime.deliver_message(s, name, key, payload or {}))

    def worker_pass(self) -> PassStats:
        """Run one pass of the worker at the current (frozen) time."""
        self.runtime.instances.clear()
        return Worker(self.database, self.runtime).run_once()

    def advance(self, **duration: float) -> PassStats:
        """Let time pass, then run one worker pass (due timers fire, jobs run)."""
        self.clock.advance(timedelta(**duration))
        return self.worker_pass()

    def advance_to(self, moment: datetime) -> PassStats:
        """Jump to ``moment`` (aware), then run one worker pass."""
        self.clock.set(moment)
        return self.worker_pass()

    def instances(self, process_id: str | None = None) -> list[Run]:
        """Return the instances (of ``process_id``), oldest first."""
        query = select(Instance.id).order_by(Instance.id)
        if process_id is not None:
            query = query.where(Instance.process_id == process_id)
        return [Run(self, i) for i in self.read(lambda s: list(s.scalars(query)))]


@dataclass
class Run:
    """One instance of a conformance model."""

    flow: Flow
    id: int

    # --- triggers ------------------------------------------------------------------------
    def complete(self, element_id: str, data: dict[str, Any] | None = None) -> Run:
        """Complete the one ready human task of ``element_id`` with ``data``."""
        items = [w for w in self.work_items() if w.element_id == element_id]
        assert len(items) == 1, f"expected one ready {element_id!r}, ready: {self.ready()}"
        task_id = items[0].task_id
        self.flow.trigger(lambda s: self.flow.runtime.complete_task(s, task_id, self.flow.actor, data or {}))
        return self

    def message(self, name: str, payload: dict[str, Any] | None = None, key: str | None = None) -> Run:
        """Deliver message ``name`` to this instance (by its business key unless ``key`` is given)."""
        delivered = self.flow.message(name, key or self.instance.business_key or "", payload)
        assert self.id in delivered, f"message {name!r} reached {delivered}, not instance {self.id}"
        return self

    def fire_timers(self) -> Run:
        """Fire this instance's due timers now, as the worker would."""
        self.flow.trigger(lambda s: self.flow.runtime.fire_timers(s, self.id))
        return self

    # --- what the database shows ---------------------------------------------------------
    @property
    def instance(self) -> Instance:
        return self.flow.read(lambda s: s.get(Instance, self.id))

    @property
    def status(self) -> str:
        return self.instance.status

    def work_items(self) -> list[WorkItem]:
        return self.flow.read(lambda s: list(s.scalars(select(WorkItem).where(
            WorkItem.instance_id == self.id).order_by(WorkItem.element_id))))

    def ready(self) -> list[str]:
        """Return the element ids of the ready human tasks, sorted."""
        return sorted(w.element_id for w in self.work_items())

    def timers(self) -> list[tuple[str, datetime]]:
        """Return (element id, due time) of the instance's timer rows, sorted."""
        return self.flow.read(lambda s: sorted((t.element_id, t.due_at) for t in s.scalars(
            select(Timer).where(Timer.instance_id == self.id))))

    def subscriptions(self) -> list[tuple[str, str]]:
        """Return (element id, message name) of the instance's message subscriptions, sorted."""
        return self.flow.read(lambda s: sorted((m.element_id, m.message_name) for m in s.scalars(
            select(MessageSubscription).where(MessageSubscription.instance_id == self.id))))

    def incidents(self) -> list[str]:
        """Return ``element: message`` of the instance's unresolved incidents."""
        return self.flow.read(lambda s: [f"{i.element_id}: {i.message}" for i in s.scalars(
            select(Incident).where(Incident.instance_id == self.id, Incident.status != "resolved"))])

    def path(self) -> list[str]:
        """Return the BPMN elements completed so far, in order (timers and messages included)."""
        return [e.element_id for e in self.flow.read(lambda s: events_for(s, self.id))
                if e.kind in ("task.completed", "timer.fired") and e.element_id]

    def data(self) -> dict[str, Any]:
        """Return the instance's data as of its last completed step."""
        def read(session: Session) -> dict[str, Any]:
            instance = session.get(Instance, self.id)
            return projection.current_data(store.read_workflow(session, instance, self.flow.runtime.specs))
        return self.flow.read(read)


@pytest.fixture
def flow(database: Database, runtime: Runtime, clock: Any, make_user: Callable[..., Actor]) -> Flow:
    """A conformance driver on a fresh database (each backend), with a supervisor to work every task."""
    return Flow(database, runtime, clock, make_user("tester", "supervisor"))
