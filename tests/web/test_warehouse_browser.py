"""The warehouse in Chromium on a 390 px phone, in Chinese and English: a restock releases the
ticket waiting for its parts, a negative movement is refused on its field and changes nothing,
and both show in the stock ledger. Screenshots: ``test-artifacts/screenshots/warehouse-*.png``."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from handlers.dispatch import Assignment
from handlers.parts import Stock, StockMovement
from handlers.values import local_date
from tests.process.driver import Desk
from tests.web.live import chromium, desk_site, shot, sign_in
from tests.web.test_browser_phone import PHONE, too_wide

pytestmark = pytest.mark.browser
STAFF = {"ann": "agent", "tom": "technician", "wes": "warehouse", "sue": "supervisor", "quinn": "qa"}
MOTORS = [{"sku": "WM-MOTOR-INV", "quantity": 5}]
TEXTS = {
    "zh": {"released": "以下工单备件已到齐", "refused": "库存不能低于零", "goods_in": "入库", "book": "入库",
           "menu": "仓库"},
    "en": {"released": "These tickets had all their parts and moved on", "refused": "below zero",
           "goods_in": "Goods-in", "book": "Book in", "menu": "Warehouse"},
}


@pytest.fixture
def site(tmp_path, sqlite_template, clock) -> Any:
    """The real process and catalogue served on loopback, and a desk to drive tickets."""
    with desk_site(tmp_path, sqlite_template, clock, STAFF) as served:
        yield served


def waiting_for_motors(desk: Desk, serial: str):
    """A ticket whose motors are back-ordered, its process waiting for parts_arrived."""
    case = desk.open_case()
    case.register(product={"serial_number": serial}).diagnose(MOTORS).propose(MOTORS)
    case.complete("review_quote", {"decision": "approve"})
    case.answer_quote(True)
    assert case.waiting_for() == ["parts_arrived"]
    return case


def on_a_phone(context: Any, base: str, lang: str, path: str) -> tuple[Any, Any]:
    """Sign the warehouse clerk in on a 390 px phone in ``lang``, find the warehouse in the menu, open ``path``."""
    ctx = context.browser.new_context(viewport=PHONE, locale="zh-CN" if lang == "zh" else "en-US",
                                      has_touch=True, is_mobile=True)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, base, "wes")
    page.goto(f"{base}/lang/{lang}?next=/tasks")
    page.click("header.top details.menu > summary")
    assert page.locator("header.top details.menu nav.menu-links a", has_text=TEXTS[lang]["menu"]).count() == 1
    page.goto(base + path)
    return ctx, page


def stock_and_ledger(services) -> tuple[int, int]:
    with services.db.transaction(write=False) as s:
        return (int(s.scalar(select(func.sum(Stock.available))) or 0),
                int(s.scalar(select(func.count()).select_from(StockMovement)) or 0))


def test_the_warehouse_receives_a_restock_and_the_waiting_ticket_moves_on_in_chinese_and_english(site):
    base, services, desk = site
    problems: list[str] = []
    with chromium() as context:
        for lang in ("zh", "en"):
            words = TEXTS[lang]
            # Given a ticket waiting for back-ordered motors
            case = waiting_for_motors(desk, f"WMF80-{lang.upper()}-7")  # one ticket each
            ticket = case.ticket_number
            ctx, page = on_a_phone(context, base, lang, "/warehouse/")
            problems += too_wide(page, f"{lang} /warehouse/")
            shot(page, f"warehouse-{lang}-stock")
            # When the warehouse opens the back-orders and books the delivery in from the ticket's row
            page.goto(f"{base}/warehouse/backorders")
            row = page.locator(f"#wh-backorders [data-ticket='{ticket}']")
            assert row.is_visible()
            problems += too_wide(page, f"{lang} /warehouse/backorders")
            shot(page, f"warehouse-{lang}-backorders")
            row.get_by_role("link", name=words["goods_in"]).click()
            page.wait_for_url("**/warehouse/goods-in?**")
            assert page.input_value("#wh-goods-in input[name=sku]") == "WM-MOTOR-INV"  # from the back-order
            page.fill("#wh-goods-in input[name=reference]", f"DN-{lang}-0042")
            page.click(f"#wh-goods-in button:has-text('{words['book']}')")
            # Then the page names the ticket that moved on, and the ticket's repair is ready
            released = page.locator("#wh-released")
            assert ticket in released.inner_text()
            assert words["released"] in page.locator("#wh-goods-in-done").inner_text()
            problems += too_wide(page, f"{lang} goods-in done")
            shot(page, f"warehouse-{lang}-goods-in-released")
            assert case.ready() == ["repair_device"]
            # When a count correction would take more than is free
            before = stock_and_ledger(services)
            page.goto(f"{base}/warehouse/adjust")
            page.fill("#wh-adjust input[name=sku]", "WM-PUMP-01")
            page.select_option("#wh-adjust select[name=warehouse]", "WH-SH")
            page.fill("#wh-adjust input[name=quantity]", "-500")
            page.fill("#wh-adjust input[name=reason]", "Water damage" if lang == "en" else "水渍损坏")
            page.click("#wh-adjust button[type=submit]")
            # Then the error is on the quantity, in the reader's language, and nothing changed
            field = page.locator("#wh-adjust input[name=quantity]")
            assert field.get_attribute("aria-invalid") == "true"
            assert words["refused"] in page.locator("#quantity-error").inner_text()
            assert field.input_value() == "-500"
            assert stock_and_ledger(services) == before
            problems += too_wide(page, f"{lang} adjust refused")
            shot(page, f"warehouse-{lang}-adjust-refused")
            # And the ledger shows the goods-in and the reservation it made for the ticket
            page.goto(f"{base}/warehouse/movements?sku=WM-MOTOR-INV")
            ledger = page.locator("#wh-ledger")
            assert ledger.locator("tr[data-kind='goods_in']", has_text=f"DN-{lang}-0042").count() == 1
            assert ledger.locator("tr[data-kind='reserve']", has_text=ticket).filter(
                has_text=f"DN-{lang}-0042").count() == 1
            problems += too_wide(page, f"{lang} /warehouse/movements")
            shot(page, f"warehouse-{lang}-movements")
            # And the technician's pick list of the visit day holds the ticket's parts
            with services.db.transaction(write=False) as s:
                visit = s.scalars(select(Assignment).where(Assignment.ticket_number == ticket)).first()
            if visit is not None:
                page.goto(f"{base}/warehouse/picking?day={local_date(visit.starts_at).isoformat()}")
                assert ticket in page.locator(f"section.pick[data-technician='{visit.technician}']").inner_text()
                problems += too_wide(page, f"{lang} /warehouse/picking")
                shot(page, f"warehouse-{lang}-picking")
            for path in ("/warehouse/reservations", "/warehouse/rma", "/warehouse/picking", "/warehouse/shipments"):
                page.goto(base + path)
                problems += too_wide(page, f"{lang} {path}")
            shot(page, f"warehouse-{lang}-shipments")
            ctx.close()
    assert problems == []


def test_a_device_in_the_post_is_booked_in_and_shipped_back_on_a_phone_in_chinese_and_english(site):
    base, services, desk = site
    problems: list[str] = []
    with chromium() as context:
        for lang in ("zh", "en"):
            # Given a ticket whose customer posts the device to the repair centre
            case = desk.open_case()
            case.register(product={"serial_number": f"WMF80-RMA-{lang}"}).diagnose().propose(route="repair_centre")
            case.answer_quote(True)
            rma = case.data()["rma"]["rma_number"]
            ctx, page = on_a_phone(context, base, lang, "/warehouse/rma")
            card = page.locator(f"#rma-{rma}")
            assert card.get_attribute("data-state") == "expected"
            # When the parcel is booked in without its return address, the field says so
            card.locator("input[name=condition]").fill("Box dented" if lang == "en" else "外箱凹陷")
            card.locator("button[type=submit]").click()
            card = page.locator(f"#rma-{rma}")
            assert card.locator("input[name=address]").get_attribute("aria-invalid") == "true"
            assert case.waiting_for() == ["device_received"]
            shot(page, f"warehouse-{lang}-rma-refused")
            card.locator("input[name=address]").fill("上海市浦东新区世纪大道 88 号")
            card.locator("button[type=submit]").click()
            # Then the ticket moves on to the device check, and the device is due back to the customer
            assert page.locator(f"#rma-{rma}").get_attribute("data-state") == "received"
            assert case.lanes() == {"check_received_device": "warehouse"}
            problems += too_wide(page, f"{lang} rma received")
            shot(page, f"warehouse-{lang}-rma-received")
            page.goto(f"{base}/warehouse/shipments?status=to_ship")
            parcel = page.locator("article[data-status='to_ship']", has_text=case.ticket_number)
            assert "Li Na" in parcel.inner_text() and "世纪大道 88 号" in parcel.inner_text()
            assert "138" not in parcel.inner_text() and "@" not in parcel.inner_text()  # no phone, no e-mail
            parcel.locator("input[name=carrier]").fill("SF Express" if lang == "en" else "顺丰速运")
            parcel.locator("input[name=tracking_number]").fill(f"SF{lang.upper()}0001")
            parcel.locator("button[type=submit]").click()
            page.goto(f"{base}/warehouse/shipments?status=shipped")
            assert f"SF{lang.upper()}0001" in page.locator("main").inner_text()
            problems += too_wide(page, f"{lang} shipped")
            shot(page, f"warehouse-{lang}-shipped")
            ctx.close()
    assert problems == []
