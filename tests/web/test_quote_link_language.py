"""What the customer reads about an approved goodwill: the answer link's lines in their language, the status
page's price adding up."""

from __future__ import annotations

import re
from decimal import Decimal

from tests.web.test_goodwill_quote_link import approved_goodwill


def test_a_chinese_reader_of_the_quote_link_sees_the_lines_in_chinese(signed_in, browser, role_desk):
    # Given an approved goodwill
    case = approved_goodwill(role_desk)
    html = signed_in("agent").get(f"/tickets/{case.ticket_number}").get_data(as_text=True)
    link = re.search(r'value="http://127\.0\.0\.1:5000(/service/respond/[^"]+)"', html).group(1)
    # When the customer opens the link in Chinese
    page = browser.get(link, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    # Then the part, the labour, the call-out fee and the goodwill read in Chinese
    lines = re.search(r'<table class="grid">(.*?)</table>', page, re.S).group(1)
    assert "商誉优惠（50%）" in lines and "人工 1.5 小时" in lines and "上门费" in lines
    assert not re.search(r"Goodwill|Labour|Call-out|motor", lines)


def test_the_status_page_counts_the_approved_goodwill_as_covered_for_the_customer(app, browser, role_desk):
    from web.selfservice import STATUS
    from web.tokens import sign

    # Given an approved goodwill taking half of the total off
    case = approved_goodwill(role_desk)
    quote = case.data()["quote"]
    # When the customer opens their status page
    with app.test_request_context():
        token = sign(case.ticket_number, STATUS)
    page = browser.get(f"/service/status/{token}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    # Then what they pay and what we cover add up to the total (goodwill included), not "0.00 covered"
    price = re.search(r'<p class="price" id="price">(.*?)</p>', page, re.S).group(1)
    covered = Decimal(quote["total"]) - Decimal(quote["customer_pays"])
    assert covered > 0 and f"{quote['customer_pays']} CNY" in price
    assert f"total {quote['total']}, of which {covered} is covered for you" in price
