"""In Chromium, phone and desktop, English and Chinese: a customer gets a ticket number at once,
reads the status in their words, and an agent triages that same ticket."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import select

from handlers.ticketing import Ticket
from tests.conftest import PROCESSES
from tests.web.live import chromium, live_site, shot, sign_in

pytestmark = pytest.mark.browser
USERS = {"ann": ["agent"]}
TEXTS = {
    "en": {"thanks": "Thank you, we have your request.", "next": "An agent is checking your request",
           "future": "The purchase date cannot be in the future.", "added": "an agent will read it",
           "empty": "Write what you would like to add.", "triage_next": "We are working on your request"},
    "zh": {"thanks": "谢谢，我们已收到您的请求。", "next": "客服正在核对您的请求",
           "future": "购买日期不能晚于今天。", "added": "客服会查看", "empty": "请填写您要补充的内容。",
           "triage_next": "我们正在处理您的请求"},
}


@pytest.fixture
def site(tmp_path, sqlite_template):
    """The real after-sales process with its demo catalogue, served on loopback."""
    with live_site(tmp_path, sqlite_template, [PROCESSES], USERS, catalogue=PROCESSES / "data") as served:
        yield served


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize(("locale", "width"), [("en-US", 390), ("zh-CN", 390), ("en-US", 1360), ("zh-CN", 1360)])
def test_a_customer_gets_a_number_at_once_sees_the_status_and_an_agent_triages_that_ticket(site, locale, width):
    base, services = site
    lang, size = locale[:2], "phone" if width == 390 else "desktop"
    text = TEXTS[lang]
    with chromium(locale) as context:
        page = context.new_page()
        page.set_viewport_size({"width": width, "height": 860})
        # Given a customer describing a washer that does not drain
        page.goto(f"{base}/service/request")
        page.fill("[name='customer.name']", "Wang Fang")
        page.fill("[name='customer.email']", f"wang.{lang}.{width}@example.com")
        page.select_option("[name='product.model']", "WM-F80")
        page.fill("[name='product.serial_number']", f"WMF80-{width}-{lang}")
        page.fill("[name='product.purchase_date']", "2099-01-01")
        words = "The washer does not drain, E21" if lang == "en" else "洗衣机不排水，E21"
        page.fill("[name='fault.description']", words)
        # Then articles for the washer appear before anything is sent
        page.locator("#kb-suggestions li a").first.wait_for()
        assert fits(page)
        shot(page, f"intake-{lang}-{size}-01-suggestions")

        # When they send it with a purchase date in the future, the date is refused on its field
        page.click("button.primary")
        assert page.locator("#f-product-purchase_date-error").inner_text() == text["future"]
        assert page.input_value("[name='customer.name']") == "Wang Fang"
        shot(page, f"intake-{lang}-{size}-02-future-date")

        # When they correct it and send, the ticket number is on the page at once
        page.fill("[name='product.purchase_date']", "2025-09-01")
        page.click("button.primary")
        assert page.locator("h1").inner_text() == text["thanks"]
        number = page.locator("#ticket-number").inner_text()
        assert re.fullmatch(r"AS-\d{8}-\d{5}", number)
        assert fits(page)
        shot(page, f"intake-{lang}-{size}-03-number")

        # And the status page says in their words what comes next
        page.click("#status-link")
        status_url = page.url
        assert text["next"] in page.locator("#next-step").inner_text()
        page.click("#add-info button")  # nothing written: refused on the field
        assert page.locator("#text-error").inner_text() == text["empty"]
        page.fill("#info-text", "It also smells burnt" if lang == "en" else "还有焦味")
        page.click("#add-info button")
        assert text["added"] in page.locator("#status-notice").inner_text()
        assert fits(page)
        shot(page, f"intake-{lang}-{size}-04-status")

        # When an agent triages the request
        staff = context.new_page()
        staff.set_viewport_size({"width": width, "height": 860})
        sign_in(staff, base, "ann")
        staff.goto(f"{base}/tasks?tab=group")
        triage = "Register the request" if lang == "en" else "登记服务请求"
        staff.locator("table.tasklist tbody tr", has_text=number).locator(f"td.col-name a:text-is('{triage}')").click()
        assert number in staff.locator(".pagehead").inner_text()
        shot(staff, f"intake-{lang}-{size}-05-triage-opened")
        assert staff.input_value("[name='customer.name']") == "Wang Fang"
        staff.check("input[name='customer.tier'][value=normal]")
        staff.select_option("[name='customer.region']", "east")
        staff.check("input[name='fault.category'][value=hardware]")
        shot(staff, f"intake-{lang}-{size}-05-triage")
        staff.click("form.taskform button.primary")
        staff.wait_for_load_state()

        # Then it is still the same ticket, and the customer sees the work go on
        assert number in staff.locator("body").inner_text()
        shot(staff, f"intake-{lang}-{size}-06-after-triage")
        page.goto(status_url)
        assert text["triage_next"] in page.locator("#next-step").inner_text()
    with services.db.transaction(write=False) as s:
        assert s.scalars(select(Ticket.number)).all() == [number]  # triage opened no second ticket


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_the_customer_sees_the_visit_on_a_phone_and_moves_it_to_another_free_window(site, locale):
    from engine import clock
    from handlers import dispatch

    base, services = site
    lang = locale[:2]
    with chromium(locale) as context:
        page = context.new_page()
        page.set_viewport_size({"width": 390, "height": 860})
        page.goto(f"{base}/service/request")
        page.fill("[name='customer.name']", "Li Na")
        page.fill("[name='customer.phone']", "138 0000 0001")
        page.select_option("[name='product.model']", "WM-F80")
        page.fill("[name='product.serial_number']", "WMF80-VISIT")
        page.fill("[name='fault.description']", "Drum does not turn")
        page.click("button.primary")
        number = page.locator("#ticket-number").inner_text()
        page.click("#status-link")
        status_url = page.url
        # Given a technician's visit booked for the ticket
        with services.db.transaction() as s:
            tech = s.get(dispatch.Technician, "tech.wang")
            start, end = dispatch.next_window(tech, [], clock.now())
            s.add(dispatch.Assignment(ticket_number=number, technician="tech.wang", priority="medium", starts_at=start,
                                      ends_at=end, reason="first free window", created_at=clock.now()))
        page.goto(status_url)
        # Then the page names the time and the technician, as the customer's language writes him
        assert ("王磊" if lang.startswith("zh") else "Wang Lei") in page.locator("#appointment").inner_text()
        assert fits(page)
        shot(page, f"status-{lang}-phone-visit")
        # When the customer picks the second offered window
        chosen = page.locator("input[name=window]").nth(1)
        value = chosen.get_attribute("value")
        chosen.check()
        page.click("#move-visit button")
        # Then the visit moved there and the page says so
        assert page.locator("#status-notice").is_visible()
        shot(page, f"status-{lang}-phone-visit-moved")
    with services.db.transaction(write=False) as s:
        visit = s.scalars(select(dispatch.Assignment).where(dispatch.Assignment.ticket_number == number)).one()
    picked = tuple(datetime.fromisoformat(part) for part in value.split("|"))
    assert (visit.starts_at, visit.ends_at) == picked
