"""Open tickets falling overdue, from the counters by hour: the same figures as a count over the open tickets,
at any moment (on an hour's edge, within the current hour), moved by a refresh of the facts, checked by the
roll-ups' recount."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from analytics.drift import drift
from analytics.facts import KpiTask, KpiTicket, kpi_settings, period_keys
from analytics.overdue import KpiOpen
from analytics.queries import Context, KpiFilter, grouped, measures
from analytics.rollup import roll_up
from engine.db import Database
from tests.kpi.conftest import add_facts
from tests.kpi.test_kpi_figures import task, ticket

H = 3600.0
BASE = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
WEEKS = KpiFilter(period="week", start=date(2026, 3, 2), end=date(2026, 3, 15))
CHANNELS = ("hotline", "email", "web")


def _backlog() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Forty open tickets whose responses fall due every 20 minutes around BASE, half of them answered,
    and a few closed ones; the technician worked on every third."""
    rows, tasks = [], []
    for n in range(1, 41):
        opened = BASE - timedelta(hours=50) + timedelta(minutes=20 * n)
        answered = n % 2 == 0
        rows.append(ticket(n, opened, channel=CHANNELS[n % 3], priority=("high", "low")[n % 2],
                           response_due_at=BASE + timedelta(minutes=20 * n - 400),
                           first_response_seconds=600.0 if answered else None,
                           response_met=True if answered else None))
        if n % 3 == 0:
            tasks.append(task(n, n, "inspect_on_site", "technician", 60, 60, opened + timedelta(hours=1),
                              channel=CHANNELS[n % 3]))
    for n in range(41, 45):
        rows.append(ticket(n, BASE - timedelta(hours=60), status="closed", outcome="resolved",
                           resolution_seconds=10 * H, response_due_at=BASE - timedelta(hours=30)))
    return rows, tasks


def _expected(rows: list[dict[str, Any]], tasks: list[dict[str, Any]], now: datetime, over: float,
              keep: Any = lambda r: True) -> dict[str, int]:
    """Count as the drill-downs define them, in Python."""
    teams = {t["ticket_id"] for t in tasks}
    chosen = [r for r in rows if r["status"] == "open" and keep(r, teams)]
    return {"response_overdue": sum(r["response_met"] is None and r["first_response_at"] is None
                                    and r["response_due_at"] is not None and r["response_due_at"] < now
                                    for r in chosen),
            "open_over_target": sum(r["resolution_seconds"] is None and r["opened_at"] < now - timedelta(seconds=over)
                                    for r in chosen)}


MOMENTS = [BASE, BASE + timedelta(minutes=1), BASE + timedelta(minutes=20), BASE + timedelta(minutes=59, seconds=59),
           BASE + timedelta(hours=2, minutes=40), BASE - timedelta(hours=3, minutes=10)]


@pytest.mark.parametrize("now", MOMENTS)
def test_overdue_counts_from_the_hourly_counters_equal_a_count_of_the_open_tickets(database: Database,
                                                                                   now: datetime) -> None:
    # Given a backlog whose responses and resolution targets fall due across several hours
    rows, tasks = _backlog()
    add_facts(database, rows, tasks)
    with database.transaction(write=False) as s:
        ctx = Context(now, kpi_settings(s))
        over = ctx.target("resolution_hours") * H
        # When the tiles and the tables are read at a moment on, just after or within an hour
        tiles = measures(s, ctx, WEEKS)
        hotline = measures(s, ctx, KpiFilter(period="week", start=WEEKS.start, end=WEEKS.end, channel="hotline"))
        team = measures(s, ctx, KpiFilter(period="week", start=WEEKS.start, end=WEEKS.end, team="technician"))
        by_channel = {r["key"]: r for r in grouped(s, ctx, WEEKS, "channel", medians=False)}
        by_team = {r["key"]: r for r in grouped(s, ctx, WEEKS, "team", medians=False)}
        two_dims = measures(s, ctx, KpiFilter(period="week", start=WEEKS.start, end=WEEKS.end, channel="hotline",
                                              priority="high"))
        three_dims = measures(s, ctx, KpiFilter(period="week", start=WEEKS.start, end=WEEKS.end, channel="hotline",
                                                priority="high", team="technician"))
        hotline_by_priority = {r["key"]: r for r in grouped(s, ctx, replace(WEEKS, channel="hotline"), "priority",
                                                            medians=False)}
        team_by_channel = {r["key"]: r for r in grouped(s, ctx, replace(WEEKS, team="technician"), "channel",
                                                        medians=False)}
    # Then each equals the count over the open tickets at that moment
    for found, keep in [(tiles, lambda r, t: True), (hotline, lambda r, t: r["channel"] == "hotline"),
                        (team, lambda r, t: r["ticket_id"] in t),
                        (two_dims, lambda r, t: r["channel"] == "hotline" and r["priority"] == "high"),
                        (three_dims, lambda r, t: r["channel"] == "hotline" and r["priority"] == "high"
                         and r["ticket_id"] in t)]:
        expected = _expected(rows, tasks, now, over, keep)
        assert {k: found[k] for k in expected} == expected
    for channel in CHANNELS:
        expected = _expected(rows, tasks, now, over, lambda r, t, c=channel: r["channel"] == c)
        assert {k: by_channel[channel][k] for k in expected} == expected
    assert {k: by_team["technician"][k] for k in expected} == _expected(rows, tasks, now, over,
                                                                          lambda r, t: r["ticket_id"] in t)
    for priority in ("high", "low"):  # a pair of dimensions, grouped by one of them
        expected = _expected(rows, tasks, now, over,
                             lambda r, t, p=priority: r["channel"] == "hotline" and r["priority"] == p)
        assert {k: hotline_by_priority[priority][k] for k in expected} == expected
    for channel in CHANNELS:
        if channel in team_by_channel:
            expected = _expected(rows, tasks, now, over,
                                 lambda r, t, c=channel: r["channel"] == c and r["ticket_id"] in t)
            assert {k: team_by_channel[channel][k] for k in expected} == expected


