"""A task cut off by an interrupting boundary event, or by the end of its instance, stops counting
as a token waiting there: in the heatmap's roll-up, in a scan of the trail and in the trace."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from engine import rollup_elements, store, trace
from engine.bundle import Bundle
from engine.deploy import deploy
from engine.instance_trace import element_detail, instance_trace
from engine.models import WorkItem
from tests.bpmn_builder import HEAD

#: answer (user task) with a non-interrupting reminder after 30 min and an interrupting timer
#: after 1 h that sends the token on to chase (another user task)
XML = HEAD + '''<bpmn:process id="answering" name="Answering" isExecutable="true">
  <bpmn:laneSet id="ls"><bpmn:lane id="lane_agent" name="Agent">
    <bpmn:flowNodeRef>answer</bpmn:flowNodeRef><bpmn:flowNodeRef>chase</bpmn:flowNodeRef>
  </bpmn:lane></bpmn:laneSet>
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="answer" name="Answer">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:boundaryEvent id="remind" name="Remind" attachedToRef="answer" cancelActivity="false">
    <bpmn:outgoing>f_r</bpmn:outgoing>
    <bpmn:timerEventDefinition id="td_r"><bpmn:timeDuration>"PT30M"</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:endEvent id="reminded"><bpmn:incoming>f_r</bpmn:incoming></bpmn:endEvent>
  <bpmn:boundaryEvent id="too_late" name="Too late" attachedToRef="answer">
    <bpmn:outgoing>f_t</bpmn:outgoing>
    <bpmn:timerEventDefinition id="td_t"><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:userTask id="chase" name="Chase">
    <bpmn:incoming>f_t</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end_chased"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="answer" />
  <bpmn:sequenceFlow id="f2" sourceRef="answer" targetRef="end" />
  <bpmn:sequenceFlow id="f_r" sourceRef="remind" targetRef="reminded" />
  <bpmn:sequenceFlow id="f_t" sourceRef="too_late" targetRef="chase" />
  <bpmn:sequenceFlow id="f3" sourceRef="chase" targetRef="end_chased" />
</bpmn:process>
</bpmn:definitions>
'''


def figures(database: Any, deployment: int) -> dict[str, tuple[int, int, int]]:
    """Return (executions, active, failed) per element from the roll-up, after checking a scan agrees."""
    with database.transaction(write=False) as s:
        rolled = rollup_elements.heatmap(s, deployment, "answering")
        scanned = trace.heatmap(s, deployment, "answering")
    counts = {e["element_id"]: (e["executions"], e["active"], e["failed"]) for e in rolled["elements"]}
    assert counts == {e["element_id"]: (e["executions"], e["active"], e["failed"]) for e in scanned["elements"]
                      if e["executions"] or e["active"] or e["failed"]}
    return counts


def test_a_task_cut_off_by_an_interrupting_boundary_timer_no_longer_counts_as_waiting(
        database, runtime, clock, make_user):
    agent = make_user("ann", "agent")
    with database.transaction() as s:
        deployment = deploy(s, Bundle("answering", {"answering.bpmn": XML.encode()}), "owner").deployment_id
    with database.transaction() as s:
        late = runtime.start(s, "answering", {}, "A-1", "ann").instance_id
        on_time = runtime.start(s, "answering", {}, "A-2", "ann").instance_id
        cancelled = runtime.start(s, "answering", {}, "A-3", "ann").instance_id
    with database.transaction(write=False) as s:
        answer_on_time = s.scalars(select(WorkItem.task_id).where(WorkItem.instance_id == on_time)).one()
    with database.transaction() as s:
        runtime.complete_task(s, answer_on_time, agent, {})
        runtime.cancel(s, cancelled, "ann", "customer withdrew")
    assert figures(database, deployment)["answer"] == (1, 1, 0)

    # When the non-interrupting reminder fires, the answer still waits
    clock.advance(timedelta(minutes=40))
    with database.transaction() as s:
        runtime.fire_timers(s, late)
    assert figures(database, deployment)["answer"] == (1, 1, 0)

    # When the interrupting timer fires, the answer is cut off and the token waits at chase
    clock.advance(timedelta(hours=1))
    with database.transaction() as s:
        assert runtime.fire_timers(s, late).status == "active"
    assert figures(database, deployment) == {"start": (3, 0, 0), "answer": (1, 0, 0), "end": (1, 0, 0),
                                             "remind": (1, 0, 0), "reminded": (1, 0, 0), "too_late": (1, 0, 0),
                                             "chase": (0, 1, 0)}

    # Then the trace and the answer's details show its run interrupted, and the token at chase
    with database.transaction(write=False) as s:
        traced = instance_trace(s, store.SpecCache(), late, reveal=True)
    [answer] = [r for r in traced["runs"] if r["element_id"] == "answer"]
    assert answer["interrupted"] is True and answer["completed_at"] is None
    assert [t["element_id"] for t in traced["tokens"]] == ["chase"]
    with database.transaction(write=False) as s:
        detail = element_detail(s, late, "answer", reveal=True)
    assert [(r["interrupted"], r["completed_at"]) for r in detail["runs"]] == [(True, None)]

    # And a rebuild from the trail keeps the figures the triggers kept
    with database.transaction() as s:
        rollup_elements.rebuild(s)
    assert figures(database, deployment)["answer"] == (1, 0, 0)
    with database.transaction(write=False) as s:
        states = sorted(s.scalars(select(rollup_elements.ElementRun.state)
                                  .where(rollup_elements.ElementRun.element_id == "answer")))
    assert states == ["completed", "interrupted", "interrupted"]
