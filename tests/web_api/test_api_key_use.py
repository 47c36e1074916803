"""A key's last use is recorded at most once a minute, and a request's key lookup takes no write lock."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from sqlalchemy import select

from engine.apikeys import ApiKey, revoke_key


def _last_used(services, name: str):
    with services.db.transaction(write=False) as s:
        return s.scalar(select(ApiKey.last_used_at).where(ApiKey.name == name))


def test_a_keys_use_is_recorded_at_first_and_then_at_most_once_a_minute(app, services, api_key, clock):
    client = app.test_client()
    header = api_key("tasks:read", roles=("agent",))
    name = "integration-0"
    assert _last_used(services, name) is None

    assert client.get("/api/v1/tasks", headers=header).status_code == 200
    first = clock.now()
    assert _last_used(services, name) == first

    clock.advance(timedelta(seconds=59))
    assert client.get("/api/v1/tasks", headers=header).status_code == 200
    assert _last_used(services, name) == first  # within the minute: nothing written

    clock.advance(timedelta(seconds=1))
    assert client.get("/api/v1/tasks", headers=header).status_code == 200
    assert _last_used(services, name) == clock.now()


def test_a_recently_used_key_reads_while_another_writer_holds_the_database(app, services, api_key, clock):
    client = app.test_client()
    header = api_key("tasks:read", roles=("agent",))
    assert client.get("/api/v1/tasks", headers=header).status_code == 200  # its use is recorded now
    clock.advance(timedelta(seconds=10))
    writer = sqlite3.connect(services.db.url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process's write transaction, left open
        response = client.get("/api/v1/tasks", headers=header)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert response.status_code == 200, response.get_data(as_text=True)


def test_a_revoked_or_unknown_key_is_refused_and_nothing_is_recorded(app, services, api_key):
    client = app.test_client()
    header = api_key("tasks:read", roles=("agent",))
    with services.db.transaction() as s:
        revoke_key(s, "integration-0")
    assert client.get("/api/v1/tasks", headers=header).status_code == 401
    assert client.get("/api/v1/tasks", headers={"Authorization": "Bearer as_nope_nope"}).status_code == 401
    assert _last_used(services, "integration-0") is None
