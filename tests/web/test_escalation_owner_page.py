"""The escalation form's New owner: a pick list of agents and supervisors; a name that is none of them is an error
on the field with nothing changed; a real one shows on the ticket's timeline, in Chinese too."""

from __future__ import annotations

import html

from tests.process.test_escalation_new_owner import ACTION, assignees, escalated
from tests.support.trail import audit_event_count
from tests.web.conftest import open_tasks


def test_the_supervisor_picks_a_real_new_owner_and_the_ticket_shows_it(desk, signed_in, services):
    case = escalated(desk)
    [task] = [t for t in open_tasks(services, case.ticket_number) if t.element_id == "handle_escalation"]
    sue = signed_in("supervisor")
    sue.get("/lang/zh")
    page = html.unescape(sue.get(f"/tasks/{task.task_id}").get_data(as_text=True))
    assert '<select id="f-new_owner" name="new_owner"' in page and '<option value="agent"' in page
    assert '<option value="technician"' not in page.split('id="f-new_owner"', 1)[1].split("</select>", 1)[0]

    # When she names somebody who is not staff, the form comes back with the error on 新负责人 and the rest kept
    before = audit_event_count(services)
    form = {"root_cause": ACTION["root_cause"], "action_taken": ACTION["action_taken"],
            "new_owner": "nobody_such_user"}
    refused = sue.post(f"/tasks/{task.task_id}", form)
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422 and 'id="f-new_owner-error"' in page
    assert '<option value="nobody_such_user" selected' in page and ACTION["action_taken"] in page
    assert audit_event_count(services) == before and assignees(desk, case)["respond_to_customer"] is None

    # When she names agent, the ticket's open agent task is theirs and the timeline says who owns the ticket
    done = sue.post(f"/tasks/{task.task_id}", {**form, "new_owner": "agent"})
    assert done.status_code == 302
    assert assignees(desk, case)["respond_to_customer"] == "agent"
    ticket = html.unescape(sue.get(f"/tickets/{case.ticket_number}").get_data(as_text=True))
    assert "新负责人： " in ticket and "(agent)</strong>" in ticket and "移交的任务：" in ticket
    sue.get("/lang/en")
    ticket = html.unescape(sue.get(f"/tickets/{case.ticket_number}").get_data(as_text=True))
    assert "New owner: " in ticket and "Tasks handed over: Respond to the customer" in ticket
