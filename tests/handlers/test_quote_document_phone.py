"""The quote document a customer opens from their phone: sized for the phone, and no zero 'covered' line."""

from __future__ import annotations

import pytest

from handlers.quote import get_quote_document
from tests.handlers.samples import CUSTOMER, FAULT, PRODUCT


@pytest.mark.parametrize(("language", "covered_line"), [("en", "Covered by warranty or contract"),
                                                         ("zh", "保修/合同承担")])
def test_the_quote_document_fits_a_phone_and_shows_a_covered_line_only_when_something_is_covered(
        call, database, language, covered_line):
    number = call("ticketing.open_ticket", task="open", channel="web", customer={**CUSTOMER, "language": language},
                  product=PRODUCT, fault=FAULT, expectation="")["ticket_number"]
    nothing = call("quote.prepare", task="q1", ticket_number=number, coverage="none",
                   parts=[{"sku": "WM-PUMP-01", "quantity": 1}], labour_hours=1.5, callout=True, solution="repair")
    some = call("quote.prepare", task="q2", ticket_number=number, coverage="parts_only",
                parts=[{"sku": "WM-PUMP-01", "quantity": 1}], labour_hours=1.5, callout=True, solution="repair")
    with database.transaction(write=False) as session:
        plain = get_quote_document(session, number, nothing["quote_id"])
        covered = get_quote_document(session, number, some["quote_id"])
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in plain
    assert covered_line not in plain and "−0.00" not in plain
    assert covered_line in covered and "−85.00 CNY" in covered


@pytest.mark.browser
def test_the_quote_document_reads_on_a_phone_without_sideways_scrolling(call, database):
    from tests.web.live import chromium, shot

    number = call("ticketing.open_ticket", task="open", channel="web", customer=CUSTOMER, product=PRODUCT,
                  fault=FAULT, expectation="")["ticket_number"]
    result = call("quote.prepare", task="q", ticket_number=number, coverage="parts_only",
                  parts=[{"sku": "WM-PUMP-01", "quantity": 1}], labour_hours=1.5, callout=True, solution="repair")
    with database.transaction(write=False) as session:
        html = get_quote_document(session, number, result["quote_id"])
    with chromium(locale="zh-CN") as context:
        page = context.new_page()
        page.set_viewport_size({"width": 390, "height": 844})
        page.set_content(html)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.evaluate("getComputedStyle(document.body).fontSize") == "15px"
        shot(page, "quote-document-phone-zh")
