"""Across the scenario tests, every sequence flow and every boundary event of the deployed
process is taken at least once (this module runs after the scenarios, see conftest)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.process.coverage import FlowLog, read_model, scenario_results
from tests.process.driver import PROCESSES

HERE = Path(__file__).parent


def scenario_tests() -> list[str]:
    """Return the node-id prefixes of every scenario test function."""
    found = []
    for path in sorted(HERE.glob("test_journey_*.py")):
        module = importlib.import_module(f"tests.process.{path.stem}")
        found += [f"tests/process/{path.name}::{name}" for name in sorted(vars(module))
                  if name.startswith("test_") and callable(getattr(module, name))]
    return found


def passed(prefix: str) -> bool:
    """Tell whether a scenario passed on at least one database and failed on none."""
    outcomes = [o for nodeid, results in scenario_results.items()
                if nodeid == prefix or nodeid.startswith(prefix + "[") for o in results]
    return "passed" in outcomes and "failed" not in outcomes


def test_coverage_check_names_what_no_instance_took() -> None:
    # Given a log of a single instance that only took in a request
    model = read_model(PROCESSES)
    log = FlowLog(flows={("start_request", "take_in_request")}, completed={"start_request"})

    # Then everything else is reported, by id, elements and file
    untaken = log.untaken(model)
    assert len(untaken) == len(model.flows) + len(model.boundaries) - 1
    assert any(u.startswith("boundary event warranty_model_unknown in after_sales.bpmn") for u in untaken)
    assert any("(register_request → gw_number_given) in after_sales.bpmn" in u for u in untaken)


def test_every_sequence_flow_and_boundary_event_is_taken(flow_log: FlowLog) -> None:
    # Given every scenario test of this session
    not_passed = [name for name in scenario_tests() if not passed(name)]
    if not_passed:
        pytest.skip(f"flow coverage needs every scenario to run and pass; {len(not_passed)} did not, e.g. "
                    + ", ".join(name.split("::")[-1] for name in not_passed[:3]))

    # Then together they took every flow and boundary event of processes/
    untaken = flow_log.untaken(read_model(PROCESSES))
    assert not untaken, "never taken by any scenario:\n" + "\n".join(untaken)
