"""A database outage: requests fail with a clear 503, nothing is half-written, workers recover."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

import tests.handlers_for_tests  # noqa: F401
from engine.bundle import read_bundle
from engine.config import load_settings
from engine.db import Database
from engine.deploy import deploy
from engine.errors import StoreUnavailable
from engine.identity import Actor, create_user
from engine.migrate import upgrade
from engine.models import Instance, WorkItem
from engine.runtime import Runtime
from engine.worker import Worker
from tests.conftest import FIXTURES

ANN = Actor("ann", frozenset({"agent"}))


def backoffs(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the worker's "database unavailable, backing off" warnings so far."""
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("database unavailable, backing off")]


@pytest.fixture(scope="module")
def outage_admin():
    """A PostgreSQL server of the module's own (its tests stop and start it), with a migrated template."""
    from tests.support.postgres import create_database, running_postgres

    with running_postgres() as admin:
        upgrade(create_database(admin, "outage_template"))
        yield admin


@pytest.fixture
def outage_server(outage_admin, request):
    """A fresh migrated database on the module's server; how to stop and start that server.

    The server is running again after the test, whatever the test did.
    """
    from tests.support.postgres import create_database, start_server, stop_server

    url = create_database(outage_admin, f"outage_{request.node.name[:40]}", template="outage_template")
    stopped = []

    def stop() -> None:
        stop_server(outage_admin)
        stopped.append(True)

    def start() -> None:
        start_server(outage_admin)
        stopped.clear()

    yield url, stop, start
    if stopped:
        start()


@pytest.mark.slow
def test_requests_fail_cleanly_while_the_database_is_down_and_work_resumes_after(outage_server, clock):
    url, stop, start = outage_server
    db, runtime = Database(url), Runtime(load_settings(database_url=url))
    with db.transaction() as s:
        deploy(s, read_bundle([FIXTURES / "simple"]), "owner")
        create_user(s, "ann", "correct-horse-1", ["agent"])
        instance_id = runtime.start(s, "simple", {}, "T-OUT", "ann").instance_id
    with db.transaction(write=False) as s:
        task_id = s.scalars(select(WorkItem.task_id)).one()

    from web import create_app
    from web.services import Services

    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, services=Services(load_settings(database_url=url),
                                                                                     db, runtime))
    client = app.test_client()
    stop()
    try:
        with pytest.raises(StoreUnavailable, match="database unavailable"), db.transaction() as s:
            runtime.complete_task(s, task_id, ANN, {"customer": "A", "amount": 1})
        response = client.post("/login", data={"username": "ann", "password": "correct-horse-1"},
                               headers={"Accept": "application/json"})
        assert response.status_code == 503
        assert response.get_json()["code"] == "store_unavailable"
    finally:
        start()

    with db.transaction(write=False) as s:  # nothing half-written: the task still waits
        assert s.scalars(select(WorkItem.task_id)).one() == task_id
        assert s.get(Instance, instance_id).audit_seq == 3
    with db.transaction() as s:
        runtime.complete_task(s, task_id, ANN, {"customer": "A", "amount": 1})
    db.dispose()


@pytest.mark.slow
def test_a_worker_backs_off_during_an_outage_and_fires_overdue_timers_after(outage_server, clock, caplog):
    url, stop, start = outage_server
    db, runtime = Database(url), Runtime(load_settings(database_url=url))
    with db.transaction() as s:
        deploy(s, read_bundle([FIXTURES / "timers"]), "owner")
        instance_id = runtime.start(s, "wait_a_second", {}, "T-W", "ann").instance_id
    worker = Worker(db, runtime)
    stop()
    clock.advance(timedelta(seconds=5))
    caplog.set_level(logging.WARNING, logger="aftersales.worker")
    thread = threading.Thread(target=worker.run_forever, kwargs={"poll_seconds": 0.2})
    thread.start()
    try:
        # the worker hits the outage and backs off instead of crashing: it tries again, and again
        deadline = time.monotonic() + 30
        while len(backoffs(caplog)) < 2 and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(backoffs(caplog)) >= 2, caplog.text
        assert thread.is_alive()
        start()
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline:
            with db.transaction(write=False) as s:
                status = s.get(Instance, instance_id).status
            if status == "completed":
                break
            time.sleep(0.2)
        assert status == "completed"
    finally:
        worker.stopping.set()
        thread.join(30)
        db.dispose()
