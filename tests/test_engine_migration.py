"""Migrating running instances to a new deployment: dry run first, audited, refused when unsafe."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import tests.handlers_for_tests  # noqa: F401
from engine.audit import events_for, verify
from engine.bundle import Bundle, read_bundle
from engine.deploy import deploy
from engine.errors import Conflict
from engine.instance_migration import migrate
from engine.models import Instance, WorkItem
from tests.conftest import FIXTURES


def _variant(replace: dict[str, str]) -> Bundle:
    files = dict(read_bundle([FIXTURES / "simple"]).files)
    text = files["simple.bpmn"].decode()
    for old, new in replace.items():
        text = text.replace(old, new)
    files["simple.bpmn"] = text.encode()
    return Bundle("simple", files)


V2 = {  # the review task gets a new name and a script runs before the customer message
    'name="Review"': 'name="Review request"',
    '<bpmn:sequenceFlow id="f5" sourceRef="review" targetRef="wait_ok" />':
        '<bpmn:sequenceFlow id="f5" sourceRef="review" targetRef="stamp" />'
        '<bpmn:scriptTask id="stamp" name="Stamp"><bpmn:incoming>f5</bpmn:incoming>'
        '<bpmn:outgoing>f5b</bpmn:outgoing><bpmn:script>stamped = True</bpmn:script></bpmn:scriptTask>'
        '<bpmn:sequenceFlow id="f5b" sourceRef="stamp" targetRef="wait_ok" />',
    '<bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing>':
        '<bpmn:incoming>f5b</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing>',
}


@pytest.fixture
def at_review(database, runtime, make_user):
    ann = make_user("ann", "agent")
    with database.transaction() as s:
        v1 = deploy(s, _variant({}), "owner")
        instance_id = runtime.start(s, "simple", {}, "M-1", "ann").instance_id
    with database.transaction() as s:
        register = s.scalars(select(WorkItem)).one()
        runtime.complete_task(s, register.task_id, ann, {"customer": "C", "amount": 1})
    return ann, v1.deployment_id, instance_id


def test_dry_run_reports_without_changing_and_migration_moves_the_instance(database, runtime, at_review):
    ann, v1, instance_id = at_review
    with database.transaction() as s:
        v2 = deploy(s, _variant(V2), "owner").deployment_id
    with database.transaction() as s:
        dry = migrate(s, runtime, instance_id, v2, "owner", dry_run=True)
    assert dry.ok and "review" in dry.active
    with database.transaction(write=False) as s:
        assert s.get(Instance, instance_id).deployment_id == v1

    with database.transaction() as s:
        migrate(s, runtime, instance_id, v2, "owner")
    runtime.instances.clear()
    with database.transaction() as s:
        review = s.scalars(select(WorkItem)).one()
        assert review.name == "Review request"  # the new version's name
        runtime.complete_task(s, review.task_id, ann, {})
    with database.transaction(write=False) as s:
        inst = s.get(Instance, instance_id)
        kinds = [(e.kind, e.element_id) for e in events_for(s, instance_id)]
        assert inst.deployment_id == v2
        assert verify(s, instance_id).ok
    assert ("instance.migrated", None) in kinds
    assert ("task.completed", "stamp") in kinds  # the new element ran


def test_migration_is_refused_when_an_element_of_the_instance_is_gone(database, runtime, at_review):
    _, v1, instance_id = at_review
    renamed = {'id="review"': 'id="check"', '"review"': '"check"', 'targetRef="review"': 'targetRef="check"',
               'sourceRef="review"': 'sourceRef="check"', 'attachedToRef="review"': 'attachedToRef="check"'}
    with database.transaction() as s:
        v3 = deploy(s, _variant(renamed), "owner").deployment_id
        plan = migrate(s, runtime, instance_id, v3, "owner", dry_run=True)
    assert not plan.ok
    assert any("'review'" in p for p in plan.problems)
    with pytest.raises(Conflict, match="cannot move"), database.transaction() as s:
        migrate(s, runtime, instance_id, v3, "owner")
    with database.transaction(write=False) as s:
        assert s.get(Instance, instance_id).deployment_id == v1
