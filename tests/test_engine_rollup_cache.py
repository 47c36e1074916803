"""The element roll-ups keep each instance's runs between triggers, never past a rollback."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import event, select

from engine import rollup_elements
from engine.db import Database
from engine.models import WorkItem
from engine.rollup_elements import ElementFigure, ElementFigureBucket, ElementRun
from tests import test_engine_persistence_log as log_tests
from tests.test_engine_persistence_log import AGENT, step

looping = log_tests.looping  # the loop deployed and one instance started (a fixture)
TOUCHES = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b[^()]*?\b(?:FROM|INTO|UPDATE)\s+(element_\w+)", re.S)


class Boom(Exception):
    """Raised to roll a trigger back after it has written everything."""


def rollups(database: Database) -> tuple[list[Any], list[Any], list[Any]]:
    """Return every run, figure and non-empty bucket row."""
    with database.transaction(write=False) as s:
        runs = [(r.task_id, r.element_id, r.state, r.first_seq, r.completed_seq, r.waiting_seconds, r.working_seconds)
                for r in s.scalars(select(ElementRun).order_by(ElementRun.task_id))]
        figures = [(f.element_id, f.executions, f.active, f.failed, f.waiting_count, f.working_count)
                   for f in s.scalars(select(ElementFigure).order_by(ElementFigure.element_id))]
        buckets = [(b.element_id, b.measure, b.bucket, b.runs) for b in s.scalars(
            select(ElementFigureBucket).order_by(ElementFigureBucket.element_id, ElementFigureBucket.measure,
                                                 ElementFigureBucket.bucket)) if b.runs]
    return runs, figures, buckets


def test_a_rolled_back_trigger_leaves_no_runs_behind_for_the_next(database, runtime, looping):
    # Given an instance whose runs the roll-ups keep between triggers
    for _ in range(3):
        step(database, runtime, looping)
    # When a trigger writes its roll-ups and then rolls back
    with pytest.raises(Boom), database.transaction() as s:
        item = s.scalars(select(WorkItem).where(WorkItem.instance_id == looping)).one()
        runtime.complete_task(s, item.task_id, AGENT, {})
        raise Boom
    # And the next triggers go on
    step(database, runtime, looping)
    step(database, runtime, looping)
    # Then the roll-ups are what folding the whole trail gives
    kept = rollups(database)
    with database.transaction() as s:
        rollup_elements.rebuild(s)
    assert rollups(database) == kept
    assert kept[1] and kept[2]


def test_a_hot_instance_writes_its_roll_ups_without_reading_its_runs(database, runtime, looping):
    # Given an instance that has run a while
    for _ in range(3):
        step(database, runtime, looping)
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    # When one more task completes
    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        step(database, runtime, looping)
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
    # Then the roll-ups take one upsert per table (on PostgreSQL inside the trigger's one write; on SQLite
    # one upsert of the runs, whose triggers keep the figures: migration 0023) and no read of the instance's runs
    rollup = [" ".join(m) for st in statements for m in TOUCHES.findall(st)]
    if database.url.startswith("sqlite"):
        assert rollup == ["INSERT element_run"]
    else:
        assert rollup == ["INSERT element_run", "INSERT element_figure", "INSERT element_figure_bucket"]
