"""Bundles drawn for other engines (Camunda 7, Camunda 8/Zeebe, Flowable, Activiti) are refused
at validate, each extension, expression and script language named with its file, element and
line and what to write instead; nothing of them is skipped silently."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.bundle import Bundle, read_bundle
from engine.deploy import deploy
from engine.errors import DeploymentInvalid
from engine.lint import lint_bundle
from engine.lint_dialects import foreign_expression, to_python
from engine.models import AuditEvent, Deployment, Role
from tests.bpmn_builder import script_then_gateway

FOREIGN = Path(__file__).parent / "fixtures" / "foreign"
MY_RULES = {"dialects", "refused", "scripts", "timers"}


def _line(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def _problems(folder: str):
    return lint_bundle(read_bundle([FOREIGN / folder])).problems


CAMUNDA = [
    # (file, needle on the reported line, element, severity, words of the message)
    ("warranty_claim.bpmn", 'camunda:initiator="requester"', "StartEvent_1", "error", "start data"),
    ("warranty_claim.bpmn", 'camunda:candidateGroups="agents"', "Activity_0register", "error",
     "lane whose name maps to the role"),
    ("warranty_claim.bpmn", 'camunda:formKey="embedded', "Activity_0register", "error", "formJsonSchemaFilename"),
    ("warranty_claim.bpmn", "<camunda:formData>", "Activity_0register", "error", "formJsonSchemaFilename"),
    ("warranty_claim.bpmn", "<camunda:taskListener", "Activity_0register", "error", "spiffworkflow:preScript"),
    ("warranty_claim.bpmn", 'camunda:decisionRef="claim_priority"', "Activity_1classify", "error",
     "spiffworkflow:calledDecisionId"),
    ("warranty_claim.bpmn", 'camunda:assignee="${supervisor}"', "Activity_0approve", "error", "lane"),
    ("warranty_claim.bpmn", 'camunda:dueDate="${approvalDue}"', "Activity_0approve", "error", "SLA clocks"),
    ("warranty_claim.bpmn", 'camunda:class="com.acme', "Activity_1escalate", "error",
     "spiffworkflow:serviceTaskOperator"),
    ("warranty_claim.bpmn", 'camunda:expression="${stock.reserve', "Activity_0reserve", "error",
     "spiffworkflow:serviceTaskOperator"),
    ("warranty_claim.bpmn", 'camunda:delegateExpression="${customerNotifier}"', "Activity_1notify", "error",
     "spiffworkflow:serviceTaskOperator"),
    ("warranty_claim.bpmn", 'camunda:topic="invoicing"', "Activity_0invoice", "error",
     "spiffworkflow:serviceTaskOperator"),
    ("warranty_claim.bpmn", "<camunda:executionListener", "Event_1done", "error", "postScript"),
    ("warranty_claim.bpmn", 'scriptFormat="javascript"', "Activity_0total", "error",
     'scriptFormat="javascript": aftersales runs every script as Python'),
    ("warranty_claim.bpmn", "${amount &gt; 1000", "Flow_0big", "error",
     "JUEL expression (Camunda 7, Flowable, Activiti), but aftersales evaluates Python; write it in Python: "
     "amount > 1000 and not goodwill"),
    ("warranty_claim.bpmn", "${slaDuration}", "Event_0sla", "error", "write it in Python: slaDuration"),
    ("warranty_claim.bpmn", 'camunda:asyncBefore="true"', "Activity_1notify", "warning", "ignored by aftersales"),
    ("warranty_claim.bpmn", 'camunda:historyTimeToLive="180"', "warranty_claim", "warning", "remove it"),
    ("claim_priority.dmn", 'camunda:inputVariable="tier"', "Input_1", "error", "reads task data by name"),
    ("claim_priority.dmn", '"gold","platinum"', "UnaryTests_0tiers", "error",
     'FEEL list (any of them), but aftersales evaluates Python, where it is a tuple that never equals the input; '
     'write it as in ("gold","platinum")'),
    ("claim_priority.dmn", "[500..1000]", "UnaryTests_1range", "error", "write it as 500 <= ? <= 1000"),
    ("claim_priority.dmn", 'not("blocked")', "UnaryTests_2not", "error", 'write it as != "blocked"'),
]
ZEEBE = [
    ("device_repair.bpmn", "<zeebe:taskDefinition", "Activity_0diagnose", "dialects",
     "(Camunda 8 / Zeebe) is not run by aftersales: use spiffworkflow:serviceTaskOperator"),
    ("device_repair.bpmn", "<zeebe:ioMapping>", "Activity_0diagnose", "dialects", "spiffworkflow:preScript"),
    ("device_repair.bpmn", "<zeebe:formDefinition", "Activity_1onsite", "dialects", "formJsonSchemaFilename"),
    ("device_repair.bpmn", "<zeebe:assignmentDefinition", "Activity_1onsite", "dialects", "lane"),
    ("device_repair.bpmn", "<zeebe:script", "Activity_0cost", "dialects", "write Python in bpmn:script"),
    ("device_repair.bpmn", "<zeebe:subscription", "Message_0parts", "dialects",
     "spiffworkflow:processVariableCorrelation"),
    ("device_repair.bpmn", '=severity = "high"', "Flow_1severe", "dialects",
     'FEEL expression (Camunda 8), but aftersales evaluates Python; write it in Python: severity == "high"'),
    ("device_repair.bpmn", ">PT4H<", "Event_1overdue", "timers",
     'timer duration (timeDuration) PT4H must be quoted ("PT4H")'),
]
FLOWABLE = [
    ("parts_order.bpmn", 'flowable:candidateGroups="warehouse"', "approveOrder", "error", "(Flowable)"),
    ("parts_order.bpmn", "<flowable:formProperty", "approveOrder", "error", "formJsonSchemaFilename"),
    ("parts_order.bpmn", 'flowable:class="org.acme', "placeOrder", "error", "spiffworkflow:serviceTaskOperator"),
    ("parts_order.bpmn", 'flowable:async="true"', "placeOrder", "warning", "ignored"),
    ("parts_order.bpmn", 'scriptFormat="groovy"', "logOrder", "error", "runs every script as Python"),
    ("parts_order.bpmn", 'activiti:assignee="${picker}"', "pickParts", "error", "(Activiti)"),
    ("parts_order.bpmn", 'flowable:collection="${lines}"', "pickParts", "error", "bpmn:loopDataInputRef"),
    ("parts_order.bpmn", "${approved == true}", "approvedFlow", "error", "write it in Python: approved == True"),
]


@pytest.mark.parametrize(("file", "needle", "element", "severity", "text"), CAMUNDA)
def test_camunda_7_bundle_is_reported_element_by_element(file, needle, element, severity, text):
    problems = [p for p in _problems("camunda") if p.file == file and p.element_id == element
                and p.line == _line(FOREIGN / "camunda" / file, needle)]
    assert any(p.rule == "dialects" and p.severity == severity and text in p.message for p in problems), problems


@pytest.mark.parametrize(("file", "needle", "element", "rule", "text"), ZEEBE)
def test_zeebe_bundle_is_reported_element_by_element(file, needle, element, rule, text):
    problems = [p for p in _problems("zeebe") if p.rule == rule and p.element_id == element]
    assert any(p.file == file and p.line == _line(FOREIGN / "zeebe" / file, needle) and text in p.message
               and p.severity == "error" for p in problems), problems


@pytest.mark.parametrize(("file", "needle", "element", "severity", "text"), FLOWABLE)
def test_flowable_and_activiti_bundle_is_reported_element_by_element(file, needle, element, severity, text):
    problems = [p for p in _problems("flowable") if p.rule == "dialects" and p.element_id == element]
    assert any(p.file == file and p.line == _line(FOREIGN / "flowable" / file, needle) and text in p.message
               and p.severity == severity for p in problems), problems


@pytest.mark.parametrize("folder", ["camunda", "zeebe", "flowable"])
def test_each_finding_is_ours_and_says_what_to_use_not_a_parser_crash(folder):
    problems = _problems(folder)
    assert not [p for p in problems if p.rule == "parse"], problems
    assert all(p.line and p.element_id for p in problems if p.rule in MY_RULES), problems


def test_a_foreign_bundle_is_not_deployed_and_nothing_changes(database):
    def counts():
        with database.transaction(write=False) as s:
            return [s.scalar(select(func.count()).select_from(m)) for m in (Deployment, AuditEvent, Role)]

    before = counts()
    with pytest.raises(DeploymentInvalid) as info, database.transaction() as s:
        deploy(s, read_bundle([FOREIGN / "camunda"]), "owner")
    assert {p.rule for p in info.value.problems if p.severity == "error"} == {"dialects"}
    assert counts() == before


def test_bookkeeping_of_another_engine_alone_only_warns(database):
    bundle = script_then_gateway("x = 1")
    xml = bundle.files["scripted.bpmn"].decode().replace(
        'id="defs"', 'id="defs" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"').replace(
        'isExecutable="true"', 'isExecutable="true" camunda:historyTimeToLive="180"')
    with database.transaction() as s:
        result = deploy(s, Bundle("scripted", {"scripted.bpmn": xml.encode()}), "owner")
    assert [w.message for w in result.warnings if w.rule == "dialects"] == [
        'camunda:historyTimeToLive="180" (Camunda 7) is ignored by aftersales: bookkeeping of that engine; '
        'remove it']


def test_camunda_execution_api_in_a_python_script_is_named():
    problems = lint_bundle(script_then_gateway('amount = execution.getVariable("amount")')).problems
    [problem] = [p for p in problems if p.rule == "dialects"]
    assert problem.element_id == "run_script"
    assert "execution.getVariable" in problem.message and "read task data by name" in problem.message


@pytest.mark.parametrize("language", ["javascript", "groovy", "JavaScript", "juel", "feel", "text/x-groovy"])
def test_a_script_in_another_language_never_runs_as_python(language):
    bundle = script_then_gateway("x = 1")
    xml = bundle.files["scripted.bpmn"].decode().replace(
        '<bpmn:scriptTask id="run_script"', f'<bpmn:scriptTask id="run_script" scriptFormat="{language}"')
    [problem] = [p for p in lint_bundle(Bundle("scripted", {"scripted.bpmn": xml.encode()})).problems
                 if p.severity == "error"]
    assert (problem.rule, problem.element_id) == ("dialects", "run_script")
    assert f'scriptFormat="{language}"' in problem.message


@pytest.mark.parametrize("language", ["python", "Python", "text/x-python"])
def test_a_python_script_format_is_accepted(language):
    bundle = script_then_gateway("x = 1")
    xml = bundle.files["scripted.bpmn"].decode().replace(
        '<bpmn:scriptTask id="run_script"', f'<bpmn:scriptTask id="run_script" scriptFormat="{language}"')
    assert not lint_bundle(Bundle("scripted", {"scripted.bpmn": xml.encode()})).errors


@pytest.mark.parametrize(
    ("expression", "python"),
    [
        ("${amount > 1000}", "amount > 1000"),
        ("#{approved && !rejected}", "approved and not rejected"),
        ("${tier eq 'gold' || amount ge 500}", "tier == 'gold' or amount >= 500"),
        ("${empty notes}", "not notes"),
        ("${customer == null}", "customer is None"),
        ('${execution.getVariable("amount") gt 5}', "amount > 5"),
        ("= amount > 1000", "amount > 1000"),
        ('=status = "open" and not(blocked)', 'status == "open" and not (blocked)'),
        ('=date and time("2026-03-02T09:00:00Z")', '"2026-03-02T09:00:00Z"'),
    ],
)
def test_juel_and_feel_come_with_their_python(expression, python):
    assert to_python(expression.strip("=$#{} "), feel=expression.startswith("=")) == python
    assert f"write it in Python: {python}" in foreign_expression(expression)


def test_python_is_not_mistaken_for_another_dialect():
    for expression in ('amount > 1000', 'status == "open"', '"${not a template}"', 'x = "=y"'):
        assert foreign_expression(expression) is None
