"""Hand-computed figures for each edge — open, reopened, paused clock, cancelled, never registered,
repeat contact, partial period — through the real process; and ``kpi verify`` recounts the same."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from analytics.histogram import ERROR
from analytics.queries import Context, KpiFilter, measures, trend
from analytics.verify import compare, expected_figures, shown_figures
from tests.kpi.approx import near
from tests.kpi.conftest import refreshed
from tests.process.driver import Case, Desk

HOUR = 3600.0
USAGE = {"category": "usage", "symptoms": [], "description": "Which detergent should I use?"}
WEEK = KpiFilter(period="week", start=date(2026, 3, 2), end=date(2026, 3, 8))


def serial(n: int) -> dict[str, dict[str, str]]:
    """A product of its own (a second request about the same unit would be a repeat contact)."""
    return {"product": {"serial_number": f"WMF80-EDGE-{n}"}}


@pytest.fixture
def week(desk: Desk) -> dict[str, Case]:
    """Six requests of one week, each an edge; the figures below are counted by hand from this story."""
    wait = lambda hours: desk.clock.advance(timedelta(hours=hours))  # noqa: E731
    # F: a web request that nobody registers (it waits the whole story, > 24 h)
    never = desk.open_case(channel="web")
    # A: answered at first contact after 2 h, confirmed: first response 2 h, resolved 2 h, FCR
    a = desk.open_case()
    a.register(urgency="low", impact="low", fault=USAGE, **serial(1))
    wait(2)
    a.respond(resolved=True, answer="Low-foam detergent.").confirm(True).answer_survey(csat=5, nps=10)
    # B: reopened — answered after 1 h, not solved 4 h later, answered again 2 h later: resolved 7 h, not FCR
    b = desk.open_case()
    b.register(urgency="low", impact="low", fault=USAGE, **serial(2))
    wait(1)
    b.respond(resolved=True, answer="Low-foam detergent, max line 2.")
    wait(4)
    b.confirm(False)
    wait(2)
    b.respond(resolved=True, answer="Use the eco program.").confirm(True).answer_survey(csat=2, nps=3)
    # C: paused clock — the quote waits 30 h for the customer: 39 h elapsed, resolved 9 h net, still open
    c = desk.open_case()
    c.register(**serial(3))
    wait(1)
    c.respond()
    wait(1)
    c.assist()
    wait(2)
    c.inspect_on_site()
    wait(1)
    c.propose()
    wait(30)
    c.answer_quote(True)
    wait(3)
    c.repair()
    wait(1)
    c.inspect_repair(passed=True)
    # D: open — answered after 3 h; G: the customer calls again by e-mail: a repeat contact on D
    d = desk.open_case()
    d.register(**serial(4))
    wait(3)
    d.respond()
    g = desk.open_case()
    g.register(channel="email", fault={"description": "Any news?"}, **serial(4))
    # E: cancelled by the customer before any answer: no response, no resolution time
    e = desk.open_case()
    e.register(**serial(5))
    wait(1)
    e.message("customer_cancel", {"reason": "No longer needed"})
    refreshed(desk)
    return {"A": a, "B": b, "C": c, "D": d, "E": e, "F": never, "G": g}


def test_each_edge_counts_as_counted_by_hand(desk: Desk, week: dict[str, Case]) -> None:
    with desk.database.transaction(write=False) as session:
        ctx = Context.of(session, desk.clock.now())
        row = measures(session, ctx, WEEK)
        periods = trend(session, ctx, WEEK)

    # Five tickets (G became a contact of D, F is not registered); C and D open, E cancelled
    assert (row["tickets"], row["open"], row["closed"]) == (5, 2, 3)
    # First response: A 2 h, B 1 h, C 1 h, D 3 h (E never answered): median 1 h, p90 3 h
    assert row["responded"] == 4
    assert near(row, "response_median_hours", 1.0) and near(row, "response_p90_hours", 3.0)
    # Resolution: A 2 h, B 7 h (its last round), C 9 h (39 h less 30 h paused); E cancelled has none
    assert row["resolved"] == 3
    assert near(row, "resolution_median_hours", 7.0) and near(row, "resolution_p90_hours", 9.0)
    # FCR only among tickets closed as resolved (A, B): A alone, 50 %; open C and D and cancelled E are out
    assert (row["resolved_ok"], row["fcr"], row["fcr_share"]) == (2, 1, 0.5)
    # Surveys: A delighted (5, 10), B not (2, 3): half satisfied, NPS 50 − 50 = 0
    assert (row["surveyed"], row["csat_satisfied_share"], row["nps"]) == (2, 0.5, 0.0)
    # Repeat contact: D of five tickets
    assert (row["repeat"], row["repeat_contact_share"]) == (1, 0.2)
    # Never registered: F has waited more than 24 h since it arrived, a missed response
    assert (row["unregistered"], row["unregistered_overdue"]) == (1, 1)
    assert row["response_missed"] == row["response_failed"] + row["response_overdue"] + 1
    # Partial period: the week is not over, so its trend row is marked
    assert [(p["key"], p["partial"]) for p in periods] == [("2026-03-02", True)]


def test_kpi_verify_recounts_every_edge_the_same_from_the_trail(desk: Desk, week: dict[str, Case]) -> None:
    now = desk.clock.now()
    with desk.database.transaction(write=False) as session:
        errors: dict[str, float] = {}
        expected, shown = expected_figures(session, WEEK, now), shown_figures(session, WEEK, now, errors)
    assert expected["tiles.tickets"] == 5 and expected["tiles.fcr_share"] == 0.5
    # every figure equal, each median and p90 within the error the dashboard shows it with
    assert compare(expected, shown, errors) == []
    assert 0 < errors["tiles.response_median_hours"] <= ERROR
