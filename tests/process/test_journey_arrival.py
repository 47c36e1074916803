"""Scenarios of a request that arrives with the customer's details: numbered at once, triaged after."""

from __future__ import annotations

import copy

from handlers.sla import SlaClock
from handlers.ticketing import Ticket
from tests.process.driver import INTAKE, Desk

# what the public web form sends: no category, urgency or impact, no tier
WEB_FORM = {"channel": "web",
            "customer": {"name": "Li Na", "phone": "+86 138 0000 0001", "email": "li.na@example.com",
                         "language": "zh", "preferred_channel": "email"},
            "product": {"model": "WM-F80", "serial_number": "WMF80-0001", "purchase_date": "2025-09-01"},
            "fault": {"description": "The washer does not drain, E21", "symptoms": ["error_code"]},
            "expectation": "Repaired this week"}


def test_a_web_request_is_numbered_acknowledged_and_timed_at_arrival_then_triaged(desk: Desk) -> None:
    # When a request arrives from the web form with the customer's details
    case = desk.open_case(**copy.deepcopy(WEB_FORM))

    # Then it has its ticket number, the customer was told, and the response clock runs already
    number = case.ticket_number
    assert number.startswith("AS-")
    assert case.notifications() == ["received"]
    assert case.took("take_in_request", "open_new_ticket", "acknowledge_receipt", "start_response_clock")
    clocks = desk.read(lambda s: [(c.kind, c.status) for c in s.query(SlaClock).filter_by(business_key=number)])
    assert clocks == [("response", "running")]
    # and the agent's registration is the triage of that ticket
    assert case.ready() == ["register_request"]

    # When the agent triages it (category, urgency, the customer's tier and region)
    case.register(channel="web")

    # Then the same ticket goes on: no second number, classified again, the resolution clock starts
    assert case.ticket_number == number
    assert case.took("record_triage", "classify_after_triage", "start_resolution_clock")
    assert desk.read(lambda s: s.query(Ticket).count()) == 1
    assert case.data()["priority"] == "high"  # hardware, medium urgency, high impact
    assert case.notifications() == ["received"]
    assert case.ready() == ["respond_to_customer"]


def test_triage_corrections_are_written_to_the_ticket_opened_at_arrival(desk: Desk) -> None:
    # Given a request from the web form
    case = desk.open_case(**copy.deepcopy(WEB_FORM))

    # When the agent corrects the serial number while triaging
    case.register(channel="web", product={**INTAKE["product"], "serial_number": "wmf80-0002"})

    # Then the ticket records the corrected product
    ticket = case.ticket()
    assert ticket.product.serial_number == "WMF80-0002"
    assert ticket.fault["category"] == "hardware"


def test_a_second_web_request_about_the_same_washer_joins_the_open_ticket(desk: Desk) -> None:
    # Given an open ticket from the web form
    first = desk.open_case(**copy.deepcopy(WEB_FORM))

    # When the customer sends the form again about the same washer
    second = desk.open_case(**{**copy.deepcopy(WEB_FORM), "fault": {"description": "Any news?"}})

    # Then it is attached to the open ticket at arrival, and nobody has to register it
    assert second.status == "completed"
    assert second.data()["attachment"]["attached_to"] == first.ticket_number
    assert desk.read(lambda s: s.query(Ticket).count()) == 1


def test_a_request_cancelled_during_triage_is_closed_as_cancelled(desk: Desk) -> None:
    # Given a request from the web form that no agent has triaged yet
    case = desk.open_case(**copy.deepcopy(WEB_FORM))

    # When the customer cancels it
    case.message("customer_cancel", {"reason": "Found the answer in the manual"})

    # Then the process ends, the response clock is halted and only it (no resolution clock ran yet)
    assert case.status == "completed" and case.ready() == []
    assert case.took("pause_response_clock", "merge_clocks_halted", "close_cancelled_ticket")
    assert not case.took("pause_resolution_clock")
    assert case.ticket().outcome == "cancelled"
    assert case.notifications() == ["received", "cancelled"]
