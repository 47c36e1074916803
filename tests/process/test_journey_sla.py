"""Scenarios of the SLA clocks (warnings, breaches, pauses) and of the customer's cancellation."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from engine.models import WorkItem
from handlers.parts import Reservation
from handlers.sla import clocks_for
from tests.process.driver import Desk


def held(desk: Desk, ticket_number: str) -> int:
    """Return how many parts are still held for a ticket."""
    return desk.read(lambda s: sum(r.held for r in s.scalars(select(Reservation).where(
        Reservation.ticket_number == ticket_number))))


def clocks(desk: Desk, ticket_number: str) -> dict[str, dict]:
    """Return the ticket's SLA clocks by kind."""
    return {c["kind"]: c for c in desk.read(lambda s: clocks_for(s, ticket_number))}


def test_clocks_start_from_the_decision_table_on_the_business_calendar(desk: Desk) -> None:
    # Given a high-priority request registered on Monday 17:00 Beijing time (one service hour left)
    case = desk.open_case()
    case.register()

    # Then both clocks run on the standard calendar with the table's targets
    data = case.data()
    assert (data["sla_response"], data["sla_resolution"], data["sla_calendar"]) == ("PT4H", "PT24H", "standard")
    response = clocks(desk, case.ticket_number)["response"]
    assert (response["status"], response["target"]) == ("running", "PT4H")
    # 1 h on Monday and 3 h on Tuesday morning: due Tuesday 12:00 in Beijing
    assert datetime.fromisoformat(response["due_at"]) == datetime.fromisoformat("2026-03-03T04:00:00+00:00")
    assert case.listening() == ["customer_cancel", "customer_contact", "sla_breached", "sla_warning"]


def test_urgent_ticket_clocks_run_around_the_clock(desk: Desk) -> None:
    # Given an urgent request
    case = desk.open_case()
    case.register(urgency="high", impact="high")

    # Then its clocks run on the 24x7 calendar: the first response is due in 2 hours
    response = clocks(desk, case.ticket_number)["response"]
    assert case.data()["priority"] == "urgent"
    assert datetime.fromisoformat(response["due_at"]) == desk.clock.now() + timedelta(hours=2)


def test_late_first_response_warns_the_agents_then_escalates(desk: Desk) -> None:
    # Given a high-priority request nobody responds to
    case = desk.open_case()
    case.register()
    response = case.data()["response_clock"]

    # When 75 % of the response time is used, the agents get a warning task
    case.wait_until(response["warn_at"], minutes=1)
    assert case.lanes() == {"respond_to_customer": "agent", "act_on_sla_warning": "agent"}
    case.complete("act_on_sla_warning", {"action": "Calling the customer right now"})

    # When the target is missed, a supervisor gets the escalation while the agent still responds
    case.wait_until(response["due_at"], minutes=1)
    assert case.lanes() == {"respond_to_customer": "agent", "handle_escalation": "supervisor"}
    assert case.notifications()[-1] == "escalated"
    case.complete("handle_escalation", {"root_cause": "workload", "action_taken": "Moved to the senior queue"})

    # Then the late response stops the clock as breached, and the case goes on
    case.respond()
    assert clocks(desk, case.ticket_number)["response"]["status"] == "breached"
    assert case.ready() == ["assist_remotely"]
    assert case.took("sla_warning_received", "act_on_sla_warning", "sla_breach_received", "escalate_sla_breach")


def test_resolution_clock_pauses_while_the_customer_decides_and_parts_are_late(desk: Desk) -> None:
    # Given a back-ordered repair waiting for the customer's answer to the quote
    case = desk.open_case()
    motors = [{"sku": "WM-MOTOR-INV", "quantity": 5}]
    case.register().diagnose(motors).propose(motors)
    case.complete("review_quote", {"decision": "approve"})
    paused = clocks(desk, case.ticket_number)["resolution"]
    assert paused["status"] == "paused"
    assert paused["pauses"][-1]["reason"] == "waiting for the customer's answer to the quote"

    # When the customer accepts two days later, the clock runs again, its due time moved
    case.wait(days=2)
    case.answer_quote(True)
    # ... and pauses again while the motors are on back-order
    resolution = clocks(desk, case.ticket_number)["resolution"]
    assert resolution["status"] == "paused"
    assert [p["reason"] for p in resolution["pauses"]] == ["waiting for the customer's answer to the quote",
                                                           "waiting for back-ordered parts"]

    # When the motors arrive, the clock resumes; the repair stops it
    case.restock("WM-MOTOR-INV", 10)
    assert clocks(desk, case.ticket_number)["resolution"]["status"] == "running"
    case.repair(motors).inspect_repair()
    assert clocks(desk, case.ticket_number)["resolution"]["status"] in ("met", "breached")
    assert case.took("pause_clock_for_quote", "resume_clock_after_quote", "pause_clock_for_parts",
                     "resume_clock_after_parts", "stop_resolution_clock")


def test_late_resolution_is_escalated_and_the_case_goes_on(desk: Desk) -> None:
    # Given a high-priority ticket waiting on the on-site inspection
    case = desk.open_case()
    case.register().respond().assist()
    resolution = case.data()["resolution_clock"]

    # When the resolution target is missed (the warning came first)
    case.wait_until(resolution["warn_at"], minutes=1)
    case.complete("act_on_sla_warning", {"action": "Asked the technician to come earlier", "needs_help": True})
    case.wait_until(resolution["due_at"], minutes=1)
    assert case.lanes() == {"inspect_on_site": "technician", "handle_escalation": "supervisor"}
    assert case.data()["escalation_reason"] == "resolution_sla_breached"

    # Then the case goes on, and ends only when the escalation is handled too
    case.inspect_on_site().propose()
    case.answer_quote(True)
    case.repair().inspect_repair().confirm(True).answer_survey()
    assert case.status == "active"
    case.complete("handle_escalation", {"root_cause": "technician", "action_taken": "Added a Saturday shift"})
    assert case.status == "completed"
    assert clocks(desk, case.ticket_number)["resolution"]["status"] == "breached"


def test_customer_cancelling_releases_the_parts_and_ends_everything(desk: Desk) -> None:
    # Given an accepted repair whose motors are on back-order,
    case = desk.open_case()
    motors = [{"sku": "WM-MOTOR-INV", "quantity": 5}]
    case.register().diagnose(motors).propose(motors)
    case.complete("review_quote", {"decision": "approve"})
    case.answer_quote(True)
    # ... overdue, chased and escalated to a supervisor (the paused SLA clock raises nothing)
    case.wait(days=5, minutes=1)
    case.complete("chase_backorder", {"action": "escalate", "note": "No date from the supplier"})
    assert case.ready() == ["handle_escalation"]
    assert held(desk, case.ticket_number) > 0

    # When the customer cancels
    case.message("customer_cancel", {"reason": "Bought a new washer"})

    # Then the reserved parts are released, the customer told, the ticket closed as cancelled
    assert case.status == "completed"
    assert case.ticket().outcome == "cancelled"
    assert case.notifications()[-1] == "cancelled"
    assert case.took("customer_cancelled", "release_reserved_parts", "pause_response_clock",
                     "pause_resolution_clock", "notify_cancellation", "close_cancelled_ticket", "end_cancelled")
    assert case.data()["parts_release"]["released"]
    assert held(desk, case.ticket_number) == 0
    assert clocks(desk, case.ticket_number)["resolution"]["status"] == "paused"  # it can no longer breach
    # and no task is left for anyone, nor any message awaited
    assert desk.read(lambda s: s.scalars(select(WorkItem)).all()) == []
    assert case.listening() == []
