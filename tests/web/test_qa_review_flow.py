"""A QA review opened from the sample list: the notifications sent are listed beside the form, the instructions
say what the ticket's state is, and submitting returns to the sample list with a flash."""

from __future__ import annotations

import html
import re

from tests.web.conftest import open_tasks
from tests.web.test_qa_page import SCORES, closed_and_sampled


def _review(services, case):  # type: ignore[no-untyped-def]
    [review] = [t for t in open_tasks(services, case.ticket_number) if t.element_id == "review_ticket_quality"]
    return review


def test_a_review_submitted_from_the_sample_list_returns_to_it_with_a_flash(desk, clock, signed_in, services):
    case = closed_and_sampled(desk, clock, services)
    qa = signed_in("qa")
    page = qa.get("/qa/").get_data(as_text=True)
    review = _review(services, case)
    link = f"/tasks/{review.task_id}?next=/qa/"
    assert f'href="{link}"' in page
    qa.get(link)
    response = qa.post(link, {**{k: str(v) for k, v in SCORES.items()}, "comment": "Fine"})
    assert response.status_code == 302 and response.headers["Location"] == "/qa/"
    landed = html.unescape(qa.get("/qa/").get_data(as_text=True))
    assert "“Review the ticket” is done." in landed
    assert f'data-ticket="{case.ticket_number}" data-state="reviewed"' in landed


def test_the_review_page_lists_the_notifications_sent_and_words_the_ticket_state_truthfully(
        desk, clock, signed_in, services):
    case = closed_and_sampled(desk, clock, services)
    qa = signed_in("qa")
    page = html.unescape(qa.get(f"/tasks/{_review(services, case).task_id}").get_data(as_text=True))
    assert '<section class="panel" id="notifications"><h3>Notifications sent</h3>' in page
    assert "Review closed ticket" not in page
    said = re.sub(r"<[^>]+>", "", page)
    assert f"Review how ticket {case.ticket_number} was handled" in said
    assert "the ticket closes when you submit this review" in said
    qa.get("/lang/zh")
    zh = html.unescape(qa.get(f"/tasks/{_review(services, case).task_id}").get_data(as_text=True))
    assert "提交本质检后工单即结单" in zh and "质检已关闭的工单" not in zh and "已发送通知</h3>" in zh
