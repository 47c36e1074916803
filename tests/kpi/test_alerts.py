"""KPI alerts: a crossing of a threshold is raised, shown and e-mailed to supervisors exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from sqlalchemy import func, select

from analytics.alerts import KpiAlert, active_alerts, check_alerts
from analytics.queries import LIVE_FIGURES, Context, KpiFilter, aggregate
from engine.db import Database
from engine.identity import create_user
from engine.worker import Worker
from handlers.outbox import Outbox
from tests.kpi.conftest import add_facts
from tests.kpi.test_kpi_figures import ticket

NOW = datetime(2026, 2, 16, 4, 0, tzinfo=UTC)  # Monday noon in Shanghai, Q1
NOW_ = timedelta(0)
_ids = count(1)


@pytest.fixture
def supervisors(database: Database) -> Iterator[Database]:
    """Two supervisors with e-mail (one reads English, one Chinese), one without, and an agent."""
    with database.transaction() as s:
        sue = create_user(s, "sue", "correct-horse-1", ["supervisor"], email="sue@example.com")
        sue.language = "en"
        zhang = create_user(s, "zhang", "correct-horse-1", ["supervisor"], email="zhang@example.com")
        zhang.language = "zh"
        create_user(s, "sam", "correct-horse-1", ["supervisor"])
        create_user(s, "ann", "correct-horse-1", ["agent"], email="ann@example.com")
    yield database


def surveyed(db: Database, scores: list[int], opened: datetime, **facts: Any) -> None:
    """Add closed tickets opened at ``opened`` whose customers gave ``scores``."""
    rows = [ticket(n, opened, status="closed", outcome="resolved", csat=score, nps=9, **facts)
            for score in scores for n in [next(_ids)]]
    for row in rows:
        row["number"] = f"AS-A-{row['ticket_id']:05d}"
    add_facts(db, rows)


def alerts(db: Database) -> list[KpiAlert]:
    with db.session() as s:
        return list(s.scalars(select(KpiAlert).order_by(KpiAlert.id)))


def mails(db: Database) -> list[Outbox]:
    with db.session() as s:
        return list(s.scalars(select(Outbox).order_by(Outbox.id)))


def test_csat_below_85_percent_for_the_quarter_is_raised_and_mailed_once(supervisors: Database) -> None:
    # Given 20 surveyed tickets this quarter, 16 satisfied (80 %)
    surveyed(supervisors, [5] * 16 + [2] * 4, NOW - timedelta(days=20))

    # When the alerts are checked, then checked again
    assert check_alerts(supervisors, NOW, every=NOW_) == 1
    assert check_alerts(supervisors, NOW + timedelta(hours=1), every=NOW_) == 0

    # Then one alert is active, and each supervisor with an address got one e-mail in their language
    (alert,) = alerts(supervisors)
    assert (alert.rule, alert.period_key, alert.crossing, alert.basis) == ("csat_quarter", "2026-Q1", 1, 20)
    assert alert.value == pytest.approx(0.8) and alert.threshold == 0.85 and alert.notified == 2
    with supervisors.session() as s:
        assert [a.id for a in active_alerts(s)] == [alert.id]
    sent = mails(supervisors)
    assert [(m.recipient, m.channel, m.milestone, m.status) for m in sent] == [
        ("sue@example.com", "email", "kpi_alert", "pending"), ("zhang@example.com", "email", "kpi_alert", "pending")]
    assert sent[0].subject == "CSAT below 85 % this quarter" and "80.0%" in sent[0].body
    assert sent[1].subject == "本季度客户满意度低于 85 %" and sent[0].message_id.startswith("<outbox.")


def test_a_recovered_figure_clears_the_alert_and_a_new_drop_is_a_new_crossing(supervisors: Database) -> None:
    # Given a raised CSAT alert
    surveyed(supervisors, [5] * 16 + [2] * 4, NOW - timedelta(days=20))
    check_alerts(supervisors, NOW, every=NOW_)

    # When enough satisfied answers come in to lift CSAT to 90 %
    surveyed(supervisors, [5] * 20, NOW - timedelta(days=2))
    assert check_alerts(supervisors, NOW + timedelta(hours=1), every=NOW_) == 0

    # Then the alert is cleared
    assert alerts(supervisors)[0].cleared_at == NOW + timedelta(hours=1)

    # When it drops below 85 % again, a second crossing is raised and mailed, once
    surveyed(supervisors, [1] * 10, NOW - timedelta(days=1))
    assert check_alerts(supervisors, NOW + timedelta(hours=2), every=NOW_) == 1
    assert check_alerts(supervisors, NOW + timedelta(hours=3), every=NOW_) == 0
    assert [(a.crossing, a.cleared_at is None) for a in alerts(supervisors)] == [(1, False), (2, True)]
    assert len(mails(supervisors)) == 4


def test_too_few_answers_raise_nothing(supervisors: Database) -> None:
    surveyed(supervisors, [1] * 19, NOW - timedelta(days=3))
    assert check_alerts(supervisors, NOW, every=NOW_) == 0 and alerts(supervisors) == []


def test_the_alert_of_an_ended_period_is_cleared(supervisors: Database) -> None:
    # Given a CSAT alert in the first quarter
    surveyed(supervisors, [2] * 20, NOW - timedelta(days=3))
    check_alerts(supervisors, NOW, every=NOW_)

    # When the second quarter starts with no answers yet
    april = datetime(2026, 4, 1, 4, 0, tzinfo=UTC)
    assert check_alerts(supervisors, april, every=NOW_) == 0

    # Then the first quarter's alert is over
    assert alerts(supervisors)[0].cleared_at == april


def test_response_sla_falling_against_last_week_is_raised(supervisors: Database) -> None:
    # Given last week 20 of 20 first responses in time, this week 17 of 20 (85 %: above the 80 % floor)
    last_week, this_week = NOW - timedelta(days=7), NOW - timedelta(hours=1)
    for opened, met in ((last_week, [True] * 20), (this_week, [True] * 17 + [False] * 3)):
        rows = [ticket(n, opened, response_met=m, first_response_seconds=3600.0, number=f"AS-R-{n:05d}")
                for m in met for n in [next(_ids)]]
        add_facts(supervisors, rows)

    # When the alerts are checked
    check_alerts(supervisors, NOW, every=NOW_)

    # Then the fall of 15 points (more than 10) is raised, not the floor
    assert [(a.rule, a.period_key) for a in alerts(supervisors)] == [("response_sla_falling", "2026-02-16")]


def test_the_worker_checks_alerts_at_most_every_five_minutes(supervisors: Database, runtime, clock) -> None:
    # Given CSAT at 50 % this quarter
    clock.set(NOW)
    surveyed(supervisors, [5] * 10 + [1] * 10, NOW - timedelta(days=3))

    # When the worker passes three times within a minute
    for _ in range(3):
        Worker(supervisors, runtime).run_once()
        clock.advance(timedelta(seconds=20))

    # Then the alert was raised once and mailed once per supervisor
    with supervisors.session() as s:
        assert s.scalar(select(func.count()).select_from(KpiAlert)) == 1
        assert s.scalar(select(func.count()).select_from(Outbox).where(Outbox.milestone == "kpi_alert")) == 2


def test_a_figure_read_without_the_live_counts_equals_the_full_reading_and_omits_what_depends_on_the_moment(
        database: Database) -> None:
    # Given closed surveyed tickets, open tickets past their response due time and over the resolution target
    surveyed(database, [5, 4, 2], NOW - timedelta(days=3), first_response_seconds=1800.0, response_met=True,
             resolution_seconds=3600.0 * 60, backordered=True, parts_needed=True)
    rows = [ticket(n, NOW - timedelta(days=4), response_due_at=NOW - timedelta(hours=70))
            for n in (next(_ids), next(_ids))]
    for row in rows:
        row["number"] = f"AS-L-{row['ticket_id']:05d}"
    add_facts(database, rows)

    with database.transaction(write=False) as s:
        flt = KpiFilter(period="month").bounded(NOW)
        full = aggregate(s, Context.of(s, NOW), flt)
        rolled = aggregate(s, Context.of(s, NOW), flt, live=False)
    # Then the live reading counts the overdue tickets, and every other figure is the same without it
    assert full["response_overdue"] == 2 and full["open_over_target"] == 2 and full["response_missed"] == 2
    assert LIVE_FIGURES.isdisjoint(rolled) and set(full) >= LIVE_FIGURES
    assert rolled == {k: v for k, v in full.items() if k not in LIVE_FIGURES}
    assert rolled["csat_satisfied_share"] == pytest.approx(2 / 3) and rolled["backorder_share"] == 1.0