def test_an_answered_ticket_leaves_the_counters_in_the_refreshs_transaction(database: Database) -> None:
    # Given a backlog and a moment some responses are overdue
    rows, tasks = _backlog()
    add_facts(database, rows, tasks)
    now = BASE + timedelta(hours=1)
    with database.transaction(write=False) as s:
        ctx = Context(now, kpi_settings(s))
        before = measures(s, ctx, WEEKS)["response_overdue"]
    # When an overdue ticket's facts are rewritten with its first response, and its day rolled up
    with database.transaction() as s:
        s.execute(update(KpiTicket).where(KpiTicket.ticket_id == 1)
                  .values(first_response_at=BASE, first_response_seconds=H, response_met=False))
        roll_up(s, kpi_settings(s), [period_keys(rows[0]["opened_at"])["day"]])
        # Then the counters no longer count it, within that transaction already
        assert measures(s, Context(now, kpi_settings(s)), WEEKS)["response_overdue"] == before - 1
    with database.transaction(write=False) as s:
        assert drift(s, kpi_settings(s), date(2026, 3, 1), date(2026, 3, 15)) == []


def test_kpi_verify_recount_names_a_counter_that_drifted(database: Database) -> None:
    # Given rolled-up open tickets
    rows, tasks = _backlog()
    add_facts(database, rows, tasks)
    # When a row of the counters is changed behind the roll-ups' back, and another deleted
    with database.transaction() as s:
        first = s.scalars(select(KpiOpen).where(KpiOpen.dim == "all", KpiOpen.kind == "response")
                          .order_by(KpiOpen.hour)).first()
        kept = first.n
        s.execute(update(KpiOpen).where(KpiOpen.kind == first.kind, KpiOpen.hour == first.hour,
                                        KpiOpen.dim == "all", KpiOpen.day == first.day).values(n=kept + 5))
        s.execute(delete(KpiOpen).where(KpiOpen.dim == "team"))
    # Then the recount lists both, the stored count beside the facts'
    with database.transaction(write=False) as s:
        found = [d for d in drift(s, kpi_settings(s), date(2026, 3, 1), date(2026, 3, 15))
                 if d["figure"].startswith("roll-up kpi_open")]
    changed = [d for d in found if "/all/" in d["figure"]]
    assert [(d["dashboard"], d["trail"]) for d in changed] == [(kept + 5, kept)]
    assert any("/team/technician/" in d["figure"] and d["dashboard"] is None for d in found)


def test_a_ticket_without_tasks_counts_for_no_team(database: Database) -> None:
    # Given open overdue tickets, none worked on by anyone
    rows, _ = _backlog()
    add_facts(database, rows)
    with database.transaction(write=False) as s:
        assert s.scalars(select(KpiTask)).first() is None
        ctx = Context(BASE + timedelta(hours=3), kpi_settings(s))
        # Then a team's figures count none of them, and the team has no row
        team = measures(s, ctx, KpiFilter(period="week", start=WEEKS.start, end=WEEKS.end, team="technician"))
        assert (team["response_overdue"], team["open_over_target"]) == (0, 0)
        assert s.scalars(select(KpiOpen).where(KpiOpen.dim == "team")).first() is None
