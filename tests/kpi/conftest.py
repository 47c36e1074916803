"""Fixtures for the KPI tests: the real process on a fresh database (the scenario tests' own
driver), and helpers to work a task as staff do — claim, spend time on it, complete."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from analytics.facts import KpiTask, KpiTicket, kpi_settings
from analytics.refresh import refresh
from analytics.rollup import roll_up
from engine.db import Database
from engine.identity import Actor
from engine.models import WorkItem
from engine.runtime import Runtime
from tests.process.driver import Case, Desk


@pytest.fixture
def desk(database: Database, runtime: Runtime, clock, desk_state: dict[str, Actor]) -> Iterator[Desk]:
    """A service desk on a fresh database: staff signed up, processes deployed, catalogue loaded
    (a copy of the ``desk_state`` database, tests/conftest.py)."""
    yield Desk(database, runtime, clock, desk_state)


def work(case: Case, element_id: str, data: dict[str, Any], wait: timedelta = timedelta(0),
         handle: timedelta = timedelta(0)) -> Case:
    """Let ``element_id`` wait ``wait`` in the queue, claim it, work ``handle`` on it, complete it."""
    desk = case.desk
    item = desk.read(lambda s: s.scalars(select(WorkItem).where(WorkItem.instance_id == case.instance_id,
                                                                WorkItem.element_id == element_id)).one())
    actor = desk.staff[item.role]
    desk.clock.advance(wait)
    desk.trigger(lambda s: desk.runtime.claim(s, item.task_id, actor))
    desk.clock.advance(handle)
    return case.complete(element_id, data)


def add_facts(database: Database, tickets: list[dict[str, Any]], tasks: list[dict[str, Any]] = ()) -> None:
    """Insert hand-made ticket and task facts and roll them up, as a refresh would."""
    with database.transaction() as s:
        s.execute(KpiTicket.__table__.insert(), tickets)
        if tasks:
            s.execute(KpiTask.__table__.insert(), list(tasks))
        roll_up(s, kpi_settings(s), None)


def refreshed(desk: Desk) -> int:
    """Bring the KPI facts up to date, as the worker's job does."""
    return refresh(desk.database, desk.clock.now())
