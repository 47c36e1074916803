"""BPMN scripts and conditions run under RestrictedPython: escapes are refused, naming the task."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.deploy import deploy
from engine.models import Incident, Instance, WorkItem
from tests.bpmn_builder import script_then_gateway

ESCAPES = [
    ("import os\nos.system('id')", "import"),
    ("f = open('/etc/passwd').read()", "open"),
    ("exec('x = 1')", "exec"),
    ("x = ().__class__.__base__.__subclasses__()", "__class__"),
    ("g = (lambda: 0).__globals__", "__globals__"),
    ("b = __builtins__['__import__']('os')", "__builtins__"),
    ("e = eval('1 + 1')", "eval"),
    ("t = type('X', (), {})", "type"),
    ("c = compile('1', 'f', 'eval')", "compile"),
    ("import importlib", "import"),
]


def _run(database, runtime, bundle):
    with database.transaction() as s:
        deploy(s, bundle, "owner")
    with database.transaction() as s:
        started = runtime.start(s, bundle.name, {"amount": 120}, "K-1", "owner")
    with database.transaction(write=False) as s:
        inst = s.get(Instance, started.instance_id)
        incidents = list(s.scalars(select(Incident)))
        items = [w.element_id for w in s.scalars(select(WorkItem))]
    return inst, incidents, items


@pytest.mark.parametrize(("script", "name"), ESCAPES)
def test_script_escape_is_refused_and_becomes_an_incident_naming_the_task(database, runtime, script, name):
    inst, incidents, items = _run(database, runtime, script_then_gateway(script))
    assert inst.status == "incident"
    [incident] = incidents
    assert incident.element_id == "run_script"
    assert incident.status == "open"  # a refused script is not retried automatically
    assert name in incident.message or "not allowed" in incident.message or "refused" in incident.message, \
        incident.message
    assert items == []


def test_allowed_script_computes_and_the_condition_routes(database, runtime):
    script = "total = sum([amount, 30])\nbig = total > 100\nlabels = [str(i) for i in range(3)]\ncount = 0\ncount += 2"
    inst, incidents, items = _run(database, runtime, script_then_gateway(script, "big and count == 2"))
    assert (inst.status, incidents, items) == ("active", [], ["yes_task"])


def test_condition_escape_is_refused(database, runtime):
    inst, incidents, items = _run(database, runtime, script_then_gateway("x = 1", "().__class__ is tuple"))
    assert inst.status == "incident"
    assert incidents[0].element_id == "gw"
    assert items == []
