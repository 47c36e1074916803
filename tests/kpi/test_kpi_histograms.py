"""Figures from the per-day roll-ups equal a recount from the facts: medians from the histograms within the
error they are shown with, ticket changes moving the right day's rows, filters across month ends and
Shanghai's midnight."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from analytics.daily import KpiDay
from analytics.drift import drift
from analytics.facts import KpiTicket, kpi_settings, period_keys
from analytics.histogram import EDGES, ERROR, H, bucket_of, percentile
from analytics.queries import Context, KpiFilter, grouped, measures
from analytics.rollup import roll_up
from analytics.timings import exact_ticket_times, nearest_rank
from engine.db import Database
from tests.kpi.approx import near
from tests.kpi.conftest import add_facts
from tests.kpi.test_kpi_figures import ticket

H1 = 3600.0
NOW = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)
#: 00:30 on 1 February in Shanghai is still 31 January in UTC
AFTER_MIDNIGHT = datetime(2026, 1, 31, 16, 30, tzinfo=UTC)
BEFORE_MIDNIGHT = datetime(2026, 1, 31, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_percentile_from_the_histogram_is_within_its_printed_error_of_the_exact_one(seed: int) -> None:
    draw = random.Random(seed)
    values = [draw.lognormvariate(9.5, 1.4) for _ in range(2000)] + [0.0, 0.4, EDGES[10], EDGES[50]]
    counts = [0] * (len(EDGES) + 1)
    for v in values:
        counts[bucket_of(v)] += 1
    for q in (0.5, 0.9, 0.99):
        found, exact = percentile(counts, q), nearest_rank(values, q)
        assert found is not None and exact is not None
        assert abs(found.seconds - exact) <= found.seconds * found.error * (1 + 1e-12)
        assert found.error <= ERROR


def test_an_empty_histogram_has_no_percentile() -> None:
    assert percentile([0] * (len(EDGES) + 1), 0.5) is None


def test_the_databases_bucket_of_a_duration_is_pythons_even_on_an_edge(database: Database) -> None:
    # Given tickets answered exactly on bucket edges, just below them, in under a second and after years
    seconds = [0.0, 0.5, 1.0, EDGES[1] - 1e-6, EDGES[1], EDGES[77], EDGES[77] - 0.001, EDGES[150], 3e9]
    add_facts(database, [ticket(n, NOW - timedelta(days=1), first_response_seconds=s)
                         for n, s in enumerate(seconds, start=1)])
    # Then the day's histogram counts each in the bucket Python puts it in
    with database.transaction(write=False) as s:
        row = s.execute(select(H).where(H.measure == "response", H.dim == "all")).one()[0]
    expected = [0] * (len(EDGES) + 1)
    for v in seconds:
        expected[bucket_of(v)] += 1
    assert [getattr(row, f"b{i}") for i in range(len(EDGES) + 1)] == expected


def _tickets() -> list[dict[str, Any]]:
    closed = {"status": "closed", "outcome": "resolved"}
    draw = random.Random(5)
    rows = []
    for n in range(1, 61):
        opened = datetime(2026, 1, 28, 2, 0, tzinfo=UTC) + timedelta(hours=n * 5)
        rows.append(ticket(n, opened, **closed, channel=("hotline", "email", "web")[n % 3],
                           product_line=("tv", "washing_machine")[n % 2], priority=("high", "low")[n % 2],
                           first_response_seconds=draw.uniform(0.2, 30) * H1, response_met=n % 4 != 0,
                           resolution_seconds=draw.uniform(1, 90) * H1, resolution_met=n % 5 != 0))
    rows += [ticket(61, AFTER_MIDNIGHT, channel="hotline", product_line="tv", first_response_seconds=3 * H1),
             ticket(62, BEFORE_MIDNIGHT, channel="hotline", product_line="tv", first_response_seconds=5 * H1)]
    return rows


def _recount(database: Database, flt: KpiFilter) -> tuple[int, dict[str, Any]]:
    """Count the filter's tickets and read their exact medians straight from the facts."""
    conds = [KpiTicket.day >= flt.start, KpiTicket.day <= flt.end]
    conds += [getattr(KpiTicket, d) == getattr(flt, d) for d in ("channel", "product_line", "priority")
              if getattr(flt, d)]
    with database.transaction(write=False) as s:
        n = s.scalar(select(func.count()).select_from(KpiTicket).where(*conds))
        return n, exact_ticket_times(s, flt, ())[None].get(None, {})


@pytest.mark.parametrize("dims", [{}, {"channel": "hotline"}, {"product_line": "tv"},
                                  {"channel": "hotline", "product_line": "tv"},
                                  {"channel": "hotline", "product_line": "tv", "priority": "high"}])
