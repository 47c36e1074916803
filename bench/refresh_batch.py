"""Refresh batch benchmark: what a batch of 1, 5 and 200 changed tickets costs the roll-ups kept by delta.

Run: python -m bench.refresh_batch [--size 10000] [--databases sqlite,postgresql] [--repeat 5].

The worker's KPI job and every simulated history refresh a few tickets at a time, so the delta's
fixed cost per batch is what they pay. The facts are seeded as :mod:`bench.kpi` seeds them; each
batch moves its tickets (and their tasks) to the next priority, an open one to another stage
(:func:`bench.kpi.changed_batch`). Prints per batch size the SQL statements sent (counted with a
``before_cursor_execute`` listener) and the p50 wall and CPU time of this process in ms (SQLite's
work included, PostgreSQL's not); asserts nothing.
"""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import event

from engine.db import Database
from engine.migrate import upgrade
from simulation.workload import load_parameters

from .kpi import changed_batch, seed, timed
from .scale import database

SIZES = (1, 5, 200)


def statements(db: Database, size: int) -> int:
    """Return how many statements one batch of ``size`` tickets sends (the block's two UPDATEs included)."""
    sent = [0]

    def count(*_: Any) -> None:
        sent[0] += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        _batch(db, size)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return sent[0]


def _batch(db: Database, size: int) -> None:
    with db.transaction() as s:
        changed_batch(s, size)


def main() -> None:
    """Seed each database, count and time the batches."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    params = load_parameters()
    for kind in args.databases.split(","):
        with database(kind) as url:
            upgrade(url)
            db = Database(url)
            seed(db, args.size, params)
            print(f"{kind}, {args.size:,} tickets: tickets per batch | statements | p50 wall ms | p50 CPU ms")
            for size in SIZES:
                wall, _, cpu = timed(lambda size=size, db=db: _batch(db, size), args.repeat)
                print(f"  {size:>5} | {statements(db, size):>4} | {wall:8.1f} | {cpu:8.1f}", flush=True)
            db.dispose()


if __name__ == "__main__":
    main()
