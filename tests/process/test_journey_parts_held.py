"""Scenarios: parts that arrive while nobody waits, parts a ticket no longer needs, parts used
without a reservation, and a quality check that contradicts itself."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import FormValidationError
from handlers.parts import Backorder, Reservation, StockMovement, stock_of
from tests.process.driver import Desk

MOTORS = [{"sku": "WM-MOTOR-INV", "quantity": 5}]
PUMP_AND_FILTER = [{"sku": "WM-PUMP-01", "quantity": 1}, {"sku": "WM-FILTER-01", "quantity": 1}]


def _back_ordered(desk: Desk):
    case = desk.open_case()
    case.register().diagnose(MOTORS).propose(MOTORS)
    case.complete("review_quote", {"decision": "approve"})  # five motors are above the agent's limit
    case.answer_quote(True)
    assert case.waiting_for() == ["parts_arrived"]
    return case


def _held(desk: Desk, ticket: str) -> dict[str, int]:
    rows = desk.read(lambda s: s.scalars(select(Reservation).where(Reservation.ticket_number == ticket)).all())
    return {r.sku: r.held for r in rows if r.held}


def _finish(case) -> None:
    case.confirm(True).answer_survey()
    if "follow_up_customer" in case.ready():  # a high-value repair gets a follow-up call
        case.complete("follow_up_customer", {"reached": True, "satisfaction": "satisfied"})
    assert case.status == "completed"
    assert case.ticket().status == "closed"


def test_parts_arriving_while_the_chase_is_open_end_the_chase_and_the_ticket_goes_on(desk: Desk) -> None:
    # Given a back-order so late that the warehouse has a chase task open
    case = _back_ordered(desk)
    case.wait(days=5, minutes=1)
    assert case.ready() == ["chase_backorder"]

    # When the motors are booked in while the chase is still open
    case.restock("WM-MOTOR-INV", 10)

    # Then the chase task is gone, the clock runs again and the repair is next
    assert case.ready() == ["repair_device"]
    assert case.took("parts_arrived_while_chasing", "merge_parts_in", "resume_clock_after_parts")
    assert case.data()["parts_arrival"] == {"skus": ["WM-MOTOR-INV"]}
    assert case.data()["resolution_clock"]["status"] == "running"

    # And the ticket finishes with the motors booked out
    case.repair(MOTORS).inspect_repair()
    _finish(case)
    assert _held(desk, case.ticket_number) == {}


def test_parts_arriving_during_the_escalation_are_not_waited_for(desk: Desk) -> None:
    # Given a chase escalated to a supervisor (nobody waits for the parts meanwhile)
    case = _back_ordered(desk)
    case.wait(days=5, minutes=1)
    case.complete("chase_backorder", {"action": "escalate", "note": "Supplier cannot say when"})
    assert case.ready() == ["handle_escalation"]

    # When the motors come in before the supervisor is done
    case.restock("WM-MOTOR-INV", 10)
    assert case.ready() == ["handle_escalation"]
    case.complete("handle_escalation", {"root_cause": "parts", "action_taken": "Ordered from the other supplier"})

    # Then the process sees they are there and goes on to the repair instead of waiting for them
    assert case.ready() == ["repair_device"]
    assert case.waiting_for() == []
    assert case.data()["backorder_check"] == {"open": [], "all_arrived": True}
    case.repair(MOTORS).inspect_repair()
    _finish(case)


def test_a_promised_date_after_the_parts_arrived_does_not_leave_the_ticket_waiting(desk: Desk) -> None:
    # Given parts booked in while the chase task is open, and a warehouse clerk who completes
    # the (now cancelled) chase as the QA walk did: the task no longer exists
    case = _back_ordered(desk)
    case.wait(days=5, minutes=1)
    case.restock("WM-MOTOR-INV", 10)

    # Then there is nothing to complete, and nothing waits for the delivered parts
    assert "chase_backorder" not in case.ready()
    assert case.waiting_for() == []
    assert desk.read(lambda s: s.scalars(select(Backorder.status).where(
        Backorder.ticket_number == case.ticket_number)).all()) == ["fulfilled"]


def test_closing_a_ticket_gives_back_the_parts_it_did_not_use(desk: Desk) -> None:
    # Given a repair with a pump and a filter reserved
    case = desk.open_case()
    case.register().diagnose(PUMP_AND_FILTER).propose(PUMP_AND_FILTER)
    case.answer_quote(True)
    free_filters = sum(a for a, _ in stock_of_filter(desk).values())

    # When the technician used only the pump and the ticket is closed
    case.repair([{"sku": "WM-PUMP-01", "quantity": 1}]).inspect_repair()
    assert _held(desk, case.ticket_number) == {"WM-FILTER-01": 1}
    _finish(case)

    # Then the filter is free stock again, the release is in the ledger, and the pump stays used
    assert _held(desk, case.ticket_number) == {}
    assert sum(a for a, _ in stock_of_filter(desk).values()) == free_filters + 1
    moves = desk.read(lambda s: [(m.kind, m.sku, m.on_hand_change, m.reserved_change) for m in s.scalars(
        select(StockMovement).where(StockMovement.ticket_number == case.ticket_number).order_by(StockMovement.id))])
    assert moves[-1] == ("release", "WM-FILTER-01", 0, -1)
    assert ("consume", "WM-PUMP-01", -1, -1) in moves
    assert case.data()["closure"]["parts_released"] == [{"sku": "WM-FILTER-01", "quantity": 1,
                                                          "warehouse": "WH-SH"}]


def stock_of_filter(desk: Desk) -> dict[str, tuple[int, int]]:
    return desk.read(lambda s: stock_of(s, "WM-FILTER-01"))


def test_cancelling_a_ticket_gives_back_its_reserved_parts(desk: Desk) -> None:
    # Given a pump reserved for a ticket waiting for its repair
    case = desk.open_case()
    case.register().diagnose().propose()
    case.answer_quote(True)
    assert _held(desk, case.ticket_number) == {"WM-PUMP-01": 1}

    # When the customer cancels
    case.message("customer_cancel", {"reason": "Bought a new one"})

    # Then the pump is free again and the ledger says so
    assert case.ticket().outcome == "cancelled"
    assert _held(desk, case.ticket_number) == {}
    kinds = desk.read(lambda s: s.scalars(select(StockMovement.kind).where(
        StockMovement.ticket_number == case.ticket_number).order_by(StockMovement.id)).all())
    assert kinds == ["reserve", "release"]


def test_a_used_part_that_is_not_reserved_is_refused_naming_it_until_the_technician_confirms(desk: Desk) -> None:
    # Given a repair with the pump reserved
    case = desk.open_case()
    case.register().diagnose().propose()
    case.answer_quote(True)
    used = [{"sku": "WM-PUMP-01", "quantity": 1}, {"sku": "WM-FILTER-01", "quantity": 3}]

    # When the technician records three filters nobody reserved
    with pytest.raises(FormValidationError) as refused:
        case.repair(used)

    # Then the filter's row is refused with what is reserved and in stock, and nothing moved
    [error] = refused.value.errors
    assert error.field == "parts_used/1/sku"
    assert error.values["sku"] == "WM-FILTER-01" and error.values["reserved"] == 0
    assert error.values["in_stock"] == 120
    assert case.ready() == ["repair_device"] and _held(desk, case.ticket_number) == {"WM-PUMP-01": 1}

    # When the technician confirms the filters were used (van stock)
    case.complete("repair_device", {"work_done": "Replaced the pump and three filters", "parts_used": used,
                                    "unreserved_parts_confirmed": True, "time_spent_minutes": 75})

    # Then the pump is booked out and the warehouse reconciles the filters
    consumption = case.data()["consumption"]
    assert consumption["consumed"] == [{"sku": "WM-PUMP-01", "quantity": 1, "warehouse": "WH-SH"}]
    assert consumption["unreserved"] == [{"sku": "WM-FILTER-01", "used": 3, "reserved": 0, "in_stock": 120}]
    assert case.lanes() == {"reconcile_used_parts": "warehouse"}
    case.complete("reconcile_used_parts", {"booked_manually": True, "note": "Booked three filters from the van"})
    assert case.ready() == ["inspect_repair"]


def test_a_quality_check_that_fails_a_test_but_passes_the_repair_is_refused_naming_the_fields(desk: Desk) -> None:
    # Given a repaired washer
    case = desk.open_case()
    case.register().diagnose().propose()
    case.answer_quote(True)
    case.repair()

    # When the inspector marks the functional test failed, ticks "passes" and writes no findings
    with pytest.raises(FormValidationError) as refused:
        case.complete("inspect_repair", {"functional_test": "fail", "safety_check": "pass", "passed": True})

    # Then the functional test and the findings are named, and the inspection is still open
    errors = {e.field: e.message for e in refused.value.errors}
    assert set(errors) == {"functional_test", "findings"}
    assert "“The repair passes the inspection” cannot be ticked" in errors["functional_test"]
    assert case.ready() == ["inspect_repair"]

    # And a failed safety check cannot pass either
    with pytest.raises(FormValidationError, match="has 1 error") as refused:
        case.complete("inspect_repair", {"functional_test": "pass", "safety_check": "fail", "passed": True,
                                         "findings": "Earth leakage above limit"})
    assert [e.field for e in refused.value.errors] == ["safety_check"]

    # When the result is consistent the inspection sends it back to repair
    case.complete("inspect_repair", {"functional_test": "fail", "safety_check": "pass", "passed": False,
                                     "findings": "Drum does not spin"})
    assert case.ready() == ["repair_device"]
