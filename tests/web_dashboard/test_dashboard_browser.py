"""The dashboard in a real browser, on three simulated weeks of the real process: a supervisor reads it
and drills into the tickets; an auditor verifies it against the trail; a supervisor reads everyone's
figures; an agent reads their own on a 390 px phone and is refused a colleague's. Screenshots (English
and Chinese) land in ``test-artifacts/screenshots``.

One history for the module (the tests read it; the auditor's verification, the last test, is the only
thing written): the two tests had histories of their own, 70 and 40 requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from analytics.refresh import refresh
from engine import clock as engine_clock
from simulation.history import simulate_history
from tests.conftest import PROCESSES
from tests.support.states import frozen_clock
from tests.web.live import chromium, live_site, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHONE = {"width": 390, "height": 844}
USERS = {"sue": ["supervisor"], "audrey": ["auditor"], "agent.li": ["agent"], "agent.wang": ["agent"]}


@pytest.fixture(scope="module")
def clock() -> Iterator[engine_clock.FrozenClock]:
    """One frozen clock for the module's site and pages (instead of a fresh one per test)."""
    yield from frozen_clock()


@pytest.fixture(scope="module")
def site(tmp_path_factory, sqlite_template, clock) -> Iterator[str]:
    """The real process, its catalogue and three simulated weeks (70 requests), facts refreshed, served
    on loopback."""
    with live_site(tmp_path_factory.mktemp("dashboard"), sqlite_template, [PROCESSES], USERS,
                   catalogue=PROCESSES / "data") as (base, services):
        report = simulate_history(services.db, services.runtime, tickets=70, days=21, seed=8,
                                  start=date(2026, 2, 9))
        assert report.tickets > 50 and report.open_incidents == 0
        refresh(services.db, clock.now(), max_batches=100)
        yield base


def test_supervisor_sees_a_living_dashboard_and_drills_into_the_tickets(site) -> None:
    with chromium() as context:
        page = context.new_page()
        sign_in(page, site, "sue")
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)

        # When the supervisor opens the dashboard
        page.goto(f"{site}/dashboard/")
        page.wait_for_selector("#kpi-charts[data-drawn=yes]")

        # Then the tiles carry figures, the charts are drawn, the tables are filled
        assert page.locator(".tile").count() == 14
        assert page.locator(".tile .tile-value").first.inner_text() not in ("", "—", "0")
        assert page.locator("#kpi-charts canvas").count() == 8
        assert page.locator("#table-channel tbody tr").count() >= 4
        assert page.locator("#table-handle_times tbody tr").count() >= 5
        # and a median read from the daily histograms says it is approximate, and by how much
        median = page.locator(".tile[data-kpi='resolution_median_hours']")
        assert median.locator(".tile-value").inner_text().startswith("≈ ")
        assert median.locator(".tile-approx").inner_text() == "±4.8 %"
        assert "within ±4.8 % of the exact value" in median.locator(".tile-approx").get_attribute("title")
        assert "within ±4.8 % of the exact value" in page.locator("#approx-note").inner_text()
        assert errors == []
        shot(page, "dashboard")

        # When she follows the tickets behind the ticket count
        page.click(".tile[data-kpi='tickets'] a.tile-drill")
        page.wait_for_url("**/dashboard/tickets?**")
        rows = page.locator("#drill tbody tr")
        assert rows.count() > 50
        shot(page, "dashboard-drill-down")
        first = page.locator("#drill tbody tr a.ticketno").first
        number = first.inner_text()
        first.click()
        page.wait_for_url(f"**/tickets/{number}")

        # And the page reads in Chinese too
        page.goto(f"{site}/lang/zh?next=/dashboard/%3Fperiod%3Dday")
        page.wait_for_selector("#kpi-charts[data-drawn=yes]")
        assert "KPI 看板" in page.locator("h1").inner_text()
        median = page.locator(".tile[data-kpi='resolution_median_hours']")
        assert median.locator(".tile-value").inner_text().startswith("≈ ")
        assert "与精确值相差不超过 ±4.8 %" in median.locator(".tile-approx").get_attribute("title")
        assert "≈ 表示由每日直方图得出的中位数或 p90" in page.locator("#approx-note").inner_text()
        shot(page, "dashboard-zh")


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
