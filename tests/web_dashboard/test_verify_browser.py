"""In Chromium: an auditor verifies the dashboard against the trail; a supervisor reads everyone's
figures; an agent reads their own on a 390 px phone and is refused a colleague's. Screenshots in
English and Chinese land in ``test-artifacts/screenshots``."""

from __future__ import annotations

from datetime import date

import pytest

from analytics.refresh import refresh
from simulation.history import simulate_history
from tests.conftest import PROCESSES
from tests.web.live import chromium, live_site, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def site(tmp_path, sqlite_template, clock):
    """Two simulated weeks of the real process (40 requests), facts refreshed, served on loopback."""
    users = {"sue": ["supervisor"], "audrey": ["auditor"], "agent.li": ["agent"], "agent.wang": ["agent"]}
    with live_site(tmp_path, sqlite_template, [PROCESSES], users, catalogue=PROCESSES / "data") as (base, services):
        report = simulate_history(services.db, services.runtime, tickets=40, days=14, seed=8, start=date(2026, 2, 16))
        assert report.tickets > 30 and report.open_incidents == 0
        refresh(services.db, clock.now(), max_batches=100)
        yield base


def test_an_auditor_verifies_the_dashboard_and_people_read_their_figures(site) -> None:
    with chromium() as context:
        page = context.new_page()
        sign_in(page, site, "audrey")

        # When the auditor opens the dashboard, never verified, and presses the button
        page.goto(f"{site}/dashboard/")
        assert "not been verified" in page.locator("#verification").inner_text()
        assert page.locator(".tile .tile-def").count() == 14  # every tile opens its definition
        page.click("#verify-now")
        page.wait_for_url("**/dashboard/**")

        # Then every figure matched the trail, and the page says when and by whom
        assert "match the audit trail" in page.locator(".flash").inner_text()
        section = page.locator("#verification").inner_text()
        assert "by audrey" in section and "figures matched" in section
        shot(page, "dashboard-verified")
        page.goto(f"{site}/lang/zh?next=/dashboard/")
        assert "与审计记录核对" in page.locator("#verification").inner_text()
        shot(page, "dashboard-verified-zh")

    with chromium() as context:
        page = context.new_page()
        sign_in(page, site, "sue")
        # When the supervisor opens the figures per person
        page.goto(f"{site}/dashboard/people/")
        rows = page.locator("#table-people tbody tr[data-person]")
        assert rows.count() >= 6
        assert page.locator("#table-people thead a.kpi-def").count() == 8
        shot(page, "kpi-people")
        page.goto(f"{site}/lang/zh?next=/dashboard/people/")
        assert "人员" in page.locator("#table-people thead").inner_text()
        shot(page, "kpi-people-zh")

    with chromium(locale="zh-CN") as context:
        page = context.new_page()
        page.set_viewport_size(PHONE)
        sign_in(page, site, "agent.li")
        page.goto(f"{site}/lang/zh?next=/dashboard/people/agent.li")
        # Then the agent reads their own figures on a phone, in Chinese, the page no wider than the phone
        assert page.locator("#person-card[data-person='agent.li'] dd").count() == 8
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "kpi-person-phone-zh")
        # But not a colleague's
        response = page.goto(f"{site}/dashboard/people/agent.wang")
        assert response.status == 403
