"""Every PostgreSQL connection of the app runs with JIT compilation off (``engine.db.PG_OPTIONS``),
also when the caller passes server options of its own."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from engine.db import Database


@pytest.fixture
def postgresql_url(database_url: str) -> str:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite compiles no queries to machine code")
    return database_url


def test_a_connection_runs_without_jit_compilation(postgresql_url):
    database = Database(postgresql_url)
    try:
        with database.transaction(write=False) as s:
            assert s.scalar(text("SHOW jit")) == "off"
    finally:
        database.dispose()


def test_a_caller_s_own_server_options_are_kept_next_to_it(postgresql_url):
    database = Database(postgresql_url, connect_args={"options": "-c work_mem=8MB"})
    try:
        with database.transaction(write=False) as s:
            assert (s.scalar(text("SHOW jit")), s.scalar(text("SHOW work_mem"))) == ("off", "8MB")
    finally:
        database.dispose()
