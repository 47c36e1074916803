"""Each element run keeps the buckets of its durations, and the figures kept as triggers write runs
(on SQLite by the database triggers on element_run, migration 0023; on PostgreSQL by the trigger's
one write) are what summing the runs in Python gives."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from alembic import command
from sqlalchemy import select

from engine import rollup_elements
from engine.bundle import Bundle
from engine.db import Database
from engine.deploy import deploy
from engine.migrate import alembic_config
from engine.rollup_elements import ElementFigure, ElementFigureBucket, ElementRun, bucket_of
from tests import test_engine_persistence_log as log_tests
from tests.test_engine_persistence_log import step
from tests.web_audit.test_heatmap_interrupted import XML

looping = log_tests.looping  # the loop deployed and one instance started (a fixture)


def snapshot(database: Database) -> tuple[list[Any], list[Any]]:
    """Return every figure (sums to the microsecond) and every bucket holding runs, fewest and most seconds too."""
    with database.transaction(write=False) as s:
        figures = sorted((f.deployment_id, f.element_id, f.name, f.executions, f.active, f.failed, f.waiting_count,
                          round(f.waiting_sum, 6), f.working_count, round(f.working_sum, 6))
                         for f in s.scalars(select(ElementFigure)))
        buckets = sorted((b.deployment_id, b.element_id, b.measure, b.bucket, b.runs, b.low, b.high)
                         for b in s.scalars(select(ElementFigureBucket)) if b.runs)
    return figures, buckets


def a_history(database: Database, runtime, clock, looping: int) -> None:  # type: ignore[no-untyped-def]
    """Run the loop a while with time passing, and cut a task off by an interrupting timer."""
    for minutes in (5, 0, 17, 3, 40, 5):
        clock.advance(timedelta(minutes=minutes))
        step(database, runtime, looping)
    with database.transaction() as s:
        deploy(s, Bundle("answering", {"answering.bpmn": XML.encode()}), "owner")
    with database.transaction() as s:
        late = runtime.start(s, "answering", {}, "A-1", "ann").instance_id
    clock.advance(timedelta(hours=2))
    with database.transaction() as s:
        runtime.fire_timers(s, late)


def test_the_figures_kept_as_runs_are_written_equal_the_runs_summed_in_python(database, runtime, clock, looping):
    # Given runs that were reached, completed again and again, and cut off (interrupted)
    a_history(database, runtime, clock, looping)
    kept = snapshot(database)
    with database.transaction(write=False) as s:
        states = {r.state for r in s.scalars(select(ElementRun))}
    assert {"completed", "active", "interrupted"} <= states
    assert any(b[4] > 1 for b in kept[1]) and any(f[7] > 0 for f in kept[0])
    # When the figures are summed again from the runs alone, in Python
    with database.transaction() as s:
        rollup_elements.rebuild_totals(s)
    # Then they are the ones kept while the instances ran, counts, sums and buckets alike
    assert snapshot(database) == kept


def test_every_run_keeps_the_buckets_of_its_durations_also_after_an_upgrade(database, database_url, runtime, clock,
                                                                            looping):
    # Given runs written by triggers
    a_history(database, runtime, clock, looping)

    def buckets() -> list[tuple[str, int | None, int | None, int | None, int | None]]:
        with database.transaction(write=False) as s:
            return sorted((r.task_id, r.waiting_bucket, r.working_bucket,
                           None if r.waiting_seconds is None else bucket_of(r.waiting_seconds),
                           None if r.working_seconds is None else bucket_of(r.working_seconds))
                          for r in s.scalars(select(ElementRun)))

    written = buckets()
    # Then each run's buckets are those of its durations
    assert all(w == want_w and k == want_k for _, w, k, want_w, want_k in written)
    assert any(w is not None and w > 0 for _, w, _, _, _ in written)
    # And a database from before 0023, upgraded, gives every run the same buckets and the same figures
    kept = snapshot(database)
    config = alembic_config(database_url)
    command.downgrade(config, "0022")
    command.upgrade(config, "0023")
    assert buckets() == written
    assert snapshot(database) == kept
    # And the runs go on counting after the upgrade as before it
    step(database, runtime, looping)
    kept = snapshot(database)
    with database.transaction() as s:
        rollup_elements.rebuild_totals(s)
    assert snapshot(database) == kept
