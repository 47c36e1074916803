"""A reassignment with a bad reason or person: the task page again, the error on its field, nothing changed."""

from __future__ import annotations

import html

import pytest

from tests.support.trail import audit_event_count
from tests.web.conftest import open_tasks


@pytest.mark.parametrize(("reason", "language", "words"), [
    ("   ", "en", "a reason is required to reassign a task</span>"),
    ("", "zh", "改派任务须填写原因</span>"),
])
def test_a_blank_reason_is_an_error_on_the_reason_field_keeping_the_chosen_person(
        signed_in, services, repair_ticket, reason, language, words):
    """Given a supervisor on a task, when they reassign with a blank reason, then the page says so on the
    Reason field with the chosen person still selected, and the task and its trail are as before."""
    [task] = open_tasks(services)
    b = signed_in("supervisor")
    b.get(f"/lang/{language}")
    b.get(f"/tasks/{task.task_id}")
    before = audit_event_count(services)
    response = b.post(f"/tasks/{task.task_id}/reassign", {"assignee": "technician", "reason": reason})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422, page
    assert words in page and 'id="reassign-reason-error"' in page
    assert '<details class="card reassign" id="reassign" open>' in page
    assert '<option value="technician" selected>' in page
    assert open_tasks(services)[0].assignee is None and audit_event_count(services) == before


def test_a_person_without_the_lane_role_is_an_error_on_the_give_to_field_keeping_the_reason(
        signed_in, services, repair_ticket):
    [task] = open_tasks(services)
    b = signed_in("supervisor")
    b.get(f"/tasks/{task.task_id}")
    response = b.post(f"/tasks/{task.task_id}/reassign", {"assignee": "qa", "reason": "Ann is on holiday"})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and 'id="reassign-assignee-error"' in page and "does not hold the role" in page
    assert 'value="Ann is on holiday"' in page
    assert open_tasks(services)[0].assignee is None
