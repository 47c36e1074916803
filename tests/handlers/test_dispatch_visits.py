"""A dispatched visit belongs to its technician: the on-site task is theirs from the start,
colleagues cannot take it, and moving the visit (checked, audited, the customer told) is how
it changes hands."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.audit import events_for
from engine.errors import InvalidInput, PermissionDenied, TaskClaimed
from engine.models import WorkItem
from handlers.dispatch import Assignment, Technician, book_visit, move_visit
from handlers.outbox import Outbox
from handlers.values import business_timezone
from readmodels import appointments
from tests.process.driver import Case, Desk

ZONE = business_timezone()


@pytest.fixture
def desk(database, runtime, clock, dispatch_desk_state) -> Desk:
    """The real processes and catalogue; the dispatched technician tech.wang is a staff user, and so are
    tech.zhao, tech.qian and tom (a copy of the ``dispatch_desk_state`` database, tests/handlers/conftest.py)."""
    return Desk(database, runtime, clock, dispatch_desk_state)


def inspection_booked(desk: Desk, serial: str = "WMF80-0001") -> Case:
    """A washer ticket whose remote help failed: dispatch booked an on-site inspection."""
    return desk.open_case().register(product={"serial_number": serial}).respond().assist()


def on_site(case: Case) -> WorkItem:
    return next(w for w in case.work_items() if w.element_id == "inspect_on_site")


def the_visit(desk: Desk, case: Case) -> Assignment:
    return desk.read(lambda s: s.scalars(select(Assignment).where(
        Assignment.ticket_number == case.ticket_number, Assignment.status == "open")).one())


def snapshot(desk: Desk, case: Case) -> tuple[Any, ...]:
    """What a refused move must leave as it was: the visit, the task's assignee, outbox and trail."""
    visit = the_visit(desk, case)
    return (visit.technician, visit.starts_at, visit.ends_at, on_site(case).assignee,
            desk.read(lambda s: s.scalar(select(func.count()).select_from(Outbox))),
            desk.read(lambda s: len(events_for(s, case.instance_id))))


def local(day: str, hm: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=ZONE)


def test_the_dispatched_technician_is_the_assignee_and_nobody_else_can_take_the_visit(desk):
    # Given dispatch chose tech.wang for the on-site inspection
    case = inspection_booked(desk)
    assert the_visit(desk, case).technician == "tech.wang"

    # Then the inspection is tech.wang's task from the start, on the ticket's trail
    item = on_site(case)
    assert item.assignee == "tech.wang"
    kinds = [(e.kind, e.data.get("to")) for e in desk.read(lambda s: events_for(s, case.instance_id))]
    assert ("task.reassigned", "tech.wang") in kinds

    # When another technician tries to claim or complete it, the error names the task and the assignee
    with pytest.raises(TaskClaimed, match=r"'Inspect the device on site' of AS-.* dispatched to tech.wang; only a "
                                          r"supervisor can reassign it"):
        desk.trigger(lambda s: desk.runtime.claim(s, item.task_id, actor("tom")))
    with pytest.raises(TaskClaimed, match="dispatched to tech.wang"):
        desk.trigger(lambda s: desk.runtime.complete_task(s, item.task_id, actor("tom"), {}))
    # and tech.wang cannot hand it back to the group either
    with pytest.raises(TaskClaimed, match="only a supervisor can give it to someone else"):
        desk.trigger(lambda s: desk.runtime.unclaim(s, item.task_id, actor("tech.wang")))
    assert on_site(case).assignee == "tech.wang"

    # When a supervisor reassigns it to tom, tom may do it
    desk.trigger(lambda s: desk.runtime.reassign(s, item.task_id, actor("sue"), "tom", "wang is ill"))
    desk.trigger(lambda s: desk.runtime.claim(s, item.task_id, actor("tom")))
    assert on_site(case).assignee == "tom"


def actor(name: str):
    from engine.identity import Actor

    roles = {"tom": "technician", "tech.wang": "technician", "tech.zhao": "technician", "sue": "supervisor"}
    return Actor(name, frozenset({roles[name]}))


