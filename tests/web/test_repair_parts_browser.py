"""The repair and its quality check in Chromium, in Chinese and English: a used part the ticket has
no reservation for is refused on its row (naming it, what is reserved and the free stock) until the
technician confirms it, and a quality check that fails a test but ticks "passes" is refused on the
test and the findings. Nothing typed is lost. Screenshots: ``test-artifacts/screenshots/repair-*.png``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.live import chromium, shot
from tests.web.test_technician_browser import field_site, phone

pytestmark = pytest.mark.browser

TEXTS = {
    "zh": {"unreserved": "WM-FILTER-01 × 3 未为本工单预留（已预留 0 件，库存可用 120 件）",
           "functional": "功能测试不合格，不能勾选「维修质检合格」。", "required": "必填"},
    "en": {"unreserved": "WM-FILTER-01 × 3 is not reserved for this ticket (0 reserved, 120 free in stock)",
           "functional": "The functional test failed, so “The repair passes the inspection” cannot be ticked.",
           "required": "Required"},
}


def pick_part(page: Any, row: int, sku: str, quantity: str) -> None:
    field = page.locator(f"[name='parts_used.{row}.sku']")
    if field.evaluate("e => e.tagName") == "SELECT":
        field.select_option(sku)
    else:
        field.fill(sku)
    page.fill(f"[name='parts_used.{row}.quantity']", quantity)


def row_error(page: Any, name: str) -> str:
    """Return the error text shown beside the input ``name``."""
    described = page.locator(f"[name='{name}']").first.get_attribute("aria-describedby")
    if described:
        return page.locator(f"#{described}").inner_text()
    return page.locator(f".has-error:has([name='{name}']) .field-error").first.inner_text()


def test_unreserved_parts_and_a_contradictory_quality_check_are_refused_on_their_fields(
        tmp_path, sqlite_template, clock) -> None:
    with field_site(tmp_path, sqlite_template, clock) as (base, _services, desk):
        case = desk.open_case().register().diagnose().propose()
        case.answer_quote(True)
        [repair] = [w for w in case.work_items() if w.element_id == "repair_device"]

        with chromium() as context:
            browser = context.browser
            for lang in ("zh", "en"):
                # Given the technician's repair form with the reserved pump and three filters nobody reserved
                page = phone(browser, base, "tech.wang", lang)
                page.goto(f"{base}/tasks/{repair.task_id}")
                page.fill("[name=work_done]", "Replaced the pump and three filters")
                pick_part(page, 0, "WM-PUMP-01", "1")
                if page.locator("[name='parts_used.1.sku']").count() == 0:
                    page.locator("[data-add-row]").first.click()
                pick_part(page, 1, "WM-FILTER-01", "3")
                page.fill("[name=time_spent_minutes]", "75")
                # When it is sent without the confirmation
                page.locator("form.taskform button[type=submit]").first.click()
                # Then the filter row says it is not reserved, with the stock, and what was typed is kept
                assert TEXTS[lang]["unreserved"] in row_error(page, "parts_used.1.sku")
                assert page.locator("[name=work_done]").input_value() == "Replaced the pump and three filters"
                assert page.locator("[name='parts_used.1.quantity']").input_value() == "3"
                assert case.ready() == ["repair_device"]
                shot(page, f"repair-unreserved-part-{lang}")
                page.set_viewport_size({"width": 1366, "height": 900})  # the whole row and its error at a desk
                assert page.locator("[name='parts_used.1.quantity']").is_visible()
                shot(page, f"repair-unreserved-part-{lang}-desktop")
                if lang == "en":
                    # When the technician confirms the filters came from the van
                    page.check("[name=unreserved_parts_confirmed]")
                    page.locator("form.taskform button[type=submit]").first.click()
                page.context.close()

            # Then the warehouse reconciles the filters, and the inspection follows
            assert case.ready() == ["reconcile_used_parts"]
            case.complete("reconcile_used_parts", {"booked_manually": True, "note": "Three filters from the van"})
            [inspect] = [w for w in case.work_items() if w.element_id == "inspect_repair"]

            for lang in ("zh", "en"):
                # Given the inspection form: functional test failed, "passes" ticked, no findings
                page = phone(browser, base, "tech.wang", lang)
                page.goto(f"{base}/tasks/{inspect.task_id}")
                page.check("[name=functional_test][value=fail]")
                page.check("[name=safety_check][value=pass]")
                page.check("[name=passed]")
                page.locator("form.taskform button[type=submit]").first.click()
                # Then the functional test and the findings are named, and the answers are kept
                assert row_error(page, "functional_test") == TEXTS[lang]["functional"]
                assert TEXTS[lang]["required"] in row_error(page, "findings")
                assert page.locator("[name=functional_test][value=fail]").is_checked()
                assert page.locator("[name=passed]").is_checked()
                assert case.ready() == ["inspect_repair"]
                shot(page, f"repair-qc-contradiction-{lang}")
                page.context.close()
