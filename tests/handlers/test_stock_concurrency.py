"""Count corrections and reservations at the same time never take stock below zero, and the
ledger and the warehouse audit stream stay whole."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.audit import verify
from engine.errors import InvalidInput
from engine.identity import Actor
from handlers import stock
from handlers.parts import Reservation, Stock, StockMovement
from tests.handlers.threads import run_in_threads

WES = Actor("wes", frozenset({"warehouse"}))
PUMP = "WM-PUMP-01"  # 24 in Shanghai, 10 in Beijing, 8 in Guangzhou


def test_concurrent_write_offs_and_reservations_never_take_stock_below_zero(call, database, clock):
    # Given 24 pumps in Shanghai, eight clerks writing off three each while eight tickets reserve two each
    refused: list[InvalidInput] = []

    def act(i: int) -> None:
        if i % 2:
            call("parts.reserve", task=f"t{i}", ticket_number=f"T{i}", parts=[{"sku": PUMP, "quantity": 2}])
            return
        try:
            with database.transaction() as s:
                stock.adjust(s, {"sku": PUMP, "warehouse": "WH-SH", "quantity": "-3", "reason": f"Broken {i}"},
                             WES, clock.now())
        except InvalidInput as exc:
            refused.append(exc)

    assert run_in_threads(act, 16) == []
    with database.transaction(write=False) as s:
        available, reserved = s.execute(select(Stock.available, Stock.reserved)
                                        .where(Stock.sku == PUMP, Stock.warehouse == "WH-SH")).one()
        held = s.scalar(select(func.coalesce(func.sum(Reservation.quantity), 0))
                        .where(Reservation.sku == PUMP, Reservation.warehouse == "WH-SH"))
        written_off = -(s.scalar(select(func.coalesce(func.sum(StockMovement.on_hand_change), 0))
                                 .where(StockMovement.kind == "adjust")) or 0)
        # Then nothing is below zero, and what left the shelf is what the ledger says
        assert available >= 0 and reserved == held
        assert available + reserved + written_off == 24
        assert written_off == 3 * (8 - len(refused))
        assert all(e.details["field"] == "quantity" for e in refused)
        assert verify(s).ok