def test_a_technician_not_set_up_as_a_user_leaves_the_visit_in_the_group_queue(database, runtime, clock,
                                                                                make_user):
    # Given the dispatched tech.wang has no staff account
    staff = {role: make_user(name, role) for role, name in (("agent", "ann"), ("technician", "tom"),
                                                            ("warehouse", "wes"), ("supervisor", "sue"))}
    desk = Desk(database, runtime, clock, staff)
    desk.deploy()
    case = inspection_booked(desk)
    # Then the inspection waits for the technicians' group and a member can take it
    assert on_site(case).assignee is None
    case.inspect_on_site()
    assert "inspect_on_site" not in case.ready()


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"day": "2026-03-01"}, "starts_at", r"The appointment 2026-03-01 10:00 is in the past"),
    ({"technician": "tech.nobody"}, "technician", "There is no active technician tech.nobody"),
    ({"end": "09:00"}, "ends_at", "The window must end after it starts"),
    ({"technician": "tech.qian"}, "technician", r"tech.qian is on leave on 2026-03-04 \(until 2026-03-08\)"),
])
def test_a_bad_move_names_its_field_and_changes_nothing(desk, change, field, message):
    # Given a booked inspection
    case = inspection_booked(desk)
    before = snapshot(desk, case)
    visit = the_visit(desk, case)
    form = {"technician": "tech.zhao", "day": "2026-03-04", "start": "10:00", "end": "12:00", **change}

    # When the supervisor moves it with one bad value
    with pytest.raises(InvalidInput, match=message) as info:
        desk.trigger(lambda s: move_visit(s, desk.runtime, actor("sue"), visit.id, form["technician"],
                                          local(form["day"], form["start"]), local(form["day"], form["end"]),
                                          desk.clock.now()))
    # Then the error names the field and nothing changed
    assert info.value.details["field"] == field
    assert snapshot(desk, case) == before


@pytest.mark.parametrize(("technician", "message"), [
    ("tech.zhao", "tech.zhao does not have the skill washing_machine this visit needs"),
    ("tech.liu", "tech.liu works in region north, not in east where this visit is"),
])
def test_a_move_to_a_technician_without_the_skill_or_outside_the_region_is_refused(desk, technician, message):
    # Given tech.wang's inspection of an east-region washer
    case = inspection_booked(desk)
    before = snapshot(desk, case)
    visit = the_visit(desk, case)
    # When the supervisor gives it to a technician without washers, or one from the north
    with pytest.raises(InvalidInput, match=message) as info:
        desk.trigger(lambda s: move_visit(s, desk.runtime, actor("sue"), visit.id, technician,
                                          local("2026-03-04", "10:00"), local("2026-03-04", "12:00"),
                                          desk.clock.now()))
    # Then the error names the technician field and nothing changed
    assert info.value.details["field"] == "technician"
    assert snapshot(desk, case) == before


def test_a_visit_cannot_be_moved_onto_another_visit_of_the_technician(desk):
    first, second = inspection_booked(desk), inspection_booked(desk, "WMF80-0002")
    a, b = the_visit(desk, first), the_visit(desk, second)
    assert a.technician == b.technician == "tech.wang"
    before = snapshot(desk, second)
    with pytest.raises(InvalidInput, match=f"tech.wang already has the visit for {first.ticket_number}"):
        desk.trigger(lambda s: move_visit(s, desk.runtime, actor("sue"), b.id, "tech.wang", a.starts_at,
                                          a.ends_at, desk.clock.now()))
    assert snapshot(desk, second) == before


