"""Across the scenario tests, every sequence flow and every boundary event of the deployed
process is taken at least once (this module runs after the scenarios, see conftest)."""

from __future__ import annotations

import pytest

from tests.process.coverage import FlowLog, not_passed, read_model
from tests.process.driver import PROCESSES


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
    missed = not_passed()
    if missed:
        pytest.skip(f"flow coverage needs every scenario to run and pass; {len(missed)} did not, e.g. "
                    + ", ".join(name.split("::")[-1] for name in missed[:3])
                    + " (under xdist the controller checks it at the end of the session)")

    # Then together they took every flow and boundary event of processes/
    untaken = flow_log.untaken(read_model(PROCESSES))
    assert not untaken, "never taken by any scenario:\n" + "\n".join(untaken)
