"""Event subprocesses: an interrupting one (BPMN's default) cancels every other token of its
process or subprocess — tasks, waiting events, timers, work items — and the scope ends with it;
a non-interrupting one runs beside the rest. One that never starts holds nothing up."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.errors import DeploymentInvalid
from tests.conformance.conftest import definitions, event, message, message_def, process, script, seq, timer, user


def _event_subprocess(start_definition: str, interrupting: bool, sub_id: str = "on_event") -> str:
    flag = "" if interrupting else ' isInterrupting="false"'
    return (f'<bpmn:subProcess id="{sub_id}" name="{sub_id}" triggeredByEvent="true">'
            f'<bpmn:startEvent id="{sub_id}_start" name="{sub_id}_start"{flag}>{start_definition}</bpmn:startEvent>'
            + script(f"{sub_id}_note", "noted = True") + user(f"{sub_id}_handle")
            + event("endEvent", f"{sub_id}_end")
            + seq(f"{sub_id}_start", f"{sub_id}_note", f"{sub_id}_handle", f"{sub_id}_end") + "</bpmn:subProcess>")


def _model(start_definition: str, interrupting: bool) -> str:
    return definitions(process(
        "guarded", event("startEvent", "start"), user("work", "check"), event("endEvent", "end"),
        event("boundaryEvent", "deadline", timer("timeDuration", '"PT8H"'), attachedToRef="work"),
        user("late"), event("endEvent", "end_late"),
        seq("start", "work", "check", "end"), seq("deadline", "late", "end_late"),
        _event_subprocess(start_definition, interrupting),
    ), message("abort"))


def test_an_interrupting_message_event_subprocess_cancels_the_rest_of_the_process(flow):
    # Given an instance waiting on a task guarded by an 8-hour boundary timer
    flow.deploy(_model(message_def("abort"), interrupting=True))
    run = flow.start("guarded", {}, "T-1")
    assert run.ready() == ["work"] and [e for e, _ in run.timers()] == ["deadline"]
    # When the interrupting event subprocess's message arrives
    run.message("abort")
    # Then only the event subprocess runs on: no work item, timer or subscription of the rest is left
    assert run.ready() == ["on_event_handle"]
    assert run.timers() == [] and run.subscriptions() == []
    flow.advance(hours=9)
    assert run.ready() == ["on_event_handle"] and "deadline" not in run.path()
    run.complete("on_event_handle")
    assert run.status == "completed"
    assert "work" not in run.path() and "check" not in run.path()


def test_a_non_interrupting_message_event_subprocess_runs_beside_the_process(flow):
    flow.deploy(_model(message_def("abort"), interrupting=False))
    run = flow.start("guarded", {}, "T-2")
    run.message("abort")
    assert run.ready() == ["on_event_handle", "work"]
    assert [e for e, _ in run.timers()] == ["deadline"]
    run.complete("on_event_handle")
    assert run.status == "active"
    run.complete("work").complete("check")
    assert run.status == "completed"


def test_an_interrupting_timer_event_subprocess_takes_over_when_due(flow, clock):
    flow.deploy(_model(timer("timeDuration", '"PT1H"'), interrupting=True))
    run = flow.start("guarded")
    assert sorted(e for e, _ in run.timers()) == ["deadline", "on_event_start"]
    flow.advance(hours=1, seconds=1)
    assert run.ready() == ["on_event_handle"] and run.timers() == []
    run.complete("on_event_handle")
    assert run.status == "completed"


def test_a_non_interrupting_timer_event_subprocess_runs_beside_the_process(flow):
    flow.deploy(_model(timer("timeDuration", '"PT1H"'), interrupting=False))
    run = flow.start("guarded")
    flow.advance(hours=1, seconds=1)
    assert run.ready() == ["on_event_handle", "work"]
    run.complete("work").complete("check").complete("on_event_handle")
    assert run.status == "completed"


def test_an_event_subprocess_that_never_started_does_not_hold_the_process_open(flow):
    flow.deploy(_model(timer("timeDuration", '"PT1H"'), interrupting=True))
    run = flow.start("guarded")
    run.complete("work").complete("check")
    assert run.status == "completed"
    assert run.timers() == [] and run.ready() == []
    flow.advance(hours=2)
    assert "on_event_handle" not in run.path()


def test_an_interrupting_event_subprocess_in_an_embedded_subprocess_interrupts_only_that_subprocess(flow):
    inner = ('<bpmn:subProcess id="stage" name="stage">' + event("startEvent", "stage_start") + user("inner")
             + event("endEvent", "stage_end") + seq("stage_start", "inner", "stage_end")
             + _event_subprocess(timer("timeDuration", '"PT1H"'), interrupting=True, sub_id="stage_timeout")
             + "</bpmn:subProcess>")
    flow.deploy(process(
        "staged", event("startEvent", "start"), '<bpmn:parallelGateway id="fork" />', inner, user("beside"),
        '<bpmn:parallelGateway id="join" />', user("after"), event("endEvent", "end"),
        seq("start", "fork", "stage", "join", "after", "end"), seq("fork", "beside", "join")))
    run = flow.start("staged")
    assert run.ready() == ["beside", "inner"]
    flow.advance(hours=1, seconds=1)
    assert run.ready() == ["beside", "stage_timeout_handle"]
    run.complete("stage_timeout_handle")
    assert run.ready() == ["beside"]
    run.complete("beside").complete("after")
    assert run.status == "completed" and "inner" not in run.path()


def test_the_interrupting_event_subprocess_sees_the_data_of_the_process(flow, clock):
    flow.deploy(_model(message_def("abort"), interrupting=True))
    run = flow.start("guarded", {"ticket": "T-3"}, "T-3")
    run.message("abort")
    data = run.data()
    assert data["ticket"] == "T-3" and data["noted"] is True
    assert clock.now() + timedelta(hours=8) not in [due for _, due in run.timers()]


def test_a_non_interrupting_cycle_event_subprocess_runs_its_flow_at_every_occurrence(flow):
    flow.deploy(_model(timer("timeCycle", '"R/PT1H"'), interrupting=False))
    run = flow.start("guarded")
    flow.advance(hours=1, seconds=1)
    assert run.ready() == ["on_event_handle", "work"]
    flow.advance(hours=1)
    assert run.ready() == ["on_event_handle", "on_event_handle", "work"]
    assert [e for e, _ in run.timers()].count("on_event_start") == 1
    items = [w for w in run.work_items() if w.element_id == "on_event_handle"]
    for item in items:
        flow.trigger(lambda s, i=item: flow.runtime.complete_task(s, i.task_id, flow.actor, {}))
    run.complete("work").complete("check")
    # the next occurrence holds nothing up: the process ends, its timer rows with it
    assert run.status == "completed" and run.timers() == []


def test_a_running_non_interrupting_event_subprocess_holds_the_process_until_it_ends(flow):
    flow.deploy(_model(timer("timeCycle", '"R/PT1H"'), interrupting=False))
    run = flow.start("guarded")
    flow.advance(hours=1, seconds=1)
    run.complete("work").complete("check")
    assert run.status == "active" and run.ready() == ["on_event_handle"]
    run.complete("on_event_handle")
    assert run.status == "completed"


def test_an_error_start_event_outside_an_event_subprocess_is_refused_at_deploy(flow):
    with pytest.raises(DeploymentInvalid) as info:
        flow.deploy(definitions(process(
            "error_start", event("startEvent", "oops", '<bpmn:errorEventDefinition errorRef="err" />'),
            user("work"), event("endEvent", "end"), seq("oops", "work", "end")),
            '<bpmn:error id="err" name="err" errorCode="E" />'))
    assert any(p.element_id == "oops" and "error start event can only start an event subprocess" in p.message
               for p in info.value.problems), info.value.problems


def test_a_process_ended_by_an_interrupting_event_subprocess_keeps_its_data(flow):
    flow.deploy(_model(message_def("abort"), interrupting=True))
    run = flow.start("guarded", {"ticket": "T-4"}, "T-4")
    run.message("abort")
    run.complete("on_event_handle", {"handled": True})
    assert run.status == "completed"
    assert run.data() | {"ticket": "T-4", "noted": True, "handled": True} == run.data()


def test_an_event_subprocess_started_by_an_event_inside_a_subprocess_is_refused_at_deploy(flow):
    inner = ('<bpmn:subProcess id="stage" name="stage">' + event("startEvent", "s_start") + user("inside")
             + event("endEvent", "s_end") + seq("s_start", "inside", "s_end")
             + _event_subprocess(message_def("abort"), interrupting=True, sub_id="stage_abort")
             + "</bpmn:subProcess>")
    with pytest.raises(DeploymentInvalid) as info:
        flow.deploy(definitions(process("nested", event("startEvent", "start"), inner, event("endEvent", "end"),
                                        seq("start", "stage", "end")), message("abort")))
    assert any(p.element_id == "stage_abort_start" and "can only start on a timer" in p.message
               for p in info.value.problems), info.value.problems
