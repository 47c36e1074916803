"""Separation of duties: a user task whose model excludes the performer of an earlier task (four eyes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.bundle import Bundle, read_bundle
from engine.deploy import deploy, validate
from engine.duties import PROPERTY, rules_of
from engine.errors import DutiesSeparated, InvalidInput
from engine.identity import Actor
from engine.models import AuditEvent, Instance, WorkItem
from engine.spiff import spec_to_dict
from tests.bpmn_builder import HEAD

ROOT = Path(__file__).resolve().parents[1]


def four_eyes(excluded: str = "propose") -> str:
    """A process: propose (agent lane) → approve (supervisor lane, excluding the performers of ``excluded``)
    → sent back to propose, or the end."""
    return HEAD + f'''<bpmn:process id="four_eyes" name="Four eyes" isExecutable="true">
  <bpmn:laneSet id="ls">
    <bpmn:lane id="lane_agent" name="Agent"><bpmn:flowNodeRef>propose</bpmn:flowNodeRef></bpmn:lane>
    <bpmn:lane id="lane_supervisor" name="Supervisor"><bpmn:flowNodeRef>approve</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>decided</bpmn:flowNodeRef></bpmn:lane>
  </bpmn:laneSet>
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:exclusiveGateway id="again"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f_back</bpmn:incoming>
    <bpmn:outgoing>f2</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:userTask id="propose" name="Propose a solution"><bpmn:incoming>f2</bpmn:incoming>
    <bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
  <bpmn:userTask id="approve" name="Approve the quote">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="approve.schema.json"/>
      <spiffworkflow:property name="{PROPERTY}" value="{excluded}"/>
    </spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
  <bpmn:exclusiveGateway id="decided" default="f_done"><bpmn:incoming>f4</bpmn:incoming>
    <bpmn:outgoing>f_back</bpmn:outgoing><bpmn:outgoing>f_done</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:endEvent id="end"><bpmn:incoming>f_done</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="again" />
  <bpmn:sequenceFlow id="f2" sourceRef="again" targetRef="propose" />
  <bpmn:sequenceFlow id="f3" sourceRef="propose" targetRef="approve" />
  <bpmn:sequenceFlow id="f4" sourceRef="approve" targetRef="decided" />
  <bpmn:sequenceFlow id="f_back" sourceRef="decided" targetRef="again">
    <bpmn:conditionExpression>send_back</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="f_done" sourceRef="decided" targetRef="end" />
</bpmn:process></bpmn:definitions>'''


FORM = b'{"type": "object", "required": ["send_back"], "properties": {"send_back": {"type": "boolean"}}}'
APPROVED = {"send_back": False}


def bundle(xml: str) -> Bundle:
    """The four-eyes bundle: its BPMN and the approval's form."""
    return Bundle("four_eyes", {"four_eyes.bpmn": xml.encode(), "approve.schema.json": FORM})


SAM = Actor("sam", frozenset({"supervisor"}))
SUE = Actor("sue", frozenset({"supervisor"}))
ANN = Actor("ann", frozenset({"agent"}))


@pytest.fixture
def proposed(database, runtime, make_user):  # type: ignore[no-untyped-def]
    """A four-eyes instance whose proposal the supervisor sam completed; the approval waits."""
    for actor in (SAM, SUE, ANN):
        make_user(actor.username, *actor.roles)
    with database.transaction() as s:
        deploy(s, bundle(four_eyes()), "owner")
        instance_id = runtime.start(s, "four_eyes", {}, "AS-1", "sam").instance_id
    complete(database, runtime, instance_id, "propose", SAM)
    return instance_id


def ready(database, instance_id: int, element_id: str) -> str:  # type: ignore[no-untyped-def]
    with database.transaction(write=False) as s:
        return s.scalars(select(WorkItem.task_id).where(WorkItem.instance_id == instance_id,
                                                        WorkItem.element_id == element_id)).one()


def complete(database, runtime, instance_id: int, element_id: str, actor: Actor,  # type: ignore[no-untyped-def]
             data: dict | None = None) -> None:
    task_id = ready(database, instance_id, element_id)
    with database.transaction() as s:
        runtime.complete_task(s, task_id, actor, data or {})


def footprint(database, instance_id: int) -> tuple:  # type: ignore[no-untyped-def]
    """What a refused request must not change: the instance's version, its trail and the work items."""
    with database.transaction(write=False) as s:
        version = s.scalar(select(Instance.version).where(Instance.id == instance_id))
        events = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.instance_id == instance_id))
        items = sorted(s.execute(select(WorkItem.task_id, WorkItem.element_id, WorkItem.assignee)
                                 .where(WorkItem.instance_id == instance_id)).all())
    return version, events, items


def test_the_proposer_may_not_claim_complete_or_be_given_the_approval(database, runtime, proposed) -> None:
    # Given sam (a supervisor) proposed the solution and the approval waits for the supervisors
    task_id = ready(database, proposed, "approve")
    before = footprint(database, proposed)

    # When sam claims it, or completes it, Then the engine refuses, naming both tasks and the ticket
    said = "you completed 'Propose a solution' of AS-1; someone else must do 'Approve the quote'"
    with pytest.raises(DutiesSeparated, match=said) as claimed, database.transaction() as s:
        runtime.claim(s, task_id, SAM)
    assert claimed.value.http_status == 403
    with pytest.raises(DutiesSeparated, match=said), database.transaction() as s:
        runtime.complete_task(s, task_id, SAM, APPROVED)
    # and sue may not give it to sam either
    with pytest.raises(InvalidInput, match="sam completed 'Propose a solution' of AS-1, so 'Approve the quote' "
                                              "must go to someone else") as refused, database.transaction() as s:
        runtime.reassign(s, task_id, SUE, "sam", "he knows the case")
    assert refused.value.to_dict()["field"] == "assignee"  # the reassign form says it on its field
    assert refused.value.to_dict()["earlier"] == "propose"

    # Then nothing changed: same version, same trail, the task unclaimed and still waiting
    runtime.instances.clear()
    assert footprint(database, proposed) == before


