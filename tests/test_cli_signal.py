"""``aftersales signal``: a supervisor broadcasts a signal from the command line; others may not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent, Instance, SignalSubscription

EVENTS = Path(__file__).parent / "fixtures" / "events"


@pytest.fixture
def jobs(cli):
    """Two field jobs waiting for a product recall; a supervisor and an agent."""
    for name, role in (("boss", "supervisor"), ("ann", "agent")):
        cli("users", "create", name, "--role", role, "--password", "s3cret-pass", "--password", "s3cret-pass")
    cli("deploy", str(EVENTS))
    return [json.loads(cli("start", "field_job", "--key", key, "--json").stdout)["instance_id"]
            for key in ("J-1", "J-2")]


def _state(database):
    with database.transaction(write=False) as s:
        return (s.scalar(select(func.count()).select_from(SignalSubscription)),
                sorted(s.scalars(select(Instance.process_id))),
                s.scalars(select(AuditEvent).where(AuditEvent.stream == "signals")).all())


def test_a_supervisor_broadcasts_a_signal_to_the_waiting_jobs_and_starts_a_campaign(cli, database, jobs):
    # When the supervisor broadcasts the recall of batch B-7
    out = json.loads(cli("signal", "product_recall", "--user", "boss", "--data", '{"batch": "B-7"}',
                         "--json").stdout)

    # Then both jobs received it and a recall campaign started
    campaign = max(jobs) + 1
    assert out == {"signal": "product_recall", "received": jobs, "started": [campaign]}
    for job in jobs:
        shown = json.loads(cli("instance", "show", str(job), "--json").stdout)
        assert [t["name"] for t in shown["tasks"]] == ["Handle the recall"]
        [received] = [e for e in shown["events"] if e["kind"] == "signal.received"]
        assert received["data"] == {"signal": "product_recall", "payload": {"batch": "B-7"}}
    subscriptions, processes, [noted] = _state(database)
    assert (subscriptions, processes) == (0, ["field_job", "field_job", "recall_campaign"])
    assert (noted.kind, noted.actor) == ("signal.broadcast", "boss")

    # And a signal nobody waits for any more only starts the campaign again, in words
    again = cli("signal", "product_recall", "--user", "boss").stdout
    assert again.strip() == f"signal product_recall: received by instance(s) none; started instance(s) {campaign + 1}"


@pytest.mark.parametrize(("args", "code", "says"), [
    (("--user", "ann"), 3, "ann may not broadcast signals (needs the role admin or supervisor)"),
    (("--user", "ghost"), 4, "user 'ghost' does not exist"),
    (("--user", "boss", "--data", "{oops"), 2, "--data is not valid JSON"),
    (("--user", "boss", "--data", "[1]"), 2, "--data must be a JSON object"),
])
def test_a_refused_signal_changes_nothing_and_exits_with_the_error_code(cli, database, jobs, args, code, says):
    before = _state(database)
    result = cli("signal", "product_recall", *args, code=code)
    assert says in result.stderr
    assert _state(database) == before == (2, ["field_job", "field_job"], [])


def test_signal_needs_the_user_who_broadcasts_it(cli, jobs):
    assert "Missing option '--user'" in cli("signal", "product_recall", code=2).stderr
