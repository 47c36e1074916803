"""Scenarios of SLA reminders and escalations, and of the customer's cancellation."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import WorkItem
from handlers.parts import Reservation
from tests.process.driver import Desk


def held(desk: Desk, ticket_number: str) -> int:
    """Return how many parts are still held for a ticket."""
    return desk.read(lambda s: sum(r.held for r in s.scalars(select(Reservation).where(
        Reservation.ticket_number == ticket_number))))


def test_late_first_response_gets_a_reminder_then_a_supervisor(desk: Desk) -> None:
    # Given a high-priority request (first response within 4 h, warning at 3 h)
    case = desk.open_case()
    case.register()
    assert case.data()["sla_response_warning"] == "PT3H"

    # When 3 hours pass without a response, a reminder goes out
    case.wait(hours=3, minutes=1)
    assert case.notifications() == ["received", "reminder"]
    assert case.ready() == ["respond_to_customer"]

    # When the 4 hours are up, a supervisor gets the escalation while the agent still responds
    case.wait(hours=1)
    assert case.lanes() == {"respond_to_customer": "agent", "handle_escalation": "supervisor"}
    assert case.data()["escalation_reason"] == "response_sla_breached"
    assert case.notifications()[-1] == "escalated"
    case.complete("handle_escalation", {"root_cause": "workload", "action_taken": "Moved to the senior queue"})
    case.respond()
    assert case.ready() == ["assist_remotely"]
    assert case.took("response_sla_warning", "remind_response_due", "response_sla_breached",
                     "escalate_response_breach", "end_response_escalated")


def test_late_resolution_is_escalated_and_the_case_goes_on(desk: Desk) -> None:
    # Given a high-priority ticket (resolution within 24 h, warning at 18 h) waiting on the inspection
    case = desk.open_case()
    case.register().respond().assist()

    # When 18 hours pass, the resolution reminder goes out; at 24 hours a supervisor is involved
    case.wait(hours=18, minutes=1)
    assert case.took("resolution_sla_warning", "remind_resolution_due")
    case.wait(hours=6)
    assert case.lanes() == {"inspect_on_site": "technician", "handle_escalation": "supervisor"}
    assert case.data()["escalation_reason"] == "resolution_sla_breached"

    # Then the case goes on, and ends only when the escalation is handled too
    case.inspect_on_site().propose()
    case.answer_quote(True)
    case.repair().inspect_repair().confirm(True).answer_survey()
    assert case.status == "active"
    case.complete("handle_escalation", {"root_cause": "technician", "action_taken": "Added a Saturday shift"})
    assert case.status == "completed"
    assert case.took("resolution_sla_breached", "escalate_resolution_breach", "end_resolution_escalated")


def test_customer_cancelling_releases_the_parts_and_ends_everything(desk: Desk) -> None:
    # Given an accepted repair whose motors are on back-order, escalated as late
    case = desk.open_case()
    motors = [{"sku": "WM-MOTOR-INV", "quantity": 5}]
    case.register().diagnose(motors).propose(motors)
    case.complete("review_quote", {"decision": "approve"})
    case.answer_quote(True)
    case.wait(hours=24, minutes=1)
    assert "handle_escalation" in case.ready()
    assert held(desk, case.ticket_number) > 0

    # When the customer cancels
    case.message("customer_cancel", {"reason": "Bought a new washer"})

    # Then the reserved parts are released, the customer told, the ticket closed as cancelled
    assert case.status == "completed"
    assert case.ticket().outcome == "cancelled"
    assert case.notifications()[-1] == "cancelled"
    assert case.took("customer_cancelled", "release_reserved_parts", "notify_cancellation",
                     "close_cancelled_ticket", "end_cancelled")
    assert case.data()["parts_release"]["released"]
    assert held(desk, case.ticket_number) == 0
    # and no task is left for anyone, not even the escalation
    assert desk.read(lambda s: s.scalars(select(WorkItem)).all()) == []
    assert case.waiting_for() == []
