"""The drill-down's total, summed from the per-day roll-ups, is the count of the tickets it lists."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func, select

from analytics.facts import KpiTicket, kpi_settings
from analytics.queries import ROLLED, Context, Drill, KpiFilter, drill_conditions, rolled_total, tickets_behind
from engine.db import Database
from tests.kpi.conftest import add_facts
from tests.kpi.test_kpi_figures import WEEKS, context, figures  # noqa: F401
from tests.kpi.test_kpi_histograms import NOW, _tickets

FILTERS = [WEEKS, replace(WEEKS, channel="email"), replace(WEEKS, team="agent"), replace(WEEKS, priority="low")]
GROUPS = [(None, None), ("week", "2026-03-09"), ("day", "2026-03-02"), ("channel", "hotline"), ("channel", "web"),
          ("priority", "high"), ("team", "technician"), ("month", "2026-03")]


@pytest.mark.parametrize("kpi", sorted(ROLLED))
def test_a_counted_figures_total_from_the_roll_ups_is_the_number_of_its_tickets(figures: Database,  # noqa: F811
                                                                                 kpi: str) -> None:
    session, ctx = context(figures)
    with session:
        for flt in FILTERS:
            for by, group in GROUPS:
                drill = Drill(kpi, group_by=by, group=group)
                counted = session.scalar(select(func.count()).select_from(KpiTicket).where(
                    *drill_conditions(ctx, flt, drill)), ctx.params)
                total = rolled_total(session, flt, drill)
                assert total in (None, counted), (flt, drill)
                assert tickets_behind(session, ctx, flt, drill)[1] == counted
        assert rolled_total(session, WEEKS, Drill(kpi)) is not None


def test_a_figure_that_depends_on_the_moment_or_a_task_type_is_counted_from_the_facts(figures: Database  # noqa: F811
                                                                                      ) -> None:
    session, _ = context(figures)
    with session:
        assert rolled_total(session, WEEKS, Drill("response_missed")) is None
        assert rolled_total(session, WEEKS, Drill("open_over_target")) is None
        assert rolled_total(session, WEEKS, Drill("all", element="repair_device")) is None
        assert rolled_total(session, replace(WEEKS, channel="email", priority="low"), Drill("all")) is None


@pytest.mark.parametrize(("start", "end"), [(date(2026, 2, 1), date(2026, 2, 28)),
                                            (date(2026, 1, 20), date(2026, 1, 31)),
                                            (date(2026, 2, 1), date(2026, 2, 1))])
def test_the_page_read_newest_first_lists_the_tickets_of_the_business_days_on_the_ranges_edges(
        database: Database, start: date, end: date) -> None:
    # Given tickets every five hours across the end of January and two either side of midnight in Shanghai
    add_facts(database, _tickets())
    flt = KpiFilter(period="day", start=start, end=end)
    with database.transaction(write=False) as s:
        ctx = Context(NOW, kpi_settings(s))
        rows, total = tickets_behind(s, ctx, flt, Drill("all"), per_page=500)
        days = {n: d for n, d in s.execute(select(KpiTicket.number, KpiTicket.day))}
    # Then the page lists exactly the tickets of those business days, as many as the total says
    assert sorted(r["number"] for r in rows) == sorted(n for n, d in days.items() if start <= d <= end)
    assert len(rows) == total > 0
