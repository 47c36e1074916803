"""The dashboard reads every median once for all its tables, and the charts' data carries none."""

from __future__ import annotations

from analytics.dashboard import BREAKDOWNS, chart_data, dashboard
from analytics.queries import grouped, measures
from engine.db import Database
from tests.kpi.approx import near
from tests.kpi.test_kpi_figures import NOW, WEEKS, context, figures  # noqa: F401  (the fixture)

TIMES = ("response_median_hours", "response_p90_hours", "resolution_median_hours", "resolution_p90_hours")


def test_the_dashboards_medians_are_those_of_each_table_and_tile_read_alone(figures: Database) -> None:  # noqa: F811
    # Given five tickets over two weeks, two of them answered and resolved
    session, ctx = context(figures)
    # When the dashboard is computed in one go
    board = dashboard(session, WEEKS, NOW)
    # Then each tile's and each table row's median and p90 are those of the same figure read on its own
    alone = measures(session, ctx, WEEKS)
    shown = {t["key"]: t for t in board.tiles}
    assert shown["response_median_hours"]["value"] == alone["response_median_hours"]
    assert near(alone, "response_median_hours", 2.0)
    assert shown["resolution_median_hours"]["p90"] == alone["resolution_p90_hours"]
    assert near(alone, "resolution_p90_hours", 60.0)
    # and the tiles carry the error they are shown with
    assert shown["response_median_hours"]["error"] == alone["response_median_hours_error"] > 0
    for by, rows in (("week", board.trend), *((b, board.breakdowns[b]) for b in BREAKDOWNS)):
        expected = {r["key"]: [r[k] for k in TIMES] for r in grouped(session, ctx, WEEKS, by)}
        assert {r["key"]: [r[k] for k in TIMES] for r in rows} == expected, by
    channels = {r["key"]: r for r in board.breakdowns["channel"]}
    assert near(channels["email"], "resolution_median_hours", 60.0)
    assert near(channels["hotline"], "resolution_median_hours", 10.0)
    assert channels["web"]["resolution_median_hours"] is None
    session.close()


def test_the_charts_data_carries_counts_and_sums_but_no_median(figures: Database) -> None:  # noqa: F811
    session, _ = context(figures)
    data = chart_data(session, WEEKS, NOW)
    assert [r["tickets"] for r in data["trend"]] == [4, 1]
    tables = (data["trend"], *data["breakdowns"].values())
    assert all(not any("median" in k or "p90" in k for k in row) for rows in tables for row in rows)
    assert {r["element_id"]: r["runs"] for r in data["handle_times"]} == {"respond_to_customer": 3, "repair_device": 1}
    assert all("waiting_median_hours" not in r for r in data["handle_times"])
    session.close()
