"""A worker pass with nothing due only reads: on SQLite it never waits for another writer's lock."""

from __future__ import annotations

import sqlite3

import pytest

from engine.worker import Worker


def test_an_idle_worker_pass_takes_no_write_lock(database, runtime, clock):
    if not database.url.startswith("sqlite"):
        pytest.skip("PostgreSQL's writers lock rows, not the database")
    # Given a worker that has made its first pass (the KPI roll-ups built, the alerts looked at)
    Worker(database, runtime).run_once()
    # When another process holds SQLite's write lock
    writer = sqlite3.connect(database.url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        # Then the next pass, with no timer, retry, notification or failure due, completes at once
        stats = Worker(database, runtime).run_once()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert (stats.total, stats.failures) == (0, 0), stats.to_dict()
