"""Scenarios of the dispatch stage: repair centre, field technician, authorised provider."""

from __future__ import annotations

from handlers.dispatch import Technician
from tests.process.driver import Desk


def test_repair_centre_route_waits_for_the_device_and_checks_it_in(desk: Desk) -> None:
    # Given a repair the customer will ship to the repair centre
    case = desk.open_case()
    case.register().diagnose().propose(route="repair_centre")

    # When the customer accepts, an RMA is issued and the instructions sent
    case.answer_quote(True)
    data = case.data()
    assert data["rma"]["rma_number"].startswith("RMA-")
    assert case.waiting_for() == ["device_received"]
    assert case.notifications()[-1] == "scheduled"

    # When the parcel arrives, goods-in checks it
    case.message("device_received", {"condition": "box dented", "received_by": "wes"})
    assert case.lanes() == {"check_received_device": "warehouse"}
    case.complete("check_received_device", {"serial_matches": True, "condition": "good",
                                            "accessories": "none"})

    # Then the device is repaired at the centre
    assert case.ready() == ["repair_device"]
    assert case.took("create_return_authorisation", "send_shipping_instructions", "await_device")


def test_authorised_provider_is_chosen_among_qualified_ones(desk: Desk) -> None:
    # Given a repair handed to an authorised provider in the east
    case = desk.open_case()
    case.register().diagnose().propose(route="provider")

    # When the customer accepts
    case.answer_quote(True)

    # Then the qualified provider is chosen and the customer told who comes
    assert case.data()["provider"]["provider_id"] == "PRV-HD"
    assert case.took("choose_service_provider", "notify_provider")
    assert case.notifications()[-1] == "scheduled"
    assert case.ready() == ["repair_device"]


def test_no_qualified_provider_is_arranged_by_a_supervisor(desk: Desk) -> None:
    # Given a customer in the south, where the only washer provider's qualification expired
    case = desk.open_case()
    case.register(customer={"region": "south"}).diagnose().propose(route="provider")

    # When the customer accepts, no provider qualifies
    case.answer_quote(True)
    assert case.lanes() == {"arrange_provider_manually": "supervisor"}
    assert "PRV-LN" in case.data()["provider_error"]["message"]

    # Then a supervisor arranges one and the customer is told
    case.complete("arrange_provider_manually", {"provider_id": "PRV-XX", "name": "Nanfang Repairs",
                                                "qualified_until": "2026-12-31",
                                                "reason": "Checked the certificate on site"})
    assert case.took("no_qualified_provider", "notify_provider")
    assert case.ready() == ["repair_device"]


def test_no_technician_is_assigned_by_a_supervisor(desk: Desk) -> None:
    # Given an inspection that needs a skill no technician has
    case = desk.open_case()
    case.register().respond().assist(skill="dishwasher")

    # Then a supervisor assigns a technician and the appointment is confirmed
    assert case.lanes() == {"assign_technician_manually": "supervisor"}
    case.complete("assign_technician_manually", {
        "technician": "tech.wang", "name": "Wang Lei", "reason": "Knows dishwashers from his last job",
        "appointment": {"start": "2026-03-03T09:00:00+08:00", "end": "2026-03-03T11:00:00+08:00"}})
    assert case.took("no_technician_available", "notify_appointment")
    assert case.lanes() == {"inspect_on_site": "technician"}


def test_a_manual_visit_on_the_technicians_leave_goes_back_to_the_supervisor(desk: Desk) -> None:
    # Given an inspection that needs a skill no technician has, and tech.wang on leave on 3 March
    def on_leave(session) -> None:
        session.get(Technician, "tech.wang").leave = [{"from": "2026-03-03", "to": "2026-03-03"}]
    desk.trigger(on_leave)
    case = desk.open_case()
    case.register().respond().assist(skill="dishwasher")

    # When the supervisor assigns tech.wang on the day he is on leave
    case.complete("assign_technician_manually", {
        "technician": "tech.wang", "name": "Wang Lei", "reason": "Knows dishwashers from his last job",
        "appointment": {"start": "2026-03-03T09:00:00+08:00", "end": "2026-03-03T11:00:00+08:00"}})

    # Then no visit is booked: the task is back with the supervisor, saying why
    assert case.lanes() == {"assign_technician_manually": "supervisor"}
    assert "tech.wang is on leave on 2026-03-03" in case.data()["assignment_error"]["message"]
    assert "scheduled" not in case.notifications()
    assert case.took("manual_visit_refused")

    # When the supervisor picks the day after his leave, the visit is booked and confirmed
    case.complete("assign_technician_manually", {
        "technician": "tech.wang", "name": "Wang Lei", "reason": "Back from leave",
        "appointment": {"start": "2026-03-04T09:00:00+08:00", "end": "2026-03-04T11:00:00+08:00"}})
    assert case.data()["manual_visit"]["technician"] == "tech.wang"
    assert case.notifications()[-1] == "scheduled"
    assert case.lanes() == {"inspect_on_site": "technician"}
