"""The customer's quote link shows an approved goodwill gesture and the reduced amount."""

from __future__ import annotations

import re
from decimal import Decimal

from tests.process.driver import Case, Desk

OUT_OF_WARRANTY = {"product": {"purchase_date": "2021-05-01"}}
MOTOR = [{"sku": "WM-MOTOR-INV", "quantity": 1}]


def approved_goodwill(desk: Desk) -> Case:
    """An out-of-warranty repair whose goodwill share of half the supervisor approved."""
    case = desk.open_case()
    case.register(**OUT_OF_WARRANTY).diagnose(MOTOR)
    case.propose(MOTOR, goodwill=True, concession_kind="share", concession_value=50,
                 justification="Long-standing customer, motor failed early")
    return case.complete("review_quote", {"decision": "approve"})


def test_the_customer_s_link_shows_the_approved_goodwill_and_what_they_pay(signed_in, browser, role_desk):
    # Given an out-of-warranty repair whose goodwill (half) the supervisor approved
    case = approved_goodwill(role_desk)
    quote = case.data()["quote"]
    pays = Decimal(quote["customer_pays"])
    assert pays == Decimal(quote["total"]) / 2
    # When the customer opens the link the agent sees on the ticket
    html = signed_in("agent").get(f"/tickets/{case.ticket_number}").get_data(as_text=True)
    link = re.search(r'value="http://127\.0\.0\.1:5000(/service/respond/[^"]+)"', html).group(1)
    page = browser.get(link, headers={"Accept-Language": "en"}).get_data(as_text=True)
    # Then the goodwill line and the reduced amount are there, and on the quote document
    assert "Goodwill (50 %)" in page and f"-{pays}" in page and f"<strong>{pays} CNY</strong>" in page
    document = browser.get(f"{link}/quote").get_data(as_text=True)
    assert f"−{pays} CNY" in document and f"{pays} CNY" in document
