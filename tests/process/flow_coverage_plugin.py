"""The flow-coverage check of the scenarios (tests/process/test_flow_coverage.py) under pytest-xdist.

Each worker sees only some journey modules, so the in-process check skips there. Instead every
worker hands the flows and boundary events its scenarios took to the controller
(``config.workeroutput``), the controller merges them as the workers go down, and at the end of
the session — when every scenario test ran and passed (the controller sees every worker's
reports) and no worker was lost — it fails the session naming each flow and boundary event no
scenario took. A run that selected only some scenarios, or in which a scenario failed (reported
already), is not checked. Registered for every run by tests/conftest.py (``pytest_plugins``), as
the controller does not load tests/process/conftest.py when it is given only ``tests``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.process import coverage

KEY = "aftersales_flow_coverage"
lost_workers: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember how each scenario test ended (for the coverage check)."""
    if coverage.is_scenario(report.nodeid) and (report.when == "call" or report.outcome != "passed"):
        coverage.scenario_results.setdefault(report.nodeid, []).append(report.outcome)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """On the xdist controller: add what the worker's scenarios took to the session's log."""
    taken = getattr(node, "workeroutput", {}).get(KEY)
    if error is not None or taken is None:
        lost_workers.append(str(getattr(getattr(node, "gateway", None), "id", node)))
        return
    coverage.session_log.flows.update((source, target) for source, target in taken["flows"])
    coverage.session_log.completed.update(taken["completed"])


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """On a worker: hand the log to the controller; on the controller: check the merged log."""
    config = session.config
    output = getattr(config, "workeroutput", None)
    if output is not None:
        output[KEY] = {"flows": sorted(coverage.session_log.flows),
                       "completed": sorted(coverage.session_log.completed)}
        return
    if config.pluginmanager.get_plugin("dsession") is None or not coverage.scenario_results:
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    missed = coverage.not_passed()
    if missed or lost_workers:
        if reporter is not None:
            reason = (f"worker(s) {', '.join(lost_workers)} went down without their log" if lost_workers else
                      f"{len(missed)} scenario test(s) did not run or pass, e.g. "
                      + ", ".join(name.split("::")[-1] for name in missed[:3]))
            reporter.line("")  # ends the progress line
            reporter.write_line(f"flow coverage not checked: {reason}")
        return
    from tests.process.driver import PROCESSES

    untaken = coverage.session_log.untaken(coverage.read_model(PROCESSES))
    if not untaken:
        return
    if reporter is not None:
        reporter.line("")  # ends the progress line
        reporter.write_sep("=", f"flow coverage: {len(untaken)} never taken by any scenario", red=True)
        for line in untaken:
            reporter.write_line(line, red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
