"""Element roll-ups written before a task cut off by an interrupting boundary event counted as
'interrupted' (f7d14b6) become right when the database is upgraded, or on `aftersales rollups rebuild`."""

from __future__ import annotations

import json
from datetime import timedelta

from alembic import command
from sqlalchemy import select, text

from engine import rollup_elements
from engine.bundle import Bundle
from engine.deploy import deploy
from engine.migrate import alembic_config
from engine.models import DatabaseMark
from tests.web_audit.test_heatmap_interrupted import XML, figures

RIGHT = {"start": (1, 0, 0), "too_late": (1, 0, 0), "answer": (0, 0, 0), "chase": (0, 1, 0)}


def _old_style_rollups(database, runtime, clock) -> int:
    """Cut a task off by an interrupting timer, then put back the rows the roll-up wrote before the fix:
    the run still 'active' and counted as a token waiting at the task."""
    with database.transaction() as s:
        deployment = deploy(s, Bundle("answering", {"answering.bpmn": XML.encode()}), "owner").deployment_id
    with database.transaction() as s:
        late = runtime.start(s, "answering", {}, "A-1", "ann").instance_id
    clock.advance(timedelta(hours=2))
    with database.transaction() as s:
        runtime.fire_timers(s, late)
    with database.transaction() as s:
        s.execute(text("UPDATE element_run SET state = 'active' WHERE element_id = 'answer'"))
        # the figure as it was kept then (on SQLite the update above has already moved it: migration 0023's trigger)
        s.execute(text("UPDATE element_figure SET active = 1 WHERE element_id = 'answer'"))
    assert figures_of(database, deployment)["answer"] == (0, 1, 0)
    return deployment


def figures_of(database, deployment: int) -> dict[str, tuple[int, int, int]]:
    """Return (executions, active, failed) per element as the roll-up keeps them."""
    with database.transaction(write=False) as s:
        rolled = rollup_elements.heatmap(s, deployment, "answering")
    counts = {e["element_id"]: (e["executions"], e["active"], e["failed"]) for e in rolled["elements"]}
    return {element: counts.get(element, (0, 0, 0)) for element in RIGHT}


def _answer_states(database) -> list[str]:
    with database.transaction(write=False) as s:
        return list(s.scalars(select(rollup_elements.ElementRun.state)
                              .where(rollup_elements.ElementRun.element_id == "answer")))


def test_upgrading_a_database_with_old_style_rollups_counts_the_cut_off_task_as_interrupted(
        database, database_url, runtime, clock, cli):
    deployment = _old_style_rollups(database, runtime, clock)
    command.downgrade(alembic_config(database_url), "0021")  # a database from before the fix

    result = cli("db", "upgrade")

    assert "element roll-ups rebuilt from the audit trail: 6 runs" in result.output
    assert figures_of(database, deployment) == RIGHT
    assert _answer_states(database) == ["interrupted"]
    figures(database, deployment)  # and the roll-up agrees with a scan of the trail
    with database.transaction(write=False) as s:
        assert s.get(DatabaseMark, rollup_elements.STALE_MARK) is None
    assert "rebuilt" not in cli("db", "upgrade").output  # once is enough


def test_rollups_rebuild_counts_the_cut_off_task_as_interrupted(database, runtime, clock, cli):
    deployment = _old_style_rollups(database, runtime, clock)

    result = cli("rollups", "rebuild")

    assert result.output == "element roll-ups rebuilt from the audit trail: 6 runs\n"
    assert figures_of(database, deployment) == RIGHT
    assert _answer_states(database) == ["interrupted"]


def test_upgrading_a_database_without_rollups_rebuilds_nothing(database, database_url, cli):
    command.downgrade(alembic_config(database_url), "0021")

    assert cli("db", "upgrade").output == "database is up to date\n"


def test_a_worker_started_on_a_database_upgraded_with_alembic_directly_rebuilds_the_stale_rollups(
        database, database_url, runtime, clock, cli):
    deployment = _old_style_rollups(database, runtime, clock)
    command.downgrade(alembic_config(database_url), "0021")
    command.upgrade(alembic_config(database_url), "head")  # an operator's own Alembic run: nothing rebuilt yet
    assert figures_of(database, deployment) != RIGHT

    result = cli("worker", "--once", "--json")

    assert "element roll-ups rebuilt from the audit trail: 6 runs" in result.stderr
    assert json.loads(result.stdout)["timers_fired"] == 0  # the worker's own report stays JSON
    assert figures_of(database, deployment) == RIGHT
    assert "rebuilt" not in cli("worker", "--once").output  # once is enough
