"""QA in Chromium (English and Chinese, 390 px): signing in lands on the sample, the sampled
ticket's whole record opens from it, and its review opens from it."""

from __future__ import annotations

import pytest

from tests.web.live import chromium, shot, sign_in
from tests.web.test_browser_qa_review import closed_ticket_for_qa, site  # noqa: F401  (the served site)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_qa_lands_on_the_sample_and_opens_the_record_and_the_review(site, clock, locale):  # noqa: F811
    base, services = site
    # Given a closed ticket drawn for QA review
    _, case = closed_ticket_for_qa(services, clock)
    with chromium(locale) as context:
        page = context.new_page()
        page.set_viewport_size({"width": 390, "height": 844})
        # When QA signs in, the sample is their page and lists the ticket as waiting
        sign_in(page, base, "quinn")
        page.goto(base + "/")
        assert page.url.endswith("/qa/")
        card = page.locator(f"article[data-ticket='{case.ticket_number}']")
        assert card.get_attribute("data-state") == "waiting"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, f"qa-sample-{locale}")
        # When QA opens the ticket's whole record
        card.locator("a.qa-record").click()
        page.wait_for_load_state()
        assert case.ticket_number in page.locator("h1").inner_text()
        shot(page, f"qa-sample-record-{locale}")
        # And goes back to open its review
        page.go_back()
        page.locator(f"article[data-ticket='{case.ticket_number}'] a.qa-review").click()
        page.wait_for_load_state()
        # Then the review form is open with its 1-5 scores
        assert page.locator("input[type=radio][name=overall]").count() == 5
        shot(page, f"qa-sample-review-{locale}")
