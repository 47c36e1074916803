"""A refused task form changes nothing (no claim, no event) and shows what was typed in number and date inputs."""

from __future__ import annotations

import html

from tests.support.trail import audit_event_count
from tests.web.conftest import open_tasks
from tests.web.test_tasks import FORM


def test_a_refused_submit_of_an_unclaimed_task_leaves_it_unclaimed_and_the_trail_as_it_was(
        signed_in, services, repair_ticket):
    """Given an unclaimed task in the technicians' queue, when a technician submits its form with an error,
    then the task is still nobody's and no event was written."""
    [task] = open_tasks(services)
    assert task.assignee is None
    b = signed_in("technician")
    b.get(f"/tasks/{task.task_id}")
    before = audit_event_count(services)
    response = b.post(f"/tasks/{task.task_id}", {**FORM, "labour_hours": "七"})
    assert response.status_code == 422
    assert open_tasks(services)[0].assignee is None and audit_event_count(services) == before


def test_text_in_number_and_date_inputs_is_kept_as_typed_beside_its_error(signed_in, services, repair_ticket):
    """A number input showing '七' or a date input showing '2026-13-45' would be blanked by the browser: after
    an error they are text inputs with the typed value and the error."""
    [task] = open_tasks(services)
    b = signed_in("technician")
    b.get(f"/tasks/{task.task_id}")
    response = b.post(f"/tasks/{task.task_id}", {**FORM, "labour_hours": "七", "next_check": "2026-13-45"})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert 'name="labour_hours" value="七" type="text"' in page and 'id="f-labour_hours-error"' in page
    assert 'name="next_check" value="2026-13-45" type="text"' in page and 'id="f-next_check-error"' in page
    # a field without an error keeps its own input type
    assert 'name="parts_used.0.quantity" value="2" type="number"' in page
