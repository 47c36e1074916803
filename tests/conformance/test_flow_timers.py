"""Timers: durations, dates and cycles on boundary and intermediate events become timer rows that
the worker fires when due; cycle and date timer start events start instances on schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conformance.conftest import event, process, script, seq, timer, user


def _boundary(definition: str, interrupting: bool = True) -> str:
    return process(
        "timed", event("startEvent", "start"), user("work"), event("endEvent", "end"),
        event("boundaryEvent", "deadline", definition, attachedToRef="work",
              cancelActivity="true" if interrupting else "false"),
        user("escalate") if interrupting else script("remind", "reminded = True"), event("endEvent", "end_timer"),
        seq("start", "work", "end"),
        seq("deadline", "escalate" if interrupting else "remind", "end_timer"),
    )


def test_an_interrupting_duration_boundary_fires_when_due_and_cancels_the_task(flow, clock):
    flow.deploy(_boundary(timer("timeDuration", '"PT2H"')))
    run = flow.start("timed")
    assert run.timers() == [("deadline", clock.now() + timedelta(hours=2))]
    assert flow.advance(hours=1, minutes=59).timers_fired == 0
    assert run.ready() == ["work"]
    assert flow.advance(minutes=2).timers_fired == 1
    assert run.ready() == ["escalate"] and run.timers() == []
    run.complete("escalate")
    assert run.status == "completed" and "work" not in run.path()


def test_a_duration_taken_from_the_data_is_evaluated_when_the_task_starts(flow, clock):
    flow.deploy(_boundary(timer("timeDuration", "f'PT{hours}H'")))
    run = flow.start("timed", {"hours": 5})
    assert run.timers() == [("deadline", clock.now() + timedelta(hours=5))]


def test_a_timer_finished_before_it_is_due_leaves_no_row(flow):
    flow.deploy(_boundary(timer("timeDuration", '"PT2H"')))
    run = flow.start("timed")
    run.complete("work")
    assert run.status == "completed" and run.timers() == []
    assert flow.advance(hours=3).timers_fired == 0


def test_a_date_intermediate_timer_waits_until_that_moment(flow, clock):
    flow.deploy(process(
        "dated", event("startEvent", "start"),
        event("intermediateCatchEvent", "until", timer("timeDate", '"2026-03-05T10:00:00+00:00"')),
        user("after"), event("endEvent", "end"), seq("start", "until", "after", "end")))
    run = flow.start("dated")
    assert run.timers() == [("until", datetime(2026, 3, 5, 10, 0, tzinfo=UTC))]
    flow.advance_to(datetime(2026, 3, 5, 9, 59, tzinfo=UTC))
    assert run.ready() == []
    flow.advance(minutes=2)
    assert run.ready() == ["after"] and run.timers() == []


def test_a_bounded_cycle_on_a_non_interrupting_boundary_fires_that_many_times(flow, clock):
    flow.deploy(_boundary(timer("timeCycle", '"R3/PT1H"'), interrupting=False))
    run = flow.start("timed")
    assert run.timers() == [("deadline", clock.now() + timedelta(hours=1))]
    for fired in (1, 2, 3):
        flow.advance(hours=1, seconds=1)
        assert run.path().count("remind") == fired
        assert run.ready() == ["work"]
    assert run.timers() == []
    flow.advance(hours=5)
    assert run.path().count("remind") == 3
    run.complete("work")
    assert run.status == "completed"


def test_an_unbounded_cycle_keeps_firing_until_the_task_is_done(flow, clock):
    flow.deploy(_boundary(timer("timeCycle", '"R/P1D"'), interrupting=False))
    run = flow.start("timed")
    start = clock.now()
    for day in (1, 2, 3):
        flow.advance(days=1, seconds=1)
        assert run.path().count("remind") == day
        assert run.timers() == [("deadline", start + timedelta(days=day + 1))]
    run.complete("work")
    assert run.status == "completed" and run.timers() == []


def test_a_cycle_on_an_interrupting_boundary_interrupts_at_its_first_occurrence(flow, clock):
    flow.deploy(_boundary(timer("timeCycle", '"R/PT4H"')))
    run = flow.start("timed")
    flow.advance(hours=4, seconds=1)
    assert run.ready() == ["escalate"] and run.timers() == []
    run.complete("escalate")
    assert run.status == "completed"


def test_a_cycle_intermediate_timer_passes_at_its_first_occurrence(flow, clock):
    flow.deploy(process(
        "cycled", event("startEvent", "start"),
        event("intermediateCatchEvent", "tick", timer("timeCycle", '"R2/PT1H"')),
        user("after"), event("endEvent", "end"), seq("start", "tick", "after", "end")))
    run = flow.start("cycled")
    assert run.timers() == [("tick", clock.now() + timedelta(hours=1))]
    flow.advance(hours=1, seconds=1)
    assert run.ready() == ["after"]
    run.complete("after")
    assert run.status == "completed"
