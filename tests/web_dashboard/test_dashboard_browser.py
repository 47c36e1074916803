"""The dashboard in a real browser, on a simulated history of the real process; screenshots of
the page (English and Chinese) and of a drill-down land in ``test-artifacts/screenshots``."""

from __future__ import annotations

from datetime import date

import pytest

from simulation.history import simulate_history
from tests.conftest import PROCESSES
from tests.web.live import chromium, live_site, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def site(tmp_path, sqlite_template, clock):
    """The real process, its catalogue and three simulated weeks (70 requests), served on loopback."""
    with live_site(tmp_path, sqlite_template, [PROCESSES], {"sue": ["supervisor"]},
                   catalogue=PROCESSES / "data") as (base, services):
        report = simulate_history(services.db, services.runtime, tickets=70, days=21, seed=8,
                                  start=date(2026, 2, 9))
        assert report.tickets > 50 and report.open_incidents == 0
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
