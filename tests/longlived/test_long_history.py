"""One long-lived process: a single runtime (one spec cache, one instance cache, as in ``aftersales
serve``) takes several hundred requests over three weeks through every route of the real process —
staff tasks, customer replies, repeat contacts, cancellations, SLA warnings and breaches, reminders and
time-outs — with the parameters' mixes; then, in the same runtime and on the same clock, the desk works on
until every ticket has ended and the simulator's figures agree with the instances table.

At the end of the three weeks (tickets still open, reopened, paused) the history is copied, and
``aftersales kpi verify`` recounts the dashboard of the copy from its trail: it matches, and names
exactly the figure whose roll-up row was corrupted.

One history per backend for both: simulating it is most of the module's time, so the long-lived
server and the dashboard's recount are checked on the same history rather than each on its own (they
were 200 and 240 tickets of their own, together 300 s of the suite's 1,540 test-seconds).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from analytics.daily import KpiDay
from analytics.drift import drift
from analytics.facts import KpiTask, KpiTicket, kpi_settings
from analytics.histogram import KpiHistogram
from analytics.queries import KpiFilter
from analytics.refresh import refresh
from analytics.rollup import KpiDaily
from analytics.verify import KpiVerification, compare, expected_figures, last_verification, shown_figures
from cli import main
from engine import clock as engine_clock
from engine.bundle import read_bundle
from engine.config import load_settings
from engine.db import Database
from engine.deploy import deploy
from engine.models import AuditEvent, Incident, Instance, MessageSubscription, Timer, WorkItem
from engine.runtime import Runtime
from handlers.demo import DATA_DIR, load_catalogue
from handlers.outbox import Outbox
from handlers.survey import Response
from handlers.ticketing import Ticket
from handlers.transports import MailSink
from handlers.values import business_timezone
from simulation.history import Report, Simulation
from simulation.workload import load_parameters
from tests.conftest import BACKENDS, PROCESSES
from tests.support.net import free_port

START, DAYS = date(2026, 3, 2), 21
RANGE = ("--from", "2026-03-02", "--to", "2026-03-22")
PARAMS = load_parameters()
# the worker's KPI job (refresh, alerts, analyses) once a simulated day: it still refreshes by delta through
# the whole history and once more at the end (the figures are those of every fact), at less of the
# history's time than every four hours; refreshes in many small batches are tests/kpi/test_rollup_deltas.py's
PARAMS["kpi_minutes"] = 24 * 60
PARAMS["outcomes"]["cancelled"] = 0.1  # enough cancellations to see some at this size
TICKETS = 240


@dataclass
class LongHistory:
    """The simulation (its queue, clock and runtime go on), its live database, the SMTP server its mail
    goes to, and at the end of the three weeks: a copy of the database, the end and the report then."""

    simulation: Simulation
    live: Database
    mail: MailSink
    url: str
    end: datetime
    report: Report


@pytest.fixture(scope="module", params=BACKENDS)
def long_history(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LongHistory]:
    """Several hundred requests simulated over three weeks through the real process in one runtime, its
    e-mail sent to a real SMTP server on loopback, facts refreshed; the database then copied for the recounts."""
    folder = tmp_path_factory.mktemp("long-history")
    if request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), folder / "live.sqlite3")
        url, copy = f"sqlite:///{folder / 'live.sqlite3'}", f"sqlite:///{folder / 'at-end.sqlite3'}"
    else:
        from tests.support.postgres import create_database

        admin = request.getfixturevalue("postgres_admin")
        url = create_database(admin, f"long_history_{id(request)}", template="aftersales_template")
    db = Database(url)
    with db.transaction() as session:
        deploy(session, read_bundle([PROCESSES], name="processes"), "owner")
        load_catalogue(session, DATA_DIR)
    mail = MailSink(folder / "mail", port=free_port()).start()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AFTERSALES_SMTP_HOST", "127.0.0.1")
        env.setenv("AFTERSALES_SMTP_PORT", str(mail.controller.port))
        simulation = Simulation(db, Runtime(load_settings()), PARAMS, seed=19)
        begin = datetime.combine(START, time(), business_timezone())
        report = simulation.run(begin.astimezone(UTC), DAYS, TICKETS)
        report = replace(report, skipped=list(report.skipped))  # as it was at the end of the three weeks
        end = begin + timedelta(days=DAYS)  # the simulation's end
        refresh(db, end, max_batches=1000)
        if request.param == "sqlite":
            with sqlite3.connect(folder / "live.sqlite3") as live, sqlite3.connect(folder / "at-end.sqlite3") as at:
                live.backup(at)
        else:
            db.engine.dispose()  # PostgreSQL copies a database nobody is connected to
            copy = create_database(admin, f"long_history_end_{id(request)}", template=f"long_history_{id(request)}")
        yield LongHistory(simulation, db, mail, copy, end, report)
    mail.stop()
    db.dispose()


@pytest.fixture(scope="module")
def history(long_history: LongHistory) -> tuple[str, datetime, Report]:
    """The copy of the history's database at the end of the three weeks, that end, and the report then."""
    return long_history.url, long_history.end, long_history.report


