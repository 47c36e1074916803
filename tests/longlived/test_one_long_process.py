"""One long-lived process: a single runtime (one spec cache, one instance cache, as in
``aftersales serve``) takes a couple of hundred tickets through every route of the real process —
staff tasks, customer replies, repeat contacts, cancellations, SLA warnings and breaches, reminders
and time-outs — until every ticket has ended; the simulator's figures agree with the instances table.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent, Incident, Instance
from handlers.ticketing import Ticket
from simulation.history import simulate_history
from simulation.workload import load_parameters
from tests.process.driver import Desk

TICKETS = int(__import__("os").environ.get("AFTERSALES_LONG_TICKETS", "200"))


def _waiting(session) -> list[dict]:
    """What each instance that has not ended waits for (the failure message)."""
    from engine.models import MessageSubscription, Timer, WorkItem

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
def test_every_ticket_of_a_long_running_server_ends_and_the_figures_agree(desk: Desk) -> None:
    # Given one runtime for the whole history (nothing cleared between tickets)
    runtime = desk.runtime
    # When a few hundred requests arrive over two weeks and the desk works until all have ended
    params = load_parameters()
    params["outcomes"]["cancelled"] = 0.1  # enough cancellations to see some at this size
    # the worker's KPI job (refresh, alerts, analyses) once a simulated day rather than every four hours:
    # it still runs through the whole history in this runtime, at a quarter less of the test's time
    params["kpi_minutes"] = 24 * 60
    report = simulate_history(desk.database, runtime, tickets=TICKETS, days=14, seed=11,
                              start=date(2026, 3, 2), params=params, settle_days=120)

    def read(query):
        return desk.read(lambda s: s.execute(query).all())

    statuses = Counter(dict(read(select(Instance.status, func.count()).where(Instance.process_id == "after_sales")
                                 .group_by(Instance.status))))
    # Then every ticket has ended, none on an incident
    assert report.requests >= TICKETS and not report.skipped, report.skipped[:5]
    assert set(statuses) <= {"completed", "cancelled"}, json.dumps(desk.read(_waiting), default=str)
    assert report.open_incidents == 0 and report.kpi_passes >= 14
    assert desk.read(lambda s: s.scalar(select(func.count()).select_from(Incident)
                                        .where(Incident.status != "resolved"))) == 0
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
    fired = desk.read(lambda s: s.scalar(select(func.count()).select_from(AuditEvent)
                                         .where(AuditEvent.kind == "timer.fired")))
    assert fired > TICKETS // 10
