"""QA opens a review from the sample list in Chromium (English and Chinese): the notifications sent are listed beside
the form, the instructions say the ticket closes with the review, and submitting returns to the sample list."""

from __future__ import annotations

import pytest

from tests.web.live import chromium, shot, sign_in
from tests.web.test_browser_qa_review import SCORES, closed_ticket_for_qa, site  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser
TEXTS = {"en-US": {"done": "“Review the ticket” is done.", "closes": "the ticket closes when you submit this review",
                   "sent": "Notifications sent"},
         "zh-CN": {"done": "“工单质检”已完成。", "closes": "提交本质检后工单即结单", "sent": "已发送通知"}}


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_a_review_opened_from_the_sample_lists_the_notifications_and_returns_there(site, clock, locale):  # noqa: F811
    base, services = site
    _, case = closed_ticket_for_qa(services, clock)
    t = TEXTS[locale]
    with chromium(locale) as context:
        page = context.new_page()
        sign_in(page, base, "quinn")
        page.goto(f"{base}/lang/{locale[:2]}?next=/qa/")
        page.click(f"[data-ticket='{case.ticket_number}'] a.qa-review")
        assert t["closes"] in page.inner_text(".instructions")
        panel = page.inner_text("#notifications")
        assert t["sent"].lower() in panel.lower() and len(page.query_selector_all("#notifications li")) >= 1
        shot(page, f"qa-review-notifications-{locale}")
        for name, value in SCORES.items():
            page.check(f"input[type=radio][name={name}][value='{value}']")
        page.locator("form.taskform button[type=submit]").last.click()
        page.wait_for_url(f"{base}/qa/")
        assert t["done"] in page.inner_text("main")
        shot(page, f"qa-review-back-to-sample-{locale}")
