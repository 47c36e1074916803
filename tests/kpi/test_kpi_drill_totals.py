"""The drill-down's total, summed from the per-day roll-ups, is the count of the tickets it lists."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from analytics.facts import KpiTicket
from analytics.queries import ROLLED, Drill, drill_conditions, rolled_total, tickets_behind
from engine.db import Database
from tests.kpi.test_kpi_figures import WEEKS, context, figures  # noqa: F401

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
