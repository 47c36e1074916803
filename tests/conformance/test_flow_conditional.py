"""Conditional events (boundary, intermediate catch, event-subprocess start) are evaluated again
after every trigger that changed the instance's data, against the instance's current data."""

from __future__ import annotations

import pytest

from engine.errors import DeploymentInvalid
from tests.conformance.conftest import cond, condition_def, event, process, script, seq, user

FORK = '<bpmn:parallelGateway id="fork" />'


def test_a_conditional_boundary_fires_in_the_trigger_that_sets_its_variable_on_a_parallel_branch(flow):
    # Given a review waiting in parallel with triage, guarded by "escalated" (interrupting)
    flow.deploy(process(
        "escalating", event("startEvent", "start"), FORK, user("review", "triage", "escalation"),
        event("boundaryEvent", "escalated", condition_def("escalated"), attachedToRef="review"),
        event("endEvent", "end_review"), event("endEvent", "end_triage"), event("endEvent", "end_escalation"),
        seq("start", "fork", "review", "end_review"), seq("fork", "triage", "end_triage"),
        seq("escalated", "escalation", "end_escalation")))
    run = flow.start("escalating")
    assert run.ready() == ["review", "triage"]
    # When triage completes with escalated = True
    run.complete("triage", {"escalated": True})
    # Then, in that same trigger, the review is interrupted and the escalation is ready
    assert run.ready() == ["escalation"]
    assert run.data()["escalated"] is True
    run.complete("escalation")
    assert run.status == "completed" and "review" not in run.path()


def test_a_conditional_boundary_stays_quiet_while_its_condition_is_false(flow):
    flow.deploy(process(
        "escalating", event("startEvent", "start"), FORK, user("review", "triage", "escalation"),
        event("boundaryEvent", "escalated", condition_def("escalated"), attachedToRef="review",
              cancelActivity="false"),
        event("endEvent", "end_review"), event("endEvent", "end_triage"), event("endEvent", "end_escalation"),
        seq("start", "fork", "review", "end_review"), seq("fork", "triage", "end_triage"),
        seq("escalated", "escalation", "end_escalation")))
    run = flow.start("escalating")
    run.complete("triage", {"escalated": False})
    assert run.ready() == ["review"] and run.incidents() == []
    run.complete("review")
    assert run.status == "completed" and "escalation" not in run.path()


def test_a_non_interrupting_conditional_boundary_lets_the_task_go_on(flow):
    flow.deploy(process(
        "noting", event("startEvent", "start"), FORK, user("review", "triage", "note"),
        event("boundaryEvent", "flagged", condition_def("flag == 'red'"), attachedToRef="review",
              cancelActivity="false"),
        event("endEvent", "e1"), event("endEvent", "e2"), event("endEvent", "e3"),
        seq("start", "fork", "review", "e1"), seq("fork", "triage", "e2"), seq("flagged", "note", "e3")))
    run = flow.start("noting")
    run.complete("triage", {"flag": "red"})
    assert run.ready() == ["note", "review"]
    run.complete("note").complete("review")
    assert run.status == "completed"


def test_a_conditional_intermediate_event_waits_until_its_condition_holds(flow):
    flow.deploy(process(
        "gate", event("startEvent", "start"), FORK, user("approve", "after"),
        event("intermediateCatchEvent", "approved", condition_def("approval == 'yes'")),
        event("endEvent", "e1"), event("endEvent", "e2"),
        seq("start", "fork", "approved", "after", "e1"), seq("fork", "approve", "e2")))
    run = flow.start("gate")
    assert run.ready() == ["approve"] and run.status == "active"
    run.complete("approve", {"approval": "yes"})
    assert run.ready() == ["after"]
    run.complete("after")
    assert run.status == "completed"


def test_a_conditional_intermediate_event_whose_condition_already_holds_passes_at_once(flow):
    flow.deploy(process(
        "gate_open", event("startEvent", "start"), script("decide", "approval = 'yes'"),
        event("intermediateCatchEvent", "approved", condition_def("approval == 'yes'")), user("after"),
        event("endEvent", "end"), seq("start", "decide", "approved", "after", "end")))
    run = flow.start("gate_open")
    assert run.ready() == ["after"]


