"""tests/support/postgres.py starts a real PostgreSQL server, and stops it."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, make_url, text

from tests.support.postgres import (
    create_database,
    database_url,
    drop_database,
    running_postgres,
)


def _psycopg_dsn(url: str) -> str:
    u = make_url(url)
    return f"host={u.host} port={u.port} user={u.username} dbname={u.database} connect_timeout=3"


def test_server_round_trip_and_stop(tmp_path: Path) -> None:
    base = tmp_path / "pg"
    with running_postgres(base) as admin_url:
        u = make_url(admin_url)
        assert u.drivername == "postgresql+psycopg"
        assert (u.username, u.host, u.database) == ("postgres", "127.0.0.1", "postgres")
        assert u.password is None

        # A template with a table and a row; databases made from it start with both.
        template_url = create_database(admin_url, "tmpl")
        assert template_url == database_url(admin_url, "tmpl")
        engine = create_engine(template_url)
        try:
            with engine.begin() as conn:
                conn.execute(text("create table item (id serial primary key, name text not null)"))
                conn.execute(text("insert into item (name) values ('from template')"))
        finally:
            engine.dispose()

        url = create_database(admin_url, "case_1", template="tmpl")
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                assert conn.execute(text("select 1")).scalar_one() == 1
                assert conn.execute(text("show server_encoding")).scalar_one() == "UTF8"
                assert conn.execute(text("show fsync")).scalar_one() == "off"
                assert conn.execute(text("show max_connections")).scalar_one() == "200"
                conn.execute(
                    text("insert into item (name) values (:name)"), {"name": "round trip é"}
                )
            with engine.connect() as conn:
                rows = conn.execute(text("select name from item order by id")).scalars().all()
            assert rows == ["from template", "round trip é"]

            # drop_database disconnects whoever is still connected.
            held = engine.connect()
            try:
                drop_database(admin_url, "case_1")
            finally:
                held.invalidate()
                held.close()
        finally:
            engine.dispose()

        with psycopg.connect(_psycopg_dsn(admin_url)) as conn:
            names = {r[0] for r in conn.execute("select datname from pg_database")}
        assert "tmpl" in names
        assert "case_1" not in names
        drop_database(admin_url, "never_created")  # IF EXISTS: no error

        # Only loopback TCP, and the Unix socket lives inside base_dir.
        assert list((base / "postgres").glob(".s.PGSQL.*"))

    # Stopped: nothing listens on the port any more, and the data dir is gone.
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(_psycopg_dsn(admin_url)).close()
    assert not (base / "postgres" / "data").exists()
    assert (base / "postgres" / "server.log").exists()


def test_default_base_dir_is_removed() -> None:
    with running_postgres() as admin_url:
        with psycopg.connect(_psycopg_dsn(admin_url)) as conn:
            data_dir = Path(conn.execute("show data_directory").fetchone()[0])
        assert data_dir.is_dir()
        if os.geteuid() == 0:  # PostgreSQL refuses root: the server runs as "postgres"
            assert data_dir.stat().st_uid == pwd.getpwnam("postgres").pw_uid
    assert not data_dir.exists()
    assert not data_dir.parent.parent.exists()
