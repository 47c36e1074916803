"""The decision tables on their own, row by row, and what happens when no row matches."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.bundle import read_bundle
from engine.lint import lint_bundle
from engine.sandbox import RestrictedEnvironment
from tests.process.driver import PROCESSES, Desk, ProcessIncident


class NoRuleMatched(AssertionError):
    """Raised when a decision table has no row for the given inputs."""


@pytest.fixture(scope="module")
def specs() -> dict[str, Any]:
    """The parsed specs of ``processes/``."""
    result = lint_bundle(read_bundle([PROCESSES]))
    assert not result.errors, result.errors
    return result.specs


def table(specs: dict[str, Any], process: str, task: str) -> Any:
    """Return the DMN engine of a business rule task."""
    return specs[process].task_specs[task].dmnEngine


def decide(engine: Any, **inputs: Any) -> tuple[int, dict[str, Any]]:
    """Evaluate ``engine`` as the process does (sandboxed Python); return the first row and its outputs."""
    task = SimpleNamespace(data=inputs, workflow=SimpleNamespace(
        script_engine=PythonScriptEngine(environment=RestrictedEnvironment())))
    rules = engine.decide(task)
    if not rules:
        raise NoRuleMatched(f"no row of {engine.decision_table.id} matches {inputs}")
    return rules[0].row_number, engine.result(task)


def hours(duration: str) -> float:
    """Return an ISO 8601 duration in hours."""
    return TimerEventDefinition.get_timedelta_from_start(
        TimerEventDefinition.parse_iso_duration(duration)) / timedelta(hours=1)


def sla(priority: str, response: str, resolution: str, calendar: str) -> dict:
    return {"priority": priority, "sla_response": response, "sla_resolution": resolution, "sla_calendar": calendar}


URGENT = sla("urgent", "PT2H", "PT8H", "24x7")
HIGH = sla("high", "PT4H", "PT24H", "standard")
MEDIUM = sla("medium", "PT24H", "PT48H", "standard")
LOW = sla("low", "PT24H", "PT48H", "standard")


PRIORITY_ROWS = [
    (1, "complaint", "low", "low", "vip", URGENT),
    (2, "complaint", "low", "low", "normal", HIGH),
    (3, "hardware", "high", "high", "normal", URGENT),
    (3, "software", "high", "high", "normal", URGENT),
    (4, "usage", "high", "low", "vip", URGENT),
    (5, "usage", "high", "high", "normal", HIGH),
    (6, "hardware", "medium", "high", "normal", HIGH),
    (7, "usage", "medium", "medium", "vip", HIGH),
    (8, "usage", "low", "high", "normal", LOW),
    (9, "hardware", "low", "low", "normal", LOW),
    (10, "hardware", "medium", "medium", "normal", MEDIUM),
    (10, "usage", "medium", "low", "normal", MEDIUM),
]


@pytest.mark.parametrize(("row", "category", "urgency", "impact", "tier", "expected"), PRIORITY_ROWS)
def test_priority_table_row_by_row(specs, row, category, urgency, impact, tier, expected) -> None:
    engine = table(specs, "after_sales", "classify_request")
    assert decide(engine, fault_category=category, urgency=urgency, impact=impact, customer_tier=tier) == \
        (row, expected)


def test_every_row_of_the_priority_table_is_tested(specs) -> None:
    rows = len(table(specs, "after_sales", "classify_request").decision_table.rules)
    assert {case[0] for case in PRIORITY_ROWS} == set(range(1, rows + 1))


def test_every_combination_gets_a_priority_and_consistent_targets(specs) -> None:
    engine = table(specs, "after_sales", "classify_request")
    calendars = json.loads((PROCESSES / "data" / "calendars.json").read_text())
    order = ["urgent", "high", "medium", "low"]
    for combo in itertools.product(["hardware", "software", "usage", "complaint"], ["high", "medium", "low"],
                                   ["high", "medium", "low"], ["vip", "normal"]):
        inputs = dict(zip(("fault_category", "urgency", "impact", "customer_tier"), combo, strict=True))
        _row, out = decide(engine, **inputs)
        assert out["priority"] in order
        assert out["sla_calendar"] in calendars
        # urgent tickets run around the clock
        assert (out["sla_calendar"] == "24x7") == (out["priority"] == "urgent")
        # never slower than the 24 h / 48 h default
        assert hours(out["sla_response"]) <= 24 and hours(out["sla_resolution"]) <= 48
        if combo[3] == "vip":
            assert order.index(out["priority"]) <= order.index("high")


def test_higher_priority_has_tighter_targets() -> None:
    levels = [URGENT, HIGH, MEDIUM, LOW]
    for tighter, looser in itertools.pairwise(levels):
        assert hours(tighter["sla_response"]) <= hours(looser["sla_response"])
        assert hours(tighter["sla_resolution"]) <= hours(looser["sla_resolution"])
    assert (MEDIUM["sla_response"], MEDIUM["sla_resolution"]) == ("PT24H", "PT48H")  # the default


APPROVAL_ROWS = [
    (1, True, False, 10.0, "supervisor", "goodwill"),
    (1, True, True, 5000.0, "supervisor", "goodwill"),
    (2, False, True, 10.0, "supervisor", "out_of_warranty_exception"),
    (3, False, False, 1000.01, "supervisor", "above_authority"),
    (4, False, False, 1000.0, "agent", "within_authority"),
    (4, False, False, 0.0, "agent", "within_authority"),
]


@pytest.mark.parametrize(("row", "goodwill", "exception", "total", "approver", "reason"), APPROVAL_ROWS)
def test_quote_approval_table_row_by_row(specs, row, goodwill, exception, total, approver, reason) -> None:
    engine = table(specs, "quote_approval", "decide_approver")
    solution = {"goodwill": goodwill, "warranty_exception": exception}
    assert decide(engine, solution=solution, quote_total=total) == \
        (row, {"approver": approver, "approval_reason": reason})


def test_every_row_of_the_approval_table_is_tested(specs) -> None:
    rows = len(table(specs, "quote_approval", "decide_approver").decision_table.rules)
    assert {case[0] for case in APPROVAL_ROWS} == set(range(1, rows + 1))


def without_catch_all(source: Path) -> str:
    """Return a decision table's XML without its last (catch-all) row."""
    text = source.read_text()
    rules = list(re.finditer(r"\s*<rule id=.*?</rule>", text, re.S))
    last = rules[-1]
    return text[:last.start()] + text[last.end():]


