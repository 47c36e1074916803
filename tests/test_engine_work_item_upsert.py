"""A work item whose task changes while it waits is rewritten in one upsert and keeps its claim."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select

from engine.bundle import Bundle
from engine.deploy import deploy
from engine.identity import Actor
from engine.models import WorkItem
from tests.bpmn_builder import HEAD

ANN = Actor("ann", frozenset({"agent"}))
REMINDED = HEAD + '''<bpmn:process id="reminded" name="Reminded" isExecutable="true">
  <bpmn:laneSet id="ls"><bpmn:lane id="lane_agent" name="Agent"><bpmn:flowNodeRef>answer</bpmn:flowNodeRef>
  </bpmn:lane></bpmn:laneSet>
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="answer" name="Answer"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  </bpmn:userTask>
  <bpmn:boundaryEvent id="nudge" name="Nudge" cancelActivity="false" attachedToRef="answer">
    <bpmn:outgoing>f3</bpmn:outgoing>
    <bpmn:timerEventDefinition id="td"><bpmn:timeDuration>"PT4H"</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:scriptTask id="remind" name="Remind"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    <bpmn:script>reminded = True</bpmn:script></bpmn:scriptTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:endEvent id="nudged"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="answer" />
  <bpmn:sequenceFlow id="f2" sourceRef="answer" targetRef="end" />
  <bpmn:sequenceFlow id="f3" sourceRef="nudge" targetRef="remind" />
  <bpmn:sequenceFlow id="f4" sourceRef="remind" targetRef="nudged" />
</bpmn:process></bpmn:definitions>'''


def test_a_claimed_task_whose_deadline_passes_keeps_its_claim_and_is_rewritten_in_one_statement(
        database, runtime, make_user, clock):
    # Given a claimed task with a four-hour reminder attached (its due time)
    make_user("ann", "agent")
    with database.transaction() as s:
        deploy(s, Bundle("reminded", {"reminded.bpmn": REMINDED.encode()}), "owner")
        instance_id = runtime.start(s, "reminded", {}, None, "ann").instance_id
    with database.transaction() as s:
        item = s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id)).one()
        task_id, started = item.task_id, clock.now()
        assert item.due_at == started + timedelta(hours=4)
        runtime.claim(s, task_id, ANN)
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    # When the reminder fires (the task still waits, now without a due time)
    clock.advance(timedelta(hours=5))
    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        with database.transaction() as s:
            runtime.fire_timers(s, instance_id)
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
    # Then the one work item is rewritten by one statement, and Ann still holds it since she claimed it
    touching = [st for st in statements if "work_item" in st and not st.lstrip().startswith("SELECT")]
    assert len(touching) == 1 and "ON CONFLICT" in touching[0]
    with database.transaction(write=False) as s:
        item = s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id)).one()
    assert (item.task_id, item.assignee, item.claimed_at, item.created_at) == (task_id, "ann", started, started)
    assert item.due_at is None
