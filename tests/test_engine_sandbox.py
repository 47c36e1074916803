"""BPMN scripts and conditions run under RestrictedPython: escapes are refused at deploy,
naming the task and the line, and at run time if one got into an older deployment; the
sandbox's own date helpers work and follow the engine's clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.audit import events_for
from engine.deploy import deploy
from engine.errors import DeploymentInvalid, ScriptError
from engine.models import Incident, Instance, WorkItem
from engine.sandbox import RestrictedEnvironment
from tests.bpmn_builder import script_then_gateway

ESCAPES = [
    ("import os\nos.system('id')", "import of 'os'"),
    ("f = open('/etc/passwd').read()", "open()"),
    ("exec('x = 1')", "Exec calls"),
    ("x = ().__class__.__base__.__subclasses__()", "__class__"),
    ("g = (lambda: 0).__globals__", "__globals__"),
    ("b = __builtins__['__import__']('os')", "__builtins__"),
    ("e = eval('1 + 1')", "Eval calls"),
    ("t = type('X', (), {})", "type()"),
    ("c = compile('1', 'f', 'eval')", "compile()"),
    ("import importlib", "import of 'importlib'"),
    ("from os import getpid", "import of 'os'"),
    ("print(amount)", "print()"),
]


def _script_line(bundle, needle: str = "<bpmn:script>") -> int:
    text = next(iter(bundle.files.values())).decode()
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def _run(database, runtime, bundle, data=None):
    with database.transaction() as s:
        deploy(s, bundle, "owner")
    with database.transaction() as s:
        started = runtime.start(s, bundle.name, {"amount": 120, **(data or {})}, "K-1", "owner")
    with database.transaction(write=False) as s:
        inst = s.get(Instance, started.instance_id)
        incidents = list(s.scalars(select(Incident)))
        items = [w.element_id for w in s.scalars(select(WorkItem))]
        deltas = {e.element_id: e.data.get("delta", {}).get("set", {}) for e in events_for(s, inst.id)
                  if e.kind == "task.completed"}
    return inst, incidents, items, deltas


@pytest.mark.parametrize(("script", "reason"), ESCAPES)
def test_script_escape_is_refused_at_deploy_naming_the_task_and_line(database, script, reason):
    bundle = script_then_gateway("total = amount\n" + script)
    with pytest.raises(DeploymentInvalid) as info, database.transaction() as s:
        deploy(s, bundle, "owner")
    errors = [p for p in info.value.problems if p.severity == "error"]
    # the escape is the script's second line
    assert {(p.rule, p.file, p.element_id, p.line) for p in errors} == \
        {("scripts", "scripted.bpmn", "run_script", _script_line(bundle) + 1)}
    assert any(reason in p.message for p in errors), errors


def test_condition_escape_is_refused_at_deploy_naming_the_flow(database):
    bundle = script_then_gateway("x = 1", "().__class__ is tuple")
    with pytest.raises(DeploymentInvalid) as info, database.transaction() as s:
        deploy(s, bundle, "owner")
    [problem] = [p for p in info.value.problems if p.severity == "error"]
    assert (problem.rule, problem.element_id, problem.line) == \
        ("scripts", "f_yes", _script_line(bundle, "<bpmn:conditionExpression>"))
    assert "condition refused by the sandbox" in problem.message and "__class__" in problem.message


@pytest.mark.parametrize(("script", "reason"), ESCAPES)
def test_the_sandbox_refuses_escapes_at_run_time_too(script, reason):
    with pytest.raises((ScriptError, NameError)):
        RestrictedEnvironment().execute(script, {"amount": 1})


def test_escape_in_a_deployment_older_than_the_check_becomes_an_incident_naming_the_task(
        database, runtime, monkeypatch):
    # Given a deployment made before scripts were checked at deploy
    monkeypatch.setattr("engine.lint.check_scripts", lambda *args: set())
    inst, incidents, items, _ = _run(database, runtime, script_then_gateway("import os\nos.system('id')"))
    # Then the refusal happens when the script runs, as an open incident on the task
    assert inst.status == "incident"
    [incident] = incidents
    assert (incident.element_id, incident.status) == ("run_script", "open")
    assert "import of 'os' is not allowed" in incident.message
    assert items == []


def test_allowed_script_computes_and_the_condition_routes(database, runtime):
    script = "total = sum([amount, 30])\nbig = total > 100\nlabels = [str(i) for i in range(3)]\ncount = 0\ncount += 2"
    inst, incidents, items, _ = _run(database, runtime, script_then_gateway(script, "big and count == 2"))
    assert (inst.status, incidents, items) == ("active", [], ["yes_task"])


def test_date_helpers_work_and_follow_the_engine_clock(database, runtime, clock):
    # Given the engine clock at 2026-03-02 09:00 UTC, moved on by two days
    clock.advance(timedelta(days=2, hours=14, minutes=30))
    script = ("today = date.today().isoformat()\n"
              "stamp = datetime.now().strftime('%Y-%m-%d %H:%M')\n"
              "label = (date.today() + timedelta(days=3)).strftime('%d.%m.%Y')\n"
              "parsed = datetime.strptime('2026-03-10 08:15', '%Y-%m-%d %H:%M').isoformat()\n"
              "aware = datetime.now(timezone.utc).isoformat()\n"
              "kinds = [isinstance(date.today(), date), isinstance(datetime.now(), datetime)]\n"
              "late = datetime.now() > utc_datetime(2026, 3, 4)")
    # When a script uses them (and the instance goes through the store)
    inst, incidents, items, deltas = _run(database, runtime, script_then_gateway(script, "late"))
    # Then they answer from the engine clock (task data keeps the strings: SpiffWorkflow 3.2's
    # serializer stores datetime and timedelta values, not date or Decimal ones)
    assert (inst.status, incidents, items) == ("active", [], ["yes_task"])
    computed = deltas["run_script"]
    assert computed["today"] == "2026-03-04"
    assert computed["stamp"] == "2026-03-04 23:30"
    assert computed["label"] == "07.03.2026"
    assert computed["parsed"] == "2026-03-10T08:15:00"
    assert computed["aware"] == "2026-03-04T23:30:00+00:00"
    assert computed["kinds"] == [True, True]


def test_scripts_still_cannot_import_time_themselves():
    env = RestrictedEnvironment()
    for script in ("import time", "from time import sleep", "import _strptime"):
        with pytest.raises(ScriptError, match="is not allowed|invalid variable name"):
            env.execute(script, {})