def test_a_table_without_catch_all_fails_loudly_when_no_row_matches(tmp_path: Path) -> None:
    # Given the priority table without its catch-all row
    folder = tmp_path / "processes"
    shutil.copytree(PROCESSES, folder)
    (folder / "priority_sla.dmn").write_text(without_catch_all(PROCESSES / "priority_sla.dmn"))
    engine = table(lint_bundle(read_bundle([folder])).specs, "after_sales", "classify_request")

    # Then a ticket no other row covers raises instead of passing silently with no priority
    with pytest.raises(NoRuleMatched, match="no row of priority_sla_table matches"):
        decide(engine, fault_category="hardware", urgency="medium", impact="medium", customer_tier="normal")
    # (the table itself would answer nothing at all)
    task = SimpleNamespace(data={"fault_category": "hardware", "urgency": "medium", "impact": "medium",
                                 "customer_tier": "normal"},
                           workflow=SimpleNamespace(script_engine=PythonScriptEngine(
                               environment=RestrictedEnvironment())))
    assert engine.result(task) == {}


def test_the_process_stops_with_an_incident_when_no_row_matches(desk_without_catch_all: Desk) -> None:
    # Given the process deployed with a priority table that lost its catch-all row
    case = desk_without_catch_all.open_case()

    # When a request no row covers is registered
    with pytest.raises(ProcessIncident, match="classify_request: .*matched no rule"):
        case.register(urgency="medium", impact="medium")

    # Then the ticket waits at the classification instead of running on without a priority
    assert case.status == "incident"
    assert not case.took("resolve_request")


@pytest.fixture
def desk_without_catch_all(desk: Desk, tmp_path: Path) -> Desk:
    folder = tmp_path / "processes"
    shutil.copytree(PROCESSES, folder)
    (folder / "priority_sla.dmn").write_text(without_catch_all(PROCESSES / "priority_sla.dmn"))
    desk.deploy(folder)
    return desk
