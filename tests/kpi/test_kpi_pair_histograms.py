"""Medians over two dimensions at once (a channel's product lines, a team's channels) come from the pairs'
histograms, each within its printed error of the exact value from the facts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from analytics.daily import PAIRS
from analytics.histogram import H
from analytics.timings import exact_ticket_times, ticket_times
from engine.db import Database
from tests.kpi.approx import near
from tests.kpi.test_kpi_figures import WEEKS, context, figures  # noqa: F401  (the fixture)

TIMES = ("response_median_hours", "response_p90_hours", "resolution_median_hours", "resolution_p90_hours")


@pytest.mark.parametrize(("flt", "by"), [
    (replace(WEEKS, channel="hotline"), "product_line"),
    (replace(WEEKS, channel="email"), "priority"),
    (replace(WEEKS, product_line="tv"), "team"),
    (replace(WEEKS, team="agent"), "channel"),
    (replace(WEEKS, team="technician"), "priority"),
    (replace(WEEKS, channel="hotline", priority="high"), "week"),
    (replace(WEEKS, channel="hotline", team="agent"), None),
])
def test_a_median_over_two_dimensions_is_read_from_the_pairs_histograms_within_its_error(
        figures: Database, flt, by) -> None:  # noqa: F811
    session, _ = context(figures)
    with session:
        shown = ticket_times(session, flt, (by,) if by else ())[by]
        exact = exact_ticket_times(session, flt, (by,) if by else ())[by]
    assert set(shown) >= {k for k, v in exact.items() if any(v.values())}
    for group, values in exact.items():
        for key in TIMES:
            assert near(shown[group], key, values[key]), (flt, by, group, key)


def test_each_pair_of_dimensions_keeps_its_ticket_times_per_day(figures: Database) -> None:  # noqa: F811
    session, _ = context(figures)
    with session:
        kept = {(m, d, v) for m, d, v in session.execute(
            H.__table__.select().with_only_columns(H.measure, H.dim, H.value).where(H.dim.in_(PAIRS.values())))}
    # B (e-mail, tv, high… the defaults elsewhere) was worked by the agent and the technician
    assert ("response", "c+l", "email|tv") in kept and ("resolution", "c+t", "email|technician") in kept
    assert ("response", "l+t", "washing_machine|agent") in kept and not any(m in ("waiting", "working")
                                                                            for m, _, _ in kept)
