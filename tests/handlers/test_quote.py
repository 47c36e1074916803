"""Quotes: decimal amounts, coverage applied, a printable escaped document stored once."""

from __future__ import annotations

import pytest

from engine.errors import HandlerError
from engine.registry import BusinessError
from handlers.quote import Quote, get_quote_document
from tests.handlers.samples import CUSTOMER, FAULT, PRODUCT

ENGLISH = {**CUSTOMER, "language": "en", "name": "Anna <b>Schmidt</b> & Co"}


@pytest.fixture
def ticket(call):
    """Open a ticket for an English-speaking customer with a WM-F80 washer."""
    return call("ticketing.open_ticket", task="open", channel="web", customer=ENGLISH, product=PRODUCT, fault=FAULT,
                expectation="")["ticket_number"]


def quote(call, ticket, task="quote", coverage="none", parts=(("WM-PUMP-01", 1),), hours=1.5, callout=True,
          solution="repair"):
    return call("quote.prepare", task=task, ticket_number=ticket, coverage=coverage,
                parts=[{"sku": s, "quantity": q} for s, q in parts], labour_hours=hours, callout=callout,
                solution=solution)


@pytest.mark.parametrize(("coverage", "covered", "pays"), [
    ("none", "0.00", "345.00"), ("parts_only", "85.00", "260.00"), ("full", "345.00", "0.00"),
])
def test_coverage_decides_what_the_customer_pays(call, ticket, coverage, covered, pays):
    result = quote(call, ticket, coverage=coverage)
    assert {k: result[k] for k in ("currency", "parts_total", "labour_total", "callout_fee", "total", "covered",
                                   "customer_pays")} == {
        "currency": "CNY", "parts_total": "85.00", "labour_total": "180.00", "callout_fee": "80.00",
        "total": "345.00", "covered": covered, "customer_pays": pays}
    assert [(line["kind"], line["amount"]) for line in result["lines"]] == [
        ("part", "85.00"), ("labour", "180.00"), ("callout", "80.00")]
    assert result["document_url"] == f"/tickets/{ticket}/quote/{result['quote_id']}"


def test_amounts_round_half_up_to_cents(call):
    number = call("ticketing.open_ticket", task="open", channel="web", customer=ENGLISH, fault=FAULT, expectation="",
                  product={**PRODUCT, "model": "RT-AX3000", "serial_number": "RT-1"})["ticket_number"]
    result = quote(call, number, parts=(("RT-PSU-12V", 3),), hours="0.3455625", callout=False)
    assert (result["labour_total"], result["parts_total"], result["total"]) == ("27.65", "177.00", "204.65")


def test_a_replacement_quotes_the_unit_and_parts_warranty_covers_it(call, ticket):
    result = quote(call, ticket, coverage="parts_only", parts=(), hours=0.5, solution="replace")
    assert [(line["kind"], line["sku"], line["amount"], line["covered"]) for line in result["lines"]] == [
        ("unit", "WM-F80", "2699.00", True), ("labour", None, "60.00", False), ("callout", None, "80.00", False)]
    assert (result["total"], result["customer_pays"]) == ("2839.00", "140.00")


def test_a_refund_costs_the_customer_nothing(call, ticket):
    result = quote(call, ticket, solution="refund")
    assert (result["lines"], result["total"], result["customer_pays"]) == ([], "0.00", "0.00")


def test_the_document_is_printable_html_with_customer_data_escaped(call, ticket, database):
    result = quote(call, ticket, coverage="parts_only")
    with database.transaction(write=False) as session:
        html = get_quote_document(session, ticket, result["quote_id"])
        assert get_quote_document(session, "AS-OTHER", result["quote_id"]) is None
    assert html.startswith("<!doctype html>") and "@media print" in html
    assert "Anna &lt;b&gt;Schmidt&lt;/b&gt; &amp; Co" in html and "<b>Schmidt" not in html
    assert "Drain pump 30 W (WM-PUMP-01)" in html and "260.00 CNY" in html


def test_a_chinese_customer_gets_a_chinese_document(call, database):
    number = call("ticketing.open_ticket", task="open", channel="hotline", customer=CUSTOMER, product=PRODUCT,
                  fault=FAULT, expectation="")["ticket_number"]
    result = quote(call, number)
    with database.transaction(write=False) as session:
        html = get_quote_document(session, number, result["quote_id"])
    assert "维修报价单" in html and "您需支付" in html


def test_preparing_again_for_the_same_task_keeps_one_quote(call, ticket, count):
    assert quote(call, ticket, task="q") == quote(call, ticket, task="q")
    assert count(Quote) == 1


def test_an_unknown_part_is_a_business_error(call, ticket, count):
    with pytest.raises(BusinessError, match="unknown part\\(s\\): XX-9") as info:
        quote(call, ticket, parts=(("XX-9", 1),))
    assert info.value.code == "UNKNOWN_PART" and count(Quote) == 0


@pytest.mark.parametrize(("changes", "message"), [
    ({"hours": -1}, "labour_hours must be zero or more"),
    ({"hours": "two"}, "labour_hours must be a number"),
    ({"coverage": "gold"}, "coverage must be one of full, parts_only, none"),
    ({"solution": "fix"}, "solution must be one of repair, replace, refund"),
    ({"callout": "yes"}, "callout must be true or false"),
    ({"parts": (("WM-PUMP-01", -2),)}, "parts\\[0\\].quantity must be a whole number"),
])
def test_bad_quote_input_is_refused_and_nothing_is_stored(call, ticket, count, changes, message):
    with pytest.raises(HandlerError, match=message):
        quote(call, ticket, **changes)
    assert count(Quote) == 0


def test_a_quote_needs_an_existing_ticket(call, count):
    with pytest.raises(HandlerError, match="ticket 'AS-20260302-09999' does not exist"):
        quote(call, "AS-20260302-09999")
