"""The repair form's parts check (``x-check: parts_reserved``), the quality check's ``requires``
rules, and the lint of both; and what closing a ticket does to the parts it holds."""

from __future__ import annotations

import json

import pytest

from engine import forms
from engine.errors import FormValidationError
from handlers.parts import Backorder, Reservation, stock_of
from tests.conftest import PROCESSES

REPAIR = json.loads((PROCESSES / "forms" / "repair_device.schema.json").read_text(encoding="utf-8"))
INSPECT = json.loads((PROCESSES / "forms" / "inspect_repair.schema.json").read_text(encoding="utf-8"))
TICKET = "AS-20260302-00001"


def repair(*rows: tuple[str, int], confirmed: bool | None = None) -> dict:
    data = {"work_done": "Replaced parts", "time_spent_minutes": 30,
            "parts_used": [{"sku": sku, "quantity": quantity} for sku, quantity in rows]}
    if confirmed is not None:
        data["unreserved_parts_confirmed"] = confirmed
    return data


def refused(database, data: dict, schema: dict = REPAIR, ticket: str = TICKET) -> list[tuple[str, str]]:
    """Validate as the engine does on completion; return the (field, message) pairs refused."""
    with database.transaction(write=False) as session:
        try:
            forms.validate(schema, data, where="Repair the device", session=session,
                           scope={"ticket_number": ticket})
        except FormValidationError as error:
            return [(e.field, e.message) for e in error.errors]
    return []


def test_used_parts_within_the_reservation_pass_and_others_are_named_on_their_row(call, database) -> None:
    # Given a ticket holding two pumps
    call("parts.reserve", task="reserve", ticket_number=TICKET, parts=[{"sku": "WM-PUMP-01", "quantity": 2}])

    # Then using them (in two rows) passes
    assert refused(database, repair(("WM-PUMP-01", 1), ("WM-PUMP-01", 1))) == []

    # And a third pump and a filter are refused on their first rows, with what is reserved and free
    pumps, filters = free(database, "WM-PUMP-01"), free(database, "WM-FILTER-01")
    assert refused(database, repair(("WM-PUMP-01", 2), ("WM-FILTER-01", 1), ("WM-PUMP-01", 1))) == [
        ("parts_used/0/sku", f"WM-PUMP-01 × 3 is not reserved for this ticket (2 reserved, {pumps} free in stock): "
                             "correct the row, or confirm below that it was used so the warehouse reconciles it"),
        ("parts_used/1/sku", f"WM-FILTER-01 × 1 is not reserved for this ticket (0 reserved, {filters} free in "
                             "stock): correct the row, or confirm below that it was used so the warehouse "
                             "reconciles it")]


def test_a_confirmed_unreserved_part_passes_and_consuming_lists_it_for_the_warehouse(call, database) -> None:
    # Given a ticket holding one pump, and a repair that also used a filter, confirmed
    call("parts.reserve", task="reserve", ticket_number=TICKET, parts=[{"sku": "WM-PUMP-01", "quantity": 1}])
    assert refused(database, repair(("WM-PUMP-01", 1), ("WM-FILTER-01", 1), confirmed=True)) == []
    assert refused(database, repair(("WM-FILTER-01", 1), confirmed=False)) != []

    filters, pumps = free(database, "WM-FILTER-01"), stock_of_pump(database)
    # When the used parts are booked, reporting what was not reserved
    result = call("parts.consume", task="book", ticket_number=TICKET, report_unreserved=True,
                  parts_used=[{"sku": "WM-PUMP-01", "quantity": 1}, {"sku": "WM-FILTER-01", "quantity": 1}])

    # Then the pump is booked out and the filter listed with its free stock
    assert result == {"consumed": [{"sku": "WM-PUMP-01", "quantity": 1, "warehouse": "WH-SH"}],
                      "unreserved": [{"sku": "WM-FILTER-01", "used": 1, "reserved": 0, "in_stock": filters}]}
    assert stock_of_pump(database) == (pumps[0], pumps[1] - 1)


