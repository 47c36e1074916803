"""Every state-changing handler answers a repeated call for the same task with its first result
and writes nothing more (a retry after a crash never reserves, books or sends twice)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.db import Base
from tests.handlers.samples import CUSTOMER, FAULT, PRODUCT

TICKET = "AS-20260302-00001"


def open_ticket(call):
    call("ticketing.open_ticket", task="setup-open", channel="web", customer=CUSTOMER, product=PRODUCT, fault=FAULT,
         expectation="")


def reserve_pump(call):
    open_ticket(call)
    call("parts.reserve", task="setup-reserve", ticket_number=TICKET, parts=[{"sku": "WM-PUMP-01", "quantity": 2}])


CASES = [
    ("ticketing.open_ticket", None, {"channel": "web", "customer": CUSTOMER, "product": PRODUCT, "fault": FAULT,
                                     "expectation": "fix it"}),
    ("ticketing.attach_contact", open_ticket, {"ticket_number": TICKET, "channel": "chat", "fault": FAULT}),
    ("ticketing.close_ticket", open_ticket, {"ticket_number": TICKET, "outcome": "resolved"}),
    ("knowledge.draft_article", None, {"ticket_number": TICKET, "title": "T", "problem": "P", "resolution": "R",
                                       "model": "WM-F80"}),
    ("parts.reserve", None, {"ticket_number": TICKET, "parts": [{"sku": "TV-PANEL-55", "quantity": 3}]}),
    ("parts.consume", reserve_pump, {"ticket_number": TICKET, "parts_used": [{"sku": "WM-PUMP-01", "quantity": 1}]}),
    ("parts.release", reserve_pump, {"ticket_number": TICKET}),
    ("quote.prepare", open_ticket, {"ticket_number": TICKET, "coverage": "none", "labour_hours": 1, "callout": True,
                                    "parts": [{"sku": "WM-PUMP-01", "quantity": 1}], "solution": "repair"}),
    ("dispatch.assign_technician", None, {"ticket_number": TICKET, "skill": "tv", "region": "east",
                                          "priority": "high"}),
    ("dispatch.choose_provider", None, {"ticket_number": TICKET, "skill": "tv", "region": "east"}),
    ("dispatch.create_rma", None, {"ticket_number": TICKET, "customer": CUSTOMER}),
    ("notify.send", None, {"ticket_number": TICKET, "milestone": "received", "customer": CUSTOMER, "data": {}}),
    ("survey.invite", None, {"ticket_number": TICKET, "customer": CUSTOMER}),
    ("survey.record", None, {"ticket_number": TICKET, "csat": 4, "nps": 8, "comment": "", "via": "web"}),
    ("qa.sample", None, {"ticket_number": TICKET, "rate": 0.5}),
    ("ticketing.triage_ticket", open_ticket, {"ticket_number": TICKET, "customer": CUSTOMER, "product": PRODUCT,
                                              "fault": FAULT, "expectation": "fixed this week"}),
    ("dispatch.record_visit", open_ticket, {"ticket_number": TICKET, "priority": "high", "assignment": {
        "technician": "tech.wang", "appointment": {"start": "2026-03-10T02:00:00Z", "end": "2026-03-10T04:00:00Z"}}}),
]


def all_rows(database) -> dict[str, int]:
    with database.transaction(write=False) as session:
        return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


@pytest.mark.parametrize(("operator", "setup", "arguments"), CASES, ids=[c[0] for c in CASES])
def test_a_repeated_call_for_the_same_task_returns_the_first_result_and_writes_nothing(
        call, database, clock, operator, setup, arguments):
    # Given the handler ran once for this task (and the clock moved on)
    if setup:
        setup(call)
    first = call(operator, task="the-task", **arguments)
    rows = all_rows(database)
    clock.advance(timedelta(minutes=5))
    # When the engine retries the same task
    again = call(operator, task="the-task", **arguments)
    # Then it gets the first result, and no table changed
    assert again == first
    assert all_rows(database) == rows


def test_every_state_changing_handler_is_covered():
    from engine.registry import all_handlers

    changing = {name for name, h in all_handlers().items()
                if getattr(h.func, "__wrapped__", None) is not None and not name.startswith("test.")}
    assert changing <= {c[0] for c in CASES} | {n for n in changing if n.startswith("sla.")}
    assert {c[0] for c in CASES} <= changing
