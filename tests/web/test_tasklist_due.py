"""The tasklist sorts and filters on the due time it shows: a task without a timer of its
own is due when its ticket's running SLA clock is (regression: such tasks sank to the
bottom and were missing from the breached filter, while the column showed them overdue)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from engine.identity import Actor
from readmodels.tasklist import Worklist, list_worklist, tasklist_page

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="http://example.com/t">
  <bpmn:process id="clocked" name="Clocked" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="lane_agent" name="Agent"><bpmn:flowNodeRef>work</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="start_clock" name="Start the clock">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="sla.start_clock" resultVariable="clock">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="kind" type="str" value="'resolution'"/>
            <spiffworkflow:parameter id="target" type="str" value="target"/>
            <spiffworkflow:parameter id="calendar" type="str" value="'24x7'"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
        <spiffworkflow:postScript>clock = clock if keep else None</spiffworkflow:postScript>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:userTask id="work" name="Work on it">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="start_clock"/>
    <bpmn:sequenceFlow id="f2" sourceRef="start_clock" targetRef="work"/>
    <bpmn:sequenceFlow id="f3" sourceRef="work" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture(autouse=True, params=["in parts", "sorted whole"])
def due_order(request, monkeypatch) -> None:
    """Run each test with the page in due order found in parts (as for a long tab) and sorted whole."""
    from readmodels import tasklist

    monkeypatch.setattr(tasklist, "DUE_PARTS_FROM", 0 if request.param == "in parts" else 10**9)


@pytest.fixture
def tickets(tmp_path: Path, deploy_fixture, make_user, database, runtime, clock) -> dict[str, int]:
    """Ticket A: its task has no timer of its own, its 1-hour clock runs; ticket B: its task
    carries its 24-hour clock. Then two hours pass: A is overdue, B is not."""
    (tmp_path / "clocked.bpmn").write_text(BPMN)
    deploy_fixture(tmp_path)
    make_user("ann", "agent")
    ids = {}
    with database.transaction() as s:
        ids["A"] = runtime.start(s, "clocked", {"target": "PT1H", "keep": False}, "AS-A", "ann").instance_id
        ids["B"] = runtime.start(s, "clocked", {"target": "PT24H", "keep": True}, "AS-B", "ann").instance_id
    clock.advance(timedelta(hours=2))
    return ids


def keys(database, clock, **filters) -> list[str]:
    actor = Actor("sue", frozenset({"supervisor"}))
    with database.transaction(write=False) as s:
        items, _ = list_worklist(s, actor, Worklist(scope="all", **filters), clock.now())
        return [i.business_key for i in items]


def test_a_task_due_by_its_ticket_s_clock_sorts_by_that_time(database, clock, tickets):
    assert keys(database, clock, sort="due_at") == ["AS-A", "AS-B"]
    assert keys(database, clock, sort="due_at", descending=True) == ["AS-B", "AS-A"]


def test_the_breached_and_due_soon_filters_use_the_ticket_s_clock(database, clock, tickets):
    assert keys(database, clock, sla="breached") == ["AS-A"]
    clock.set(clock.now() + timedelta(hours=20))
    assert keys(database, clock, sla="soon") == ["AS-B"]


def test_the_page_shows_the_due_time_it_sorts_on(database, clock, tickets):
    actor = Actor("sue", frozenset({"supervisor"}))
    with database.transaction(write=False) as s:
        page = tasklist_page(s, actor, Worklist(scope="all", sort="due_at"), clock.now())
        shown = [page.due(i) for i in page.items]
    assert [i.due_at is None for i in page.items] == [True, False]  # A has no timer of its own
    assert shown == sorted(shown) and shown[0] < clock.now() < shown[1]


def test_a_task_due_never_sorts_last_either_way_and_pages_keep_the_order(database, runtime, clock, tickets):
    """Ticket C's clock is paused: its task is due never and comes last ascending and descending,
    also when every page holds a single task (the page is cut from the own / clock / never parts)."""
    from sqlalchemy import update

    from handlers.sla import SlaClock

    with database.transaction() as s:
        c = runtime.start(s, "clocked", {"target": "PT1H", "keep": False}, "AS-C", "ann").instance_id
        s.execute(update(SlaClock).where(SlaClock.instance_id == c).values(status="paused"))
    assert keys(database, clock, sort="due_at") == ["AS-A", "AS-B", "AS-C"]
    assert keys(database, clock, sort="due_at", descending=True) == ["AS-B", "AS-A", "AS-C"]
    one_each = [keys(database, clock, sort="due_at", per_page=1, page=n) for n in (1, 2, 3, 4)]
    assert one_each == [["AS-A"], ["AS-B"], ["AS-C"], []]
    assert keys(database, clock, sla="breached") == ["AS-A"]
