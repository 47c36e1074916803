"""A pilot's two sides compared on live data: the KPI facts of the tickets it routed, per version."""

from __future__ import annotations

from datetime import date

import pytest

from analytics.versions import pilot_figures
from engine.bundle import Bundle, read_bundle
from engine.deploy import deploy
from engine.pilots import get_pilot, set_current, start_pilot
from handlers.demo import DATA_DIR, load_catalogue
from simulation.history import simulate_history
from tests.conftest import PROCESSES


@pytest.mark.slow
def test_the_pilots_tickets_are_compared_per_version(database, runtime):
    # Given processes/ as v1 (current) and a v2 whose agents approve no quote, piloted on half the new tickets
    files = dict(read_bundle([PROCESSES], name="aftersales").files)
    files["quote_approval.dmn"] = files["quote_approval.dmn"].replace(b"&gt; 1000", b"&gt; 0")
    with database.transaction() as s:
        v1 = deploy(s, read_bundle([PROCESSES], name="aftersales"), "owner").deployment_id
        v2 = deploy(s, Bundle("aftersales", files), "owner").deployment_id
        set_current(s, "after_sales", v1, "owner")
        load_catalogue(s, DATA_DIR)
    with database.transaction() as s:
        pilot_id = start_pilot(s, "after_sales", v2, "owner", share=50).id

    # When a few days of requests come in and are worked
    report = simulate_history(database, runtime, tickets=8, days=2, seed=4, start=date(2026, 3, 2), settle_days=5)

    # Then half the requests started on each version, and the figures show each side's tickets
    with database.transaction(write=False) as s:
        pilot = get_pilot(s, pilot_id)
        assert pilot.matched == report.requests and pilot.piloted == report.requests // 2
        figures = pilot_figures(s, pilot_id, [v1, v2])
    assert report.tickets == figures[v1]["tickets"] + figures[v2]["tickets"]
    for side in (figures[v1], figures[v2]):
        assert side["closed"] > 0 and side["cost_per_ticket"] > 0 and side["resolution_median_hours"] > 0