def _watched(interrupting: bool) -> str:
    flag = "" if interrupting else ' isInterrupting="false"'
    watcher = ('<bpmn:subProcess id="urgent" name="urgent" triggeredByEvent="true">'
               f'<bpmn:startEvent id="became_urgent" name="became_urgent"{flag}>'
               + condition_def("priority == 'urgent'") + "</bpmn:startEvent>"
               + user("call_customer") + event("endEvent", "urgent_end")
               + seq("became_urgent", "call_customer", "urgent_end") + "</bpmn:subProcess>")
    return process("watched", event("startEvent", "start"), user("classify", "work"), event("endEvent", "end"),
                   seq("start", "classify", "work", "end"), watcher)


def test_a_non_interrupting_conditional_event_subprocess_starts_when_its_condition_becomes_true(flow):
    flow.deploy(_watched(interrupting=False))
    run = flow.start("watched", {"priority": "normal"})
    assert run.ready() == ["classify"]
    run.complete("classify", {"priority": "urgent"})
    assert run.ready() == ["call_customer", "work"]
    run.complete("work")
    assert run.status == "active"
    run.complete("call_customer")
    assert run.status == "completed"
    assert run.path().count("call_customer") == 1


def test_a_condition_that_stays_true_starts_its_event_subprocess_once(flow):
    flow.deploy(_watched(interrupting=False))
    run = flow.start("watched", {"priority": "normal"})
    run.complete("classify", {"priority": "urgent"})
    run.complete("call_customer")
    assert run.ready() == ["work"]
    run.complete("work")
    assert run.status == "completed" and run.path().count("call_customer") == 1


def test_an_interrupting_conditional_event_subprocess_cancels_the_rest(flow):
    flow.deploy(_watched(interrupting=True))
    run = flow.start("watched", {"priority": "normal"})
    run.complete("classify", {"priority": "urgent"})
    assert run.ready() == ["call_customer"]
    run.complete("call_customer")
    assert run.status == "completed" and "work" not in run.path()


def test_a_condition_on_a_variable_not_set_yet_is_false(flow):
    flow.deploy(_watched(interrupting=True))
    run = flow.start("watched")
    assert run.ready() == ["classify"] and run.incidents() == []
    run.complete("classify", {"priority": "urgent"})
    assert run.ready() == ["call_customer"]


def test_a_condition_that_fails_becomes_an_incident_naming_the_event(flow):
    flow.deploy(process(
        "broken", event("startEvent", "start"), FORK, user("approve", "after"),
        event("intermediateCatchEvent", "approved", condition_def("approval > 3")),
        event("endEvent", "e1"), event("endEvent", "e2"),
        seq("start", "fork", "approved", "after", "e1"), seq("fork", "approve", "e2")))
    run = flow.start("broken")
    run.complete("approve", {"approval": "many"})
    [incident] = run.incidents()
    assert incident.startswith("approved: ") and "approval > 3" in incident
    assert run.status == "incident"


def test_a_conditional_start_event_of_a_process_is_refused_at_deploy(flow):
    with pytest.raises(DeploymentInvalid) as info:
        flow.deploy(process("cond_start", event("startEvent", "when", condition_def("ready")), user("work"),
                            event("endEvent", "end"), seq("when", "work", "end")))
    assert any(p.element_id == "when" and "conditional start event of a process" in p.message
               for p in info.value.problems), info.value.problems


def test_a_non_interrupting_conditional_boundary_fires_again_only_after_its_condition_turned_false(flow):
    flow.deploy(process(
        "reflagging", event("startEvent", "start"), FORK, user("review", "triage", "note"),
        event("boundaryEvent", "flagged", condition_def("flag == 'red'"), attachedToRef="review",
              cancelActivity="false"),
        '<bpmn:exclusiveGateway id="more" default="f_more_e2" />',
        event("endEvent", "e1"), event("endEvent", "e2"), event("endEvent", "e3"),
        seq("start", "fork", "review", "e1"), seq("fork", "triage", "more", "e2"), cond("more", "triage", "again"),
        seq("flagged", "note", "e3")))
    run = flow.start("reflagging")
    notes = lambda: run.ready().count("note")  # noqa: E731
    run.complete("triage", {"flag": "red", "again": True})
    assert notes() == 1
    run.complete("triage", {"flag": "red", "again": True})
    assert notes() == 1  # still red: no new flag
    run.complete("triage", {"flag": "green", "again": True})
    run.complete("triage", {"flag": "red", "again": False})
    assert notes() == 2  # red again
    run.complete("review")
    for item in run.work_items():
        flow.trigger(lambda s, i=item: flow.runtime.complete_task(s, i.task_id, flow.actor, {}))
    assert run.status == "completed"
