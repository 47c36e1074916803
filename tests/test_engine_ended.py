"""Ended instances: they resolve their incidents, refuse every trigger, and never end over a failed branch;
an incident keeps the real cause of a failing expression."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import tests.handlers_for_tests as th
from engine.audit import events_for
from engine.bundle import Bundle
from engine.deploy import deploy
from engine.errors import InstanceEnded, MessageNotCorrelated
from engine.identity import Actor
from engine.models import AuditEvent, Incident, Instance, WorkItem
from tests.bpmn_builder import HEAD, script_then_gateway

ANN = Actor("ann", frozenset({"agent"}))

# start → parallel split → (automatic task "boom" → end_a) and (user task "work" → end_b)
SCRIPT = ('<bpmn:scriptTask id="boom" name="Compute"><bpmn:incoming>fa</bpmn:incoming><bpmn:outgoing>fa2'
          '</bpmn:outgoing><bpmn:script>total = amount * 2</bpmn:script></bpmn:scriptTask>')
FLAKY = ('<bpmn:serviceTask id="boom" name="Call upstream"><bpmn:extensionElements>'
         '<spiffworkflow:serviceTaskOperator id="test.flaky" resultVariable="upstream"><spiffworkflow:parameters>'
         '<spiffworkflow:parameter id="key" type="str" value="\'split\'" /></spiffworkflow:parameters>'
         '</spiffworkflow:serviceTaskOperator></bpmn:extensionElements>'
         '<bpmn:incoming>fa</bpmn:incoming><bpmn:outgoing>fa2</bpmn:outgoing></bpmn:serviceTask>')
SPLIT = HEAD + '''<bpmn:process id="split" name="Split" isExecutable="true">
  <bpmn:laneSet id="ls"><bpmn:lane id="lane_agent" name="Agent"><bpmn:flowNodeRef>work</bpmn:flowNodeRef></bpmn:lane>
  </bpmn:laneSet>
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:parallelGateway id="fork"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>fa</bpmn:outgoing>
    <bpmn:outgoing>fb</bpmn:outgoing></bpmn:parallelGateway>
  {branch}
  <bpmn:endEvent id="end_a"><bpmn:incoming>fa2</bpmn:incoming></bpmn:endEvent>
  <bpmn:userTask id="work" name="Work"><bpmn:incoming>fb</bpmn:incoming><bpmn:outgoing>fb2</bpmn:outgoing>
  </bpmn:userTask>
  <bpmn:endEvent id="end_b"><bpmn:incoming>fb2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fork" />
  <bpmn:sequenceFlow id="fa" sourceRef="fork" targetRef="boom" />
  <bpmn:sequenceFlow id="fa2" sourceRef="boom" targetRef="end_a" />
  <bpmn:sequenceFlow id="fb" sourceRef="fork" targetRef="work" />
  <bpmn:sequenceFlow id="fb2" sourceRef="work" targetRef="end_b" />
</bpmn:process>
</bpmn:definitions>
'''


def _deploy_split(database, branch):
    with database.transaction() as s:
        deploy(s, Bundle("split", {"split.bpmn": SPLIT.replace("{branch}", branch).encode()}), "owner")


@pytest.fixture
def split(database, make_user):
    make_user("ann", "agent")
    _deploy_split(database, SCRIPT)


def _start(database, runtime, key="S-1"):
    with database.transaction() as s:
        return runtime.start(s, "split", {}, key, "ann").instance_id


def _state(database, instance_id):
    with database.transaction() as s:
        inst = s.get(Instance, instance_id)
        incidents = list(s.scalars(select(Incident).where(Incident.instance_id == instance_id)))
        kinds = [e.kind for e in events_for(s, instance_id)]
        s.expunge_all()
        return inst, incidents, kinds


def _work(database, instance_id):
    with database.transaction() as s:
        return s.scalars(select(WorkItem.task_id).where(WorkItem.instance_id == instance_id)).one()


def test_an_instance_does_not_complete_while_a_branch_has_failed(database, runtime, split):
    # Given a failed script on one branch (an open incident)
    instance_id = _start(database, runtime)
    runtime.instances.clear()
    # When the other branch reaches its end
    with database.transaction() as s:
        runtime.complete_task(s, _work(database, instance_id), ANN, {})
    # Then the instance waits on its incident instead of completing
    inst, [incident], kinds = _state(database, instance_id)
    assert (inst.status, incident.status) == ("incident", "open")
    assert "instance.completed" not in kinds


def test_a_retried_branch_lets_the_instance_complete_and_resolves_the_incident(database, runtime, make_user):
    # Given an upstream call that fails once on one branch, and the other branch done
    make_user("ann", "agent")
    _deploy_split(database, FLAKY)
    th.FAILURES["split"] = 1
    instance_id = _start(database, runtime)
    with database.transaction() as s:
        runtime.complete_task(s, _work(database, instance_id), ANN, {})
    inst, [incident], kinds = _state(database, instance_id)
    assert (inst.status, incident.status) == ("incident", "retrying")
    runtime.instances.clear()
    # When the call is retried and succeeds
    with database.transaction() as s:
        runtime.retry(s, incident.id, "ann")
    # Then the instance completes and its incident is resolved
    inst, [incident], kinds = _state(database, instance_id)
    assert (inst.status, incident.status) == ("completed", "resolved")
    assert kinds.count("instance.completed") == 1


def test_cancelling_an_instance_resolves_its_open_incidents_in_the_trail(database, runtime, split):
    instance_id = _start(database, runtime)
    runtime.instances.clear()
    with database.transaction() as s:
        runtime.cancel(s, instance_id, "sam", reason="customer withdrew")
    inst, [incident], kinds = _state(database, instance_id)
    assert (inst.status, incident.status, incident.next_retry_at) == ("cancelled", "resolved", None)
    assert {"instance.cancelled", "incident.resolved"} <= set(kinds)
    with database.transaction() as s:
        resolved = s.scalars(select(AuditEvent).where(AuditEvent.kind == "incident.resolved")).one()
        assert resolved.data["reason"] == "instance ended"


@pytest.mark.parametrize("trigger", ["complete", "retry", "timer", "cancel", "message"])
def test_every_trigger_on_an_ended_instance_is_refused_and_changes_nothing(database, runtime, split, trigger):
    # Given a cancelled instance with a (now resolved) incident and a work item that was open
    instance_id = _start(database, runtime)
    task_id = _work(database, instance_id)
    _, [incident], _ = _state(database, instance_id)
    with database.transaction() as s:
        runtime.cancel(s, instance_id, "sam", reason="withdrawn")
    runtime.instances.clear()
    with database.transaction() as s:
        before = (s.get(Instance, instance_id).version,
                  s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.instance_id == instance_id)))
    # When any trigger reaches it
    actions = {
        "complete": lambda s: runtime.complete_task(s, task_id, ANN, {}),
        "retry": lambda s: runtime.retry(s, incident.id, "ann"),
        "timer": lambda s: runtime.fire_timers(s, instance_id),
        "cancel": lambda s: runtime.cancel(s, instance_id, "sam"),
        "message": lambda s: runtime.deliver_message(s, "anything", "S-1", {}),
    }
    with pytest.raises((InstanceEnded, MessageNotCorrelated)) as refused, database.transaction() as s:
        actions[trigger](s)
    # Then it is refused with a clear error and nothing changed
    assert any(word in refused.value.message for word in ("ended", "resolved", "already", "waiting"))
    with database.transaction() as s:
        after = (s.get(Instance, instance_id).version,
                 s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.instance_id == instance_id)))
    assert after == before


@pytest.mark.parametrize(("condition", "cause"), [
    ("amount < 100", "NameError: name 'amount' is not defined"),
    ("amount.total < 100", "NameError"),
    ("len(5) > 1", "TypeError"),
])
def test_a_failing_gateway_condition_keeps_expression_and_cause_in_the_incident(database, runtime, condition, cause):
    with database.transaction() as s:
        deploy(s, script_then_gateway("x = 1", condition, "gated"), "owner")
        instance_id = runtime.start(s, "gated", {}, "G-1", "ann").instance_id
    with database.transaction() as s:
        incident = s.scalars(select(Incident).where(Incident.instance_id == instance_id)).one()
    assert incident.element_id == "gw"
    assert incident.details["expression"] == condition
    assert f"'{condition}'" in incident.message and cause in incident.message
