"""``aftersales worker --once --as-of`` on demo and test databases only; ``aftersales message --user``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

import tests.handlers_for_tests  # noqa: F401  (registers test.* handlers)
from engine.models import AuditEvent, Instance, Timer

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def waiting(cli, database, clock):
    """An instance of ``simple`` whose review waits behind a 24-hour timer (due 2026-03-03 09:00 UTC)."""
    cli("users", "create", "ann", "--role", "agent", "--password", "s3cret-pass", "--password", "s3cret-pass")
    cli("deploy", str(FIXTURES / "simple"))
    started = json.loads(cli("start", "simple", "--key", "T-1", "--json").stdout)
    [task] = json.loads(cli("tasks", "--json").stdout)
    cli("complete", task["task_id"], "--user", "ann", "--data", '{"customer": "Li", "amount": 5}')
    return started["instance_id"]


def _timers_and_status(database, instance_id):
    with database.transaction() as s:
        return (s.scalar(select(func.count()).select_from(Timer).where(Timer.instance_id == instance_id)),
                s.get(Instance, instance_id).status)


def test_a_test_database_runs_the_timers_due_by_a_later_time_and_only_those(cli, database, waiting, clock):
    # Given a database marked for testing
    assert "database marked: test" in cli("db", "mark", "test").stdout
    before = clock.now()
    # When due work is run as of 20:00 Beijing time the same day (12:00 UTC: not due yet)
    early = json.loads(cli("worker", "--once", "--as-of", "2026-03-02T20:00", "--json").stdout)
    # Then nothing fires
    assert (early["timers_fired"], early["as_of"]) == (0, "2026-03-02T20:00:00+08:00")
    assert _timers_and_status(database, waiting) == (1, "active")
    # When it is run as of the next day past the timer
    late = cli("worker", "--once", "--as-of", "2026-03-03T18:00+08:00").stdout
    # Then the timer fires at that time, the instance goes on, and the process clock is back where it was
    assert "timers fired: 1" in late
    assert _timers_and_status(database, waiting) == (0, "completed")
    with database.transaction() as s:
        fired = s.scalars(select(AuditEvent).where(AuditEvent.instance_id == waiting,
                                                   AuditEvent.kind == "timer.fired")).one()
        rehearsed = s.scalars(select(AuditEvent).where(AuditEvent.kind == "worker.rehearsed")).all()
    assert fired.at.isoformat().startswith("2026-03-03T10:00")
    assert [e.data["as_of"] for e in rehearsed] == ["2026-03-02T20:00:00+08:00", "2026-03-03T18:00:00+08:00"]
    assert clock.now() == before
    assert "ok:" in cli("audit", "verify").stdout


def test_an_unmarked_database_counts_as_production_and_refuses(cli, database, waiting):
    result = cli("worker", "--once", "--as-of", "2026-03-09T10:00", code=3)
    assert "only allowed on a demo or test database" in result.stderr and "'production'" in result.stderr
    assert _timers_and_status(database, waiting) == (1, "active")
    cli("db", "mark", "production")
    cli("worker", "--once", "--as-of", "2026-03-09T10:00", code=3)
    assert _timers_and_status(database, waiting) == (1, "active")


@pytest.mark.parametrize(("args", "says"), [
    (("--as-of", "2026-03-09T10:00"), "use it with --once"),
    (("--once", "--as-of", "next tuesday"), "is not an ISO 8601 time"),
    (("--once", "--as-of", "2026-03-01T10:00"), "time only moves forward"),
])
def test_bad_as_of_requests_are_refused_and_change_nothing(cli, database, waiting, args, says):
    cli("db", "mark", "demo")
    result = cli("worker", *args, code=2)
    assert says in result.stderr
    assert _timers_and_status(database, waiting) == (1, "active")


def test_marking_a_database_is_audited_and_refuses_unknown_purposes(cli, database):
    cli("db", "mark", "demo")
    cli("db", "mark", "test")
    cli("db", "mark", "staging", code=2)
    with database.transaction() as s:
        marks = [(e.data["purpose"], e.data["previous"]) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.kind == "database.marked").order_by(AuditEvent.seq))]
    assert marks == [("demo", None), ("test", "demo")]


def test_a_message_sent_as_a_user_is_held_to_the_senders_of_its_contract(cli, database, waiting, clock):
    # Given the instance waiting for customer_ok (agents may send it, technicians may not)
    cli("users", "create", "tom", "--role", "technician", "--password", "s3cret-pass", "--password", "s3cret-pass")
    [review] = json.loads(cli("tasks", "--json").stdout)
    cli("complete", review["task_id"], "--user", "ann")
    # When a technician sends it, it is refused and nothing changes
    refused = cli("message", "customer_ok", "--key", "T-1", "--user", "tom", code=3)
    assert "customer_ok" in refused.stderr
    assert _timers_and_status(database, waiting)[1] == "active"
    # And a bad payload is refused naming the field
    bad = cli("message", "customer_ok", "--key", "T-1", "--user", "ann", "--data", '{"ok": "yes"}', code=2)
    assert "ok" in bad.stderr
    # When the agent sends it, the instance goes on
    assert "delivered to instance(s)" in cli("message", "customer_ok", "--key", "T-1", "--user", "ann",
                                             "--data", '{"ok": true}').stdout
    assert _timers_and_status(database, waiting) == (0, "completed")