def test_filters_across_a_month_end_and_shanghais_midnight_give_the_facts_figures(database: Database,
                                                                                   dims: dict[str, str]) -> None:
    # Given sixty tickets either side of the end of January, and two opened half an hour either side of
    # midnight in Shanghai (both on 31 January in UTC)
    add_facts(database, _tickets())
    assert period_keys(AFTER_MIDNIGHT)["day"] == date(2026, 2, 1)
    assert period_keys(BEFORE_MIDNIGHT)["day"] == date(2026, 1, 31)
    for start, end in ((date(2026, 2, 1), date(2026, 2, 28)), (date(2026, 1, 29), date(2026, 2, 3))):
        flt = KpiFilter(period="month", start=start, end=end, **dims)
        with database.transaction(write=False) as s:
            ctx = Context(NOW, kpi_settings(s))
            m = measures(s, ctx, flt)
            months = {r["key"]: r["tickets"] for r in grouped(s, ctx, flt, "month")}
        n, exact = _recount(database, flt)
        # Then the counts are those of the facts, per month too, and each median within its error
        assert m["tickets"] == n == sum(months.values()), (start, dims)
        assert set(months) <= {"2026-01", "2026-02"}
        for key in ("response_median_hours", "resolution_median_hours", "resolution_p90_hours"):
            if len(dims) < 3:  # none, one dimension or a pair of them: from their histograms
                assert near(m, key, exact.get(key)), (key, start, dims)
            else:  # three dimensions at once: exact, from the facts
                assert m[key] == exact.get(key) and m.get(f"{key}_error") is None


def _change(database: Database, n: int, **facts: Any) -> None:
    """Rewrite one ticket's facts and roll up the days it was and is on, as a refresh does."""
    with database.transaction() as s:
        old = s.get(KpiTicket, n)
        row = {c.name: getattr(old, c.name) for c in KpiTicket.__table__.columns} | facts
        if "opened_at" in facts:
            row.update(period_keys(facts["opened_at"]))
        days = {old.day, row["day"]}
        s.execute(delete(KpiTicket).where(KpiTicket.ticket_id == n))
        s.execute(KpiTicket.__table__.insert(), [row])
        roll_up(s, kpi_settings(s), days)


def _day(database: Database, day: date, dim: str = "all", value: str = "") -> dict[str, Any]:
    with database.transaction(write=False) as s:
        row = s.scalars(select(KpiDay).where(KpiDay.dim == dim, KpiDay.day == day, KpiDay.value == value)).first()
        return {} if row is None else {"tickets": row.tickets, "open": row.open, "reopened": row.reopened,
                                       "resolved": row.resolved, "resolution_seconds": row.resolution_seconds}


def test_a_back_dated_reopened_or_twice_closed_ticket_moves_the_right_days_rows(database: Database) -> None:
    # Given the tickets of late January, rolled up
    add_facts(database, _tickets())
    first, moved_to = period_keys(AFTER_MIDNIGHT)["day"], date(2026, 1, 29)
    before = _day(database, first), _day(database, moved_to)

    # When ticket 61 is back-dated two days and a half
    _change(database, 61, opened_at=AFTER_MIDNIGHT - timedelta(days=2, hours=12))
    # Then it left its day's rows and joined those of the day it now falls on (and its channel's)
    assert _day(database, first)["tickets"] == before[0]["tickets"] - 1
    assert _day(database, moved_to)["tickets"] == before[1]["tickets"] + 1
    assert _day(database, moved_to, "channel", "hotline")["tickets"] >= 1

    # When ticket 10 is reopened (open again, counted as reopened) and then closed a second time, later
    day = period_keys(_opened(database, 10))["day"]
    was = _day(database, day)
    _change(database, 10, status="open", outcome=None, reopened=1, resolution_seconds=None)
    reopened = _day(database, day)
    assert (reopened["open"], reopened["reopened"], reopened["resolved"]) == (
        was["open"] + 1, was["reopened"] + 1, was["resolved"] - 1)
    _change(database, 10, status="closed", outcome="resolved", resolution_seconds=200 * H1)
    closed = _day(database, day)
    assert (closed["open"], closed["resolved"]) == (was["open"], was["resolved"])
    with database.transaction(write=False) as s:
        late = s.scalar(select(func.sum(getattr(H, f"b{bucket_of(200 * H1)}")))
                        .where(H.measure == "resolution", H.dim == "all", H.day == day))
    assert late >= 1

    # And every roll-up still equals its recount from the facts
    with database.transaction(write=False) as s:
        assert drift(s, kpi_settings(s), date(2026, 1, 25), date(2026, 2, 10)) == []


def _opened(database: Database, n: int) -> datetime:
    with database.transaction(write=False) as s:
        return s.get(KpiTicket, n).opened_at