def test_moving_a_visit_hands_over_the_task_tells_the_customer_and_is_audited(desk):
    # Given tech.wang's inspection
    case = inspection_booked(desk)
    visit = the_visit(desk, case)
    sent = len(case.notifications())

    # When the supervisor gives it to tech.qian (east, washers) on Monday 14:00–16:00, back from leave
    start, end = local("2026-03-09", "14:00"), local("2026-03-09", "16:00")
    desk.trigger(lambda s: move_visit(s, desk.runtime, actor("sue"), visit.id, "tech.qian", start, end,
                                      desk.clock.now()))

    # Then the visit and the on-site task are tech.qian's
    moved = the_visit(desk, case)
    assert (moved.technician, moved.starts_at, moved.ends_at) == ("tech.qian", start, end)
    assert on_site(case).assignee == "tech.qian"
    # and the customer is told the new window through the outbox
    assert case.notifications()[sent:] == ["scheduled"]
    body = desk.read(lambda s: s.scalars(select(Outbox).order_by(Outbox.id.desc())).first().body)
    assert "2026-03-09 14:00" in body and "Qian Yu" in body
    # and the ticket's trail says who moved it from where to where
    event = [e for e in desk.read(lambda s: events_for(s, case.instance_id)) if e.kind == "dispatch.visit_moved"][-1]
    assert event.actor == "sue"
    assert event.data["from"]["technician"] == "tech.wang" and event.data["to"]["technician"] == "tech.qian"


def test_a_technician_reschedules_only_the_window_of_their_own_visit(desk):
    case = inspection_booked(desk)
    visit = the_visit(desk, case)
    start, end = local("2026-03-05", "09:00"), local("2026-03-05", "11:00")
    with pytest.raises(PermissionDenied, match="only a supervisor can move it"):
        desk.trigger(lambda s: move_visit(s, desk.runtime, actor("tom"), visit.id, "tech.wang", start, end,
                                          desk.clock.now()))
    with pytest.raises(InvalidInput, match="Only a supervisor can give the visit to another technician"):
        desk.trigger(lambda s: move_visit(s, desk.runtime, actor("tech.wang"), visit.id, "tech.zhao", start, end,
                                          desk.clock.now()))
    desk.trigger(lambda s: move_visit(s, desk.runtime, actor("tech.wang"), visit.id, "tech.wang", start, end,
                                      desk.clock.now()))
    assert (the_visit(desk, case).starts_at, on_site(case).assignee) == (start, "tech.wang")
    assert case.notifications()[-1] == "scheduled"


def test_a_window_that_ends_while_the_visit_waits_is_flagged_as_missed(desk):
    # Given a booked inspection
    case = inspection_booked(desk)
    visit = the_visit(desk, case)
    missed = lambda: desk.read(lambda s: [v.ticket for v in appointments.missed_visits(s, desk.clock.now())])  # noqa: E731
    assert missed() == []
    # When the engine's clock passes the window's end with the inspection still waiting
    desk.clock.set(visit.ends_at + timedelta(minutes=1))
    # Then the supervisor's list flags it
    assert missed() == [case.ticket_number]
    # And once the technician has done the inspection it is no longer missed
    case.inspect_on_site()
    assert missed() == []


def test_the_week_board_shows_each_technicians_visits_load_and_leave(desk):
    case = inspection_booked(desk)
    visit = the_visit(desk, case)
    day = visit.starts_at.astimezone(ZONE).date()
    board = desk.read(lambda s: appointments.dispatch_board(s, day, desk.clock.now()))
    assert [v.ticket for v in board.cells[("tech.wang", day)]] == [case.ticket_number]
    assert board.load["tech.wang"] == 1 and board.load["tech.zhao"] == 0
    qian = desk.read(lambda s: s.get(Technician, "tech.qian"))
    assert qian.leave and board.on_leave[("tech.qian", day)] is True


def test_a_visit_dispatch_could_not_place_is_booked_by_a_supervisor_and_the_task_follows(desk):
    # Given every east washer technician is away today, so dispatch asks a supervisor
    with desk.database.transaction() as s:
        s.get(Technician, "tech.wang").leave = [{"from": "2026-03-01", "to": "2026-03-03"}]
    case = inspection_booked(desk)
    assert case.ready() == ["assign_technician_manually"]
    task = case.work_items()[0]
    board = desk.read(lambda s: appointments.dispatch_board(s, date(2026, 3, 2), desk.clock.now()))
    assert [w.business_key for w in board.waiting] == [case.ticket_number]

    # When the supervisor books tech.wang in the past, or on a day of his leave, nothing happens
    for day, message in (("2026-03-01", "is in the past"), ("2026-03-03", "tech.wang is on leave on 2026-03-03")):
        with pytest.raises(InvalidInput, match=message):
            desk.trigger(lambda s, d=day: book_visit(s, desk.runtime, actor("sue"), task.task_id, "tech.wang",
                                                     local(d, "10:00"), local(d, "12:00"), desk.clock.now()))
        assert case.ready() == ["assign_technician_manually"]
        assert desk.read(lambda s: s.scalar(select(func.count()).select_from(Assignment))) == 0

    # When the supervisor books him on Thursday 10:00–12:00
    desk.trigger(lambda s: book_visit(s, desk.runtime, actor("sue"), task.task_id, "tech.wang",
                                      local("2026-03-05", "10:00"), local("2026-03-05", "12:00"), desk.clock.now()))
    # Then the customer is told, and the on-site inspection is tech.wang's
    assert case.notifications()[-1] == "scheduled"
    assert on_site(case).assignee == "tech.wang"
    assert the_visit(desk, case).starts_at == local("2026-03-05", "10:00")
    assert case.data()["technician_assignment"]["technician"] == "tech.wang"


