"""Real-browser tests on the small fixture process: tasklist, claim, a form with errors."""

from __future__ import annotations

import pytest

import tests.handlers_for_tests  # noqa: F401
from tests.conftest import FIXTURES
from tests.web.live import chromium, live_site, shot, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def site(tmp_path, sqlite_template):
    """The simple process, an agent and a supervisor, served on loopback."""
    with live_site(tmp_path, sqlite_template, [FIXTURES / "simple"], {"ann": ["agent"], "sam": ["supervisor"]},
                   {"INTAKE_PROCESS": "simple"}) as served:
        yield served


def test_agent_works_a_task_from_the_group_queue_with_validation_errors(site):
    # Given two requests waiting in the agents' queue
    base, services = site
    with services.db.transaction() as s:
        for n, prio in ((1, "high"), (2, "low")):
            services.runtime.start(s, "simple", {"channel": "hotline", "priority": prio,
                                                 "customer_tier": "vip" if n == 1 else "normal"},
                                   f"AS-20260302-0000{n}", "system")
    with chromium() as context:
        page = context.new_page()
        sign_in(page, base, "ann")
        # When the agent opens the groups' tab and claims the first task
        page.click("text=My groups' tasks")
        assert page.locator("table.tasklist tbody tr").count() == 2
        shot(page, "simple-tasklist-group")
        page.locator("table.tasklist tbody tr").first.locator("button:has-text('Claim')").click()
        page.click("a.tab:has-text('My tasks')")
        page.click("table.tasklist tbody tr >> nth=0 >> td.col-stage")  # the whole row opens the task
        # And submits a wrong amount (the browser's own checks switched off to reach the server)
        page.fill("[name=customer]", "Bob <script>alert(1)</script>")
        page.fill("[name=amount]", "-5")
        page.eval_on_selector("form.taskform", "f => f.noValidate = true")
        page.click("button:has-text('Complete task')")
        # Then the server shows the error next to the field and keeps what was typed
        assert page.locator(".field-error").count() == 1
        assert page.input_value("[name=customer]") == "Bob <script>alert(1)</script>"
        shot(page, "simple-task-form-validation-errors")
        page.fill("[name=amount]", "50")
        page.click("button:has-text('Complete task')")
        # And the next step of the same ticket opens at once
        assert page.locator("h1").inner_text() == "Review"


def test_the_browser_checks_required_fields_before_sending(site):
    base, services = site
    with services.db.transaction() as s:
        services.runtime.start(s, "simple", {}, "AS-20260302-00009", "system")
    with chromium() as context:
        page = context.new_page()
        sign_in(page, base, "sam")
        page.click("td.col-name a")
        url = page.url
        page.click("button:has-text('Complete task')")
        assert page.url == url and page.locator(".field-error").count() == 0
        assert page.eval_on_selector("[name=customer]", "e => e.validity.valueMissing")


def test_the_chinese_interface(site):
    base, _services = site
    with chromium(locale="zh-CN") as context:
        page = context.new_page()
        page.goto(f"{base}/login")
        assert page.locator("h1").inner_text() == "登录"
        sign_in(page, base, "sam")
        assert "全部未完成" in page.content()
        shot(page, "tasklist-zh")
        page.click("text=English")
        assert "All open" in page.content()


@pytest.fixture
def repair_site(tmp_path, sqlite_template):
    """The web fixture's repair process and a technician, served on loopback."""
    from tests.web.conftest import WEB_FIXTURES

    with live_site(tmp_path, sqlite_template, [WEB_FIXTURES / "customer"], {"tom": ["technician"]}) as served:
        yield served


def test_rows_are_added_and_removed_in_the_browser_and_arrive_in_order(repair_site):
    from tests.web.conftest import open_tasks

    base, services = repair_site
    with services.db.transaction() as s:
        services.runtime.start(s, "web_repair", {"ticket_number": "AS-20260302-00042", "priority": "urgent"},
                               "AS-20260302-00042", "agent")
    with chromium() as context:
        page = context.new_page()
        sign_in(page, base, "tom")  # a technician lands on My day; the group's queue is on the tasklist
        page.goto(f"{base}/tasks")
        page.click("text=My groups' tasks")
        page.click("td.col-name a")
        rows = page.locator("fieldset[data-rows='parts_used'] tbody tr")
        assert rows.count() == 2  # blank rows for browsers without JavaScript
        page.click("button:has-text('Add row')")
        assert rows.count() == 3
        for index, sku in enumerate(("P-1", "P-2", "P-3")):
            page.fill(f"[name='parts_used.{index}.sku']", sku)
            page.fill(f"[name='parts_used.{index}.quantity']", str(index + 1))
        rows.nth(1).locator("button:has-text('Remove')").click()
        assert page.input_value("[name='parts_used.1.sku']") == "P-3"  # renumbered
        assert page.input_value("[name='ticket_number']") == "AS-20260302-00042"
        assert page.get_attribute("[name='ticket_number']", "readonly") is not None
        page.fill("[name=work_done]", "Swapped the board")
        page.fill("[name=labour_hours]", "1.25")
        page.check("input[name=outcome][value=repaired]")
        page.fill("[name=finished_at]", "2026-03-02T11:30")
        shot(page, "rows-added-and-removed")
        page.click("button:has-text('Complete task')")
        page.wait_for_url(f"{base}/tasks")
    assert [t.name for t in open_tasks(services)] == ["Approve the quote"]
    from readmodels import find_ticket, instance_data

    with services.db.transaction(write=False) as s:
        data = instance_data(s, services.runtime.specs, find_ticket(s, "AS-20260302-00042"))
    assert data["parts_used"] == [{"sku": "P-1", "quantity": 1}, {"sku": "P-3", "quantity": 3}]
    assert data["labour_hours"] == 1.25 and data["finished_at"] == "2026-03-02T11:30:00+08:00"
