"""My day and the dispatch board through the app: who sees whose day, and a visit dispatch could
not place booked on the board — a bad window refused on its field with nothing changed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from engine.identity import Actor
from engine.models import WorkItem
from handlers.dispatch import Assignment, Technician, move_visit
from handlers.values import business_timezone
from tests.process.driver import Case, Desk

ZONE = business_timezone()


def waiting_case(desk: Desk) -> tuple[Desk, Case]:
    """A washer ticket whose on-site inspection no technician could take (all away today)."""
    with desk.database.transaction() as s:
        s.get(Technician, "tech.wang").leave = [{"from": "2026-03-01", "to": "2026-03-03"}]
    case = desk.open_case().register().respond().assist()
    assert case.ready() == ["assign_technician_manually"]
    return desk, case


def test_a_technician_sees_their_own_day_and_not_a_colleagues(signed_in, role_desk):
    waiting_case(role_desk)
    tech = signed_in("technician")
    page = tech.get("/my-day").get_data(as_text=True)
    assert ('<span translate="no">technician</span> is not on the field roster, so no visits are booked for them.'
            in page and 'href="/tasks?tab=mine">My tasks</a>' in page)
    assert tech.get("/my-day?tech=tech.wang").status_code == 403
    response = tech.get("/my-day?day=yesterday")
    assert response.status_code == 400 and "day must be a date like 2026-03-02" in response.get_data(as_text=True)
    boss = signed_in("supervisor")
    page = boss.get("/my-day?tech=tech.wang&day=2026-03-02").get_data(as_text=True)
    assert "Wang Lei" in page and "No visits on this day." in page


def test_the_supervisor_books_a_waiting_visit_on_the_board(signed_in, role_desk):
    desk, case = waiting_case(role_desk)
    task = case.work_items()[0].task_id
    boss = signed_in("supervisor")
    board = boss.get("/dispatch?week=2026-03-02").get_data(as_text=True)
    assert f'data-task="{task}"' in board and "Waiting for a technician (1)" in board

    # a window in the past is refused on its field; nothing is booked, the task still waits
    form = {"task": task, "technician": "tech.zhao", "day": "2026-03-01", "start": "10:00", "end": "12:00",
            "week": "2026-03-02"}
    response = boss.post("/dispatch/assign", form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'data-field="starts_at">Starts: The appointment 2026-03-01 10:00 is in the past.' in page
    assert desk.read(lambda s: s.scalar(select(func.count()).select_from(Assignment))) == 0
    assert case.ready() == ["assign_technician_manually"]
    # an unknown technician too
    response = boss.post("/dispatch/assign", {**form, "day": "2026-03-05", "technician": "tech.nobody"})
    assert "Technician: There is no active technician tech.nobody." in response.get_data(as_text=True)
    assert case.ready() == ["assign_technician_manually"]

    # a good one books the visit, the process goes on and the inspection is the technician's
    response = boss.post("/dispatch/assign", {**form, "day": "2026-03-05"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/dispatch?week=2026-03-02")
    item = desk.read(lambda s: s.scalars(select(WorkItem).where(WorkItem.instance_id == case.instance_id)).one())
    assert (item.element_id, item.assignee) == ("inspect_on_site", None)  # tech.zhao has no staff account here
    board = boss.get("/dispatch?week=2026-03-02").get_data(as_text=True)
    assert "Waiting for a technician" not in board and case.ticket_number in board


def test_another_technician_cannot_take_the_dispatched_visit_from_the_tasklist(signed_in, role_desk, make_user):
    # Given tech.wang (a staff user) is dispatched to inspect the washer
    make_user("tech.wang", "technician")
    desk = role_desk
    case = desk.open_case().register().respond().assist()
    item = case.work_items()[0]
    assert (item.element_id, item.assignee) == ("inspect_on_site", "tech.wang")

    # When another technician tries to claim it, the page names the task, the ticket and the assignee
    other = signed_in("technician")
    other.get("/tasks")
    response = other.post(f"/tasks/{item.task_id}/claim", {"next": "/tasks"})
    assert response.status_code == 409
    assert (f"task &#39;Inspect the device on site&#39; of {case.ticket_number} is the visit dispatched to "
            "tech.wang; only a supervisor can reassign it") in response.get_data(as_text=True)
    assert case.work_items()[0].assignee == "tech.wang"


def test_the_ticket_page_shows_the_visit_as_moved_with_its_history(signed_in, role_desk, runtime, clock):
    # Given dispatch booked tech.wang for the washer's on-site inspection
    desk = role_desk
    case = desk.open_case().register().respond().assist()
    visit = desk.read(lambda s: s.scalars(select(Assignment).where(Assignment.ticket_number == case.ticket_number))
                      .one())
    booked = f"{visit.starts_at.astimezone(ZONE):%Y-%m-%d %H:%M}"
    # When the supervisor moves it to tech.qian on Monday 14:00–16:00
    start = datetime(2026, 3, 9, 14, tzinfo=ZONE)
    desk.trigger(lambda s: move_visit(s, runtime, Actor("sue", frozenset({"supervisor"})), visit.id, "tech.qian",
                                      start, start + timedelta(hours=2), clock.now()))

    # Then the ticket page's service visit is tech.qian's new window, and says who moved it from what
    page = signed_in("agent").get(f"/tickets/{case.ticket_number}").get_data(as_text=True)
    section = page[page.index("Service visit"):]
    section = section[:section.index("</section>")]
    assert "Qian Yu" in section and "tech.qian" in section and "2026-03-09 14:00" in section
    assert "Wang Lei" not in section
    assert "sue on " in section and f"tech.wang {booked} CST → tech.qian 2026-03-09 14:00 CST" in section
