"""The customer's answer link reads the quote's lines in the customer's language."""

from __future__ import annotations

import re

from engine.identity import Actor
from tests.process.driver import Desk
from tests.web.test_goodwill_quote_link import MOTOR, OUT_OF_WARRANTY


def test_a_chinese_reader_of_the_quote_link_sees_the_lines_in_chinese(signed_in, browser, services, users, clock):
    # Given an out-of-warranty repair with an approved goodwill share of half
    staff = {role: Actor(role, frozenset([role])) for role in ("agent", "technician", "warehouse", "supervisor",
                                                                "qa")}
    case = Desk(services.db, services.runtime, clock, staff)
    case.deploy()
    ticket = case.open_case()
    ticket.register(**OUT_OF_WARRANTY).diagnose(MOTOR)
    ticket.propose(MOTOR, goodwill=True, concession_kind="share", concession_value=50,
                   justification="Long-standing customer, motor failed early")
    ticket.complete("review_quote", {"decision": "approve"})
    html = signed_in("agent").get(f"/tickets/{ticket.ticket_number}").get_data(as_text=True)
    link = re.search(r'value="http://localhost(/service/respond/[^"]+)"', html).group(1)
    # When the customer opens the link in Chinese
    page = browser.get(link, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    # Then the part, the labour, the call-out fee and the goodwill read in Chinese
    lines = re.search(r'<table class="grid">(.*?)</table>', page, re.S).group(1)
    assert "商誉优惠（50%）" in lines and "人工 1.5 小时" in lines and "上门费" in lines
    assert not re.search(r"Goodwill|Labour|Call-out|motor", lines)
