"""Concurrency and tampering: one winner per task, and an edited or deleted audit row is found."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, select, text, update

import tests.handlers_for_tests  # noqa: F401
from engine.audit import events_for, verify
from engine.errors import Conflict
from engine.models import AuditEvent, Instance, WorkItem


@pytest.fixture
def simple(deploy_fixture, make_user):
    deploy_fixture("simple")
    return make_user("ann", "agent")


def _start_and_register(database, runtime, ann, key="T-1"):
    with database.transaction() as s:
        instance_id = runtime.start(s, "simple", {}, key, "ann").instance_id
    with database.transaction(write=False) as s:
        item = s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id)).one()
    return instance_id, item.task_id


def test_concurrent_double_completion_has_exactly_one_winner(database, runtime, simple):
    instance_id, task_id = _start_and_register(database, runtime, simple)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def complete(amount: int) -> None:
        barrier.wait()
        try:
            with database.transaction() as s:
                runtime.complete_task(s, task_id, simple, {"customer": "C", "amount": amount})
            outcomes.append("ok")
        except Conflict as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=complete, args=(n,)) for n in (10, 20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert outcomes.count("ok") == 1, outcomes
    [loser] = [o for o in outcomes if o != "ok"]
    assert "already completed" in str(loser) or "changed by another" in str(loser)
    with database.transaction(write=False) as s:
        completions = [e for e in events_for(s, instance_id) if e.kind == "task.completed" and e.task_id == task_id]
        assert len(completions) == 1
        assert verify(s, instance_id).ok


def _tamper(database, sql_update):
    with database.transaction() as s:
        s.execute(sql_update)


def test_an_edited_event_is_reported_at_its_sequence_number(database, runtime, simple):
    instance_id, _ = _start_and_register(database, runtime, simple)
    stream = f"instance:{instance_id}"
    _tamper(database, update(AuditEvent).where(AuditEvent.stream == stream, AuditEvent.seq == 2)
            .values(actor="mallory"))
    with database.transaction(write=False) as s:
        report = verify(s, instance_id)
    assert not report.ok
    assert (report.breaks[0].seq, report.breaks[0].stream) == (2, stream)
    assert "edited" in report.breaks[0].reason


def test_an_edited_data_field_is_reported(database, runtime, simple):
    instance_id, _ = _start_and_register(database, runtime, simple)
    with database.transaction() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.stream == f"instance:{instance_id}",
                                                   AuditEvent.seq == 1)).one()
        event.data = {**event.data, "business_key": "T-FORGED"}
    with database.transaction(write=False) as s:
        assert verify(s, instance_id).breaks[0].seq == 1


@pytest.mark.parametrize(("which", "reason"), [("middle", "missing"), ("last", "deleted")])
def test_a_deleted_event_is_reported(database, runtime, simple, which, reason):
    instance_id, _ = _start_and_register(database, runtime, simple)
    with database.transaction(write=False) as s:
        last = s.get(Instance, instance_id).audit_seq
    seq = 2 if which == "middle" else last
    _tamper(database, delete(AuditEvent).where(AuditEvent.stream == f"instance:{instance_id}",
                                               AuditEvent.seq == seq))
    with database.transaction(write=False) as s:
        report = verify(s)
    assert not report.ok
    assert reason in report.breaks[0].reason


def test_system_streams_are_verified_too(database, runtime, simple):
    _tamper(database, text("UPDATE audit_event SET actor = 'mallory' WHERE stream = 'deployments'"))
    with database.transaction(write=False) as s:
        report = verify(s)
    assert [b.stream for b in report.breaks] == ["deployments"]
