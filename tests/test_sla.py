"""SLA clocks on a business calendar: pauses move the due time, warnings and breaches reach the process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.audit import events_for
from engine.identity import Actor
from engine.models import User, WorkItem
from engine.worker import Worker
from handlers.calendar import default_calendars
from handlers.outbox import Outbox
from handlers.sla import SlaClock, clocks_for, parse_duration

AGENT = Actor("ann", frozenset({"agent"}))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "seconds", "expected"),
    [
        # Monday 17:00 Beijing + 8 working hours: 1 h on Monday, 7 h on Tuesday from 09:00
        (utc(2026, 3, 2, 9), 8 * 3600, utc(2026, 3, 3, 8)),
        # Friday 17:00 + 6 h: 1 h Friday, 4 h Saturday morning, 1 h Monday
        (utc(2026, 3, 6, 9), 6 * 3600, utc(2026, 3, 9, 2)),
        # Wednesday 30 Sep 17:00 + 2 h: 1 h, then the 1-2 Oct holidays, then Saturday 09:00-10:00
        (utc(2026, 9, 30, 9), 2 * 3600, utc(2026, 10, 3, 2)),
        # Sunday night: nothing until Monday 09:00 Beijing (01:00 UTC)
        (utc(2026, 3, 8, 12), 60, utc(2026, 3, 9, 1, 1)),
    ],
)
def test_standard_calendar_adds_working_time(start, seconds, expected):
    assert default_calendars()["standard"].add(start, seconds) == expected


def test_working_seconds_between_skip_nights_and_weekends():
    cal = default_calendars()["standard"]
    assert cal.between(utc(2026, 3, 6, 9), utc(2026, 3, 9, 2)) == 6 * 3600
    assert default_calendars()["24x7"].between(utc(2026, 3, 6, 9), utc(2026, 3, 9, 2)) == 65 * 3600


@pytest.mark.parametrize(("text", "seconds"), [("PT24H", 86400), ("P2D", 172800), ("PT1H30M", 5400), ("P1W", 604800)])
def test_durations_parse(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["24H", "P", "PT", "P1M", "soon"])
def test_bad_durations_are_refused(text):
    from engine.errors import HandlerError

    with pytest.raises(HandlerError, match="ISO 8601"):
        parse_duration(text)


@pytest.fixture
def sla_process(deploy_fixture, make_user, database, runtime):
    deploy_fixture("sla")
    make_user("ann", "agent")
    make_user("sam", "supervisor")
    make_user("tom", "technician")
    with database.transaction() as s:
        for user in s.scalars(select(User)):
            user.email = f"{user.username}@example.com"

    def start(key: str, target: str = "PT8H") -> int:
        with database.transaction() as s:
            return runtime.start(s, "sla_demo", {"target": target}, key, "ann").instance_id

    return start


def _clock(database, key):
    with database.transaction(write=False) as s:
        return s.scalars(select(SlaClock).where(SlaClock.business_key == key)).one()


def _complete(database, runtime, instance_id, element_id, actor=AGENT):
    with database.transaction() as s:
        item = s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id,
                                                WorkItem.element_id == element_id)).one()
        runtime.complete_task(s, item.task_id, actor, {})


def test_a_pause_moves_the_due_time_by_the_working_time_it_stood_still(database, runtime, sla_process, clock):
    # Given a ticket opened Monday 17:00 Beijing with 8 working hours to resolve
    instance_id = sla_process("S-1")
    started = _clock(database, "S-1")
    assert (started.due_at, started.warn_at) == (utc(2026, 3, 3, 8), utc(2026, 3, 3, 6))

    # When it waits on the customer from Monday 18:00 to Wednesday 10:00 Beijing
    clock.set(utc(2026, 3, 2, 10))
    _complete(database, runtime, instance_id, "work")
    assert _clock(database, "S-1").status == "paused"
    clock.set(utc(2026, 3, 4, 2))
    with database.transaction() as s:
        item = s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id)).one()
        # the answer came: resume, and then stop immediately (met)
        runtime.complete_task(s, item.task_id, AGENT, {})

    # Then 7 working hours were left from Wednesday 10:00: due 17:00 Beijing, met; the pause is on record
    final = _clock(database, "S-1")
    assert final.due_at == utc(2026, 3, 4, 9)
    assert final.status == "met"
    assert final.paused_seconds == 40 * 3600
    assert [p["reason"] for p in final.pauses] == ["waiting on customer"]
    with database.transaction(write=False) as s:
        [view] = clocks_for(s, "S-1")
    assert (view["status"], view["breached"], view["paused_seconds"]) == ("met", False, 144000)


def test_warning_then_breach_reach_the_process_and_escalate_to_a_supervisor(database, runtime, sla_process, clock):
    instance_id = sla_process("S-2")
    worker = Worker(database, runtime)
    clock.set(utc(2026, 3, 3, 6, 0, 1))
    assert worker.run_once().jobs["sla.watch"] == 1
    clock.set(utc(2026, 3, 3, 8, 0, 1))
    assert worker.run_once().jobs["sla.watch"] == 1
    with database.transaction(write=False) as s:
        items = {w.element_id: w.role for w in s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id))}
        messages = [e.data["message"] for e in events_for(s, instance_id) if e.kind == "message.received"]
    assert items == {"work": "agent", "escalate": "supervisor"}
    assert messages == ["sla_warning", "sla_breached"]
    with database.transaction(write=False) as s:  # the event subprocess saw the data of now, not of the start
        noted = [e.data["delta"] for e in events_for(s, instance_id) if e.element_id == "note_warning"]
        mails = [(o.milestone, o.recipient) for o in s.scalars(select(Outbox).order_by(Outbox.id))]
    assert noted == [{"set": {"warned": "running"}}]
    # the agents who can work on it hear of the warning; of the breach the supervisors too
    assert mails == [("sla_warning", "ann@example.com"), ("sla_breached", "ann@example.com"),
                     ("sla_breached", "sam@example.com")]
    assert worker.run_once().jobs["sla.watch"] == 0  # raised once, never again


def test_a_worker_that_was_down_raises_overdue_events_at_once_in_due_order(database, runtime, sla_process, clock):
    instance_id = sla_process("S-3")
    clock.set(utc(2026, 3, 10, 1))  # a week later: warning and breach both overdue
    assert Worker(database, runtime).run_once().jobs["sla.watch"] == 2
    with database.transaction(write=False) as s:
        received = [e.data for e in events_for(s, instance_id) if e.kind == "message.received"]
    assert [r["message"] for r in received] == ["sla_warning", "sla_breached"]
    due = [utc(2026, 3, 3, 6).isoformat(), utc(2026, 3, 3, 8).isoformat()]
    assert [r["payload"]["due_at"] for r in received] == due
    assert all(r["payload"]["raised_at"] == utc(2026, 3, 10, 1).isoformat() for r in received)
    _complete(database, runtime, instance_id, "work")
    clock.advance(timedelta(hours=1))
    _complete(database, runtime, instance_id, "wait_customer")
    assert _clock(database, "S-3").status == "breached"
