"""BPMN that SpiffWorkflow 3.2 parses but aftersales cannot run as the standard says is refused
at validate, each with its rule, file, element, line and what to model instead; what the engine
does run (or is being taught to) is not refused; the real bundle still validates; a refused
deploy changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

import tests.handlers_for_tests  # noqa: F401  (the simple fixture calls test.echo)
from engine.bundle import Bundle, read_bundle
from engine.deploy import deploy
from engine.errors import DeploymentInvalid
from engine.lint import lint_bundle
from engine.models import AuditEvent, Deployment, DeploymentFile, ProcessDefinition, Role

REFUSED = Path(__file__).parent / "fixtures" / "foreign" / "refused"
PROCESSES = Path(__file__).parent.parent / "processes"
MY_RULES = {"dialects", "refused", "scripts", "timers"}

CASES = [
    # (file, element, needle on the reported line, what the message says)
    ("compensation_boundary.bpmn", "booking_compensation", "<bpmn:compensateEventDefinition",
     "compensation boundary event: aftersales does not run compensation"),
    ("compensation_boundary.bpmn", "cancel_booking", 'isForCompensation="true"',
     "activity marked isForCompensation never runs"),
    ("compensation_throw.bpmn", "undo_everything", 'id="ced_throw"', "compensation throw event"),
    ("compensation_throw.bpmn", "end_compensated", 'id="ced_end"', "compensation end event"),
    ("cancel_outside_transaction.bpmn", "visit_cancelled", "<bpmn:cancelEventDefinition",
     "a cancel end event outside a transaction ends like a plain end event: use an error end event"),
    ("cancel_without_boundary.bpmn", "order_cancelled", "<bpmn:cancelEventDefinition",
     "add a cancel boundary event to the transaction"),
    ("complex_gateway.bpmn", "quotes_split", "<bpmn:complexGateway", "split with an inclusive gateway"),
    ("ad_hoc_subprocess.bpmn", "site_checks", "<bpmn:adHocSubProcess",
     "ad-hoc subprocesses do not run in aftersales"),
    ("multiple_events.bpmn", "reply_or_timeout", '<bpmn:intermediateCatchEvent id="reply_or_timeout"',
     "use an event-based gateway followed by one catch event per trigger"),
    ("data_store.bpmn", "stock_ledger_ref", "<bpmn:dataStoreReference", "data stores do nothing in aftersales"),
    ("data_store.bpmn", "stock_ledger", '<bpmn:dataStore id="stock_ledger"', "read and write outside data in a "
                                                                             "service task"),
    ("potential_owner.bpmn", "approve_refund", "<bpmn:potentialOwner", "put the task in a lane"),
    ("data_assignment.bpmn", "review_claim", "<bpmn:assignment", "compute the value in a spiffworkflow:preScript"),
    ("condition_after_task.bpmn", "f2", "<bpmn:conditionExpression>needs_repair",
     "put an exclusive gateway after 'inspect'"),
    ("condition_after_parallel.bpmn", "f3", "<bpmn:conditionExpression>not in_warranty",
     "a parallel gateway takes every flow: use an inclusive gateway"),
    ("unreachable_task.bpmn", "call_back", '<bpmn:userTask id="call_back"',
     "userTask 'call_back' never runs: no sequence flow leads to it"),
]


def _line(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.mark.parametrize(("file", "element", "needle", "text"), CASES)
def test_what_the_engine_cannot_run_is_refused_with_what_to_use(file, element, needle, text):
    problems = lint_bundle(read_bundle([REFUSED / file])).problems
    found = [p for p in problems if (p.rule, p.file, p.element_id) == ("refused", file, element)]
    assert [p.line for p in found] == [_line(REFUSED / file, needle)], problems
    assert text in found[0].message and found[0].severity == "error"


@pytest.mark.parametrize("file", sorted({case[0] for case in CASES}))
def test_only_our_message_is_shown_not_the_parser_crash_behind_it(file):
    problems = lint_bundle(read_bundle([REFUSED / file])).problems
    ours = {(p.element_id, p.line) for p in problems if p.rule in MY_RULES}
    expected = {(e, _line(REFUSED / f, n)) for f, e, n, _ in CASES if f == file}
    assert ours == expected
    assert not [p for p in problems if p.rule == "parse"], problems


def test_what_the_engine_runs_or_is_being_taught_to_is_not_refused():
    # message and signal throw/catch, send and receive tasks, link events, event-based gateways,
    # conditional events, timers, event subprocesses (interrupting or not), transactions with a
    # cancel boundary, escalations, inclusive gateways, loops and multi-instance tasks
    problems = lint_bundle(read_bundle([REFUSED / "not_refused.bpmn"])).problems
    assert not [p for p in problems if p.rule in MY_RULES | {"parse"}], problems


def test_the_real_bundle_still_validates_with_no_error():
    result = lint_bundle(read_bundle([PROCESSES]))
    assert result.errors == []
    assert not [p for p in result.problems if p.rule in MY_RULES], result.problems


def test_aftersales_validate_processes_passes_on_the_command_line(cli):
    cli("db", "upgrade")
    report = json.loads(cli("validate", str(PROCESSES), "--json").stdout)
    assert report["ok"] is True
    assert [p for p in report["problems"] if p["severity"] == "error"] == []


def test_aftersales_validate_names_file_element_and_line_of_a_refusal(cli):
    cli("db", "upgrade")
    result = cli("validate", str(REFUSED / "complex_gateway.bpmn"), code=2)
    line = _line(REFUSED / "complex_gateway.bpmn", "<bpmn:complexGateway")
    assert f"complex_gateway.bpmn:{line} [quotes_split]: error: complex gateways" in result.output


def test_a_refused_deploy_changes_nothing(database, deploy_fixture):
    # Given a deployment already there
    deploy_fixture("simple")

    def state():
        with database.transaction(write=False) as s:
            return [s.scalar(select(func.count()).select_from(model))
                    for model in (Deployment, DeploymentFile, ProcessDefinition, AuditEvent, Role)]

    before = state()
    # When a bundle with everything refused is deployed
    bundle = read_bundle([REFUSED])
    with pytest.raises(DeploymentInvalid) as info, database.transaction() as s:
        deploy(s, bundle, "owner")
    # Then every refusal is reported at once and nothing changed: no deployment, file, definition,
    # audit event or role
    refused = {(p.file, p.element_id) for p in info.value.problems if p.rule == "refused"}
    assert refused == {(f, e) for f, e, *_ in CASES}
    assert state() == before


def test_a_flow_to_nowhere_is_named_once_without_the_parsers_misleading_echo():
    # Given a process with one sequence flow pointing at an element that does not exist
    simple = Path(__file__).parent / "fixtures" / "simple" / "simple.bpmn"
    bundle = Bundle("simple", {"simple.bpmn": simple.read_bytes().replace(b'targetRef="echo_task"',
                                                                          b'targetRef="nowhere"')})
    problems = lint_bundle(bundle).problems
    # Then our finding names the flow and the missing target, and SpiffWorkflow's guess about forms is not shown
    [flow] = [p for p in problems if p.rule == "flows"]
    assert (flow.file, flow.element_id) == ("simple.bpmn", "f2") and "'nowhere'" in flow.message
    assert not [p for p in problems if p.rule == "parse"], problems
