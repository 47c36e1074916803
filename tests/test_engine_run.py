"""Running instances: start, complete, messages, timers, persistence round trips."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

import tests.handlers_for_tests  # noqa: F401  (registers test.* handlers)
from engine.audit import events_for, verify
from engine.errors import (
    FormValidationError,
    InstanceEnded,
    MessageNotCorrelated,
    NotFound,
    PermissionDenied,
    TaskNotReady,
)
from engine.models import Instance, MessageSubscription, Timer, WorkItem


def _items(database):
    with database.transaction(write=False) as s:
        return list(s.scalars(select(WorkItem).order_by(WorkItem.created_at)))


@pytest.fixture
def simple(deploy_fixture, make_user):
    deploy_fixture("simple")
    return make_user("ann", "agent")


def test_instance_runs_from_start_to_end_through_the_store(database, runtime, simple):
    # Given a started instance waiting on the first human task
    with database.transaction() as s:
        started = runtime.start(s, "simple", {"channel": "web"}, "T-100", "ann")
    runtime.instances.clear()  # force every later trigger to load from the database
    [register] = _items(database)
    assert (register.name, register.role, register.business_key) == ("Register request", "agent", "T-100")

    # When the agent registers a big amount, the service and script tasks run
    with database.transaction() as s:
        runtime.complete_task(s, register.task_id, simple, {"customer": "Bob", "amount": 150})
    runtime.instances.clear()
    [review] = _items(database)
    assert review.name == "Review"
    with database.transaction() as s:
        runtime.complete_task(s, review.task_id, simple, {})
        sub = s.scalars(select(MessageSubscription)).one()
    assert (sub.message_name, sub.correlation_key) == ("customer_ok", "T-100")

    # Then the message completes the instance, and the trail verifies
    runtime.instances.clear()
    with database.transaction() as s:
        assert runtime.deliver_message(s, "customer_ok", "T-100", {"ok": True}) == [started.instance_id]
    with database.transaction(write=False) as s:
        inst = s.get(Instance, started.instance_id)
        kinds = [(e.kind, e.element_id) for e in events_for(s, inst.id)]
        assert inst.status == "completed" and inst.ended_at is not None
        assert ("task.completed", "mark_big") in kinds
        assert ("task.completed", "echo_task") in kinds
        assert s.scalars(select(WorkItem)).all() == []
        assert verify(s).ok


def test_form_data_is_validated_against_the_schema_and_nothing_changes(database, runtime, simple):
    with database.transaction() as s:
        runtime.start(s, "simple", {}, "T-1", "ann")
    [register] = _items(database)
    with pytest.raises(FormValidationError) as info, database.transaction() as s:
        runtime.complete_task(s, register.task_id, simple, {"customer": "", "amount": "many", "extra": 1})
    fields = {e.field for e in info.value.errors}
    assert {"customer", "amount", "(unknown fields)"} <= fields
    [still] = _items(database)
    assert still.task_id == register.task_id
    with database.transaction(write=False) as s:
        assert s.get(Instance, register.instance_id).version == 2


def test_completing_a_task_twice_reports_it_already_completed(database, runtime, simple):
    with database.transaction() as s:
        runtime.start(s, "simple", {}, "T-2", "ann")
    [register] = _items(database)
    with database.transaction() as s:
        runtime.complete_task(s, register.task_id, simple, {"customer": "A", "amount": 1})
    with pytest.raises(TaskNotReady, match="already completed"), database.transaction() as s:
        runtime.complete_task(s, register.task_id, simple, {"customer": "A", "amount": 1})


def test_a_user_outside_the_lane_may_not_complete_the_task(database, runtime, simple, make_user):
    tech = make_user("tom", "technician")
    with database.transaction() as s:
        runtime.start(s, "simple", {}, "T-3", "ann")
    [register] = _items(database)
    with pytest.raises(PermissionDenied, match="needs role 'agent'"), database.transaction() as s:
        runtime.complete_task(s, register.task_id, tech, {"customer": "A", "amount": 1})


def test_unknown_task_and_unknown_message_are_reported(database, runtime, simple):
    with pytest.raises(NotFound), database.transaction() as s:
        runtime.complete_task(s, "00000000-0000-0000-0000-000000000000", simple, {})
    with pytest.raises(MessageNotCorrelated, match="customer_ok"), database.transaction() as s:
        runtime.deliver_message(s, "customer_ok", "NOPE", {})


def test_boundary_timer_fires_when_due_and_not_before(database, runtime, simple, clock):
    with database.transaction() as s:
        started = runtime.start(s, "simple", {}, "T-4", "ann")
    [register] = _items(database)
    with database.transaction() as s:
        runtime.complete_task(s, register.task_id, simple, {"customer": "A", "amount": 5})
        timer = s.scalars(select(Timer)).one()
    assert timer.due_at == clock.now() + timedelta(hours=24)
    clock.advance(timedelta(hours=23))
    with database.transaction() as s:
        assert runtime.fire_timers(s, started.instance_id).status == "active"
    clock.advance(timedelta(hours=2))
    runtime.instances.clear()
    with database.transaction() as s:
        inst = runtime.fire_timers(s, started.instance_id)
        assert inst.status == "completed"
        kinds = [e.kind for e in events_for(s, inst.id)]
    assert "timer.fired" in kinds
    assert _items(database) == []
    with pytest.raises(InstanceEnded, match="T-4 has already ended"), database.transaction() as s:
        runtime.fire_timers(s, started.instance_id)  # firing again on an ended instance is refused
    with database.transaction() as s:
        kinds = [e.kind for e in events_for(s, started.instance_id)]
    assert kinds.count("instance.completed") == 1
