"""A refresh batch updates the roll-ups by the difference its tickets make: after a simulated history whose
tickets change day, channel, priority, team and stage, are reopened, cancelled and contacted again, every
roll-up table holds, row for row, what a full rebuild from the same facts holds."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

import analytics.refresh
from analytics.facts import KpiTask, KpiTicket, kpi_settings
from analytics.refresh import refresh_instances
from analytics.rollup import SPECS, by_delta, roll_up
from engine.db import Base, Database
from engine.models import Instance
from handlers.ticketing import Ticket
from simulation.history import simulate_history
from tests.kpi.conftest import add_facts
from tests.kpi.test_kpi_figures import task, ticket
from tests.process.driver import Desk

#: compare with a rebuild after every this many batches of the history (and after every batch moved by hand)
EVERY = 3


def table_rows(session: Session) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
    """Return every roll-up table's rows by primary key."""
    out = {}
    for name in SPECS:
        table = Base.metadata.tables[name]
        keys = [c.name for c in table.primary_key.columns]
        out[name] = {tuple(str(r[k]) for k in keys): dict(r) for r in session.execute(select(table)).mappings()}
    return out


def differences(kept: dict[str, dict[tuple[Any, ...], dict[str, Any]]],
                rebuilt: dict[str, dict[tuple[Any, ...], dict[str, Any]]]) -> list[str]:
    """Return each row missing on one side and each value that differs (sums of seconds and costs within
    floating-point rounding: a delta adds them in another order than a rebuild)."""
    out = []
    for name in SPECS:
        have, want = kept[name], rebuilt[name]
        for key in sorted(set(have) | set(want)):
            a, b = have.get(key), want.get(key)
            if a is None or b is None:
                out.append(f"{name}{list(key)}: {'missing' if a is None else 'not in a rebuild'}")
                continue
            for column, y in b.items():
                x = a[column]
                same = math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6) if isinstance(y, float) else x == y
                if not same:
                    out.append(f"{name}{list(key)}.{column}: {x!r} by delta, {y!r} rebuilt")
    return out


def rebuilt_rows(session: Session) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
    """Return what a full rebuild from the current facts holds, leaving the kept roll-ups as they are."""
    savepoint = session.begin_nested()
    roll_up(session, kpi_settings(session), None)
    rows = table_rows(session)
    savepoint.rollback()
    return rows


def ticket_state(session: Session, ticket_ids: list[int]) -> dict[int, tuple[Any, ...]]:
    """Return what a ticket's roll-up rows depend on that a history changes: day, channel, priority, stage,
    status, outcome, contacts and teams."""
    teams: dict[int, set[str]] = {}
    for ticket_id, role in session.execute(select(KpiTask.ticket_id, KpiTask.role)
                                           .where(KpiTask.ticket_id.in_(ticket_ids)).distinct()):
        teams.setdefault(ticket_id, set()).add(role)
    return {t.ticket_id: (t.day, t.channel, t.priority, t.stage, t.status, t.outcome, t.contacts,
                          frozenset(teams.get(t.ticket_id, ())))
            for t in session.execute(select(KpiTicket).where(KpiTicket.ticket_id.in_(ticket_ids))).scalars()}


CHANGES = ("day", "channel", "priority", "stage", "status", "outcome", "contacts", "teams")


class Checked:
    """Refresh batches as the worker runs them, each compared with a rebuild every few batches."""

    def __init__(self, every: int) -> None:
        self.every, self.batches, self.compared = every, 0, 0
        self.changed: Counter[str] = Counter()
        self.found: list[str] = []

    @contextmanager
    def by_delta(self, session: Session, settings: dict[str, Any], ticket_ids: Any,
                 instance_ids: Any) -> Iterator[None]:
        ticket_ids = list(ticket_ids)
        before = ticket_state(session, ticket_ids)
        with by_delta(session, settings, ticket_ids, instance_ids):
            yield
        after = ticket_state(session, ticket_ids)
        for ticket_id, now in after.items():
            was = before.get(ticket_id)
            self.changed.update(["new"] if was is None else [c for c, a, b in zip(CHANGES, was, now, strict=True)
                                                             if a != b])
            if was is not None and was[4] == "closed" and now[4] == "open":
                self.changed["reopened"] += 1
            if now[5] == "cancelled" and (was is None or was[5] != "cancelled"):
                self.changed["cancelled"] += 1
        self.batches += 1
        if self.batches % self.every == 0 and not self.found:
            self.compared += 1
            self.found = differences(table_rows(session), rebuilt_rows(session))


