"""QA's landing page: the tickets drawn for review, each with its open review or its score,
filters by review state and sampled dates, bad dates refused on their field; QA lands there."""

from __future__ import annotations

import pytest

from tests.process.driver import Desk
from tests.web.conftest import open_tasks
from tests.web.test_browser_qa_review import closed_ticket_for_qa

SCORES = {"response": 5, "diagnosis": 4, "communication": 3, "documentation": 4, "overall": 4}


def closed_and_sampled(desk: Desk, clock, services):
    """A usage question answered at once and closed on a day its ticket is drawn for QA."""
    return closed_ticket_for_qa(services, clock)[1]


def test_qa_lands_on_the_sample_and_opens_the_open_review(desk, clock, signed_in, services):
    # Given a closed ticket drawn for QA review
    case = closed_and_sampled(desk, clock, services)
    qa = signed_in("qa")
    # When QA signs in, they land on the sample page
    assert qa.get("/").headers["Location"].endswith("/qa/")
    page = qa.get("/qa/").get_data(as_text=True)
    # Then the ticket is listed as waiting, with its whole record and its review task
    assert f'data-ticket="{case.ticket_number}" data-state="waiting"' in page
    assert f'href="/tickets/{case.ticket_number}"' in page
    [review] = [t for t in open_tasks(services, case.ticket_number) if t.element_id == "review_ticket_quality"]
    assert f'class="button qa-review" href="/tasks/{review.task_id}?next=/qa/"' in page
    assert 'href="/qa/"' in page  # the menu names the page
    assert "waiting" in qa.get("/qa/?state=waiting").get_data(as_text=True)
    assert case.ticket_number not in qa.get("/qa/?state=reviewed").get_data(as_text=True)


def test_a_reviewed_ticket_shows_its_score_and_reviewer(desk, clock, signed_in, services):
    # Given a sampled ticket QA has scored
    case = closed_and_sampled(desk, clock, services)
    case.complete("review_ticket_quality", {**SCORES, "comment": "Clear answer at first contact"})
    # When a supervisor reads the sample, in Chinese too
    sue = signed_in("supervisor")
    page = sue.get("/qa/?state=reviewed").get_data(as_text=True)
    # Then the ticket is reviewed with its overall score, the part scores and the comment
    assert f'data-ticket="{case.ticket_number}" data-state="reviewed"' in page
    assert "4/5" in page and "Clear answer at first contact" in page and "qa-review" not in page
    assert case.ticket_number not in sue.get("/qa/?state=waiting").get_data(as_text=True)
    sue.get("/lang/zh")
    zh = sue.get("/qa/?state=reviewed").get_data(as_text=True)
    assert "质检抽样" in zh and "总体" in zh and case.ticket_number in zh


def test_the_date_range_filters_by_the_sampled_day(desk, clock, signed_in, services):
    case = closed_and_sampled(desk, clock, services)
    day = clock.now().date()
    qa = signed_in("qa")
    assert case.ticket_number in qa.get(f"/qa/?from={day}&to={day}").get_data(as_text=True)
    later = day.replace(year=day.year + 1)
    assert case.ticket_number not in qa.get(f"/qa/?from={later}").get_data(as_text=True)
    assert case.ticket_number not in qa.get(f"/qa/?to={day.replace(year=day.year - 1)}").get_data(as_text=True)


@pytest.mark.parametrize(("query", "field"), [("from=2026-13-01", "from"), ("to=yesterday", "to"),
                                             ("from=2026-03-05&to=2026-03-01", "to")])
def test_a_bad_date_is_refused_on_its_field(desk, clock, signed_in, services, query, field):
    case = closed_and_sampled(desk, clock, services)
    response = signed_in("qa").get(f"/qa/?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in page and case.ticket_number not in page


@pytest.mark.parametrize("role", ["agent", "technician", "warehouse"])
def test_other_roles_cannot_read_the_sample(signed_in, role):
    assert signed_in(role).get("/qa/").status_code == 403
