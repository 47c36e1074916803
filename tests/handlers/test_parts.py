"""Parts: reservations across warehouses, back-orders, consumption, release, restock."""

from __future__ import annotations

import pytest

from engine.errors import HandlerError
from engine.registry import BusinessError
from handlers.parts import Backorder, Reservation, restock, stock_of


def stock(database, sku):
    with database.transaction(write=False) as session:
        return stock_of(session, sku)


def reserve(call, ticket="AS-20260302-00001", task="reserve", **quantities):
    parts = [{"sku": sku.replace("_", "-"), "quantity": q} for sku, q in quantities.items()]
    return call("parts.reserve", task=task, ticket_number=ticket, parts=parts)


def test_parts_in_stock_are_reserved_from_the_first_warehouse(call, database):
    result = reserve(call, WM_PUMP_01=2)
    assert result == {"reserved": [{"sku": "WM-PUMP-01", "quantity": 2, "warehouse": "WH-SH"}],
                      "backordered": [], "all_reserved": True}
    assert stock(database, "WM-PUMP-01")["WH-SH"] == (22, 2)


def test_short_stock_is_split_over_warehouses_and_the_rest_back_ordered(call, database, count):
    result = reserve(call, WM_MOTOR_INV=5)
    assert result["reserved"] == [{"sku": "WM-MOTOR-INV", "quantity": 3, "warehouse": "WH-SH"},
                                  {"sku": "WM-MOTOR-INV", "quantity": 1, "warehouse": "WH-BJ"}]
    assert result["backordered"] == [{"sku": "WM-MOTOR-INV", "quantity": 1, "eta": "2026-03-16"}]
    assert result["all_reserved"] is False
    assert stock(database, "WM-MOTOR-INV") == {"WH-SH": (0, 3), "WH-BJ": (0, 1), "WH-GZ": (0, 0)}
    assert count(Backorder, status="open") == 1


def test_lines_of_the_same_part_are_added_up(call, database):
    result = call("parts.reserve", ticket_number="AS-1", parts=[{"sku": "rt-ant-kit", "quantity": 1},
                                                                {"sku": "RT-ANT-KIT", "quantity": 2}])
    assert result["reserved"] == [{"sku": "RT-ANT-KIT", "quantity": 3, "warehouse": "WH-SH"}]


def test_reserving_again_for_the_same_task_does_not_reserve_twice(call, database, count):
    first = reserve(call, task="same", WM_PUMP_01=2, WM_BEARING_KIT=9)
    assert reserve(call, task="same", WM_PUMP_01=2, WM_BEARING_KIT=9) == first
    assert stock(database, "WM-PUMP-01")["WH-SH"] == (22, 2)
    assert count(Backorder) == 1 and count(Reservation) == 3


def test_an_unknown_part_is_a_business_error_and_nothing_is_reserved(call, database, count):
    with pytest.raises(BusinessError, match="unknown part\\(s\\): NOPE-1") as info:
        call("parts.reserve", ticket_number="AS-1", parts=[{"sku": "WM-PUMP-01", "quantity": 1},
                                                           {"sku": "NOPE-1", "quantity": 1}])
    assert (info.value.code, info.value.payload) == ("UNKNOWN_PART", {"skus": ["NOPE-1"]})
    assert count(Reservation) == 0 and stock(database, "WM-PUMP-01")["WH-SH"] == (24, 0)


@pytest.mark.parametrize(("parts", "message"), [
    ([{"sku": "WM-PUMP-01", "quantity": -1}], "parts\\[0\\].quantity must be a whole number of at least 1"),
    ([{"sku": "WM-PUMP-01", "quantity": 0}], "parts\\[0\\].quantity must be a whole number"),
    ([{"sku": "WM-PUMP-01", "quantity": 1.5}], "parts\\[0\\].quantity must be a whole number"),
    ([{"sku": "", "quantity": 1}], "parts\\[0\\].sku must be non-empty text"),
    ({"sku": "WM-PUMP-01"}, "parts must be a list"),
    (["WM-PUMP-01"], "parts\\[0\\] must be an object"),
])
def test_bad_part_lines_are_refused_before_anything_is_written(call, count, parts, message):
    with pytest.raises(HandlerError, match=message):
        call("parts.reserve", ticket_number="AS-1", parts=parts)
    assert count(Reservation) == 0 and count(Backorder) == 0


