"""The field on a 390 px phone in Chromium, in Chinese and English: the supervisor moves a visit
on the dispatch board (bad input refused on its field, nothing changed), a missed window is
flagged, and the technician opens *My day*, calls the customer, and records the repair with the
part reserved from stock. Screenshots: ``test-artifacts/screenshots/technician-*.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.identity import Actor
from engine.models import WorkItem
from handlers.attachments import list_attachments
from handlers.dispatch import Assignment
from handlers.outbox import Outbox
from handlers.parts import Reservation
from handlers.values import business_timezone
from tests.conftest import PROCESSES
from tests.process.driver import Desk
from tests.web.live import chromium, live_site, shot, sign_in
from tests.web.test_browser_phone import PHONE, too_wide

pytestmark = pytest.mark.browser
USERS = {"tech.wang": ["technician"], "tech.zhao": ["technician"], "sue": ["supervisor"], "ann": ["agent"],
         "wes": ["warehouse"], "quinn": ["qa"]}
ZONE = business_timezone()


@contextmanager
def field_site(tmp_path: Any, sqlite_template: Any, clock: Any) -> Iterator[tuple[str, Any, Desk]]:
    """Serve the real processes and catalogue; the desk's staff are the site's users (tech.wang the technician)."""
    with live_site(tmp_path, sqlite_template, [PROCESSES], USERS, catalogue=PROCESSES / "data") as (base, services):
        staff = {role: Actor(name, frozenset({role})) for name, role in
                 (("ann", "agent"), ("tech.wang", "technician"), ("wes", "warehouse"), ("sue", "supervisor"),
                  ("quinn", "qa"))}
        yield base, services, Desk(services.db, services.runtime, clock, staff)


@pytest.fixture
def field(tmp_path, sqlite_template, clock):
    """A live site on the real processes; a washer ticket quoted, accepted and dispatched to tech.wang."""
    with field_site(tmp_path, sqlite_template, clock) as (base, _services, desk):
        case = desk.open_case().register().diagnose().propose()
        case.answer_quote(True)
        assert case.ready() == ["repair_device"]
        yield base, desk, case


def state(desk: Desk, ticket: str) -> dict[str, Any]:
    """What a refused change must leave alone: the visit, the task's assignee, the outbox."""
    def read(s):  # type: ignore[no-untyped-def]
        visit = s.scalars(select(Assignment).where(Assignment.ticket_number == ticket,
                                                   Assignment.status == "open")).one()
        task = s.scalars(select(WorkItem).where(WorkItem.business_key == ticket,
                                                WorkItem.element_id == "repair_device")).first()
        return {"visit": (visit.id, visit.technician, visit.starts_at, visit.ends_at),
                "assignee": task.assignee if task else None,
                "outbox": s.scalar(select(func.count()).select_from(Outbox))}
    return desk.read(read)


def photos(desk: Desk, ticket: str) -> list[tuple[str, str, str]]:
    return desk.read(lambda s: [(a.filename, a.source, a.uploaded_by) for a in list_attachments(s, ticket)])


def phone(browser: Any, base: str, user: str, lang: str) -> Any:
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN" if lang == "zh" else "en-US", has_touch=True,
                              is_mobile=True)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, base, user)
    page.goto(f"{base}/lang/{lang}?next=/tasks")
    return page


def refused_as_past(form: Any) -> None:
    """Assert that a window form says, on its start field and in Chinese, that 2026-03-01 10:00 is past."""
    alert = form.locator("[role=alert]")
    assert alert.get_attribute("data-field") == "starts_at"
    assert alert.inner_text() == "开始：预约时间 2026-03-01 10:00 已经过去。"
    assert form.locator("input[name=start]").get_attribute("aria-invalid") == "true"


