"""A writer that finds SQLite locked by another writer longer than its busy timeout is told the
database is unavailable (a clear, retryable error), as before its BEGIN went straight to the driver."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

from engine.db import Database
from engine.errors import StoreUnavailable


def test_a_writer_locked_out_of_sqlite_is_told_the_database_is_unavailable(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's writers wait on row locks, not on the file")
    holder, waiter = Database(database_url), Database(database_url)

    @event.listens_for(waiter.engine, "connect")
    def _impatient(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.execute("PRAGMA busy_timeout=50")

    try:
        # Given a write transaction under way
        with holder.transaction() as s:
            s.execute(text("UPDATE instance SET version = version WHERE 1 = 0"))

            # When another writer starts one, Then it is refused as unavailable, naming the lock
            with pytest.raises(StoreUnavailable, match="database is locked"), waiter.transaction() as t:
                t.execute(text("SELECT 1"))
    finally:
        holder.dispose()
        waiter.dispose()
