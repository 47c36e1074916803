"""QA scores a closed ticket in Chromium: the 1–5 scores are radios that submit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.identity import Actor
from tests.process.driver import PROCESSES, Desk
from tests.process.test_journey_intake import first_ticket_day
from tests.web.live import chromium, live_site, shot, sign_in

pytestmark = pytest.mark.browser
USERS = {"ann": ["agent"], "sue": ["supervisor"], "quinn": ["qa"], "tom": ["technician"], "wes": ["warehouse"]}
SCORES = {"response": "5", "diagnosis": "4", "communication": "3", "documentation": "4", "overall": "4"}


@pytest.fixture
def site(tmp_path, sqlite_template):
    """The real after-sales process with its catalogue, served on loopback."""
    with live_site(tmp_path, sqlite_template, [PROCESSES], USERS, catalogue=PROCESSES / "data") as served:
        yield served


def closed_ticket_for_qa(services, clock) -> tuple[Desk, object]:
    """Drive a usage question to closure on a day QA samples the first ticket; return the case."""
    staff = {role: Actor(name, frozenset([role])) for name, [role] in USERS.items()}
    desk = Desk(services.db, services.runtime, clock, staff)
    clock.set(first_ticket_day(datetime(2026, 3, 2, 9, tzinfo=UTC), sampled=True, rate=0.2))
    case = desk.open_case(channel="chat")
    case.register(customer={"tier": "vip"}, urgency="low", impact="low",
                  fault={"category": "usage", "description": "How do I start the drum cleaning program?",
                         "symptoms": []})
    case.respond(resolved=True, answer="Hold Temp and Spin for 3 seconds to start drum cleaning.")
    case.confirm(True)
    case.answer_survey()
    case.complete("follow_up_customer", {"reached": True, "satisfaction": "satisfied"})
    assert case.lanes() == {"review_ticket_quality": "qa"}
    return desk, case


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_qa_scores_a_closed_ticket_and_the_review_is_recorded(site, clock, locale):
    base, services = site
    # Given a closed ticket drawn for QA review
    _, case = closed_ticket_for_qa(services, clock)
    with chromium(locale) as context:
        page = context.new_page()
        # When QA opens the review task
        sign_in(page, base, "quinn")
        page.goto(f"{base}/tasks?tab=group")
        page.locator("table.tasklist tbody tr").first.locator("td.col-name a").click()
        # Then each score offers 1 to 5, not Yes and No
        for name in SCORES:
            values = page.eval_on_selector_all(f"input[type=radio][name={name}]", "els => els.map(e => e.value)")
            assert values == ["1", "2", "3", "4", "5"], name
        # When QA scores it and submits
        for name, value in SCORES.items():
            page.check(f"input[type=radio][name={name}][value='{value}']")
        page.fill("[name=comment]", "Clear answer at first contact")
        page.set_viewport_size({"width": 390, "height": 844})
        shot(page, f"qa-review-scored-{locale}")
        page.locator("form.taskform button[type=submit]").last.click()
        page.wait_for_load_state()
        # Then the review is accepted: no field errors, the ticket's case is complete with the scores
        assert page.locator(".field-error").count() == 0
    assert case.status == "completed"
    review = case.data()["qa_review"]
    assert review == {"response": 5, "diagnosis": 4, "communication": 3, "documentation": 4, "overall": 4,
                      "comment": "Clear answer at first contact"}
