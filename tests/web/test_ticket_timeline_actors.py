"""The ticket page's timeline names the system's own actors in the reader's language."""

from __future__ import annotations

import re


def test_a_chinese_timeline_says_system_and_customer_in_chinese(desk, signed_in):
    # Given a registered repair: the system notified the customer
    case = desk.open_case().register()
    # When a Chinese agent opens the ticket
    agent = signed_in("agent")
    agent.get("/lang/zh?next=/tasks")
    page = agent.get(f"/tickets/{case.ticket_number}").get_data(as_text=True)
    # Then the timeline's notifications are the system's (系统), not 'system'; people keep their user names
    timeline = page[page.index('id="timeline"'):]
    who = [re.sub(r"<[^>]+>", "", w).strip() for w in re.findall(r'<span class="who">(.*?)</span>\s', timeline)]
    assert "系统" in who and "system" not in who
    assert "ann" in who