def test_a_manual_assignment_on_the_supervisors_form_books_the_visit_and_the_task_follows(desk):
    # Given every east washer technician is away today, so dispatch asks a supervisor
    with desk.database.transaction() as s:
        s.get(Technician, "tech.wang").leave = [{"from": "2026-03-01", "to": "2026-03-03"}]
    case = inspection_booked(desk)
    assert case.ready() == ["assign_technician_manually"]

    # When the supervisor records tech.wang for Thursday 10:00–12:00 on the task's own form
    case.complete("assign_technician_manually", {
        "technician": "tech.wang", "name": "Wang Lei", "reason": "Back from leave on Wednesday",
        "appointment": {"start": "2026-03-05T10:00:00+08:00", "end": "2026-03-05T12:00:00+08:00"}})

    # Then the process records the visit, the customer is told, and the inspection is tech.wang's
    assert case.took("record_manual_visit", "notify_appointment")
    visit = the_visit(desk, case)
    assert (visit.technician, visit.starts_at, visit.ends_at) == (
        "tech.wang", local("2026-03-05", "10:00"), local("2026-03-05", "12:00"))
    assert "Back from leave" in visit.reason
    assert case.notifications()[-1] == "scheduled"
    assert on_site(case).assignee == "tech.wang"
    # and the visit is on tech.wang's day and on the board, no longer waiting
    day = desk.read(lambda s: appointments.my_day(s, desk.runtime.specs, actor("tech.wang"), "tech.wang",
                                                  date(2026, 3, 5), desk.clock.now()))
    assert [v.ticket for v in day] == [case.ticket_number]
    board = desk.read(lambda s: appointments.dispatch_board(s, date(2026, 3, 2), desk.clock.now()))
    assert [v.ticket for v in board.cells[("tech.wang", date(2026, 3, 5))]] == [case.ticket_number]
    assert board.waiting == []


@pytest.mark.parametrize(("technician", "day", "message"), [
    ("tech.wang", "2026-03-03", "starts_at: tech.wang is on leave on 2026-03-03|technician: tech.wang is on leave"),
    ("tech.wang", "2026-03-01", "starts_at: The appointment 2026-03-01 10:00 is in the past"),
])
def test_a_manual_assignment_the_dispatch_cannot_keep_goes_back_to_the_supervisor(desk, technician, day, message):
    # Given a visit waiting for a supervisor
    with desk.database.transaction() as s:
        s.get(Technician, "tech.wang").leave = [{"from": "2026-03-01", "to": "2026-03-03"}]
    case = inspection_booked(desk)
    sent = case.notifications()

    # When the supervisor records a window on leave, in the past, or an unknown technician
    case.complete("assign_technician_manually", {
        "technician": technician, "name": "Somebody", "reason": "The only one I could reach",
        "appointment": {"start": f"{day}T10:00:00+08:00", "end": f"{day}T12:00:00+08:00"}})

    # Then nothing is booked or sent, and the task is back with the refusal naming the field
    assert case.ready() == ["assign_technician_manually"]
    assert "manual_visit_refused" in case.path()
    assert desk.read(lambda s: s.scalar(select(func.count()).select_from(Assignment))) == 0
    assert case.notifications() == sent
    assert re.search(message, case.data()["assignment_error"]["message"])