def move(page: Any, technician: str, day: str, start: str, end: str) -> None:
    """Fill the board's move form (any technician name, even one the list does not offer) and send it."""
    page.evaluate("""(name) => { const s = document.querySelector('#move select[name=technician]');
        if (![...s.options].some(o => o.value === name)) s.add(new Option(name, name)); s.value = name; }""",
                  technician)
    page.fill("#move input[name=day]", day)
    page.fill("#move input[name=start]", start)
    page.fill("#move input[name=end]", end)
    page.click("#move button[type=submit]")


def test_the_supervisor_moves_a_visit_and_the_technician_does_it_on_a_phone(field):
    base, desk, case = field
    ticket = case.ticket_number
    before = state(desk, ticket)
    visit_id, tech, starts_at, _ends = before["visit"]
    assert tech == "tech.wang" and before["assignee"] == "tech.wang"  # the dispatched technician is the assignee
    week = starts_at.astimezone(ZONE).date()

    with chromium() as context:
        browser = context.browser
        # --- the supervisor, in Chinese: bad moves are refused on their field and change nothing
        page = phone(browser, base, "sue", "zh")
        page.goto(f"{base}/dispatch?week={week.isoformat()}&visit={visit_id}")
        assert page.locator("h1").inner_text() == "派工看板"
        assert page.locator(f"tr[data-tech='tech.wang'] td[data-day='{week.isoformat()}'] .chip").inner_text() \
            .startswith(ticket)
        assert too_wide(page, "dispatch board zh") == []
        move(page, "tech.wang", "2026-03-01", "10:00", "12:00")
        refused_as_past(page.locator("#move"))
        shot(page, "technician-board-past-zh")
        assert state(desk, ticket) == before
        move(page, "tech.nobody", "2026-03-04", "10:00", "12:00")
        assert page.locator("#move [role=alert]").inner_text() == "技术员：没有在岗的技术员 tech.nobody。"
        assert state(desk, ticket) == before
        move(page, "tech.wang", "2026-03-04", "12:00", "10:00")
        assert page.locator("#move [role=alert]").inner_text() == "结束：预约时段的结束时间必须晚于开始时间。"
        assert state(desk, ticket) == before
        page.context.close()

        # --- in English, the supervisor moves the visit to Wednesday 10:00–12:00; the customer is told
        page = phone(browser, base, "sue", "en")
        page.goto(f"{base}/dispatch?week={week.isoformat()}&visit={visit_id}")
        move(page, "tech.wang", "2026-03-04", "10:00", "12:00")
        assert f"The visit for {ticket} is now tech.wang's, 2026-03-04 10:00" in page.locator(".flash.ok").inner_text()
        after = state(desk, ticket)
        assert after["visit"][2].astimezone(ZONE).strftime("%Y-%m-%d %H:%M") == "2026-03-04 10:00"
        assert after["outbox"] == before["outbox"] + 1 and after["assignee"] == "tech.wang"
        assert page.locator("tr[data-tech='tech.wang'] td[data-day='2026-03-04'] .chip").count() == 1
        shot(page, "technician-board-moved-en")

        page.context.close()

        # --- the window passes by the engine's clock with the repair not done: the board flags it
        desk.clock.set(after["visit"][3] + timedelta(minutes=5))
        page = phone(browser, base, "sue", "en")  # (a new sign-in: two days idle ended the last session)
        page.goto(f"{base}/dispatch?week={week.isoformat()}")
        missed = page.locator("section.missed-list")
        assert missed.get_attribute("role") == "alert" and ticket in missed.inner_text()
        assert "Missed windows (1)" in missed.inner_text()
        shot(page, "technician-board-missed-en")
        page.context.close()

        # --- the technician in Chinese: My day, the call and message buttons, a refused reschedule
        page = phone(browser, base, "tech.wang", "zh")
        page.goto(f"{base}/my-day?day=2026-03-03")
        page.click("a[rel=next]")
        assert page.locator(".daynav strong").get_attribute("data-day") == "2026-03-04"
        card = page.locator(f"li.visit[data-ticket='{ticket}']")
        assert card.locator("h2.customer").inner_text() == "Li Na"
        assert card.locator("a.call").get_attribute("href") == "tel:+8613800000001"
        assert card.locator("a.message").get_attribute("href") == "sms:+8613800000001"
        assert card.locator("time").inner_text() == "10:00–12:00"
        assert card.locator(".tag.missed").inner_text() == "已错过预约时段"
        assert "WM-PUMP-01" in card.locator("ul.parts").inner_text()
        assert "washer does not drain" in card.inner_text()
        assert too_wide(page, "my day zh") == []
        shot(page, "technician-my-day-zh")
        card.locator("details.reschedule summary").click()
        card.locator("input[name=day]").fill("2026-03-01")
        card.locator("details.reschedule button[type=submit]").click()
        card = page.locator(f"li.visit[data-ticket='{ticket}']")
        assert card.locator("[role=alert]").inner_text() == "开始：预约时间 2026-03-01 10:00 已经过去。"
        assert state(desk, ticket) == after
        shot(page, "technician-reschedule-refused-zh")
        page.context.close()

        # --- in English: open the task from My day and record the repair with the reserved pump
        page = phone(browser, base, "tech.wang", "en")
        page.goto(f"{base}/my-day?day=2026-03-04")
        card = page.locator(f"li.visit[data-ticket='{ticket}']")
        assert card.locator("a.call").inner_text() == "Call +86 138 0000 0001"
        assert "Drain pump" in card.locator("ul.parts").inner_text() or "WM-PUMP-01 ×" in card.inner_text()
        shot(page, "technician-my-day-en")
        card.locator("a.open-task").click()
        assert page.locator("h1").inner_text() == "Repair the device"
        # a photo from the phone's camera goes to the ticket's files; a program posing as one does not
        camera = page.locator("form.photo input[name=photo]")
        assert (camera.get_attribute("accept"), camera.get_attribute("capture")) == ("image/*", "environment")
        camera.set_input_files(files=[{"name": "setup.jpg", "mimeType": "image/jpeg", "buffer": b"MZ\x90\x00"}])
        page.click("form.photo button[type=submit]")
        assert page.locator(".flash.error").inner_text().startswith("Photo: setup.jpg was not kept")
        assert photos(desk, ticket) == []
        page.locator("form.photo input[name=photo]").set_input_files(
            files=[{"name": "pump.png", "mimeType": "image/png", "buffer": page.screenshot()}])
        page.click("form.photo button[type=submit]")
        assert page.locator(".flash.ok").inner_text() == f"The photo pump.png is kept with ticket {ticket}."
        assert photos(desk, ticket) == [("pump.png", "task:photo", "tech.wang")]
        page.fill("[name=work_done]", "Replaced the jammed drain pump; drains again")
        sku = page.locator("[name='parts_used.0.sku']")
        if sku.evaluate("e => e.tagName") == "SELECT":  # the catalogue's parts picker: each part with its stock
            assert "in stock" in sku.locator("option[value='WM-PUMP-01']").inner_text()
            sku.select_option("WM-PUMP-01")
        else:  # a bundle whose form types the part number
            sku.fill("WM-PUMP-01")
        page.fill("[name='parts_used.0.quantity']", "1")
        page.fill("[name=time_spent_minutes]", "75")
        assert too_wide(page, "repair task en") == []
        shot(page, "technician-repair-form-en")
        page.click("button:has-text('Complete task')")
        assert "is done" in page.locator(".flash.ok").inner_text()
        page.context.close()

    # Then the pump left the ticket's reservation and the quality inspection is next
    consumed = desk.read(lambda s: s.scalar(select(func.sum(Reservation.consumed)).where(
        Reservation.ticket_number == ticket, Reservation.sku == "WM-PUMP-01")))
    assert consumed == 1
    assert case.ready() == ["inspect_repair"]
