"""A visit dispatch could not place, booked on a 390 px phone in Chromium, in Chinese and English: the
supervisor picks it from the board's *Waiting for a technician* list (a window in the past is refused
on its field, nothing booked), books it, and the technician finds it on *My day* with the on-site task
theirs. Screenshots: ``test-artifacts/screenshots/technician-booking-*.png``.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from engine.models import WorkItem
from handlers.dispatch import Assignment, Technician
from handlers.outbox import Outbox
from tests.process.driver import Desk
from tests.web.live import chromium, shot
from tests.web.test_browser_phone import too_wide
from tests.web.test_technician_browser import field_site, phone, refused_as_past

pytestmark = pytest.mark.browser


@pytest.fixture
def waiting(tmp_path, sqlite_template, clock):
    """A live site on the real processes; every east washer technician is away, so a visit waits for a supervisor."""
    with field_site(tmp_path, sqlite_template, clock) as (base, services, desk):
        with services.db.transaction() as s:
            s.get(Technician, "tech.wang").leave = [{"from": "2026-03-01", "to": "2026-03-03"}]
        case = desk.open_case().register().respond().assist()
        assert case.ready() == ["assign_technician_manually"]
        yield base, desk, case


def booked(desk: Desk, ticket: str) -> dict[str, Any]:
    """What a refused booking must leave alone: no visit, the supervisor's task, the outbox."""
    def read(s):  # type: ignore[no-untyped-def]
        return {"visits": s.scalar(select(func.count()).select_from(Assignment)),
                "tasks": [(w.element_id, w.assignee) for w in s.scalars(select(WorkItem).where(
                    WorkItem.business_key == ticket))],
                "outbox": s.scalar(select(func.count()).select_from(Outbox))}
    return desk.read(read)


def book(form: Any, day: str, start: str, end: str) -> None:
    """Fill a waiting visit's booking form for tech.wang and send it."""
    form.locator("select[name=technician]").select_option("tech.wang")
    form.locator("input[name=day]").fill(day)
    form.locator("input[name=start]").fill(start)
    form.locator("input[name=end]").fill(end)
    form.locator("button[type=submit]").click()


def test_a_supervisor_books_a_waiting_visit_on_a_phone_and_the_technician_sees_it_on_my_day(waiting):
    base, desk, case = waiting
    ticket = case.ticket_number
    task = case.work_items()[0].task_id
    before = booked(desk, ticket)
    assert before["visits"] == 0 and before["tasks"] == [("assign_technician_manually", None)]

    with chromium() as context:
        browser = context.browser
        # --- the supervisor, in Chinese: the waiting visit is listed; a window in the past is refused
        page = phone(browser, base, "sue", "zh")
        page.goto(f"{base}/dispatch?week=2026-03-02")
        waiting_list = page.locator("section.waiting")
        assert waiting_list.locator("h2").inner_text() == "待派技术员 (1)"
        form = page.locator(f"form.assign[data-task='{task}']")
        assert ticket in form.inner_text()
        assert too_wide(page, "dispatch board waiting zh") == []
        book(form, "2026-03-01", "10:00", "12:00")
        refused_as_past(page.locator(f"form.assign[data-task='{task}']"))
        shot(page, "technician-booking-refused-zh")
        assert booked(desk, ticket) == before
        page.context.close()

        # --- in English, the supervisor books tech.wang on Thursday 10:00–12:00; the customer is told
        page = phone(browser, base, "sue", "en")
        page.goto(f"{base}/dispatch?week=2026-03-02")
        book(page.locator(f"form.assign[data-task='{task}']"), "2026-03-05", "10:00", "12:00")
        assert page.locator(".flash.ok").inner_text() == (
            f"The visit for {ticket} is booked with tech.wang, 2026-03-05 10:00; the customer is told.")
        assert page.locator("section.waiting").count() == 0
        chip = page.locator("tr[data-tech='tech.wang'] td[data-day='2026-03-05'] .chip")
        assert chip.inner_text().startswith(ticket)
        assert too_wide(page, "dispatch board booked en") == []
        shot(page, "technician-booking-booked-en")
        page.context.close()
        after = booked(desk, ticket)
        assert after["visits"] == 1 and after["outbox"] == before["outbox"] + 1
        assert after["tasks"] == [("inspect_on_site", "tech.wang")]  # the booked technician's task

        # --- the technician, in Chinese and English, finds the visit on My day and opens the inspection
        for lang, title in (("zh", "上门检测设备"), ("en", "Inspect the device on site")):
            page = phone(browser, base, "tech.wang", lang)
            page.goto(f"{base}/my-day?day=2026-03-05")
            card = page.locator(f"li.visit[data-ticket='{ticket}']")
            assert card.locator("time").inner_text() == "10:00–12:00"
            assert card.locator("h2.customer").inner_text() == "Li Na"
            assert too_wide(page, f"my day booked {lang}") == []
            shot(page, f"technician-booking-my-day-{lang}")
            card.locator("a.open-task").click()
            assert page.locator("h1").inner_text() == title
            page.context.close()
