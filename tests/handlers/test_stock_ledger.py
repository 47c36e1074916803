"""Every stock change is a ledger row and a warehouse audit event; a bad movement changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from engine.audit import verify
from engine.errors import InvalidInput
from engine.identity import Actor
from engine.models import AuditEvent, AuditStream
from handlers import stock
from handlers.parts import Backorder, Stock, StockMovement, stock_of

WES = Actor("wes", frozenset({"warehouse"}))
PUMP = "WM-PUMP-01"  # 24 in Shanghai


def ledger(database) -> list[tuple[Any, ...]]:
    with database.transaction(write=False) as s:
        return [(m.kind, m.sku, m.warehouse, m.on_hand_change, m.reserved_change, m.available_after, m.ticket_number,
                 m.actor) for m in s.scalars(select(StockMovement).order_by(StockMovement.id))]


def warehouse_events(database) -> list[AuditEvent]:
    with database.transaction(write=False) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.stream == "warehouse").order_by(AuditEvent.seq)))


def test_reserve_consume_and_release_each_write_ledger_rows_and_one_audit_event(call, database):
    # Given a pump and a filter reserved for a ticket
    call("parts.reserve", task="r", ticket_number="T1", parts=[{"sku": PUMP, "quantity": 2}])
    # When one is used and the rest given back
    call("parts.consume", task="c", ticket_number="T1", parts_used=[{"sku": PUMP, "quantity": 1}])
    call("parts.release", task="x", ticket_number="T1")
    # Then the ledger has the three movements with their effect on the shelf and the reservation
    assert ledger(database) == [
        ("reserve", PUMP, "WH-SH", 0, 2, 22, "T1", "system"),
        ("consume", PUMP, "WH-SH", -1, -1, 22, "T1", "system"),
        ("release", PUMP, "WH-SH", 0, -1, 23, "T1", "system"),
    ]
    # And each call is one event of the warehouse's audit trail, which verifies
    events = warehouse_events(database)
    assert [e.kind for e in events] == ["stock.moved"] * 3
    assert [e.data["movements"][0]["kind"] for e in events] == ["reserve", "consume", "release"]
    with database.transaction(write=False) as s:
        assert verify(s).ok


def test_a_count_correction_is_booked_with_its_reason(database, catalogue, clock):
    # When the warehouse finds two more pumps than the system says
    with database.transaction() as s:
        moved = stock.adjust(s, {"sku": "wm-pump-01", "warehouse": "WH-SH", "quantity": "+2",
                                 "reason": "Cycle count, aisle 4"}, WES, clock.now())
        assert (moved.kind, moved.on_hand_change, moved.available_after) == ("adjust", 2, 26)
    # Then the stock, the ledger and the audit trail say so
    with database.transaction(write=False) as s:
        assert stock_of(s, PUMP)["WH-SH"] == (26, 0)
    assert ledger(database) == [("adjust", PUMP, "WH-SH", 2, 0, 26, None, "wes")]
    [event] = warehouse_events(database)
    assert (event.actor, event.data["movements"][0]["reason"]) == ("wes", "Cycle count, aisle 4")


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"quantity": "-25"}, "quantity", "Only 24 of WM-PUMP-01 are available in WH-SH"),
    ({"quantity": "0"}, "quantity", "other than 0"),
    ({"quantity": "two"}, "quantity", "Enter a whole number"),
    ({"quantity": "100000"}, "quantity", "At most 9999"),
    ({"sku": "NO-SUCH-PART"}, "sku", "no part NO-SUCH-PART"),
    ({"warehouse": "WH-XX"}, "warehouse", "no warehouse WH-XX"),
    ({"reason": "  "}, "reason", "required"),
])
def test_a_bad_count_correction_names_its_field_and_changes_nothing(database, catalogue, clock, change, field,
                                                                    message):
    form = {"sku": PUMP, "warehouse": "WH-SH", "quantity": "-1", "reason": "Damaged in the rack", **change}
    with pytest.raises(InvalidInput, match=message) as refused, database.transaction() as s:
        stock.adjust(s, form, WES, clock.now())
    assert refused.value.details["field"] == field
    with database.transaction(write=False) as s:
        assert stock_of(s, PUMP)["WH-SH"] == (24, 0)
        assert s.scalar(select(AuditStream.seq).where(AuditStream.stream == "warehouse")) == 0
    assert ledger(database) == []


def test_reserved_units_cannot_be_counted_away(call, database, clock):
    # Given 20 of 24 pumps reserved for a ticket
    call("parts.reserve", task="r", ticket_number="T1", parts=[{"sku": PUMP, "quantity": 20}])
    # When a correction would take away five (only four are free)
    with pytest.raises(InvalidInput, match="Only 4 of WM-PUMP-01") as refused, database.transaction() as s:
        stock.adjust(s, {"sku": PUMP, "warehouse": "WH-SH", "quantity": "-5", "reason": "Lost"}, WES, clock.now())
    # Then it is refused on the quantity and the stock stays as it was
    assert refused.value.details["field"] == "quantity"
    with database.transaction(write=False) as s:
        assert stock_of(s, PUMP)["WH-SH"] == (4, 20)
        assert s.scalar(select(func.count()).select_from(Stock).where(Stock.available < 0)) == 0


@pytest.mark.parametrize(("change", "field"), [
    ({"quantity": "-3"}, "quantity"), ({"quantity": ""}, "quantity"), ({"reference": ""}, "reference"),
    ({"sku": ""}, "sku"), ({"warehouse": "WH-XX"}, "warehouse"),
])
def test_a_bad_goods_in_names_its_field_and_changes_nothing(database, runtime, catalogue, clock, change, field):
    form = {"sku": PUMP, "warehouse": "WH-SH", "quantity": "5", "reference": "DN-1", **change}
    with pytest.raises(InvalidInput) as refused, database.transaction() as s:
        stock.goods_in(s, runtime, form, WES, clock.now())
    assert refused.value.details["field"] == field
    with database.transaction(write=False) as s:
        assert stock_of(s, PUMP)["WH-SH"] == (24, 0)
    assert ledger(database) == []


def test_goods_in_fulfils_back_orders_first_in_first_out_in_the_ledger(call, database, runtime, clock):
    # Given two tickets waiting for compressors (2 in Shanghai, 2 in Guangzhou)
    sku = "AC-COMP-R32-35"
    call("parts.reserve", task="a", ticket_number="T1", parts=[{"sku": sku, "quantity": 5}])
    call("parts.reserve", task="b", ticket_number="T2", parts=[{"sku": sku, "quantity": 2}])
    # When three arrive in Shanghai
    with database.transaction() as s:
        done = stock.goods_in(s, runtime, {"sku": sku, "warehouse": "WH-SH", "quantity": "3",
                                           "reference": "PO-7781"}, WES, clock.now())
    # Then the first ticket's back-order (1) is filled, then the second's (2); nobody waits in a process
    assert done.released == [] and done.supplied_not_waiting == ["T1", "T2"]
    rows = ledger(database)[-3:]
    assert rows == [("goods_in", sku, "WH-SH", 3, 0, 3, None, "wes"),
                    ("reserve", sku, "WH-SH", 0, 1, 2, "T1", "wes"),
                    ("reserve", sku, "WH-SH", 0, 2, 0, "T2", "wes")]
    with database.transaction(write=False) as s:
        assert s.scalars(select(Backorder.status)).all() == ["fulfilled", "fulfilled"]
    event = warehouse_events(database)[-1]
    assert [m["reference"] for m in event.data["movements"]] == ["PO-7781"] * 3