def test_a_second_supervisor_claims_and_approves_what_the_first_proposed(database, runtime, proposed) -> None:
    # Given sam proposed
    task_id = ready(database, proposed, "approve")

    # When sue claims and completes the approval (after a reload from the store)
    with database.transaction() as s:
        runtime.claim(s, task_id, SUE)
    runtime.instances.clear()
    with database.transaction() as s:
        runtime.complete_task(s, task_id, SUE, APPROVED)

    # Then the instance ends, the trail naming sam as proposer and sue as approver
    with database.transaction(write=False) as s:
        assert s.scalar(select(Instance.status).where(Instance.id == proposed)) == "completed"
        done = s.execute(select(AuditEvent.element_id, AuditEvent.actor).where(
            AuditEvent.instance_id == proposed, AuditEvent.kind == "task.completed",
            AuditEvent.element_id.in_(("propose", "approve"))).order_by(AuditEvent.id)).all()
    assert [tuple(row) for row in done] == [("propose", "sam"), ("approve", "sue")]


def test_a_supervisor_may_reassign_the_approval_to_another_supervisor(database, runtime, proposed) -> None:
    # Given sam proposed; When sam (a supervisor himself) gives the approval to sue
    task_id = ready(database, proposed, "approve")
    with database.transaction() as s:
        runtime.reassign(s, task_id, SAM, "sue", "I proposed it")
    # Then sue holds it and completes it
    with database.transaction() as s:
        assert s.get(WorkItem, task_id).assignee == "sue"
        runtime.complete_task(s, task_id, SUE, APPROVED)


def test_after_a_send_back_only_the_latest_proposer_is_barred(database, runtime, proposed) -> None:
    # Given sue sent sam's proposal back and ann proposed again
    complete(database, runtime, proposed, "approve", SUE, {"send_back": True})
    complete(database, runtime, proposed, "propose", ANN)
    runtime.instances.clear()

    # When sam approves the new proposal, Then it is accepted: he did not propose this one
    complete(database, runtime, proposed, "approve", SAM, APPROVED)
    with database.transaction(write=False) as s:
        assert s.scalar(select(Instance.status).where(Instance.id == proposed)) == "completed"


def test_the_processes_approval_of_a_quote_excludes_its_proposer() -> None:
    # the quote's approval (goodwill, out-of-warranty exceptions, above authority) is four-eyes
    result = validate(read_bundle([ROOT / "processes"]))
    rules = rules_of({name: spec_to_dict(spec) for name, spec in result.specs.items()})
    assert rules["review_quote"].excluded == {"propose_solution": "Propose a solution"}


@pytest.mark.parametrize(("excluded", "said"), [
    ("propse", "excludePerformersOf of 'approve' names 'propse', which is not a task of process "
                          "'four_eyes'; did you mean 'propose'?"),
    ("nobody_did_this", "excludePerformersOf of 'approve' names 'nobody_did_this', which is not a task "
                                   "of process 'four_eyes'"),
    ("propose, decided", "excludePerformersOf of 'approve' names 'decided' (exclusiveGateway), which no person "
                         "completes"),
    (" , ", "excludePerformersOf of 'approve' names no task"),
])
def test_a_rule_naming_no_earlier_user_task_is_refused_at_deploy_naming_the_element(
        excluded: str, said: str) -> None:
    # Given a bundle whose approval's rule names something that is not a user task of its process

    # When it is validated, Then the rule is an error naming the file, the task and its line
    errors = [p for p in validate(bundle(four_eyes(excluded))).errors if p.rule == "duties"]
    assert len(errors) == 1, errors
    assert errors[0].file == "four_eyes.bpmn" and errors[0].element_id == "approve" and errors[0].line
    assert said in errors[0].message
    assert errors[0].template  # said in the reader's language on the deploy pages


def test_a_rule_on_a_gateway_is_refused_at_deploy() -> None:
    xml = four_eyes().replace('<bpmn:exclusiveGateway id="decided" default="f_done">',
                              '<bpmn:exclusiveGateway id="decided" default="f_done"><bpmn:extensionElements>'
                              '<spiffworkflow:properties><spiffworkflow:property name="excludePerformersOf" '
                              'value="propose"/></spiffworkflow:properties></bpmn:extensionElements>')
    errors = [p for p in validate(bundle(xml)).errors if p.rule == "duties"]
    assert [(p.element_id, p.message) for p in errors] == [
        ("decided", "excludePerformersOf belongs on a user task; 'decided' is not one")]


def test_a_simulated_history_gives_a_four_eyes_task_to_someone_who_did_not_do_the_earlier_one(
        database, runtime, proposed) -> None:
    from simulation.history import Simulation

    # Given sam proposed, and the simulated supervisors are sam and sue
    staff = {"people": {"supervisor": ["sam", "sue"]}}
    simulation = Simulation(database, runtime, {"staff": staff, "outcomes": {}}, seed=7)
    task_id = ready(database, proposed, "approve")
    # When the simulation picks who takes the approval, many times, Then it is always sue
    assert {simulation._actor_for(task_id).username for _ in range(20)} == {"sue"}
    # and when every simulated supervisor is barred, someone else of the role takes it
    staff["people"]["supervisor"] = ["sam"]
    assert simulation._actor_for(task_id).username == "sim.supervisor.other"
