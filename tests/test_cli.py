"""The ``aftersales`` command line, end to end on a real database."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

import tests.handlers_for_tests  # noqa: F401

FIXTURES = Path(__file__).parent / "fixtures"


def test_deploy_start_complete_message_and_verify_through_the_cli(cli, database):
    cli("db", "upgrade")
    cli("users", "create", "ann", "--role", "agent", "--password", "s3cret-pass", "--password", "s3cret-pass")
    out = json.loads(cli("deploy", str(FIXTURES / "simple"), "--json").stdout)
    assert (out["version"], out["created"], out["processes"]) == (1, True, ["simple"])
    assert "unchanged simple v1" in cli("deploy", str(FIXTURES / "simple")).stdout
    assert json.loads(cli("definitions", "--json").stdout)[0]["process_id"] == "simple"

    started = json.loads(cli("start", "simple", "--key", "T-9", "--data", '{"channel": "hotline"}',
                             "--json").stdout)
    [task] = json.loads(cli("tasks", "--user", "ann", "--json").stdout)
    assert (task["name"], task["business_key"]) == ("Register request", "T-9")
    cli("complete", task["task_id"], "--user", "ann", "--data", '{"customer": "Li", "amount": 5}')
    [review] = json.loads(cli("tasks", "--json").stdout)
    cli("complete", review["task_id"], "--user", "ann")
    assert "delivered to instance(s)" in cli("message", "customer_ok", "--key", "T-9").stdout

    shown = json.loads(cli("instance", "show", str(started["instance_id"]), "--json").stdout)
    assert shown["status"] == "completed"
    assert [e["kind"] for e in shown["events"]][-1] == "instance.completed"
    assert json.loads(cli("instances", "--json").stdout)[0]["status"] == "completed"
    assert json.loads(cli("worker", "--once", "--json").stdout)["timers_fired"] == 0
    assert "ok:" in cli("audit", "verify").stdout

    with database.transaction() as s:
        s.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE seq = 3 AND instance_id IS NOT NULL"))
    broken = cli("audit", "verify", "--json", code=6)
    assert json.loads(broken.stdout)["breaks"][0]["seq"] == 3


def test_errors_go_to_stderr_with_their_exit_codes(cli, tmp_path):
    cli("db", "upgrade")
    bad = tmp_path / "bad"
    bad.mkdir()
    text_ = (FIXTURES / "simple" / "simple.bpmn").read_text().replace("test.echo", "test.missing")
    (bad / "simple.bpmn").write_text(text_)
    (bad / "register.schema.json").write_text((FIXTURES / "simple" / "register.schema.json").read_text())
    result = cli("deploy", str(bad), code=2)
    assert "simple.bpmn [echo_task]" in result.stderr and "test.missing" in result.stderr
    assert "test.missing" in cli("validate", str(bad), code=2).stdout
    assert "does not exist" in cli("complete", "nope", "--user", "ghost", code=4).stderr
    assert "is not deployed" in cli("start", "unknown_process", code=4).stderr
    assert "not valid JSON" in cli("start", "x", "--data", "{oops", code=2).stderr


def test_handlers_lists_operators_with_their_parameters(cli):
    out = json.loads(cli("handlers", "--json").stdout)
    echo = next(h for h in out if h["operator"] == "test.echo")
    assert echo["doc"] == "Return the value it was given."
    assert [p["name"] for p in echo["parameters"]] == ["value"]


def test_demo_prepares_users_processes_catalogue_and_a_small_history_once(cli, database):
    from sqlalchemy import func, select

    from engine.models import Instance, User
    from handlers.dispatch import Technician

    first = cli("demo", "--no-serve", "--history", "3")
    assert "demo users: agent, tech" in first.stdout and "history:" in first.stdout
    again = cli("demo", "--no-serve", "--history", "3")
    assert "already there" in again.stdout and "history:" not in again.stdout  # the history is loaded once
    with database.transaction(write=False) as s:
        roster = set(s.scalars(select(Technician.username)))
        users = set(s.scalars(select(User.username)))
        assert s.scalar(select(func.count()).select_from(Instance)) >= 3
        # the nine demo users (two supervisors: four eyes), and a sign-in for each field technician on the roster
    assert len(roster) >= 10 and users == roster | {"agent", "tech", "warehouse", "supervisor", "supervisor2", "qa",
                                                     "owner", "auditor", "admin"}
    assert "field technicians who may sign in (same password): tech." in first.stdout
    assert "field technicians who may sign in" not in again.stdout


def test_validate_works_on_a_database_not_migrated_yet(tmp_path):
    from click.testing import CliRunner

    from cli import main

    result = CliRunner().invoke(main, ["validate", str(FIXTURES / "simple")],
                                env={"DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}"})
    assert result.exit_code == 0, result.output
    assert "maps to role 'agent', which does not exist yet" in result.output
