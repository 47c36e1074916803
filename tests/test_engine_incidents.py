"""Failing service tasks: retried with backoff, then incidents that staff can retry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

import tests.handlers_for_tests as th
from engine.audit import events_for, verify
from engine.deploy import deploy
from engine.errors import IncidentError
from engine.models import Incident, Instance, Role, WorkItem
from engine.worker import Worker
from tests.bpmn_builder import service_chain


@pytest.fixture(autouse=True)
def _reset_handlers():
    th.FAILURES.clear()
    th.CALLS.clear()
    yield
    th.FAILURES.clear()


def _start(database, runtime, bundle, data=None):
    with database.transaction() as s:
        deploy(s, bundle, "owner")
    with database.transaction() as s:
        return runtime.start(s, bundle.name, data or {}, "K-9", "owner").instance_id


def _state(database, instance_id):
    with database.transaction(write=False) as s:
        inst = s.get(Instance, instance_id)
        incidents = list(s.scalars(select(Incident).where(Incident.instance_id == instance_id)))
        items = [w.element_id for w in s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id))]
        return inst.status, incidents, items


def test_transient_failure_is_retried_with_backoff_and_resolves(database, runtime, clock):
    # Given a handler that fails once
    th.FAILURES["a"] = 1
    instance_id = _start(database, runtime, service_chain("test.flaky", {"key": "'a'"}))
    status, [incident], items = _state(database, instance_id)
    assert (status, incident.status, incident.attempts, items) == ("incident", "retrying", 1, [])
    assert incident.next_retry_at == clock.now() + timedelta(seconds=10)
    assert "unreachable" in incident.message and incident.error_type == "ConnectionError"

    # When the worker runs before the retry is due, nothing happens; after, the retry succeeds
    worker = Worker(database, runtime)
    assert worker.run_once().retries == 0
    clock.advance(timedelta(seconds=11))
    runtime.instances.clear()
    assert worker.run_once().retries == 1

    # Then the incident is resolved, the process went on, and the second attempt knew it was one
    status, [incident], items = _state(database, instance_id)
    assert (status, incident.status, items) == ("active", "resolved", ["check"])
    assert [c["attempt"] for c in th.CALLS if c["op"] == "flaky"] == [1, 2]
    with database.transaction(write=False) as s:
        kinds = [e.kind for e in events_for(s, instance_id)]
        assert verify(s, instance_id).ok
    assert kinds.count("task.failed") == 1 and "incident.resolved" in kinds


def test_after_the_last_attempt_the_incident_stays_open_until_a_person_retries(database, runtime, clock):
    th.FAILURES["b"] = 5
    instance_id = _start(database, runtime, service_chain("test.flaky", {"key": "'b'"}))
    worker = Worker(database, runtime)
    for _ in range(3):
        clock.advance(timedelta(minutes=5))
        worker.run_once()
    status, [incident], _ = _state(database, instance_id)
    assert (status, incident.status, incident.attempts, incident.next_retry_at) == ("incident", "open", 3, None)
    th.FAILURES["b"] = 0
    with database.transaction() as s:
        retried = runtime.retry(s, incident.id, "supervisor")
        assert retried.status == "resolved"
    assert _state(database, instance_id)[0] == "active"
    with pytest.raises(IncidentError, match="already resolved"), database.transaction() as s:
        runtime.retry(s, incident.id, "supervisor")


def test_a_failed_handler_leaves_none_of_its_writes(database, runtime):
    instance_id = _start(database, runtime, service_chain("test.write_then_fail", {"name": "'ghost_role'"}))
    status, [incident], _ = _state(database, instance_id)
    assert status == "incident" and "failed after writing" in incident.message
    with database.transaction(write=False) as s:
        assert s.scalars(select(Role).where(Role.name == "ghost_role")).first() is None


def test_a_handler_returning_non_json_is_an_open_incident(database, runtime):
    instance_id = _start(database, runtime, service_chain("test.non_json", {"value": "1"}))
    _, [incident], _ = _state(database, instance_id)
    assert (incident.status, incident.error_type) == ("open", "HandlerError")
    assert "not JSON" in incident.message


def test_an_uncaught_business_error_is_an_open_incident(database, runtime):
    instance_id = _start(database, runtime, service_chain("test.business", {"code": "'NO_STOCK'"}))
    _, [incident], _ = _state(database, instance_id)
    assert (incident.status, incident.error_type) == ("open", "BusinessError:NO_STOCK")


def test_a_caught_business_error_follows_the_boundary_with_its_payload(database, runtime):
    bundle = service_chain("test.business", {"code": "'NO_STOCK'"}, boundary_code="NO_STOCK")
    instance_id = _start(database, runtime, bundle)
    status, incidents, items = _state(database, instance_id)
    assert (status, incidents, items) == ("active", [], ["handle_error"])
    with database.transaction(write=False) as s:
        caught = [e for e in events_for(s, instance_id) if e.element_id == "caught"][0]
    assert caught.data["delta"]["set"]["error_info"]["hint"] == "call the customer"
    assert caught.data["delta"]["set"]["error_info"]["code"] == "NO_STOCK"


def test_cancel_ends_the_instance_and_removes_its_tasks(database, runtime):
    from engine.errors import InstanceEnded

    instance_id = _start(database, runtime, service_chain("test.echo", {"value": "3"}))
    assert _state(database, instance_id)[2] == ["check"]
    with database.transaction() as s:
        runtime.cancel(s, instance_id, "supervisor", "customer withdrew")
    status, _, items = _state(database, instance_id)
    assert (status, items) == ("cancelled", [])
    with pytest.raises(InstanceEnded, match="already ended"), database.transaction() as s:
        runtime.cancel(s, instance_id, "supervisor", "again")
