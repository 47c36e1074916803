"""What the customer's status page says comes next once a visit has happened, or when the device must be
shipped to the repair centre instead (the visit booked for the inspection is no longer theirs to expect)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers.dispatch import Assignment
from readmodels.customer import public_status
from tests.process.driver import Case, Desk


def _status(desk: Desk, case: Case):
    return desk.read(lambda s: public_status(s, desk.runtime.specs, case.ticket_number, None))


def _visits(desk: Desk, case: Case) -> list[str]:
    return desk.read(lambda s: [v.status for v in s.scalars(
        select(Assignment).where(Assignment.ticket_number == case.ticket_number).order_by(Assignment.id))])


def test_once_the_technician_has_inspected_the_customer_no_longer_expects_that_visit(desk: Desk) -> None:
    # Given a visit booked for the on-site inspection, which the customer sees
    case = desk.open_case()
    case.register().respond().assist()
    before = _status(desk, case)
    assert before.next_step == "visit" and before.appointment["technician"]
    # When the technician has been and inspected
    desk.clock.advance(timedelta(hours=2))
    case.inspect_on_site()
    # Then the page no longer promises that visit
    after = _status(desk, case)
    assert after.appointment == {} and after.next_step != "visit"


def test_on_the_repair_centre_route_the_customer_is_told_where_to_send_the_device(desk: Desk) -> None:
    # Given an inspected washer whose repair goes to the repair centre
    case = desk.open_case()
    case.register().respond().assist()
    desk.clock.advance(timedelta(hours=2))
    case.inspect_on_site().propose(route="repair_centre")
    # When the customer accepts the quote and the RMA is issued
    case.answer_quote(True)
    status = _status(desk, case)
    rma = case.data()["rma"]
    # Then the page says to ship it, with the return number and the centre's address, and promises no visit
    assert status.next_step == "ship" and status.appointment == {}
    assert status.shipment == {"rma_number": rma["rma_number"], "name": rma["ship_to"]["name"],
                               "address": rma["ship_to"]["address"], "phone": rma["ship_to"]["phone"]}
    assert "open" not in _visits(desk, case)  # no technician drives out for it either
    # And once the parcel has arrived, shipping is behind them
    case.message("device_received", {"condition": "box dented", "received_by": "wes"})
    assert _status(desk, case).next_step != "ship"
