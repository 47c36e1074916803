"""The pages QA found speaking two languages, walked in Chromium in Chinese and English: the ticket page
(staff alerts apart from the customer's notifications, codes in words), the stock ledger (a process step by
its name, the process as who moved the stock) and a task refused to a role (task and lane by their names).
Screenshots: ``test-artifacts/screenshots/language-walk-<page>-<lang>.png``."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.live import chromium, desk_site, shot, sign_in
from tests.web.test_mixed_language_texts import _alerts_and_notifications

pytestmark = pytest.mark.browser
STAFF = {"ann": "agent", "tom": "technician", "wes": "warehouse", "sue": "supervisor", "quinn": "qa"}
#: what each page must say, per language; and what it must never show
SAYS = {
    "zh": {"ticket": ["发给员工的提醒", "SLA 已超时提醒", "短信"],
           "ledger": ["流程步骤「预留备件」", "系统（由客户触发）"],
           "refused": ["「登记服务请求」", "泳道「客服」"]},
    "en": {"ticket": ["Alerts to staff", "SLA breach", "SMS"],
           "ledger": ["Process step “Reserve the parts”", "System (triggered by Customer)"],
           "refused": ["'Register the request'", "lane 'Agent'"]},
}
NEVER = re.compile(r"milestone:|alert:|reserve_stock|\(instance \d+\)|（实例 ?\d+）|\bsms\b")


@pytest.fixture
def site(tmp_path, sqlite_template, clock) -> Any:
    """The real process and catalogue served on loopback, and a desk to drive tickets."""
    with desk_site(tmp_path, sqlite_template, clock, STAFF) as served:
        yield served


def test_the_ticket_the_ledger_and_a_refused_task_read_in_one_language(site) -> None:
    base, services, desk = site
    # Given a ticket whose quote the customer accepted (the parts process then reserved its pump),
    quoted = desk.open_case()
    quoted.register().diagnose().propose()
    quoted.answer_quote(True)
    # an SLA breach e-mailed to two colleagues, and a new request waiting for an agent
    _alerts_and_notifications(services, quoted.ticket_number)
    new = desk.open_case()
    agent_task = next(t for t in new.work_items() if t.lane == "Agent")
    with chromium() as context:
        for lang in ("zh", "en"):
            pages = {}
            for user, page_name, path in (("sue", "ticket", f"/tickets/{quoted.ticket_number}"),
                                          ("wes", "ledger", "/warehouse/movements"),
                                          ("tom", "refused", f"/tasks/{agent_task.task_id}")):
                ctx = context.browser.new_context(viewport={"width": 1360, "height": 860})
                page = ctx.new_page()
                page.set_default_timeout(15_000)
                sign_in(page, base, user)
                page.goto(f"{base}/lang/{lang}?next=/account")
                response = page.goto(base + path)
                assert response is not None
                pages[page_name] = (response.status, page.inner_text("main"))
                if page_name == "ticket":
                    page.locator("#staff-alerts").scroll_into_view_if_needed()
                shot(page, f"language-walk-{page_name}-{lang}")
                ctx.close()
            for page_name, wanted in SAYS[lang].items():
                status, text = pages[page_name]
                assert status == (403 if page_name == "refused" else 200), (lang, page_name, status)
                missing = [w for w in wanted if w.lower() not in text.lower()]  # headings are upper case (CSS)
                assert not missing, (lang, page_name, missing, text[:3000])
                assert not NEVER.search(text), (lang, page_name, NEVER.search(text).group(0))
