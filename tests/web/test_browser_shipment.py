"""A customer on a phone whose device goes to the repair centre reads where to send it (zh and en), and no
longer sees the visit booked for the inspection: the real bundle, one request taken along the RMA route."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from engine import clock as engine_clock
from tests.support.states import frozen_clock
from tests.web.live import chromium, desk_site, shot

pytestmark = pytest.mark.browser
STAFF = {"ann": "agent", "tom": "technician", "wes": "warehouse", "sue": "supervisor"}


@pytest.fixture(scope="module")
def clock() -> Iterator[engine_clock.FrozenClock]:
    yield from frozen_clock()


@pytest.fixture(scope="module")
def shipped(tmp_path_factory, sqlite_template, clock):
    """A washer inspected on site, then accepted for repair at the repair centre: the RMA issued."""
    with desk_site(tmp_path_factory.mktemp("shipment"), sqlite_template, clock, STAFF) as (base, _services, desk):
        case = desk.open_case()
        case.register().respond().assist()
        clock.advance(timedelta(hours=2))
        case.inspect_on_site().propose(route="repair_centre")
        case.answer_quote(True)
        yield base, case.ticket_number, case.data()["rma"]


@pytest.mark.parametrize(("locale", "ship", "number_line"), [
    ("zh-CN", "请将设备寄至", "请在包裹上注明返修授权号"),
    ("en-US", "Send your device to", "Write the return number"),
])
def test_the_customer_reads_on_the_phone_where_to_send_the_device(shipped, locale, ship, number_line):
    base, ticket, rma = shipped
    with chromium(locale=locale) as context:
        page = context.new_page()
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{base}/service/status")
        page.fill("input[name=ticket]", ticket)
        page.fill("input[name=contact]", "li.na@example.com")
        page.locator("form.card button[type=submit]").click()
        box = page.locator("#shipment")
        box.wait_for()
        text = box.inner_text()
        assert ship in text and number_line in text and rma["rma_number"] in text
        assert rma["ship_to"]["address"] in text and rma["ship_to"]["phone"] in text
        assert page.locator("#appointment").count() == 0 and page.locator("#move-visit").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, f"customer-status-shipment-{locale[:2]}")
