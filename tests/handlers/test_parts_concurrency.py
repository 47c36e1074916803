"""Stock never goes negative under concurrent reservations, from threads and from processes."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from sqlalchemy import func, select

from handlers.parts import Backorder, Reservation, Stock
from tests.handlers.stock_worker import reserve_many
from tests.handlers.threads import run_in_threads

SKU = "AC-COMP-R32-35"  # 2 in Shanghai, 2 in Guangzhou


def totals(database):
    with database.transaction(write=False) as session:
        available, reserved = session.execute(select(func.sum(Stock.available), func.sum(Stock.reserved))
                                              .where(Stock.sku == SKU)).one()
        lowest = session.scalar(select(func.min(Stock.available)).where(Stock.sku == SKU))
        held = session.scalar(select(func.coalesce(func.sum(Reservation.quantity), 0)).where(Reservation.sku == SKU))
        waiting = session.scalar(select(func.coalesce(func.sum(Backorder.quantity), 0)).where(Backorder.sku == SKU))
    return available, reserved, lowest, held, waiting


def test_concurrent_threads_never_reserve_more_than_the_stock(call, database):
    # Given four compressors in stock and twelve technicians asking for one each, at once
    def ask(i: int) -> None:
        call("parts.reserve", task=f"t{i}", ticket_number=f"T{i}", parts=[{"sku": SKU, "quantity": 1}])

    errors = run_in_threads(ask, 12)
    # Then exactly four are reserved, eight back-ordered, and no warehouse is below zero
    assert errors == []
    assert totals(database) == (0, 4, 0, 4, 8)


def test_concurrent_processes_never_reserve_more_than_the_stock(call, database):
    # Given four compressors and four processes asking for three each
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=4, mp_context=context) as pool:
        got = list(pool.map(reserve_many, [database.url] * 4, range(4), [3] * 4, [SKU] * 4))
    # Then the processes together got exactly the four in stock
    assert sum(got) == 4
    assert totals(database) == (0, 4, 0, 4, 8)
