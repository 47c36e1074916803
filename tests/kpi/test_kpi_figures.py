"""KPI figures over hand-made facts, against hand-computed values (edge cases included)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from analytics.facts import kpi_settings, period_keys
from analytics.queries import (
    Context,
    Drill,
    KpiFilter,
    backlog,
    distributions,
    grouped,
    handle_times,
    measures,
    tickets_behind,
    trend,
)
from engine.db import Database
from tests.kpi.approx import near
from tests.kpi.conftest import add_facts

H = 3600.0
NOW = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)
MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
WEEKS = KpiFilter(period="week", start=date(2026, 3, 2), end=date(2026, 3, 15))


def ticket(n: int, opened: datetime, **facts: Any) -> dict[str, Any]:
    row = {"ticket_id": n, "number": f"AS-T-{n:05d}", "instance_id": n, "opened_at": opened, "closed_at": None,
           **period_keys(opened), "channel": "hotline", "product_line": "washing_machine", "priority": "medium",
           "tier": "normal", "fault_category": "hardware", "status": "open", "outcome": None, "stage": None,
           "first_response_at": None, "first_response_seconds": None, "response_due_at": None, "response_met": None,
           "resolved_at": None, "resolution_seconds": None, "paused_seconds": 0.0, "resolution_met": None,
           "sla_breached": False, "fcr": False, "reopened": 0, "contacts": 1, "csat": None, "nps": None,
           "qa_score": None, "parts_needed": False, "backordered": False, "labour_seconds": 0.0, "labour_cost": 0.0,
           "parts_cost": 0.0, "handling_cost": 0.0, "refreshed_at": NOW}
    row.update(facts)
    if row["first_response_seconds"] is not None:
        row["first_response_at"] = opened + timedelta(seconds=row["first_response_seconds"])
    return row


def task(n: int, ticket_id: int, element: str, role: str, waiting: float, working: float,
         done: datetime, channel: str = "hotline") -> dict[str, Any]:
    return {"task_id": f"task-{n}", "instance_id": ticket_id, "ticket_id": ticket_id, "process_id": "after_sales",
            "element_id": element, "name": element.replace("_", " ").capitalize(), "role": role, "actor": role,
            "ready_at": done - timedelta(seconds=waiting + working), "claimed_at": done - timedelta(seconds=working),
            "completed_at": done, "waiting_seconds": waiting, "working_seconds": working, **period_keys(done),
            "channel": channel, "product_line": "washing_machine", "priority": "medium"}


@pytest.fixture
def figures(database: Database) -> Database:
    """Five tickets over two weeks, as in the docstrings of the tests below."""
    closed = {"status": "closed", "outcome": "resolved"}
    rows = [
        # A: answered in 2 h, resolved in 10 h at first contact, delighted customer
        ticket(1, MONDAY, **closed, first_response_seconds=2 * H, response_met=True, resolution_seconds=10 * H,
               resolution_met=True, fcr=True, csat=5, nps=10, labour_cost=6.0, handling_cost=8.0, priority="high"),
        # B: e-mail, answered late, 60 h to resolve, a repeat contact, a back-order, unhappy, QA 4
        ticket(2, MONDAY + timedelta(hours=1), **closed, channel="email", product_line="tv",
               first_response_seconds=30 * H, response_met=False, resolution_seconds=60 * H, resolution_met=False,
               csat=3, nps=6, contacts=2, parts_needed=True, backordered=True, qa_score=4.0, sla_breached=True,
               labour_cost=40.0, parts_cost=85.0, handling_cost=10.0),
        # C: open, not answered, its response was due yesterday
        ticket(3, MONDAY + timedelta(days=2), product_line="tv", priority="low", stage="Diagnose the fault",
               response_due_at=NOW - timedelta(days=1)),
        # D: web, open, not answered, not due yet (no survey anywhere on the web channel)
        ticket(4, MONDAY + timedelta(days=3), channel="web", stage="Resolve the request",
               response_due_at=NOW + timedelta(hours=2)),
        # E: the week after, answered in 1 h, 50 h net to resolve (over target), satisfied promoter
        ticket(5, MONDAY + timedelta(days=7), **closed, first_response_seconds=1 * H, response_met=True,
               resolution_seconds=50 * H, paused_seconds=20 * H, resolution_met=True, csat=4, nps=9),
    ]
    tasks = [task(1, 1, "respond_to_customer", "agent", 2 * H - 600, 600, MONDAY + timedelta(hours=2)),
             task(2, 2, "respond_to_customer", "agent", 30 * H - 1200, 1200, MONDAY + timedelta(hours=31),
                  channel="email"),
             task(3, 2, "repair_device", "technician", 10 * H, 5400, MONDAY + timedelta(hours=50), channel="email"),
             task(4, 5, "respond_to_customer", "agent", 3000, 600, MONDAY + timedelta(days=7, hours=1))]
    add_facts(database, rows, tasks)
    return database


def context(db: Database) -> tuple[Any, Context]:
    session = db.session()
    return session, Context(NOW, kpi_settings(session))


def test_figures_over_two_weeks_match_the_hand_count(figures: Database) -> None:
    session, ctx = context(figures)
    with session:
        m = measures(session, ctx, WEEKS)
    # response: A and E met; B late; C overdue; D not due yet → 2 of 4
    assert (m["tickets"], m["response_met"], m["response_missed"], m["response_sla_share"]) == (5, 2, 2, 0.5)
    assert m["response_avg_hours"] == pytest.approx(11.0) and near(m, "response_median_hours", 2.0)
    # resolution: 10, 60, 50 h → two over 48 h; median 50, mean 40
    assert (m["resolved"], m["over_target"]) == (3, 2)
    assert m["over_target_share"] == pytest.approx(2 / 3)
    assert near(m, "resolution_median_hours", 50.0) and m["resolution_avg_hours"] == pytest.approx(40.0)
    assert near(m, "resolution_p90_hours", 60.0)  # the 3rd of 3 (nearest rank: ceil(0.9 · 3))
    assert m["resolution_sla_share"] == pytest.approx(2 / 3)
    # first-contact resolution among the three closed as resolved: A only
    assert (m["resolved_ok"], m["fcr"]) == (3, 1) and m["fcr_share"] == pytest.approx(1 / 3)
    # CSAT 5, 3, 4 → two satisfied of three; NPS promoters A, E, detractor B → (2 - 1) / 3
    assert m["csat_satisfied_share"] == pytest.approx(2 / 3) and m["nps"] == pytest.approx(100 / 3)
    # one repeat contact on five tickets; B's parts back-ordered; QA 4 on the one review
    assert m["repeat_contact_share"] == pytest.approx(0.2)
    assert m["backorder_share"] == 1.0 and m["qa_score"] == 4.0
    assert (m["open"], m["breached"]) == (2, 1)
    assert m["cost_total"] == pytest.approx(149.0) and m["cost_per_ticket"] == pytest.approx(29.8)


def test_without_surveys_there_is_no_csat_nor_nps_rather_than_zero(figures: Database) -> None:
    session, ctx = context(figures)
    with session:
        m = measures(session, ctx, KpiFilter(period="week", start=WEEKS.start, end=WEEKS.end, channel="web"))
    assert m["tickets"] == 1
    assert (m["surveyed"], m["csat_satisfied_share"], m["nps"]) == (0, None, None)
    assert (m["resolution_median_hours"], m["over_target_share"], m["fcr_share"]) == (None, None, None)
    assert m["response_sla_share"] is None  # D is not due yet: nothing to judge


def test_an_empty_selection_has_no_figures(figures: Database) -> None:
    session, ctx = context(figures)
    with session:
        m = measures(session, ctx, KpiFilter(period="day", start=date(2025, 1, 1), end=date(2025, 1, 31)))
    assert m["tickets"] == 0 and m["cost_per_ticket"] is None and m["response_median_hours"] is None


@pytest.mark.parametrize(("by", "expected"), [
    ("week", {"2026-03-02": 4, "2026-03-09": 1}),
    ("month", {"2026-03": 5}),
    ("quarter", {"2026-Q1": 5}),
    ("channel", {"email": 1, "hotline": 3, "web": 1}),
    ("product_line", {"tv": 2, "washing_machine": 3}),
    ("priority", {"high": 1, "low": 1, "medium": 3}),
    ("team", {"agent": 3, "technician": 1}),
])
def test_tickets_are_grouped_in_the_database(figures: Database, by: str, expected: dict[str, int]) -> None:
    session, ctx = context(figures)
    with session:
        rows = grouped(session, ctx, WEEKS, by)
    assert {r["key"]: r["tickets"] for r in rows} == expected


def test_trend_per_day_gives_shares_per_period(figures: Database) -> None:
    session, ctx = context(figures)
    with session:
        rows = trend(session, ctx, KpiFilter(period="day", start=WEEKS.start, end=WEEKS.end))
    by_day = {r["key"]: r for r in rows}
    assert by_day["2026-03-02"]["tickets"] == 2 and by_day["2026-03-02"]["response_sla_share"] == 0.5
    assert by_day["2026-03-09"]["over_target_share"] == 1.0


def test_trend_marks_the_period_not_over_yet_as_partial(figures: Database) -> None:
    # Given "now" is Thursday 12 March: the week of 9 March is still running, that of 2 March is over
    session, ctx = context(figures)
    with session:
        weeks = {r["key"]: r["partial"] for r in trend(session, ctx, WEEKS)}
        months = {r["key"]: r["partial"] for r in trend(session, ctx, KpiFilter(period="month"))}
    assert weeks == {"2026-03-02": False, "2026-03-09": True}
    assert months["2026-03"] is True


def test_team_filter_keeps_the_tickets_the_team_worked_on(figures: Database) -> None:
    session, ctx = context(figures)
    with session:
        m = measures(session, ctx, KpiFilter(period="week", start=WEEKS.start, end=WEEKS.end, team="technician"))
    assert m["tickets"] == 1 and m["backordered"] == 1


@pytest.mark.parametrize(("drill", "expected"), [
    (Drill("over_target"), ["AS-T-00005", "AS-T-00002"]),
    (Drill("response_missed"), ["AS-T-00003", "AS-T-00002"]),
    (Drill("dissatisfied"), ["AS-T-00002"]),
    (Drill("fcr"), ["AS-T-00001"]),
    (Drill("open", group_by="priority", group="low"), ["AS-T-00003"]),
    (Drill("all", group_by="week", group="2026-03-09"), ["AS-T-00005"]),
    (Drill("all", element="repair_device"), ["AS-T-00002"]),
    (Drill("all", group_by="team", group="agent"), ["AS-T-00005", "AS-T-00002", "AS-T-00001"]),
])
def test_every_figure_lists_the_tickets_behind_it(figures: Database, drill: Drill, expected: list[str]) -> None:
    session, ctx = context(figures)
    with session:
        rows, total = tickets_behind(session, ctx, WEEKS, drill)
    assert [r["number"] for r in rows] == expected and total == len(expected)


def test_unknown_figure_is_refused(figures: Database) -> None:
    session, ctx = context(figures)
    with session, pytest.raises(ValueError, match="unknown figure 'nonsense'"):
        tickets_behind(session, ctx, WEEKS, Drill("nonsense"))


def test_backlog_is_open_tickets_by_priority_and_stage(figures: Database) -> None:
    session, ctx = context(figures)
    with session:
        rows = backlog(session, ctx, KpiFilter())
    # the more urgent first (medium before low), not by the codes' letters
    assert rows == [{"priority": "medium", "stage": "Resolve the request", "open": 1, "open_over_target": 1},
                    {"priority": "low", "stage": "Diagnose the fault", "open": 1, "open_over_target": 1}]


def test_handle_time_per_task_type_splits_waiting_and_working(figures: Database) -> None:
    session, _ctx = context(figures)
    with session:
        rows = {r["element_id"]: r for r in handle_times(session, WEEKS)}
    respond = rows["respond_to_customer"]
    assert respond["runs"] == 3 and respond["role"] == "agent"
    assert respond["working_avg_minutes"] == pytest.approx((600 + 1200 + 600) / 3 / 60)
    assert respond["waiting_avg_hours"] == pytest.approx((2 * H - 600 + 30 * H - 1200 + 3000) / 3 / H)
    assert rows["repair_device"]["working_total_hours"] == 1.5


def test_distributions_bucket_durations_and_count_scores(figures: Database) -> None:
    session, ctx = context(figures)
    with session:
        d = distributions(session, ctx, WEEKS)
    assert {b["label"]: b["count"] for b in d["resolution_hours"] if b["count"]} == {
        "8–24 h": 1, "48–72 h": 2}
    assert [b["count"] for b in d["csat"]] == [0, 0, 1, 1, 1]
    assert sum(b["count"] for b in d["nps"]) == 3


def test_cost_per_channel_adds_labour_parts_and_handling(figures: Database) -> None:
    session, ctx = context(figures)
    with session:
        rows = {r["key"]: r for r in grouped(session, ctx, WEEKS, "channel")}
    assert rows["email"]["cost_total"] == pytest.approx(135.0)
    assert rows["hotline"]["cost_per_ticket"] == pytest.approx(14.0 / 3)


def test_default_range_is_the_last_periods_up_to_today() -> None:
    bounded = KpiFilter(period="month").bounded(NOW)
    assert (bounded.start, bounded.end) == (date(2025, 3, 1), date(2026, 3, 12))
    with pytest.raises(ValueError, match="period must be one of"):
        KpiFilter(period="year").bounded(NOW)
