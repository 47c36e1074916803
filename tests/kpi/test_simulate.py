"""The ``simulate`` command: its progress and report, and what it says without a catalogue.

That a seeded history goes through the real process with the parameters' mixes is checked on
tests/longlived/test_long_history.py's history (240 tickets over three weeks, one per backend).
"""

from __future__ import annotations

from datetime import date

from click.testing import CliRunner
from sqlalchemy import func, select

from cli import main
from engine.models import AuditEvent, Instance, WorkItem
from simulation.history import simulate_history
from tests.process.driver import Desk


def test_the_command_shows_a_progress_bar_and_what_it_did(desk: Desk, database_url: str) -> None:
    # When the command simulates a handful of requests over two days
    result = CliRunner().invoke(main, ["simulate", "-n", "6", "-d", "2", "--seed", "2", "--start", "2026-03-02"],
                                env={"DATABASE_URL": database_url}, catch_exceptions=False)

    # Then it reports what it did, and the instances are in the database
    assert result.exit_code == 0, result.output
    assert "Simulating 6 requests over 2 days" in result.output and "tickets" in result.output
    assert desk.read(lambda s: s.scalar(select(func.count()).select_from(Instance))) >= 6


def test_without_a_catalogue_the_command_says_what_to_do(database_url: str, database) -> None:
    result = CliRunner().invoke(main, ["simulate", "-n", "3", "-d", "1"], env={"DATABASE_URL": database_url})
    assert result.exit_code == 2
    assert "the catalogue is empty" in result.stderr


def test_a_history_simulated_beside_live_tickets_leaves_them_alone(desk: Desk) -> None:
    # Given a live request waiting for registration (the demo's UI takes them while its history fills in)
    live = desk.open_case(channel="web")
    before = desk.read(lambda s: (sorted((w.element_id, w.assignee) for w in s.scalars(
        select(WorkItem).where(WorkItem.instance_id == live.instance_id))),
        s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.instance_id == live.instance_id))))
    # When a history of a few requests is simulated over days before it, in the same database
    report = simulate_history(desk.database, desk.runtime, 6, 2, seed=2, start=date(2026, 2, 20))
    # Then the simulation worked its own tickets and not a step of the live one
    assert report.tasks > 0
    after = desk.read(lambda s: (sorted((w.element_id, w.assignee) for w in s.scalars(
        select(WorkItem).where(WorkItem.instance_id == live.instance_id))),
        s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.instance_id == live.instance_id))))
    assert before == after and before[0] == [("register_request", None)]
