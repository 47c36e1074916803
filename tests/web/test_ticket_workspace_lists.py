"""The ticket list: filters in the URL (state, stage, priority, channel, assignee, SLA, dates, product),
pages, a CSV export that opens right in Excel, and role landing pages after sign-in."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine.identity import Actor
from engine.models import Instance
from handlers.sla import SlaClock
from tests.web.conftest import TICKET, open_tasks
from tests.web.test_ticket_workspace_actions import record_customer


@pytest.fixture
def recorded(database, repair_ticket):
    """The repair ticket (high priority, hotline) with its ticketing records: Li Lei's Aurora X1."""
    with database.transaction() as s:
        record_customer(s)
        return s.scalar(select(Instance.id).where(Instance.business_key == TICKET))


def listed(b, query: str = "") -> str:
    response = b.get(f"/tickets?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_the_ticket_list_shows_open_tickets_with_customer_product_and_priority(signed_in, recorded):
    html = listed(signed_in("agent"))
    assert TICKET in html and "Li Lei" in html and "Aurora X1 SN-0042" in html and "prio-high" in html
    assert "1 tickets" in html


@pytest.mark.parametrize(("query", "found"), [
    ("state=active", True),
    ("state=completed", False),
    ("priority=high", True),
    ("priority=low", False),
    ("channel=hotline", True),
    ("channel=web", False),
    ("product=aurora", True),
    ("product=sn-0042", True),
    ("product=Zephyr", False),
    ("from=2026-03-02&to=2026-03-02", True),
    ("from=2026-03-03", False),
    ("to=2026-03-01", False),
    ("sla=breached", False),
    ("assignee=technician", False),
])
def test_each_filter_keeps_or_drops_the_ticket(signed_in, recorded, query, found):
    assert (TICKET in listed(signed_in("supervisor"), query)) is found


def test_the_filters_stay_in_the_url_and_the_form(signed_in, recorded):
    html = listed(signed_in("agent"), "priority=high&product=aurora")
    assert '<option value="high" selected>' in html and 'value="aurora"' in html
    assert "/tickets.csv?priority=high&amp;product=aurora" in html


def test_a_ticket_whose_clock_ran_out_is_breached_and_one_close_to_it_at_risk(signed_in, database, recorded, clock):
    now = clock.now()
    with database.transaction() as s:
        s.add(SlaClock(instance_id=recorded, business_key=TICKET, kind="resolution", target="PT4H",
                       target_seconds=14400, calendar="24x7", warn_share=0.75, started_at=now, running_since=now,
                       consumed_seconds=0, paused_seconds=0, pauses=[], status="running",
                       warn_at=now + timedelta(hours=3), due_at=now + timedelta(hours=4)))
    assert TICKET not in listed(signed_in("supervisor"), "sla=breached")
    clock.advance(timedelta(hours=3, minutes=30))
    supervisor = signed_in("supervisor")  # a new sign-in: the first session went idle meanwhile
    assert TICKET in listed(supervisor, "sla=at_risk") and TICKET not in listed(supervisor, "sla=breached")
    clock.advance(timedelta(hours=1))
    assert TICKET in listed(supervisor, "sla=breached") and TICKET not in listed(supervisor, "sla=at_risk")


def test_the_assignee_filter_finds_tickets_a_person_holds_a_task_of(signed_in, services, recorded):
    [task] = open_tasks(services, TICKET)
    with services.db.transaction() as s:
        services.runtime.claim(s, task.task_id, Actor("technician", frozenset({"technician"})))
    assert TICKET in listed(signed_in("supervisor"), "assignee=technician")


@pytest.mark.parametrize(("query", "field"), [
    ("state=sleeping", "state"),
    ("sla=soonish", "sla"),
    ("from=03/02/2026", "from"),
    ("from=2026-03-05&to=2026-03-01", "opened_to"),
    ("page=two", "page"),
])
def test_a_bad_filter_is_refused_naming_it(signed_in, recorded, query, field):
    response = signed_in("agent").get(f"/tickets?{query}")
    assert response.status_code == 400
    assert field.split("_")[0] in response.get_data(as_text=True)


def test_the_list_pages_by_the_configured_size(app, signed_in, services, deploy_fixture, recorded):
    from tests.web.conftest import CUSTOMER, PRODUCT

    app.config["TASKS_PER_PAGE"] = 2
    with services.db.transaction() as s:
        for n in range(2, 5):
            services.runtime.start(s, "web_repair", {"ticket_number": f"AS-20260302-0000{n}", "channel": "web",
                                                     "priority": "low", "customer": CUSTOMER, "product": PRODUCT,
                                                     "fault": {"description": "x"}}, f"AS-20260302-0000{n}", "agent")
    agent = signed_in("agent")
    first, second = listed(agent), listed(agent, "page=2")
    assert "Page 1 of 2" in first and "4 tickets" in first
    shown = [k for k in ("AS-20260302-00001", "AS-20260302-00002", "AS-20260302-00003", "AS-20260302-00004")
             if k in first or k in second]
    assert len(shown) == 4 and not any(k in first and k in second for k in shown)


def test_the_csv_export_is_utf8_with_a_byte_order_mark_and_follows_the_filters(signed_in, database, recorded):
    with database.transaction() as s:
        from handlers.ticketing import Customer
        s.scalars(select(Customer)).one().name = "李雷"
    response = signed_in("agent").get("/tickets.csv?priority=high")
    body = response.data.decode("utf-8")
    assert response.mimetype == "text/csv" and body.startswith("\ufeff")
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:3] == ["ticket", "status", "stage"] and rows[1][0] == TICKET and rows[1][5] == "李雷"
    assert len(signed_in("agent").get("/tickets.csv?priority=low").data.decode().splitlines()) == 1


