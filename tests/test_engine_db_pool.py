"""PostgreSQL connections are pinged before a transaction only after they sat idle in the pool.

A ping at every checkout is a round trip per transaction; a connection used a moment ago is
trusted, one idle longer than ``PING_AFTER_IDLE_SECONDS`` is pinged and replaced if its server
side is gone. Its server side is ended here with ``pg_terminate_backend``, as a restart or an
idle timeout would end it.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from engine import db as engine_db
from engine.db import Database
from engine.errors import StoreUnavailable


def backend_pid(database: Database) -> int:
    """Return the server process of the connection a transaction gets."""
    with database.transaction() as s:
        return int(s.scalar(text("SELECT pg_backend_pid()")))


def terminate(database_url: str, pid: int) -> None:
    """End one server process from a connection of its own."""
    other = Database(database_url)
    try:
        with other.transaction() as s:
            assert s.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        other.dispose()


@pytest.fixture
def postgresql_url(database_url: str) -> str:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has no server to lose: nothing is pinged")
    return database_url


def test_a_connection_that_lost_its_server_while_idle_is_replaced_before_the_transaction(postgresql_url, monkeypatch):
    # Given a pooled connection whose server process ends while it sits idle
    monkeypatch.setattr(engine_db, "PING_AFTER_IDLE_SECONDS", 0.05)
    database = Database(postgresql_url)
    try:
        pid = backend_pid(database)
        terminate(postgresql_url, pid)
        time.sleep(0.1)

        # When the next transaction starts, Then it runs, on a new connection
        assert backend_pid(database) != pid
    finally:
        database.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged_and_a_dead_one_fails_once_as_unavailable(postgresql_url,
                                                                                               monkeypatch):
    # Given a connection used a moment ago (no ping) whose server process has just ended
    monkeypatch.setattr(engine_db, "PING_AFTER_IDLE_SECONDS", 60.0)
    database = Database(postgresql_url)
    try:
        pid = backend_pid(database)
        terminate(postgresql_url, pid)

        # When a transaction uses it, Then it fails as the database being unavailable, changing nothing
        with pytest.raises(StoreUnavailable, match="database unavailable"), database.transaction() as s:
            s.execute(text("SELECT 1"))

        # And the next transaction gets a new connection
        assert backend_pid(database) != pid
    finally:
        database.dispose()
