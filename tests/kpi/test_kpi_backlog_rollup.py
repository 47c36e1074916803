"""The backlog by priority and stage, from its counters by hour over target: the same rows as a count over the
open tickets at any moment (on an hour's edge, within the current hour), filtered by one dimension or a pair,
moved by a refresh of the facts, checked by the roll-ups' recount."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from analytics.backlog import KpiBacklog
from analytics.backlog import backlog as rolled_backlog
from analytics.drift import drift
from analytics.facts import KpiTicket, kpi_settings, period_keys, target_seconds
from analytics.queries import Context, KpiFilter, backlog
from analytics.rollup import roll_up
from engine.db import Database
from tests.kpi.conftest import add_facts
from tests.kpi.test_kpi_figures import task, ticket

H = 3600.0
BASE = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
WEEK = KpiFilter(period="week", start=date(2026, 3, 9), end=date(2026, 3, 15))  # the backlog ignores the dates
CHANNELS = ("hotline", "email", "web")
STAGES = ("Diagnose the fault", "Repair and quality check", None)
MOMENTS = [BASE, BASE + timedelta(minutes=1), BASE + timedelta(minutes=20), BASE + timedelta(minutes=59, seconds=59),
           BASE + timedelta(hours=2, minutes=40), BASE - timedelta(hours=1, minutes=10), BASE + timedelta(hours=10)]
FILTERS = {  # name: (filter, which tickets it keeps, answered by the counters)
    "all": (WEEK, lambda r, t: True, True),
    "channel": (KpiFilter(period="week", start=WEEK.start, end=WEEK.end, channel="hotline"),
                lambda r, t: r["channel"] == "hotline", True),
    "team": (KpiFilter(period="week", team="technician"), lambda r, t: r["ticket_id"] in t, True),
    "channel and priority": (KpiFilter(period="week", channel="hotline", priority="high"),
                             lambda r, t: r["channel"] == "hotline" and r["priority"] == "high", True),
    "priority and team": (KpiFilter(period="week", priority="low", team="technician"),
                          lambda r, t: r["priority"] == "low" and r["ticket_id"] in t, True),
    "three dimensions": (KpiFilter(period="week", channel="email", priority="low", team="technician"),
                         lambda r, t: r["channel"] == "email" and r["priority"] == "low" and r["ticket_id"] in t,
                         False),
}


def _over(database: Database) -> float:
    with database.transaction(write=False) as s:
        return target_seconds(kpi_settings(s), "resolution_hours")


def _open_tickets(over: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Forty open tickets going over the resolution target every 10 minutes from three hours before BASE on,
    in two priorities and three stages; two open for a month, one open with its resolution recorded, a few
    closed ones; the technician worked on every fourth."""
    rows, tasks = [], []
    late = BASE - timedelta(seconds=over) - timedelta(hours=3)
    for n in range(1, 41):
        opened = late + timedelta(minutes=10 * n)
        rows.append(ticket(n, opened, channel=CHANNELS[n % 3], priority=("high", "low")[n % 2],
                           stage=STAGES[(n // 2) % 3]))
        if n % 4 == 0:
            tasks.append(task(n, n, "inspect_on_site", "technician", 60, 60, opened + timedelta(hours=1),
                              channel=CHANNELS[n % 3]))
    rows.append(ticket(41, BASE - timedelta(days=30), channel="web", priority="low", stage=STAGES[0]))
    rows.append(ticket(42, BASE - timedelta(days=30, hours=2), channel="hotline", priority="high"))
    rows.append(ticket(43, BASE - timedelta(days=20), channel="hotline", priority="high", stage=STAGES[1],
                       resolution_seconds=5 * H))
    tasks.append(task(44, 41, "inspect_on_site", "technician", 60, 60, BASE - timedelta(days=29)))
    for n in range(50, 54):
        rows.append(ticket(n, late, status="closed", outcome="resolved", resolution_seconds=10 * H,
                           stage=STAGES[0], priority="high"))
    return rows, tasks


def _expected(rows: list[dict[str, Any]], tasks: list[dict[str, Any]], now: datetime, over: float,
              keep: Any) -> list[dict[str, Any]]:
    """Count the backlog in Python, as the drill-downs define it, in the order the dashboard shows it."""
    teams = {t["ticket_id"] for t in tasks}
    counts: dict[tuple[str, str | None], list[int]] = {}
    for r in rows:
        if r["status"] == "open" and keep(r, teams):
            n = counts.setdefault((r["priority"], r["stage"]), [0, 0])
            n[0] += 1
            n[1] += r["resolution_seconds"] is None and r["opened_at"] < now - timedelta(seconds=over)
    return [{"priority": p, "stage": s, "open": n, "open_over_target": o}
            for (p, s), (n, o) in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1] is not None,
                                                                          kv[0][1] or ""))]


@pytest.mark.parametrize("now", MOMENTS)
def test_the_backlog_from_its_counters_equals_a_count_of_the_open_tickets(database: Database, now: datetime) -> None:
    # Given open tickets going over the resolution target across several hours, in priorities and stages
    over = _over(database)
    rows, tasks = _open_tickets(over)
    add_facts(database, rows, tasks)
    with database.transaction(write=False) as s:
        ctx = Context(now, kpi_settings(s))
        for name, (flt, keep, rolled) in FILTERS.items():
            # When the backlog is read at a moment on, just after or within an hour, filtered by none, one, two
            # or three dimensions
            found = backlog(s, ctx, flt)
            # Then it equals the count over the open tickets at that moment (the counters answer up to two)
            assert found == _expected(rows, tasks, now, over, keep), name
            assert (rolled_backlog(s, ctx.settings, now, flt) is not None) is rolled, name


def test_a_refresh_that_moves_or_closes_a_ticket_changes_the_backlog_in_its_transaction(database: Database) -> None:
    # Given the backlog at a moment
    over = _over(database)
    rows, tasks = _open_tickets(over)
    add_facts(database, rows, tasks)
    now = BASE + timedelta(minutes=30)
    moved, closed = rows[0], rows[1]
    assert moved["stage"] != STAGES[1] and closed["status"] == "open"
    # When one ticket's facts are rewritten with another stage, another's closed, and their days rolled up
    with database.transaction() as s:
        s.execute(update(KpiTicket).where(KpiTicket.ticket_id == moved["ticket_id"]).values(stage=STAGES[1]))
        s.execute(update(KpiTicket).where(KpiTicket.ticket_id == closed["ticket_id"])
                  .values(status="closed", outcome="resolved", resolution_seconds=H, stage=None))
        roll_up(s, kpi_settings(s), {period_keys(r["opened_at"])["day"] for r in (moved, closed)})
        # Then the backlog counts the first in its new stage and the second no more, within that transaction
        moved["stage"] = STAGES[1]
        closed.update(status="closed", resolution_seconds=H, stage=None)
        ctx = Context(now, kpi_settings(s))
        for name, (flt, keep, _) in FILTERS.items():
            assert backlog(s, ctx, flt) == _expected(rows, tasks, now, over, keep), name
    with database.transaction(write=False) as s:
        assert drift(s, kpi_settings(s), date(2026, 2, 1), date(2026, 3, 15)) == []


def test_kpi_verify_recount_names_a_backlog_counter_that_drifted(database: Database) -> None:
    # Given the backlog rolled up
    rows, tasks = _open_tickets(_over(database))
    add_facts(database, rows, tasks)
    # When a row of its counters is changed behind the roll-ups' back, and the team's rows deleted
    with database.transaction() as s:
        first = s.scalars(select(KpiBacklog).where(KpiBacklog.dim == "all")
                          .order_by(KpiBacklog.day, KpiBacklog.hour, KpiBacklog.priority, KpiBacklog.stage)).first()
        kept = first.n
        s.execute(update(KpiBacklog).where(KpiBacklog.dim == "all", KpiBacklog.value == first.value,
                                           KpiBacklog.day == first.day, KpiBacklog.priority == first.priority,
                                           KpiBacklog.stage == first.stage, KpiBacklog.hour == first.hour)
                  .values(n=kept + 3))
        s.execute(delete(KpiBacklog).where(KpiBacklog.dim == "team"))
    # Then the recount lists both, the stored count beside the facts'
    with database.transaction(write=False) as s:
        found = [d for d in drift(s, kpi_settings(s), date(2026, 2, 1), date(2026, 3, 15))
                 if d["figure"].startswith("roll-up kpi_backlog")]
    changed = [d for d in found if d["figure"].startswith("roll-up kpi_backlog[all/")]
    assert [(d["dashboard"], d["trail"]) for d in changed] == [(kept + 3, kept)]
    assert any(d["figure"].startswith("roll-up kpi_backlog[team/technician/") and d["dashboard"] is None
               for d in found)
    assert all(d["figure"].startswith("roll-up kpi_backlog[") for d in found)
