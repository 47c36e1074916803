"""Triage re-targets the response clock that has run since arrival: tighter or looser, counted from arrival.

The desk's clock starts on Monday 2 March 2026, 09:00 UTC = 17:00 in Beijing: one hour of the
standard calendar (Mon–Fri 09:00–18:00, Sat 09:00–13:00 Beijing) is left that day; the 24x7
calendar counts every hour. Every expected time below is worked out by hand in the comments.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from sqlalchemy import select

from engine.audit import events_for
from engine.models import WorkItem
from handlers.sla import SlaClock
from readmodels.tasklist import running_clocks
from tests.process.driver import Case, Desk
from tests.process.test_journey_arrival import WEB_FORM


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def response_clock(desk: Desk, case: Case) -> SlaClock:
    return desk.read(lambda s: s.scalars(select(SlaClock).where(SlaClock.instance_id == case.instance_id,
                                                               SlaClock.kind == "response")).one())


def retarget_event(desk: Desk, case: Case) -> dict:
    [event] = [e for e in desk.read(lambda s: events_for(s, case.instance_id))
               if e.kind == "task.completed" and e.element_id == "retarget_response_clock"]
    return event.data["delta"]["set"]


def test_triage_that_raises_the_priority_brings_the_response_due_time_nearer_from_arrival(desk: Desk) -> None:
    # Given a web request that arrived on Monday 17:00 Beijing, classified medium on what it says:
    # PT24H on the standard calendar = 1 h Monday + 9 h Tuesday + 9 h Wednesday + 5 h Thursday
    # → Thursday 14:00 Beijing = Thursday 06:00 UTC
    case = desk.open_case(**copy.deepcopy(WEB_FORM))
    before = response_clock(desk, case)
    assert (before.target, before.calendar, before.due_at) == ("PT24H", "standard", utc(2026, 3, 5, 6))

    # When the agent triages it half an hour later as urgent (hardware, high urgency, high impact)
    case.wait(minutes=30)
    case.register(channel="web", urgency="high", impact="high")

    # Then the response clock targets PT2H on 24x7 counted from arrival: due 09:00 + 2 h = 11:00 UTC,
    # the warning at 75 % = 1 h 30 min after arrival = 10:30 UTC
    assert case.data()["priority"] == "urgent"
    after = response_clock(desk, case)
    assert (after.status, after.target, after.calendar) == ("running", "PT2H", "24x7")
    assert (after.due_at, after.warn_at) == (utc(2026, 3, 2, 11), utc(2026, 3, 2, 10, 30))
    # and the step is on the audit trail with the former target and due time
    retargeted = retarget_event(desk, case)["response_clock"]["retargeted"]
    assert retargeted["from"] == {"target": "PT24H", "calendar": "standard", "due_at": "2026-03-05T06:00:00+00:00"}
    # and the agent's first-response task is due when the clock is
    assert case.ready() == ["respond_to_customer"]
    assert desk.read(lambda s: running_clocks(s, [case.instance_id]))[case.instance_id] == utc(2026, 3, 2, 11)

    # When nobody answers by 10:31, the clock service warns the agents of the tighter target
    case.wait_until("2026-03-02T10:31:00+00:00")
    assert sorted(case.ready()) == ["act_on_sla_warning", "respond_to_customer"]
    # and at 11:01 it reports the breach, which escalates to a supervisor
    case.wait_until("2026-03-02T11:01:00+00:00")
    clock = response_clock(desk, case)
    assert clock.breached_at is not None
    assert "supervisor" in desk.read(lambda s: set(s.scalars(select(WorkItem.role).where(
        WorkItem.instance_id == case.instance_id))))


def test_triage_that_lowers_the_priority_moves_the_due_time_later_and_re_arms_the_warning(desk: Desk) -> None:
    # Given a request that arrived on Monday 09:00 UTC saying it is urgent: PT2H on 24x7, due 11:00 UTC
    arrived = {**copy.deepcopy(WEB_FORM), "urgency": "high", "impact": "high",
               "fault": {**WEB_FORM["fault"], "category": "hardware"}}
    case = desk.open_case(**arrived)
    assert response_clock(desk, case).due_at == utc(2026, 3, 2, 11)
    # and whose 75 % warning was raised at 10:31
    case.wait_until("2026-03-02T10:31:00+00:00")
    assert response_clock(desk, case).warned_at is not None

    # When the agent triages it at 10:40 UTC (18:40 Beijing) as a low-urgency usage question
    case.wait_until("2026-03-02T10:40:00+00:00")
    case.complete("register_request", {**_intake(), "fault": {"category": "usage", "description": "How to descale",
                                                             "symptoms": []},
                                       "urgency": "low", "impact": "low"})

    # Then the clock targets PT24H on the standard calendar, counted from arrival (17:00 Beijing):
    # 1 h worked on Monday (the day ends at 18:00); 23 h left from Monday evening = 9 h Tuesday +
    # 9 h Wednesday + 5 h Thursday → Thursday 14:00 Beijing = 06:00 UTC
    assert case.data()["priority"] == "low"
    clock = response_clock(desk, case)
    assert (clock.status, clock.target, clock.calendar) == ("running", "PT24H", "standard")
    assert clock.due_at == utc(2026, 3, 5, 6)
    # and its warning comes again at 75 % = 18 h: 1 h Monday + 9 h Tuesday + 8 h Wednesday → Wednesday 17:00
    # Beijing = 09:00 UTC
    assert (clock.warned_at, clock.warn_at) == (None, utc(2026, 3, 4, 9))
    assert desk.read(lambda s: running_clocks(s, [case.instance_id]))[case.instance_id] == utc(2026, 3, 5, 6)
    assert retarget_event(desk, case)["response_clock"]["retargeted"]["from"]["target"] == "PT2H"


def test_triage_that_keeps_the_priority_leaves_the_clock_alone(desk: Desk) -> None:
    # Given a web request classified medium at arrival (PT24H standard, due Thursday 06:00 UTC)
    case = desk.open_case(**copy.deepcopy(WEB_FORM))

    # When the agent triages it with nothing that changes the targets (a hardware fault, medium, low)
    case.register(channel="web", urgency="medium", impact="low")

    # Then the clock keeps its target and due time, and the step says nothing was re-targeted
    clock = response_clock(desk, case)
    assert (clock.target, clock.due_at) == ("PT24H", utc(2026, 3, 5, 6))
    assert case.data()["response_clock"]["retargeted"] is None


def _intake() -> dict:
    from tests.process.driver import INTAKE

    return copy.deepcopy(INTAKE)
