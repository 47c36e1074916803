"""Specs are shared by every instance of a deployment and never changed by running one.

One runtime (one spec cache) drives instances through every kind of trigger; after each,
every cached spec must serialize exactly as before, and a ticket started afterwards must
still finish (the first event-subprocess message once rewired the shared spec, so every
later instance waited for ever on an event subprocess).
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

import tests.handlers_for_tests as th
from engine import spiff
from engine.bundle import Bundle
from engine.deploy import deploy
from engine.identity import Actor
from engine.instance_migration import migrate
from engine.models import Incident, Instance, WorkItem
from tests.bpmn_builder import HEAD

ANN = Actor("ann", frozenset({"agent"}))


def _model(review_name: str = "Review") -> str:
    """start → reserve (error boundary) → call upstream (flaky) → review (1 h timer) → wait for answer → end;
    an event subprocess started by message ``contact`` (non-interrupting) runs a script."""
    return HEAD + f'''<bpmn:process id="shared" name="Shared" isExecutable="true">
  <bpmn:laneSet id="ls"><bpmn:lane id="lane_agent" name="Agent"><bpmn:flowNodeRef>review</bpmn:flowNodeRef>
    <bpmn:flowNodeRef>shortage</bpmn:flowNodeRef><bpmn:flowNodeRef>escalate</bpmn:flowNodeRef>
    <bpmn:flowNodeRef>note</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:serviceTask id="reserve" name="Reserve"><bpmn:extensionElements>
    <spiffworkflow:serviceTaskOperator id="test.check_stock" resultVariable="stock"><spiffworkflow:parameters>
    <spiffworkflow:parameter id="sku" type="str" value="sku" /></spiffworkflow:parameters>
    </spiffworkflow:serviceTaskOperator></bpmn:extensionElements>
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>
  <bpmn:boundaryEvent id="out_of_stock" attachedToRef="reserve"><bpmn:outgoing>fs</bpmn:outgoing>
    <bpmn:errorEventDefinition id="ed" errorRef="err_out" /></bpmn:boundaryEvent>
  <bpmn:userTask id="shortage" name="Handle shortage"><bpmn:incoming>fs</bpmn:incoming>
    <bpmn:outgoing>fs2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end_short"><bpmn:incoming>fs2</bpmn:incoming></bpmn:endEvent>
  <bpmn:serviceTask id="upstream" name="Call upstream"><bpmn:extensionElements>
    <spiffworkflow:serviceTaskOperator id="test.flaky" resultVariable="up"><spiffworkflow:parameters>
    <spiffworkflow:parameter id="key" type="str" value="'shared'" /></spiffworkflow:parameters>
    </spiffworkflow:serviceTaskOperator></bpmn:extensionElements>
    <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:serviceTask>
  <bpmn:userTask id="review" name="{review_name}"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
  </bpmn:userTask>
  <bpmn:boundaryEvent id="review_late" attachedToRef="review"><bpmn:outgoing>fl</bpmn:outgoing>
    <bpmn:timerEventDefinition id="td"><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:userTask id="escalate" name="Escalate"><bpmn:incoming>fl</bpmn:incoming><bpmn:outgoing>fl2</bpmn:outgoing>
  </bpmn:userTask>
  <bpmn:endEvent id="end_late"><bpmn:incoming>fl2</bpmn:incoming></bpmn:endEvent>
  <bpmn:intermediateCatchEvent id="answer" name="Answer"><bpmn:incoming>f4</bpmn:incoming>
    <bpmn:outgoing>f5</bpmn:outgoing><bpmn:messageEventDefinition id="md_answer" messageRef="m_answer" />
  </bpmn:intermediateCatchEvent>
  <bpmn:endEvent id="end"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
  <bpmn:subProcess id="on_contact" name="Customer contact" triggeredByEvent="true">
    <bpmn:startEvent id="contact_start" isInterrupting="false"><bpmn:outgoing>c1</bpmn:outgoing>
      <bpmn:messageEventDefinition id="md_contact" messageRef="m_contact" /></bpmn:startEvent>
    <bpmn:userTask id="note" name="Note the contact"><bpmn:incoming>c1</bpmn:incoming>
      <bpmn:outgoing>c2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="contact_end"><bpmn:incoming>c2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="c1" sourceRef="contact_start" targetRef="note" />
    <bpmn:sequenceFlow id="c2" sourceRef="note" targetRef="contact_end" />
  </bpmn:subProcess>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="reserve" />
  <bpmn:sequenceFlow id="f2" sourceRef="reserve" targetRef="upstream" />
  <bpmn:sequenceFlow id="fs" sourceRef="out_of_stock" targetRef="shortage" />
  <bpmn:sequenceFlow id="fs2" sourceRef="shortage" targetRef="end_short" />
  <bpmn:sequenceFlow id="f3" sourceRef="upstream" targetRef="review" />
  <bpmn:sequenceFlow id="f4" sourceRef="review" targetRef="answer" />
  <bpmn:sequenceFlow id="fl" sourceRef="review_late" targetRef="escalate" />
  <bpmn:sequenceFlow id="fl2" sourceRef="escalate" targetRef="end_late" />
  <bpmn:sequenceFlow id="f5" sourceRef="answer" targetRef="end" />
</bpmn:process>
<bpmn:message id="m_answer" name="answer" />
<bpmn:message id="m_contact" name="contact" />
<bpmn:error id="err_out" name="Out of stock" errorCode="OUT_OF_STOCK" />
</bpmn:definitions>
'''


ANY_OBJECT = json.dumps({"type": "object", "additionalProperties": False, "properties": {}}).encode()
CONTRACTS = json.dumps({name: {"schema": f"messages/{name}.schema.json", "senders": {"system": True}}
                        for name in ("answer", "contact")}).encode()


def _bundle(review_name: str = "Review") -> Bundle:
    return Bundle("shared", {"shared.bpmn": _model(review_name).encode(), "messages.json": CONTRACTS,
                             "messages/answer.schema.json": ANY_OBJECT, "messages/contact.schema.json": ANY_OBJECT})


def _fingerprints(runtime) -> dict[tuple[int, str], str]:
    """Hash every spec the runtime has cached, edges and attributes included."""
    prints = {}
    for deployment_id, specs in runtime.specs._specs.items():
        for name, spec in specs.items():
            text = json.dumps(spiff._SPEC.to_dict(spec), cls=spiff._SPEC._encoder_cls, sort_keys=True)
            edges = sorted((ts.name, tuple(ts._inputs), tuple(ts._outputs)) for ts in spec.task_specs.values())
            prints[(deployment_id, name)] = hashlib.sha256((text + repr(edges)).encode()).hexdigest()
    return prints


class Desk:
    """One runtime for the whole test, as in a long-running server."""

    def __init__(self, database, runtime):
        self.db, self.rt = database, runtime
        self.seen = 0

    def start(self, key, sku="PUMP"):
        with self.db.transaction() as s:
            return self.rt.start(s, "shared", {"sku": sku}, key, "ann").instance_id

    def items(self, instance_id):
        with self.db.transaction() as s:
            return {w.element_id: w.task_id for w in s.scalars(select(WorkItem).where(
                WorkItem.instance_id == instance_id))}

    def complete(self, instance_id, element):
        with self.db.transaction() as s:
            self.rt.complete_task(s, self.items(instance_id)[element], ANN, {})

    def message(self, name, key):
        with self.db.transaction() as s:
            self.rt.deliver_message(s, name, key, {})

    def status(self, instance_id):
        with self.db.transaction() as s:
            return s.get(Instance, instance_id).status

    def finish_plain(self, key):
        """Start a ticket and take it the plain way to its end; return its final status."""
        instance_id = self.start(key)
        self.complete(instance_id, "review")
        self.message("answer", key)
        return self.status(instance_id)


@pytest.fixture
def desk(database, runtime, make_user):
    make_user("ann", "agent")
    th.FAILURES.clear()
    with database.transaction() as s:
        deploy(s, _bundle(), "owner")
    yield Desk(database, runtime)
    th.FAILURES.clear()


def test_no_trigger_of_any_kind_changes_a_shared_spec(desk, clock):
    rt = desk.rt
    a = desk.start("A")  # start (loads and caches the specs)
    baseline = _fingerprints(rt)
    assert baseline, "the runtime cached no spec"

    def unchanged(after: str) -> None:
        assert _fingerprints(rt) == {k: v for k, v in _fingerprints(rt).items() if k in baseline} == baseline, \
            f"a shared spec changed after {after}"
        number = desk.seen = desk.seen + 1
        assert desk.finish_plain(f"P-{number}") == "completed", f"a ticket started after {after} never finished"

    unchanged("start")
    desk.message("contact", "A")  # event-subprocess message
    unchanged("an event-subprocess message")
    desk.complete(a, "note")
    desk.complete(a, "review")  # complete
    unchanged("a completion")
    desk.message("answer", "A")  # message
    unchanged("a message")
    assert desk.status(a) == "completed"

    b = desk.start("B")
    clock.advance(timedelta(hours=2))
    with desk.db.transaction() as s:  # timer
        rt.fire_timers(s, b)
    assert set(desk.items(b)) == {"escalate"}
    unchanged("a timer")

    c = desk.start("C", sku="OUT-1")  # business error caught by the boundary event
    assert set(desk.items(c)) == {"shortage"}
    unchanged("a business error")

    th.FAILURES["shared"] = 1
    d = desk.start("D")  # a failing handler: incident, then retry
    with desk.db.transaction() as s:
        incident = s.scalars(select(Incident).where(Incident.instance_id == d)).one()
    with desk.db.transaction() as s:
        rt.retry(s, incident.id, "ann")
    assert set(desk.items(d)) == {"review"}
    unchanged("a retry")

    with desk.db.transaction() as s:  # cancel
        rt.cancel(s, d, "sam", reason="withdrawn")
    unchanged("a cancel")

    e = desk.start("E")
    desk.message("contact", "E")
    with desk.db.transaction() as s:  # migrate to a changed bundle
        v2 = deploy(s, _bundle("Review again"), "owner")
    with desk.db.transaction() as s:
        migrate(s, rt, e, v2.deployment_id, "owner")
    baseline = {**baseline, **{k: v for k, v in _fingerprints(rt).items() if k[0] == v2.deployment_id}}
    unchanged("a migration")
    desk.complete(e, "note")
    desk.complete(e, "review")
    desk.message("answer", "E")
    assert desk.status(e) == "completed"
    unchanged("finishing a migrated instance")


def test_a_non_interrupting_event_subprocess_that_outlives_the_main_flow_ends_the_instance(desk):
    # Given a contact noted while the ticket runs
    a = desk.start("A")
    desk.message("contact", "A")
    # When the main flow reaches its end first
    desk.complete(a, "review")
    desk.message("answer", "A")
    desk.rt.instances.clear()
    # Then the instance waits for the event subprocess, and ends with it
    assert (desk.status(a), set(desk.items(a))) == ("active", {"note"})
    desk.complete(a, "note")
    assert desk.status(a) == "completed"