def test_the_export_masks_names_for_roles_that_do_not_see_them(signed_in, recorded):
    body = signed_in("qa").get("/tickets.csv").data.decode("utf-8")
    assert "Li Lei" not in body and "L***" in body


def test_search_still_finds_a_ticket_by_number(signed_in, recorded):
    response = signed_in("agent").get(f"/tickets?q={TICKET}")
    assert response.status_code == 302 and response.location.endswith(f"/tickets/{TICKET}")


# --- where each role lands -------------------------------------------------------------------
@pytest.mark.parametrize(("role", "endpoint", "path"), [
    ("agent", "tasks.tasklist", "/tasks"),
    ("supervisor", "tasks.tasklist", "/tasks?tab=all"),
    ("technician", "technician.my_day", "/my-day"),
    ("warehouse", "warehouse.index", "/warehouse/"),
    ("qa", "qa.sample", "/qa/"),
    ("process_owner", "workbench.workbench", "/owner/workbench"),
    ("auditor", "audit.instances", "/audit/instances"),
    ("admin", "admin.users", "/admin/users"),
])
def test_each_role_lands_on_the_page_it_works_from(app, signed_in, role, endpoint, path):
    b = signed_in(role)
    landed = b.client.get("/").location
    assert landed == (path if endpoint in app.view_functions else "/tasks")


def test_a_user_with_several_roles_lands_by_the_first_in_the_table(app, database, browser):
    from engine.identity import create_user

    with database.transaction() as s:
        create_user(s, "both", "correct-horse-1", ["auditor", "agent"])
    browser.login("both")
    assert browser.client.get("/").location == "/tasks"


def test_signing_in_takes_the_user_to_their_landing_page(app, browser, users):
    response = browser.login("auditor")
    assert response.location == "/"
    assert browser.client.get("/").location == "/audit/instances"


def test_dates_in_the_filter_are_days_in_the_display_time_zone(signed_in, recorded):
    # opened 2026-03-02 09:00 UTC = 17:00 in Shanghai, still 2026-03-02 there
    assert TICKET in listed(signed_in("agent"), "from=2026-03-02&to=2026-03-02")
    assert isinstance(datetime.now(), datetime)
