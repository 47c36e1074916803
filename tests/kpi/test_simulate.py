"""A seeded simulation drives the real process, and its tickets follow the parameters."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from analytics.facts import KpiTask, KpiTicket
from cli import main
from engine.models import Incident, Instance
from handlers.survey import Response
from simulation.history import simulate_history
from simulation.workload import load_parameters
from tests.process.driver import Desk

PARAMS = load_parameters()


def shares(values: list[str]) -> dict[str, float]:
    counts = Counter(values)
    return {k: v / len(values) for k, v in counts.items()}


def expected(weights: dict[str, float]) -> dict[str, float]:
    total = sum(v for k, v in weights.items() if k != "about")
    return {k: v / total for k, v in weights.items() if k != "about"}


@pytest.mark.slow
def test_a_seeded_history_goes_through_the_real_process_with_the_parameters_mixes(desk: Desk) -> None:
    # When 90 requests are simulated over three weeks
    report = simulate_history(desk.database, desk.runtime, tickets=90, days=21, seed=5, start=date(2026, 3, 2))

    # Then they became tickets of the real process, worked by staff and customers, without incidents
    assert report.requests >= 90 and report.open_incidents == 0 and not report.skipped
    assert report.tickets >= 80 and report.closed >= report.tickets // 2
    assert report.worker_passes >= 21 * 24 * 60 // PARAMS["worker_minutes"]
    # the KPI job looked every kpi_minutes and once more at the end, and every ticket has its facts
    looks = 21 * 24 * 60 // PARAMS["kpi_minutes"]
    assert looks < report.kpi_passes <= looks + (report.worker_passes - 21 * 24 * 60 // PARAMS["worker_minutes"]) + 2
    facts = desk.read(lambda s: list(s.scalars(select(KpiTicket))))
    tasks = desk.read(lambda s: list(s.scalars(select(KpiTask).where(KpiTask.completed_at.is_not(None)))))
    assert len(facts) == report.tickets
    assert sum(t.working_seconds > 0 for t in tasks) / len(tasks) > 0.9  # staff claim, work, then complete
    assert desk.read(lambda s: s.scalar(select(func.count()).select_from(Response))) > 0
    assert desk.read(lambda s: s.scalar(select(func.count()).select_from(Incident))) == 0

    # And the mixes of the tickets are those of the parameters (within 15 points at this size)
    for observed, weights in ((shares([f.channel for f in facts]), PARAMS["channels"]),
                              (shares([f.fault_category for f in facts]), PARAMS["fault_categories"]),
                              (shares([f.product_line for f in facts]), PARAMS["product_lines"])):
        for key, share in expected(weights).items():
            assert observed.get(key, 0.0) == pytest.approx(share, abs=0.15), key
    # And a first response is timed on (nearly) every ticket, with a heavy tail
    hours = sorted(f.first_response_seconds / 3600 for f in facts if f.first_response_seconds is not None)
    assert len(hours) >= 0.9 * len(facts) and hours[len(hours) // 2] < hours[-1] / 3


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
