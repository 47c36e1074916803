"""Scenarios of the parts stage: reservation, back-order, chasing, consumption."""

from __future__ import annotations

from sqlalchemy import delete

from handlers.parts import Part, Reservation, Stock
from tests.process.driver import Desk

MOTORS = [{"sku": "WM-MOTOR-INV", "quantity": 5}]


def test_back_ordered_parts_arrive_and_the_repair_goes_on(desk: Desk) -> None:
    # Given an accepted repair that needs more motors than are in stock
    case = desk.open_case()
    case.register().diagnose(MOTORS).propose(MOTORS)
    case.complete("review_quote", {"decision": "approve"})  # five motors are above the agent's limit
    case.answer_quote(True)

    # Then the customer is told the parts are delayed, and the process waits
    assert case.notifications()[-1] == "parts_delayed"
    assert case.waiting_for() == ["parts_arrived"]
    assert case.data()["reservation"]["all_reserved"] is False

    # When the warehouse books the delivery in
    case.restock("WM-MOTOR-INV", 10)

    # Then the repair goes on with every part reserved, and the used ones are booked out
    assert case.ready() == ["repair_device"]
    case.repair(MOTORS).inspect_repair()
    assert case.data()["consumption"]["consumed"]


def test_overdue_back_order_is_chased_then_escalated(desk: Desk) -> None:
    # Given back-ordered motors
    case = desk.open_case()
    case.register().diagnose(MOTORS).propose(MOTORS)
    case.complete("review_quote", {"decision": "approve"})  # five motors are above the agent's limit
    case.answer_quote(True)

    # When 5 days pass, the warehouse chases the supplier and gets a new date
    case.wait(days=5, minutes=1)
    assert "chase_backorder" in case.ready()
    case.complete("chase_backorder", {"action": "new_date", "new_eta": "2026-03-20", "note": "Ships Monday"})
    assert case.waiting_for() == ["parts_arrived"]

    # When it is overdue again, the warehouse escalates to a supervisor
    case.wait(days=5, minutes=1)
    case.complete("chase_backorder", {"action": "escalate", "note": "Supplier cannot say when"})
    assert case.lanes() == {"handle_escalation": "supervisor"}
    assert case.data()["escalation_reason"] == "parts_overdue"
    assert case.notifications()[-1] == "escalated"
    case.complete("handle_escalation", {"root_cause": "parts", "action_taken": "Ordered from the other supplier"})

    # Then the process waits for the parts again, and they arrive
    assert case.waiting_for() == ["parts_arrived"]
    case.restock("WM-MOTOR-INV", 10)
    assert "repair_device" in case.ready()
    assert case.took("backorder_overdue", "escalate_parts_delay", "merge_back_to_wait")


def test_part_dropped_from_the_catalogue_is_corrected_by_the_warehouse(desk: Desk) -> None:
    # Given a quote with two parts waiting for the customer
    case = desk.open_case()
    parts = [{"sku": "WM-PUMP-01", "quantity": 1}, {"sku": "WM-FILTER-01", "quantity": 1}]
    case.register().diagnose(parts).propose(parts)

    # When the filter is withdrawn from the catalogue before the customer accepts
    def withdraw(session) -> None:
        session.execute(delete(Stock).where(Stock.sku == "WM-FILTER-01"))
        session.execute(delete(Part).where(Part.sku == "WM-FILTER-01"))
    desk.trigger(withdraw)
    case.answer_quote(True)

    # Then the warehouse corrects the list and the parts are reserved
    assert case.lanes() == {"correct_parts_list": "warehouse"}
    case.complete("correct_parts_list", {"parts": [{"sku": "WM-PUMP-01", "quantity": 1}],
                                         "note": "The filter comes with the pump now"})
    assert case.took("part_not_in_catalogue", "reserve_stock")
    assert case.ready() == ["repair_device"]


def test_part_used_without_reservation_is_reconciled_by_the_warehouse(desk: Desk) -> None:
    # Given a repair with the pump reserved
    case = desk.open_case()
    case.register().diagnose().propose()
    case.answer_quote(True)

    # When the technician also used a filter that was not reserved, and confirms it on the form
    case.complete("repair_device", {"work_done": "Replaced the drain pump and the filter", "time_spent_minutes": 75,
                                    "parts_used": [{"sku": "WM-PUMP-01", "quantity": 1},
                                                   {"sku": "WM-FILTER-01", "quantity": 1}],
                                    "unreserved_parts_confirmed": True})

    # Then the warehouse reconciles it before the inspection
    assert case.lanes() == {"reconcile_used_parts": "warehouse"}
    case.complete("reconcile_used_parts", {"booked_manually": True, "note": "Booked one filter from the van stock"})
    assert case.ready() == ["inspect_repair"]
    assert case.took("gw_used_parts_reserved", "reconcile_used_parts")


def test_parts_not_needed_skip_the_reservation(desk: Desk) -> None:
    # Given a repair that needs only labour
    case = desk.open_case()
    case.register().diagnose([]).propose([])
    case.answer_quote(True)

    # Then nothing is reserved
    assert case.took("end_no_parts") and not case.took("reserve_stock")
    assert desk.read(lambda s: s.query(Reservation).count()) == 0
    case.repair(parts_used=[]).inspect_repair()
