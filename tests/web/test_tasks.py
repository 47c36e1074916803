"""The tasklist and the task page: tabs, filters, claim, reassign, forms, errors, access."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import STAFF_ROLES, TICKET, complete, open_tasks

FORM = {"work_done": "Replaced the panel", "labour_hours": "1.5", "outcome": "repaired",
        "parts_used.0.sku": "P-1", "parts_used.0.quantity": "2", "quote.total": "120",
        "quote.customer_pays": "0", "quote.currency": "CNY"}


def task_ids(html: str) -> list[str]:
    return re.findall(r'href="/tasks/([0-9a-f-]{36})"', html)


def test_technicians_see_the_repair_in_their_groups_tab_with_counts(signed_in, repair_ticket):
    b = signed_in("technician")
    html = b.get("/tasks?tab=group").get_data(as_text=True)
    assert TICKET in html and "Repair the device" in html
    assert 'My groups&#39; tasks <span class="count">1</span>' in html
    assert "All open" not in html
    assert "47h 59m" in html or "48h" in html or "2d" in html  # SLA countdown from the boundary timer


def test_my_tasks_is_the_default_tab_and_empty_at_first(signed_in, repair_ticket):
    html = signed_in("technician").get("/tasks").get_data(as_text=True)
    assert "No tasks here." in html and "Take one from your groups" in html


def test_supervisors_see_all_open_tasks(signed_in, repair_ticket):
    html = signed_in("supervisor").get("/tasks").get_data(as_text=True)
    assert "All open" in html and "Repair the device" in html


@pytest.mark.parametrize("role", [r for r in STAFF_ROLES if r not in ("supervisor", "admin")])
def test_the_all_open_tab_is_for_supervisors_only(signed_in, role):
    assert signed_in(role).get("/tasks?tab=all").status_code == 403


@pytest.mark.parametrize("query", ["tab=nope", "sort=password_hash", "page=x"])
def test_bad_tasklist_parameters_are_refused(signed_in, query):
    assert signed_in("agent").get(f"/tasks?{query}").status_code == 400


def test_filters_sort_and_pages(signed_in, services, repair_ticket, app):
    app.config["TASKS_PER_PAGE"] = 2
    with services.db.transaction() as s:
        for n, prio in ((2, "low"), (3, "urgent")):
            services.runtime.start(s, "web_repair", {"priority": prio, "channel": "web", "customer_tier": "normal"},
                                   f"AS-20260302-0000{n}", "agent")
    b = signed_in("supervisor")
    html = b.get("/tasks?tab=all&sort=priority").get_data(as_text=True)
    assert html.index("AS-20260302-00003") < html.index("AS-20260302-00001")
    assert "Page 1 of 2" in html and 'rel="next"' in html
    assert "AS-20260302-00002" in b.get("/tasks?tab=all&sort=priority&page=2").get_data(as_text=True)
    html = b.get("/tasks?tab=all&channel=web").get_data(as_text=True)
    assert "AS-20260302-00001" not in html and "2 tasks" in html
    html = b.get("/tasks?tab=all&ticket=AS-20260302-00001").get_data(as_text=True)
    assert "1 tasks" in html
    html = b.get("/tasks?tab=all&sla=breached").get_data(as_text=True)
    assert "No tasks here." in html


def test_breached_tasks_are_marked(signed_in, repair_ticket, clock):
    from datetime import timedelta

    clock.advance(timedelta(hours=47))
    assert "sla-soon" in signed_in("technician").get("/tasks?tab=group").get_data(as_text=True)


def test_claim_moves_the_task_to_my_tasks_and_unclaim_gives_it_back(signed_in, services, repair_ticket):
    [task] = open_tasks(services)
    b = signed_in("technician")
    b.get("/tasks?tab=group")
    assert b.post(f"/tasks/{task.task_id}/claim", {"next": "/tasks?tab=mine"}).headers["Location"] == "/tasks?tab=mine"
    assert task.task_id in b.get("/tasks?tab=mine").get_data(as_text=True)
    assert b.post(f"/tasks/{task.task_id}/unclaim").status_code == 302
    assert open_tasks(services)[0].assignee is None


@pytest.mark.parametrize("action", ["claim", "unclaim"])
@pytest.mark.parametrize("role", [r for r in STAFF_ROLES if r not in ("technician", "supervisor", "admin")])
def test_claiming_or_unclaiming_a_task_of_another_lane_is_forbidden(signed_in, services, repair_ticket, role,
                                                                     action):
    [task] = open_tasks(services)
    b = signed_in(role)
    b.get("/tasks")
    assert b.post(f"/tasks/{task.task_id}/{action}").status_code == 403


def test_claim_without_csrf_token_is_refused(signed_in, services, repair_ticket):
    [task] = open_tasks(services)
    assert signed_in("technician").post(f"/tasks/{task.task_id}/claim", csrf=False).status_code == 400
    assert open_tasks(services)[0].assignee is None


def test_claiming_an_unknown_task_is_not_found(signed_in):
    b = signed_in("technician")
    b.get("/tasks")
    assert b.post("/tasks/00000000-0000-0000-0000-000000000000/claim").status_code == 404


@pytest.fixture
def claimed(signed_in, services, repair_ticket, database):
    """The repair claimed by ``technician``; ``tech2`` is a colleague of the same lane."""
    from engine.identity import create_user

    with database.transaction() as s:
        create_user(s, "tech2", "correct-horse-1", ["technician"])
    [task] = open_tasks(services)
    holder = signed_in("technician")
    holder.get("/tasks")
    holder.post(f"/tasks/{task.task_id}/claim")
    colleague = signed_in("tech2")
    colleague.get("/tasks")
    return task, holder, colleague


def test_a_claimed_task_cannot_be_taken_by_a_colleague(claimed):
    task, _holder, second = claimed
    assert second.post(f"/tasks/{task.task_id}/claim").status_code == 409
    assert second.post(f"/tasks/{task.task_id}", FORM).status_code == 409


def test_supervisor_reassigns_with_a_reason_recorded_in_the_trail(signed_in, services, repair_ticket):
    [task] = open_tasks(services)
    b = signed_in("supervisor")
    page = b.get(f"/tasks/{task.task_id}").get_data(as_text=True)
    assert 'name="reason"' in page and 'value="technician"' in page
    assert b.post(f"/tasks/{task.task_id}/reassign", {"assignee": "technician", "reason": ""}).status_code == 422
    assert b.post(f"/tasks/{task.task_id}/reassign", {"assignee": "qa", "reason": "holiday"}).status_code == 422
    response = b.post(f"/tasks/{task.task_id}/reassign", {"assignee": "technician", "reason": "Ann is on holiday"})
    assert response.status_code == 302
    assert open_tasks(services)[0].assignee == "technician"
    html = b.get(f"/tickets/{TICKET}").get_data(as_text=True)
    assert "Reassigned" in html and "Ann is on holiday" in html


@pytest.mark.parametrize("role", [r for r in STAFF_ROLES if r not in ("supervisor", "admin")])
def test_only_supervisors_reassign(signed_in, services, repair_ticket, role):
    [task] = open_tasks(services)
    b = signed_in(role)
    b.get("/tasks")
    assert b.post(f"/tasks/{task.task_id}/reassign", {"assignee": role, "reason": "mine now"}).status_code == 403


def test_reassign_without_csrf_token_is_refused(signed_in, services, repair_ticket):
    [task] = open_tasks(services)
    response = signed_in("supervisor").post(f"/tasks/{task.task_id}/reassign",
                                            {"assignee": "technician", "reason": "x"}, csrf=False)
    assert response.status_code == 400


# --- the task page ----------------------------------------------------------------------------
def test_task_page_shows_the_form_instructions_and_context(signed_in, services, repair_ticket):
    [task] = open_tasks(services)
    html = signed_in("technician").get(f"/tasks/{task.task_id}").get_data(as_text=True)
    assert 'name="work_done"' in html and 'name="parts_used.0.sku"' in html and "<template>" in html
    assert 'name="labour_hours"' in html and 'min="0"' in html and 'max="40"' in html and "required" in html
    assert 'name="ticket_number"' in html and "readonly" in html
    # the printed data is marked translate="no" (a name someone typed is not UI text)
    assert ('Repair the <strong><span translate="no">Aurora X1</span></strong> of '
            '<span translate="no">Li &lt;b&gt;Lei&lt;/b&gt;</span>') in html
    assert "<script>alert" not in html and "href=\"javascript" not in html
    assert "+86 138 0013 8000" in html  # technicians see contact data
    assert "Screen &lt;img src=x onerror=alert(1)&gt; flickers" in html
    assert "Ticket opened" in html


@pytest.mark.parametrize("role", [r for r in STAFF_ROLES if r not in ("technician", "supervisor", "admin")])
def test_task_page_is_forbidden_outside_the_lane(signed_in, services, repair_ticket, role):
    [task] = open_tasks(services)
    assert signed_in(role).get(f"/tasks/{task.task_id}").status_code == 403


def test_unknown_task_is_not_found(signed_in):
    assert signed_in("technician").get("/tasks/00000000-0000-0000-0000-000000000000").status_code == 404


def test_completing_with_errors_shows_them_next_to_the_fields_and_keeps_the_values(signed_in, services,
                                                                                   repair_ticket):
    [task] = open_tasks(services)
    b = signed_in("technician")
    b.get(f"/tasks/{task.task_id}")
    bad = dict(FORM, labour_hours="lots", **{"parts_used.0.quantity": "0", "work_done": "<b>x</b>"})
    response = b.post(f"/tasks/{task.task_id}", bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="f-labour_hours-error"' in html and 'id="f-parts_used-0-quantity-error"' in html
    assert 'value="lots"' in html and "&lt;b&gt;x&lt;/b&gt;</textarea>" in html
    assert "Please correct the 2 marked field(s)." in html
    assert open_tasks(services)[0].task_id == task.task_id


def test_completing_the_task_moves_the_ticket_on(signed_in, services, repair_ticket):
    [task] = open_tasks(services)
    b = signed_in("technician")
    b.get(f"/tasks/{task.task_id}")
    response = b.post(f"/tasks/{task.task_id}", FORM)
    assert response.status_code == 302 and response.headers["Location"] == "/tasks"
    [approve] = open_tasks(services)
    assert approve.name == "Approve the quote"
    assert b.get(f"/tasks/{task.task_id}").status_code == 404


def test_a_supervisor_goes_straight_on_to_the_next_step_of_the_ticket(signed_in, services, repair_ticket):
    [task] = open_tasks(services)
    b = signed_in("supervisor")
    b.get(f"/tasks/{task.task_id}")
    response = b.post(f"/tasks/{task.task_id}", FORM)
    [approve] = open_tasks(services)
    assert response.headers["Location"] == f"/tasks/{approve.task_id}"


def test_completing_without_csrf_token_is_refused(signed_in, services, repair_ticket):
    [task] = open_tasks(services)
    assert signed_in("technician").post(f"/tasks/{task.task_id}", FORM, csrf=False).status_code == 400
    assert open_tasks(services)[0].task_id == task.task_id


@pytest.mark.parametrize("role", [r for r in STAFF_ROLES if r not in ("technician", "supervisor", "admin")])
def test_completing_is_forbidden_outside_the_lane(signed_in, services, repair_ticket, role):
    [task] = open_tasks(services)
    b = signed_in(role)
    b.get("/tasks")
    assert b.post(f"/tasks/{task.task_id}", FORM).status_code == 403


def test_checkbox_booleans_complete_the_approval(signed_in, services, repair_ticket):
    [task] = open_tasks(services)
    complete(services, task.task_id, "technician", ("technician",), {
        "work_done": "done", "labour_hours": 1, "outcome": "repaired"})
    [approve] = open_tasks(services)
    b = signed_in("supervisor")
    html = b.get(f"/tasks/{approve.task_id}").get_data(as_text=True)
    assert 'type="checkbox"' in html and 'name="approved"' in html
    assert b.post(f"/tasks/{approve.task_id}", {"approved": "true"}).status_code == 302
    assert open_tasks(services) == []


def test_a_bundle_translates_its_own_forms_and_instructions(signed_in, services, repair_ticket):
    [task] = open_tasks(services)
    b = signed_in("technician")
    html = b.get(f"/tasks/{task.task_id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "维修记录" in html and "维修内容" in html and "已修复" in html and "完成任务" in html
    assert ('维修 <strong><span translate="no">Aurora X1</span></strong>（客户：'
            '<span translate="no">Li &lt;b&gt;Lei&lt;/b&gt;</span>）。') in html
    html = b.get(f"/tasks/{task.task_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Repair record" in html and "维修记录" not in html


def test_unclaim_needs_the_holder_or_a_supervisor_and_a_csrf_token(signed_in, services, claimed):
    task, holder, colleague = claimed
    assert colleague.post(f"/tasks/{task.task_id}/unclaim").status_code == 409
    assert holder.post(f"/tasks/{task.task_id}/unclaim", csrf=False).status_code == 400
    supervisor = signed_in("supervisor")
    supervisor.get("/tasks")
    assert supervisor.post(f"/tasks/{task.task_id}/unclaim").status_code == 302
    assert open_tasks(services)[0].assignee is None
    assert supervisor.post("/tasks/00000000-0000-0000-0000-000000000000/unclaim").status_code == 404