def test_consuming_books_reserved_parts_once(call, database):
    # Given two pumps reserved for a ticket
    reserve(call, WM_PUMP_01=2)
    # When the technician used one, and the step is retried
    used = call("parts.consume", task="used", ticket_number="AS-20260302-00001",
                parts_used=[{"sku": "WM-PUMP-01", "quantity": 1}])
    again = call("parts.consume", task="used", ticket_number="AS-20260302-00001",
                 parts_used=[{"sku": "WM-PUMP-01", "quantity": 1}])
    # Then one left stock for good, one is still held
    assert used == again == {"consumed": [{"sku": "WM-PUMP-01", "quantity": 1, "warehouse": "WH-SH"}], "unreserved": []}
    assert stock(database, "WM-PUMP-01")["WH-SH"] == (22, 1)


@pytest.mark.parametrize("parts_used", [[{"sku": "WM-PUMP-01", "quantity": 3}],
                                        [{"sku": "WM-FILTER-01", "quantity": 1}]])
def test_consuming_more_than_was_reserved_is_a_business_error(call, database, parts_used):
    reserve(call, WM_PUMP_01=2)
    with pytest.raises(BusinessError, match="not reserved for ticket AS-20260302-00001") as info:
        call("parts.consume", task="used", ticket_number="AS-20260302-00001", parts_used=parts_used)
    assert info.value.code == "NOT_RESERVED"
    assert stock(database, "WM-PUMP-01")["WH-SH"] == (22, 2)


def test_release_gives_back_what_was_not_used_and_cancels_back_orders(call, database, count):
    reserve(call, WM_MOTOR_INV=5)
    call("parts.consume", task="used", ticket_number="AS-20260302-00001",
         parts_used=[{"sku": "WM-MOTOR-INV", "quantity": 2}])
    released = call("parts.release", task="cancel", ticket_number="AS-20260302-00001")
    assert released == {"released": [{"sku": "WM-MOTOR-INV", "quantity": 1, "warehouse": "WH-SH"},
                                     {"sku": "WM-MOTOR-INV", "quantity": 1, "warehouse": "WH-BJ"}],
                        "backorders_cancelled": 1}
    assert call("parts.release", task="cancel", ticket_number="AS-20260302-00001") == released
    assert stock(database, "WM-MOTOR-INV") == {"WH-SH": (1, 0), "WH-BJ": (1, 0), "WH-GZ": (0, 0)}
    assert count(Backorder, status="cancelled") == 1
    assert call("parts.release", task="again", ticket_number="AS-20260302-00001") == {
        "released": [], "backorders_cancelled": 0}


def test_restock_fulfils_back_orders_first_in_first_out(call, database, clock):
    # Given the only panel reserved by ticket A, then B waiting for 1 and C for 2
    reserve(call, ticket="A", task="a", TV_PANEL_55=1)
    reserve(call, ticket="B", task="b", TV_PANEL_55=1)
    reserve(call, ticket="C", task="c", TV_PANEL_55=2)
    # When one panel arrives, B (first in) gets it; C must wait for two
    with database.transaction() as session:
        assert restock(session, "TV-PANEL-55", "WH-SH", 1, clock.now()) == ["B"]
    with database.transaction() as session:
        assert restock(session, "TV-PANEL-55", "WH-SH", 1, clock.now()) == []
    with database.transaction() as session:
        assert restock(session, "TV-PANEL-55", "WH-SH", 3, clock.now()) == ["C"]
    # Then A, B and C hold four panels between them, two are free
    assert stock(database, "TV-PANEL-55")["WH-SH"] == (2, 4)


def test_a_ticket_is_complete_only_when_every_back_order_arrived(call, database, clock):
    reserve(call, ticket="D", task="d", TV_BACKLIGHT_55=5, TV_PANEL_55=3)
    with database.transaction() as session:
        assert restock(session, "TV-BACKLIGHT-55", "WH-SH", 10, clock.now()) == []
        assert restock(session, "TV-PANEL-55", "WH-SH", 2, clock.now()) == ["D"]


def test_restock_checks_part_warehouse_and_quantity(database, catalogue, clock):
    with pytest.raises(HandlerError, match="unknown warehouse 'WH-XX'"), database.transaction() as session:
        restock(session, "TV-PANEL-55", "WH-XX", 1, clock.now())
    with pytest.raises(BusinessError, match="NOPE"), database.transaction() as session:
        restock(session, "NOPE", "WH-SH", 1, clock.now())
    with pytest.raises(HandlerError, match="quantity must be a whole number"), database.transaction() as session:
        restock(session, "TV-PANEL-55", "WH-SH", -2, clock.now())
    assert stock(database, "TV-PANEL-55")["WH-SH"] == (1, 0)
