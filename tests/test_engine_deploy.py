"""Deploying: validation and lint name file, element and line; a failed deploy changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

import tests.handlers_for_tests  # noqa: F401
from engine.bundle import Bundle, read_bundle
from engine.deploy import deploy
from engine.errors import DeploymentInvalid
from engine.models import AuditEvent, Deployment, Role

FIXTURES = Path(__file__).parent / "fixtures"


def _simple_files() -> dict[str, bytes]:
    return dict(read_bundle([FIXTURES / "simple"]).files)


def _bpmn(files: dict[str, bytes]) -> str:
    return files["simple.bpmn"].decode()


def _deploy_files(database, files: dict[str, bytes], name: str = "simple"):
    with database.transaction() as s:
        return deploy(s, Bundle(name, files), "owner")


def _problems(database, files) -> list:
    with pytest.raises(DeploymentInvalid) as info:
        _deploy_files(database, files)
    return info.value.problems


def _count(database, model) -> int:
    with database.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_same_bundle_twice_is_the_same_version_and_a_change_is_the_next(database):
    first = _deploy_files(database, _simple_files())
    again = _deploy_files(database, _simple_files())
    files = _simple_files()
    files["simple.bpmn"] = _bpmn(files).replace('name="Review"', 'name="Review request"').encode()
    changed = _deploy_files(database, files)
    assert (first.version, first.created) == (1, True)
    assert (again.version, again.created, again.deployment_id) == (1, False, first.deployment_id)
    assert (changed.version, changed.created) == (2, True)
    assert first.content_hash != changed.content_hash


def test_lanes_naming_unknown_roles_create_them_with_a_warning(database):
    result = _deploy_files(database, _simple_files())
    warnings = [w.message for w in result.warnings if w.rule == "lanes"]
    assert any("'agent'" in w for w in warnings)
    with database.transaction(write=False) as s:
        assert {"agent", "system"} <= set(s.scalars(select(Role.name)))


@pytest.mark.parametrize(
    ("mutate", "rule", "element", "text"),
    [
        (lambda x: x.replace("</bpmn:userTask>", "</bpmn:usrTask>", 1), "xml", None, "not well-formed"),
        (lambda x: x.replace("<bpmn:userTask id=\"review\"", "<bpmn:usrTask id=\"review\"", 1)
         .replace("</bpmn:userTask>\n    <bpmn:boundaryEvent", "</bpmn:usrTask>\n    <bpmn:boundaryEvent", 1),
         "xsd", None, "usrTask"),
        (lambda x: x.replace('id="echo_task"', 'id="test.echo"').replace('"echo_task"', '"test.echo"')
         .replace(">echo_task<", ">test.echo<"), "ids", "test.echo", "equals the id"),
        (lambda x: x.replace("test.echo", "test.nope"), "handlers", "echo_task", "test.nope"),
        (lambda x: x.replace('id="value" type="int" value="amount"', 'id="amount" type="int" value="amount"'),
         "handlers", "echo_task", "unknown parameter(s) amount"),
        (lambda x: x.replace('"PT24H"', "PT24H"), "timers", "review_timeout", "must be quoted"),
        (lambda x: x.replace('"PT24H"', '"P1X"'), "timers", "review_timeout", "ISO 8601"),
        (lambda x: x.replace("register.schema.json", "missing.schema.json"), "forms", "register", "not in the bundle"),
        (lambda x: x.replace("spiffworkflow:properties>", "spiffworkflow:propertiez>"), "extensions", "register",
         "did you mean properties"),
        (lambda x: x.replace('targetRef="end" />', 'targetRef="nowhere" />'), "flows", "f6", "'nowhere'"),
    ],
)
def test_bad_bundle_is_refused_with_the_rule_file_and_element_and_nothing_changes(
        database, mutate, rule, element, text):
    files = _simple_files()
    files["simple.bpmn"] = mutate(_bpmn(files)).encode()
    deployments, events = _count(database, Deployment), _count(database, AuditEvent)
    problems = _problems(database, files)
    matching = [p for p in problems if p.rule == rule and p.severity == "error"]
    assert matching, problems
    assert any(text in p.message for p in matching), matching
    assert all(p.file.endswith((".bpmn", ".json")) for p in matching)
    if element:
        assert element in {p.element_id for p in matching}
    assert (_count(database, Deployment), _count(database, AuditEvent)) == (deployments, events)


def test_xml_and_xsd_errors_carry_line_numbers(database):
    files = _simple_files()
    text = _bpmn(files).replace('<bpmn:endEvent id="end">', '<bpmn:endEvent id="end" bogus="1">')
    files["simple.bpmn"] = text.encode()
    expected = next(n for n, line in enumerate(text.splitlines(), 1) if 'bogus="1"' in line)
    [problem] = _problems(database, files)
    assert (problem.rule, problem.line) == ("xsd", expected)
    assert "bogus" in problem.message


def test_invalid_form_schema_and_bad_json_are_reported(database):
    files = _simple_files()
    files["register.schema.json"] = json.dumps({"type": "object", "properties": {"x": {"type": "strnig"}}}).encode()
    files["notes.json"] = b"{not json"
    problems = _problems(database, files)
    assert any(p.rule == "forms" and p.file == "register.schema.json" and "JSON Schema" in p.message
               for p in problems)
    assert any(p.rule == "json" and p.file == "notes.json" for p in problems)


def test_every_problem_is_reported_in_one_round(database):
    files = _simple_files()
    files["simple.bpmn"] = (_bpmn(files).replace("test.echo", "test.nope")
                            .replace('"PT24H"', "PT24H").replace("register.schema.json", "gone.json")).encode()
    rules = {p.rule for p in _problems(database, files)}
    assert {"handlers", "timers", "forms"} <= rules


def test_missing_called_process_and_decision_are_named(database):
    files = dict(read_bundle([FIXTURES / "order"]).files)
    del files["pick_and_pack.bpmn"]
    del files["shipping_method.dmn"]
    messages = [p.message for p in _problems(database, files) if p.rule == "references"]
    assert any("'pick_and_pack'" in m for m in messages)
    assert any("'shipping_method'" in m for m in messages)


def test_running_instances_stay_on_their_deployment(database, runtime, make_user):
    from engine.models import Instance

    make_user("ann", "agent")
    first = _deploy_files(database, _simple_files())
    with database.transaction() as s:
        old = runtime.start(s, "simple", {}, "T-old", "ann")
    files = _simple_files()
    files["simple.bpmn"] = _bpmn(files).replace('name="Register request"', 'name="Register (v2)"').encode()
    second = _deploy_files(database, files)
    with database.transaction() as s:
        new = runtime.start(s, "simple", {}, "T-new", "ann")
        assert s.get(Instance, old.instance_id).deployment_id == first.deployment_id
        assert s.get(Instance, new.instance_id).deployment_id == second.deployment_id


def test_a_decision_may_share_its_id_with_a_process(database):
    files = _simple_files()
    files["same_id.dmn"] = (FIXTURES / "order" / "shipping_method.dmn").read_bytes().replace(
        b'id="shipping_method"', b'id="simple"')
    result = _deploy_files(database, files)
    assert result.processes == ["simple"]
    with database.transaction(write=False) as s:
        from engine.models import ProcessDefinition

        kinds = sorted(s.scalars(select(ProcessDefinition.kind).where(ProcessDefinition.process_id == "simple")))
    assert kinds == ["decision", "process"]


def test_comments_and_processing_instructions_anywhere_in_bpmn_and_dmn_deploy_as_if_absent(database):
    # Given the order bundle with XML comments and a processing instruction in every file, as editors leave them
    files = dict(read_bundle([FIXTURES / "order"]).files)
    for path in [p for p in files if p.endswith((".bpmn", ".dmn"))]:
        text = files[path].decode()
        head, sep, body = text.partition("?>")
        body = body.replace("<bpmn:", "<!-- a note -->\n<bpmn:", 3).replace("<rule", "<!-- a note --><rule", 3)
        files[path] = (head + sep + '\n<?editor version="5.0"?>\n<!-- drawn elsewhere -->' + body).encode()
        assert files[path].count(b"<!--") >= 2
    # When it is deployed, Then nothing is refused and every process and decision is there
    result = _deploy_files(database, files, "order")
    assert sorted(result.processes) == ["order_fulfilment", "pick_and_pack"]
    assert not [w for w in result.warnings if w.severity == "error"]
