"""Fixtures for the process tests: the real ``processes/`` bundle with the real handlers and
the demo catalogue, staff users for every lane, a :class:`~tests.process.driver.Case` driver
that round-trips each instance through the database at every wait state, and the
session-wide record of which sequence flows and boundary events the scenarios took.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.db import Database
from engine.identity import Actor
from engine.runtime import Runtime
from tests.process.coverage import FlowLog, is_coverage_test, session_log
from tests.process.driver import Desk


@pytest.fixture(scope="session")
def flow_log() -> FlowLog:
    """The flows and boundary events taken by every scenario instance of this test session (in this
    process: under xdist each worker hands its own to the controller, tests/process/flow_coverage_plugin.py)."""
    return session_log


@pytest.fixture
def desk(database: Database, runtime: Runtime, clock, desk_state: dict[str, Actor],
         flow_log: FlowLog) -> Iterator[Desk]:
    """A service desk on a fresh database: staff signed up, processes deployed, catalogue loaded
    (a copy of the ``desk_state`` database, tests/conftest.py)."""
    desk = Desk(database, runtime, clock, desk_state)
    yield desk
    for case in desk.cases:
        flow_log.record(desk, case)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """Run the flow-coverage check after every scenario."""
    last = [item for item in items if is_coverage_test(item)]
    if last:
        items[:] = [item for item in items if not is_coverage_test(item)] + last