@pytest.fixture
def at_end(history: tuple[str, datetime, Report], clock) -> Iterator[Database]:
    """The history's database, the clock at the end of the simulated weeks."""
    url, end, _ = history
    clock.set(end)
    db = Database(url)
    yield db
    with db.transaction() as session:  # leave the history as it was for the next test
        session.execute(KpiVerification.__table__.delete())
    db.dispose()


def shares(values: list[str]) -> dict[str, float]:
    counts = Counter(values)
    return {k: v / len(values) for k, v in counts.items()}


def expected_shares(weights: dict[str, float]) -> dict[str, float]:
    total = sum(v for k, v in weights.items() if k != "about")
    return {k: v / total for k, v in weights.items() if k != "about"}


@pytest.mark.slow
def test_a_seeded_history_goes_through_the_real_process_with_the_parameters_mixes(
        history: tuple[str, datetime, Report], at_end: Database) -> None:
    # Given 240 requests simulated over three weeks
    _, _, report = history

    def read(query: Any) -> Any:
        with at_end.transaction(write=False) as session:
            return session.execute(query).all()

    # Then they became tickets of the real process, worked by staff and customers, without incidents
    assert report.requests >= 240 and report.open_incidents == 0 and not report.skipped
    assert report.tickets >= 200 and report.closed >= report.tickets // 2
    assert report.worker_passes >= DAYS * 24 * 60 // PARAMS["worker_minutes"]
    # the KPI job looked every kpi_minutes and once more at the end, and every ticket has its facts
    looks = DAYS * 24 * 60 // PARAMS["kpi_minutes"]
    assert looks < report.kpi_passes <= looks + (report.worker_passes - DAYS * 24 * 60 // PARAMS["worker_minutes"]) + 2
    facts = [row[0] for row in read(select(KpiTicket))]
    tasks = [row[0] for row in read(select(KpiTask).where(KpiTask.completed_at.is_not(None)))]
    assert len(facts) == report.tickets
    assert sum(t.working_seconds > 0 for t in tasks) / len(tasks) > 0.9  # staff claim, work, then complete
    assert read(select(func.count()).select_from(Response))[0][0] > 0
    assert read(select(func.count()).select_from(Incident))[0][0] == 0

    # And the mixes of the tickets are those of the parameters (within 15 points at this size)
    for observed, weights in ((shares([f.channel for f in facts]), PARAMS["channels"]),
                              (shares([f.fault_category for f in facts]), PARAMS["fault_categories"]),
                              (shares([f.product_line for f in facts]), PARAMS["product_lines"])):
        for key, share in expected_shares(weights).items():
            assert observed.get(key, 0.0) == pytest.approx(share, abs=0.15), key
    # And a first response is timed on (nearly) every ticket, with a heavy tail
    hours = sorted(f.first_response_seconds / 3600 for f in facts if f.first_response_seconds is not None)
    assert len(hours) >= 0.9 * len(facts) and hours[len(hours) // 2] < hours[-1] / 3


def flt() -> KpiFilter:
    return KpiFilter(period="week", start=START, end=date(2026, 3, 22))


@pytest.mark.slow
def test_every_figure_of_the_dashboard_matches_its_recount_from_the_trail(at_end: Database) -> None:
    # Given several hundred simulated tickets (some open, reopened, cancelled, paused, repeat contacts)
    now = engine_clock.now()
    with at_end.transaction(write=False) as session:
        tickets = session.scalar(select(func.count()).select_from(Ticket))
        errors: dict[str, float] = {}
        expected, shown = expected_figures(session, flt(), now), shown_figures(session, flt(), now, errors)
        drifted = drift(session, kpi_settings(session), START, date(2026, 3, 22))
    assert tickets >= 200

    # Then every figure the dashboard shows is recounted from the trail, and each one matches (a median or
    # p90 from the daily histograms within the error it is shown with), and no roll-up drifted from the facts
    assert set(expected) == set(shown) and len(shown) > 500
    assert compare(expected, shown, errors) == [] and drifted == []
    assert sum(1 for e in errors.values() if e) > 100
    assert expected["tiles.tickets"] == tickets and expected["tiles.open"] > 0


@pytest.mark.slow
def test_the_command_reports_a_match_and_keeps_the_result(at_end: Database, history) -> None:
    # When an auditor runs the command over the three weeks
    result = CliRunner().invoke(main, ["kpi", "verify", *RANGE, "--user", "audrey", "--json"],
                                env={"DATABASE_URL": history[0]}, catch_exceptions=False)

    # Then it exits 0 saying every figure matched, and the run is kept for the dashboard
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["matched"] is True and report["mismatches"] == [] and report["figures"] > 500
    with at_end.transaction(write=False) as session:
        run = last_verification(session)
        assert (run.actor, run.start, run.end, run.mismatches) == ("audrey", START, date(2026, 3, 22), 0)


@pytest.mark.slow
def test_a_corrupted_roll_up_row_is_reported_as_exactly_the_figures_it_feeds(at_end: Database, history) -> None:
    # Given the first Monday's roll-up row of one channel whose count of first-contact resolutions is off by one
    with at_end.transaction() as session:
        channel = session.scalars(select(KpiDay.value).where(KpiDay.day == START, KpiDay.dim == "channel",
                                                             KpiDay.resolved_ok > 0).order_by(KpiDay.value)).first()
        session.execute(_of(update(KpiDay), START, channel).values(fcr=KpiDay.fcr + 1))
    try:
        # When the command runs
        result = CliRunner().invoke(main, ["kpi", "verify", *RANGE], env={"DATABASE_URL": history[0]},
                                    catch_exceptions=False)

        # Then it fails, naming the first-contact resolution share of that channel, and the drifted roll-up
        assert result.exit_code == 7, result.output
        named = sorted(line.split(":")[0].strip() for line in result.output.splitlines()[1:])
        drifted = f"roll-up kpi_day[channel/{START.isoformat()}/{channel}].fcr"
        assert named == sorted([f"channel[{channel}].fcr_share", drifted]), result.output
        with at_end.transaction(write=False) as session:
            run = last_verification(session)
            assert run.mismatches == 2 and {d["figure"] for d in run.details} == set(named)
    finally:
        with at_end.transaction() as session:
            session.execute(_of(update(KpiDay), START, channel).values(fcr=KpiDay.fcr - 1))


def _of(statement: Any, day: date, channel: str) -> Any:
    return statement.where(KpiDay.day == day, KpiDay.dim == "channel", KpiDay.value == channel)


@pytest.mark.slow
def test_a_drifted_cube_row_or_histogram_is_reported_against_its_recount_from_the_facts(at_end: Database) -> None:
    # Given a cube row whose ticket count and a histogram whose bucket count drifted (no figure of the
    # unfiltered dashboard reads the cube)
    with at_end.transaction() as session:
        row = session.scalars(select(KpiDaily).where(KpiDaily.day == START).order_by(
            KpiDaily.channel, KpiDaily.product_line, KpiDaily.priority).limit(1)).one()
        key = (row.channel, row.product_line, row.priority)
        cube = update(KpiDaily).where(KpiDaily.day == START, KpiDaily.channel == key[0],
                                      KpiDaily.product_line == key[1], KpiDaily.priority == key[2])
        session.execute(cube.values(tickets=KpiDaily.tickets + 3))
        histogram = update(KpiHistogram).where(KpiHistogram.measure == "resolution", KpiHistogram.dim == "all",
                                               KpiHistogram.day == START)
        session.execute(histogram.values(b0=KpiHistogram.b0 + 1))
    try:
        # When the roll-ups of the three weeks are recounted from the facts
        with at_end.transaction(write=False) as session:
            found = drift(session, kpi_settings(session), START, date(2026, 3, 22))

        # Then exactly those two values are reported, each beside its recount
        day = START.isoformat()
        assert sorted((d["figure"], d["dashboard"] - d["trail"]) for d in found) == sorted([
            (f"roll-up kpi_daily[{day}/{key[0]}/{key[1]}/{key[2]}].tickets", 3),
            (f"roll-up kpi_histogram[resolution/all/{day}///].b0", 1)])
    finally:
        with at_end.transaction() as session:
            session.execute(cube.values(tickets=KpiDaily.tickets - 3))
            session.execute(histogram.values(b0=KpiHistogram.b0 - 1))


def test_a_range_ending_before_it_starts_is_refused_naming_the_option(at_end: Database, history) -> None:
    result = CliRunner().invoke(main, ["kpi", "verify", "--from", "2026-03-22", "--to", "2026-03-02"],
                                env={"DATABASE_URL": history[0]})
    assert result.exit_code != 0 and "--from" in result.output
    with at_end.transaction(write=False) as session:
        assert last_verification(session) is None


# --- the long-lived server: the same history, worked on until every ticket has ended ---------------------
def _waiting(session: Any) -> list[dict[str, Any]]:
    """What each instance that has not ended waits for (the failure message)."""
    out = []
    for inst in session.scalars(select(Instance).where(Instance.status.not_in(("completed", "cancelled")))):
        out.append({"instance": inst.id, "key": inst.business_key, "status": inst.status,
                    "tasks": list(session.scalars(select(WorkItem.element_id).where(WorkItem.instance_id == inst.id))),
                    "messages": list(session.scalars(select(MessageSubscription.message_name)
                                                     .where(MessageSubscription.instance_id == inst.id))),
                    "timers": [(t.element_id, str(t.due_at)) for t in session.scalars(
                        select(Timer).where(Timer.instance_id == inst.id))],
                    "trail": [(e.kind, e.element_id) for e in session.scalars(
                        select(AuditEvent).where(AuditEvent.instance_id == inst.id).order_by(AuditEvent.seq))][-12:]})
    return out


@pytest.mark.slow
def test_every_ticket_of_a_long_running_server_ends_and_the_figures_agree(long_history: LongHistory) -> None:
    # Given one runtime for the whole history (nothing cleared between tickets), three weeks of requests
    # behind it and tickets still open
    simulation, db = long_history.simulation, long_history.live
    assert long_history.report.tickets > long_history.report.closed

    # When the desk works on with the same runtime, queue and clock until every ticket has ended
    report = simulation.settle(120)

    def read(query: Any) -> Any:
        with db.transaction(write=False) as session:
            return session.execute(query).all()

    statuses = Counter(dict(read(select(Instance.status, func.count()).where(Instance.process_id == "after_sales")
                                 .group_by(Instance.status))))
    # Then every ticket has ended, none on an incident
    assert report.requests >= TICKETS and not report.skipped, report.skipped[:5]
    with db.transaction(write=False) as session:
        assert set(statuses) <= {"completed", "cancelled"}, json.dumps(_waiting(session), default=str)
    assert report.open_incidents == 0 and report.kpi_passes >= 14
    assert read(select(func.count()).select_from(Incident).where(Incident.status != "resolved"))[0][0] == 0
    # And the simulator's figures are those of the instances table
    # (each request starts one instance; a repeat contact on an open ticket joins that ticket instead)
    tickets = dict(read(select(Ticket.status, func.count()).group_by(Ticket.status)))
    assert report.requests == sum(statuses.values())
    assert report.tickets == sum(tickets.values()) == report.closed == tickets.get("closed", 0)
    # And the history went through every message kind and timers
    received = {name for (name,) in read(select(AuditEvent.data["message"].as_string())
                                         .where(AuditEvent.kind == "message.received").distinct())}
    assert {"customer_contact", "customer_cancel", "sla_warning", "sla_breached", "quote_response",
            "customer_confirmation", "survey_answered"} <= received, received
    assert read(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == "timer.fired"))[0][0] \
        > TICKETS // 10
    # And every e-mail went out once to the SMTP server, nothing left to send and nothing failed
    mail = dict(read(select(Outbox.status, func.count()).where(Outbox.channel == "email").group_by(Outbox.status)))
    assert set(mail) == {"delivered"} and mail["delivered"] == len(long_history.mail.maildir) > TICKETS, mail
