"""tests/support/postgres.py starts a real PostgreSQL server, and stops it; its pool hands out
databases equal to a template."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, make_url, text

from tests.support.postgres import (
    DatabasePool,
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


def test_a_released_database_is_handed_out_again_equal_to_the_template(postgres_admin: str) -> None:
    # Given a template with a seeded row, a sequence and a foreign key
    template_url = create_database(postgres_admin, "pool_tmpl")
    engine = create_engine(template_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("create table alembic_version (version_num text primary key)"))
            conn.execute(text("insert into alembic_version values ('head')"))
            conn.execute(text("create table parent (id serial primary key, name text not null)"))
            conn.execute(text("create table child (id serial primary key, parent_id int not null references parent)"))
            conn.execute(text("insert into parent (name) values ('seeded')"))
    finally:
        engine.dispose()
    pool = DatabasePool(postgres_admin, "pool_tmpl", "pool_case")

    # When a test writes rows, leaves a connection open and gives the database back
    url = pool.acquire()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("insert into parent (name) values ('by the test')"))
        conn.execute(text("insert into child (parent_id) values (2)"))
    held = engine.connect()
    held.execute(text("select 1"))
    pool.release(url)
    held.invalidate()
    engine.dispose()

    # Then the next test gets the same database, under a URL of its own (caches keyed by URL
    # start empty), as the template left it: its rows, its sequences
    again = pool.acquire()
    assert make_url(again).database == make_url(url).database and again != url
    url = again
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            assert conn.execute(text("select id, name from parent")).all() == [(1, "seeded")]
            assert conn.execute(text("select count(*) from child")).scalar_one() == 0
            assert conn.execute(text("insert into parent (name) values ('next') returning id")).scalar_one() == 2
            assert conn.execute(text("insert into child (parent_id) values (1) returning id")).scalar_one() == 1
            # When a test changes the schema
            conn.execute(text("alter table child add column note text"))
    finally:
        engine.dispose()
    pool.release(url)

    # Then the database is dropped and a new copy of the template is handed out
    with psycopg.connect(_psycopg_dsn(postgres_admin)) as conn:
        names = {r[0] for r in conn.execute("select datname from pg_database")}
    assert make_url(url).database not in names
    fresh = pool.acquire()
    assert fresh != url
    engine = create_engine(fresh)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("select name from parent")).scalars().all() == ["seeded"]
    finally:
        engine.dispose()
    pool.release(fresh)