def move_by_hand(desk: Desk, number: int) -> list[int]:
    """Move some tickets to another day, channel and priority, as a correction would, and open a closed one
    again; return their instances' ids."""
    with desk.database.transaction() as s:
        closed = s.execute(select(Ticket.id, Ticket.instance_id).where(Ticket.status == "closed")
                           .order_by(Ticket.id.desc()).limit(1)).one()
        s.execute(update(Ticket).where(Ticket.id == closed.id).values(status="open", closed_at=None, outcome=None))
        tickets = s.execute(select(Ticket.id, Ticket.instance_id, Ticket.channel, Ticket.opened_at)
                            .order_by(Ticket.id).limit(number)).all()
        channels = sorted({c for (c,) in s.execute(select(KpiTicket.channel).distinct())} | {"web", "hotline"})
        for n, t in enumerate(tickets):
            s.execute(update(Ticket).where(Ticket.id == t.id).values(
                opened_at=t.opened_at - timedelta(days=1 + n % 2),
                channel=next(c for c in channels if c != t.channel)))
            instance = s.get(Instance, t.instance_id)
            instance.summary = {**(instance.summary or {}),
                                "priority": "urgent" if (instance.summary or {}).get("priority") != "urgent" else "low"}
    return [t.instance_id for t in tickets] + [closed.instance_id]


@pytest.mark.slow
def test_roll_ups_kept_by_delta_equal_a_rebuild_after_a_simulated_history(desk: Desk,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    checked = Checked(EVERY)
    monkeypatch.setattr(analytics.refresh, "by_delta", checked.by_delta)

    # Given a history of 25 requests over 5 days, its facts refreshed by the worker's KPI job as it went on
    report = simulate_history(desk.database, desk.runtime, tickets=25, days=5, seed=3, start=date(2026, 3, 2))
    assert report.tickets >= 20 and not report.skipped
    assert not checked.found, "\n".join(checked.found[:20])
    assert checked.compared >= 5

    # When tickets are moved to another day, channel and priority, a closed one is opened again, and they are
    # refreshed
    checked.every = 1
    moved = move_by_hand(desk, 4)
    for instance_id in moved:  # one batch each, then all in one
        with desk.database.transaction() as s:
            refresh_instances(s, [instance_id], desk.clock.now())
    with desk.database.transaction() as s:
        refresh_instances(s, moved, desk.clock.now())

    # Then every roll-up table equals a full rebuild from the same facts, after each batch and at the end
    assert not checked.found, "\n".join(checked.found[:20])
    with desk.database.transaction() as s:
        kept = table_rows(s)
        assert not differences(kept, rebuilt_rows(s))
        assert all(kept[name] for name in SPECS)  # every table has rows to compare
    # and the batches met what a history does to a ticket's roll-up rows
    for change in ("new", "day", "channel", "priority", "stage", "status", "teams", "contacts", "cancelled",
                   "reopened"):
        assert checked.changed[change] > 0, (change, checked.changed)
    print(dict(checked.changed), checked.batches, checked.compared)


def test_a_task_type_keeps_the_greatest_name_of_its_tasks_left_when_a_batch_moves_one_away(database: Database) -> None:
    # Given two tickets of one day whose diagnosis tasks carry different names (a renamed element)
    opened = datetime(2026, 3, 3, 9, tzinfo=UTC)
    tasks = [task(1, 1, "diagnose", "technician", 60, 600, opened + timedelta(hours=1)),
             task(2, 2, "diagnose", "technician", 90, 900, opened + timedelta(hours=2))]
    tasks[0]["name"], tasks[1]["name"] = "Diagnose", "Diagnose the fault"
    add_facts(database, [ticket(1, opened), ticket(2, opened)], tasks)

    # When a batch moves the ticket with the greater name to another priority
    with database.transaction() as s, by_delta(s, kpi_settings(s), [2], [2]):
        s.execute(update(KpiTicket).where(KpiTicket.ticket_id == 2).values(priority="high"))
        s.execute(update(KpiTask).where(KpiTask.instance_id == 2).values(priority="high"))

    # Then the row it left is named after the task that stayed, as a rebuild names it
    with database.transaction() as s:
        kept = table_rows(s)
        assert not differences(kept, rebuilt_rows(s))
    assert {r["name"] for r in kept["kpi_task_daily"].values() if r["priority"] == "medium"} == {"Diagnose"}
    assert {r["name"] for k, r in kept["kpi_task_day"].items() if k[0] == "all"} == {"Diagnose the fault"}
