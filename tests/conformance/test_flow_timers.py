"""Timers: durations, dates and cycles on boundary and intermediate events become timer rows that
the worker fires when due; cycle and date timer start events start instances on schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.config import load_settings
from engine.runtime import Runtime
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


def _scheduled(definition: str, process_id: str = "ticker") -> str:
    return process(process_id, event("startEvent", "tick", definition), user("work"), event("endEvent", "end"),
                   seq("tick", "work", "end"))


def test_a_cycle_timer_start_event_starts_an_instance_at_every_occurrence_and_stops_after_the_last(flow):
    flow.deploy(_scheduled(timer("timeCycle", '"R3/PT1H"')))
    assert flow.advance(minutes=59).jobs["timer.starts"] == 0
    counts = []
    for _ in range(5):
        flow.advance(hours=1)
        counts.append(len(flow.instances("ticker")))
    assert counts == [1, 2, 3, 3, 3]
    first = flow.instances("ticker")[0]
    assert first.ready() == ["work"] and first.timers() == []
    assert first.instance.started_by == "timer:tick"


def test_a_restarted_worker_does_not_start_an_occurrence_twice(flow, clock):
    flow.deploy(_scheduled(timer("timeCycle", '"R/P1D"')))
    flow.advance(days=1, seconds=1)
    flow.runtime = Runtime(load_settings())  # a new worker process: empty caches, same database
    assert flow.worker_pass().jobs["timer.starts"] == 0
    assert len(flow.instances("ticker")) == 1
    flow.advance(days=1)
    assert len(flow.instances("ticker")) == 2


def test_an_outage_starts_one_instance_for_the_missed_occurrences_and_the_schedule_goes_on(flow):
    flow.deploy(_scheduled(timer("timeCycle", '"R/PT1H"')))
    flow.advance(hours=5, minutes=30)
    assert len(flow.instances("ticker")) == 1
    flow.advance(minutes=31)
    assert len(flow.instances("ticker")) == 2


def test_a_date_timer_start_event_starts_one_instance_at_that_moment(flow):
    flow.deploy(_scheduled(timer("timeDate", '"2026-03-03T08:00:00+00:00"')))
    flow.advance_to(datetime(2026, 3, 3, 7, 59, tzinfo=UTC))
    assert flow.instances("ticker") == []
    flow.advance_to(datetime(2026, 3, 3, 8, 0, 1, tzinfo=UTC))
    flow.advance(days=3)
    [run] = flow.instances("ticker")
    assert run.ready() == ["work"]


def test_a_new_deployment_replaces_the_schedule_of_the_old_one(flow):
    flow.deploy(_scheduled(timer("timeCycle", '"R/PT1H"')))
    flow.advance(hours=1, seconds=1)
    flow.deploy(_scheduled(timer("timeCycle", '"R/PT2H"')))
    flow.advance(hours=1, seconds=1)
    assert len(flow.instances("ticker")) == 1  # the old hourly schedule stopped
    flow.advance(hours=1)
    runs = flow.instances("ticker")
    assert len(runs) == 2 and runs[0].instance.deployment_id != runs[1].instance.deployment_id


def test_a_timer_start_process_started_by_hand_starts_at_once(flow):
    flow.deploy(_scheduled(timer("timeCycle", '"R/P1D"')))
    run = flow.start("ticker")
    assert run.ready() == ["work"] and run.timers() == []


def test_a_cycle_with_a_start_date_starts_at_that_date_and_every_period_after(flow):
    flow.deploy(_scheduled(timer("timeCycle", '"R2/2026-03-03T08:00:00+00:00/PT12H"')))
    flow.advance_to(datetime(2026, 3, 3, 7, 0, tzinfo=UTC))
    assert flow.instances("ticker") == []
    flow.advance_to(datetime(2026, 3, 3, 8, 0, 1, tzinfo=UTC))
    flow.advance_to(datetime(2026, 3, 3, 20, 0, 1, tzinfo=UTC))
    flow.advance_to(datetime(2026, 3, 5, 8, 0, 1, tzinfo=UTC))
    assert [r.instance.started_at.hour for r in flow.instances("ticker")] == [8, 20]


def test_a_duration_timer_start_event_starts_one_instance_that_long_after_deployment(flow):
    flow.deploy(_scheduled(timer("timeDuration", '"PT3H"')))
    flow.advance(hours=2, minutes=59)
    assert flow.instances("ticker") == []
    flow.advance(minutes=2)
    flow.advance(hours=10)
    assert len(flow.instances("ticker")) == 1
