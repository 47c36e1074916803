"""Scenarios of the complaint path and of diagnosis without repair."""

from __future__ import annotations

from tests.process.driver import Desk

COMPLAINT = {"category": "complaint", "symptoms": [],
             "description": "The technician came two hours late and left the floor wet"}


def test_complaint_is_settled_by_a_supervisor(desk: Desk) -> None:
    # Given a complaint registered by the agent
    case = desk.open_case()
    case.register(fault=COMPLAINT)
    assert case.data()["priority"] == "high"

    # When the agent responds first, the complaint goes to a supervisor (even if she thinks it is solved)
    case.respond(resolved=True, answer="I am sorry; a supervisor will call you today.")
    assert case.lanes() == {"handle_complaint": "supervisor"}

    # And the supervisor settles it
    case.complete("handle_complaint", {"outcome": "settled", "remedy": "Apology and a 200 CNY voucher",
                                       "goodwill_amount": 200, "customer_contacted": True})

    # Then the customer confirms, and the complaint gets a follow-up after closure
    case.confirm(True).answer_survey(csat=3, nps=6)
    assert case.lanes() == {"follow_up_customer": "agent"}
    case.complete("follow_up_customer", {"reached": True, "satisfaction": "neutral"})
    assert case.status == "completed"
    assert case.took("end_complaint_settled")


def test_complaint_needing_service_is_diagnosed_and_solved_remotely(desk: Desk) -> None:
    # Given a complaint about a washer that still does not work
    case = desk.open_case()
    case.register(fault={**COMPLAINT, "description": "Repaired last month and it leaks again, unacceptable"})
    case.respond()

    # When the supervisor decides it needs service
    case.complete("handle_complaint", {"outcome": "needs_service", "remedy": "Priority diagnosis promised",
                                       "customer_contacted": True})

    # Then it is diagnosed, and the agent solves it remotely
    assert case.ready() == ["assist_remotely"]
    case.assist("resolved", "Door seal was folded; customer refitted it while on the phone")
    assert case.took("end_solved_remotely_diag", "end_solved_remotely")
    assert case.waiting_for() == ["customer_confirmation"]
    assert not case.took("arrange_inspection")