def free(database, sku: str) -> int:
    with database.transaction(write=False) as session:
        return sum(available for available, _ in stock_of(session, sku).values())


def stock_of_pump(database) -> tuple[int, int]:
    with database.transaction(write=False) as session:
        return stock_of(session, "WM-PUMP-01")["WH-SH"]


@pytest.mark.parametrize(("answers", "fields"), [
    ({"functional_test": "fail", "safety_check": "pass", "passed": True}, ["findings", "functional_test"]),
    ({"functional_test": "pass", "safety_check": "fail", "passed": True, "findings": "Leaks current"},
     ["safety_check"]),
    ({"functional_test": "fail", "safety_check": "fail", "passed": False, "findings": "Drum is dead"}, []),
    ({"functional_test": "pass", "safety_check": "pass", "passed": True}, []),
    ({"functional_test": "fail", "safety_check": "pass", "passed": False}, ["findings"]),
])
def test_a_quality_check_may_pass_only_when_both_tests_passed(answers: dict, fields: list[str]) -> None:
    try:
        forms.validate(INSPECT, answers, where="Inspect the repair")
        found: list[str] = []
    except FormValidationError as error:
        found = sorted(e.field for e in error.errors)
    assert found == fields


@pytest.mark.parametrize(("schema", "problem"), [
    ({"type": "object", "properties": {"a": {"type": "array", "x-check": "parts_on_shelf"}}},
     "field a: unknown check 'parts_on_shelf' in x-check (known: parts_reserved)"),
    ({"type": "object", "properties": {"a": {"type": "array", "x-check": "parts_reserved", "x-check-confirm": "ok"}}},
     "field a: x-check-confirm 'ok' is not a field of the form"),
    ({"type": "object", "properties": {"a": {"type": "string"}},
      "x-rules": [{"rule": "requires", "field": "a", "equals": "x", "when": "b", "is": True}]},
     "x-rules[0] (requires): when 'b' is not a field of the form"),
    ({"type": "object", "properties": {"a": {"type": "string"}},
      "x-rules": [{"rule": "requires", "field": "a", "when": "a", "is": True}]},
     "x-rules[0] (requires): missing equals"),
])
def test_the_lint_names_a_bad_check_or_requires_rule(schema: dict, problem: str) -> None:
    assert [str(p) for p in forms.extension_problems(schema)] == [problem]


def test_the_bundles_forms_pass_the_lint() -> None:
    assert forms.extension_problems(REPAIR) == [] and forms.extension_problems(INSPECT) == []


def test_closing_a_ticket_releases_what_it_holds_and_cancels_its_back_orders(call, database, count) -> None:
    # Given a ticket holding a pump and waiting for a back-ordered motor
    call("ticketing.open_ticket", task="open", channel="hotline",
         customer={"name": "Li Na", "phone": "+86 138 0000 0001", "tier": "normal"},
         product={"model": "WM-F80", "serial_number": "WMF80-1", "purchase_date": "2025-09-01"},
         fault={"category": "hardware", "description": "Does not drain"}, expectation="")
    call("parts.reserve", task="reserve", ticket_number=TICKET,
         parts=[{"sku": "WM-PUMP-01", "quantity": 1}, {"sku": "WM-MOTOR-INV", "quantity": 5}])

    # When the ticket is closed
    closed = call("ticketing.close_ticket", task="close", ticket_number=TICKET, outcome="declined")

    # Then every held part is free again and the back-order will not reserve stock for it later
    assert sorted((p["sku"], p["quantity"]) for p in closed["parts_released"]) == [
        ("WM-MOTOR-INV", 1), ("WM-MOTOR-INV", 3), ("WM-PUMP-01", 1)]
    assert count(Backorder, status="cancelled") == 1 and count(Backorder, status="open") == 0
    with database.transaction(write=False) as session:
        assert sum(r.held for r in session.query(Reservation).all()) == 0
        assert stock_of(session, "WM-PUMP-01")["WH-SH"][1] == 0
