"""How many SQL statements a small refresh batch sends to keep the roll-ups: the worker's KPI job and every
simulated history refresh a few tickets at a time, so the delta's fixed cost per batch is what they pay.

The counts are behaviour (each statement is a round trip and a compiled query), counted with a
``before_cursor_execute`` listener around :func:`analytics.rollup.by_delta` (the block's own two UPDATEs
apart), after one batch has warmed the process's caches as a worker's first batch does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, update

from analytics.facts import KpiTask, KpiTicket, kpi_settings
from analytics.rollup import by_delta
from engine.db import Database
from tests.kpi.conftest import add_facts
from tests.kpi.test_kpi_figures import task, ticket
from tests.kpi.test_rollup_deltas import differences, rebuilt_rows, table_rows

OPENED = datetime(2026, 3, 3, 9, tzinfo=UTC)
#: statements of a batch of one closed ticket and its tasks moved to another priority: the settings' state, the
#: batch's tickets, before and after its cube rows (tickets, teams and tasks in one) and its histograms
#: (every measure in one), one upsert per roll-up table it changes (six), the task types' names recounted (two),
#: on SQLite a delete of the rows each upsert may have emptied (six), on PostgreSQL only where the upsert's
#: RETURNING says one was (one); no ticket open, no count of the open tickets (41 before)
CLOSED_BATCH = {"sqlite": 20, "postgresql": 15}
#: a batch of one open ticket moved to another priority: also its open tickets' counts (overdue and backlog in
#: one), before and after, and their upserts and deletes (45 before)
OPEN_BATCH = {"sqlite": 26, "postgresql": 20}


@pytest.fixture
def facts(database: Database) -> Database:
    """Four tickets of one day (two closed with a response and a resolution, two open), each with two tasks."""
    closed = {"status": "closed", "outcome": "resolved", "first_response_seconds": 1800.0,
              "resolution_seconds": 7200.0, "closed_at": OPENED + timedelta(hours=3)}
    tickets = [ticket(1, OPENED, **closed), ticket(2, OPENED, **closed, channel="web"),
               ticket(3, OPENED, stage="Diagnose the fault", response_due_at=OPENED + timedelta(hours=4)),
               ticket(4, OPENED, stage="Repair the device", first_response_seconds=900.0)]
    tasks = [task(2 * n + k, n, element, role, 60.0 * n, 600.0 * (k + 1), OPENED + timedelta(hours=1 + k))
             for n in range(1, 5) for k, (element, role) in enumerate((("register_request", "agent"),
                                                                       ("diagnose", "technician")))]
    add_facts(database, tickets, tasks)
    return database


@pytest.fixture
def counted(facts: Database) -> Iterator[Callable[[int, str], int]]:
    """Return a function that moves one ticket and its tasks to ``priority`` in one batch and returns how many
    statements the batch's roll-up delta sent."""
    sent = [0]

    def count(*_: Any) -> None:
        sent[0] += 1

    def move(ticket_id: int, priority: str) -> int:
        with facts.transaction() as s:
            settings = kpi_settings(s)
            sent[0] = 0
            event.listen(s.connection(), "before_cursor_execute", count)
            with by_delta(s, settings, [ticket_id], [ticket_id]):
                s.execute(update(KpiTicket).where(KpiTicket.ticket_id == ticket_id).values(priority=priority))
                s.execute(update(KpiTask).where(KpiTask.instance_id == ticket_id).values(priority=priority))
            event.remove(s.connection(), "before_cursor_execute", count)
        return sent[0] - 2

    move(2, "high")  # the process's caches warmed, as after a worker's first batch
    yield move


def test_a_batch_of_one_closed_ticket_keeps_the_roll_ups_in_a_bounded_number_of_statements(facts, counted) -> None:
    assert counted(1, "urgent") <= CLOSED_BATCH[facts.engine.dialect.name]
    with facts.transaction() as s:
        assert not differences(table_rows(s), rebuilt_rows(s))


def test_a_batch_of_one_open_ticket_keeps_the_roll_ups_in_a_bounded_number_of_statements(facts, counted) -> None:
    assert counted(3, "urgent") <= OPEN_BATCH[facts.engine.dialect.name]
    with facts.transaction() as s:
        assert not differences(table_rows(s), rebuilt_rows(s))
