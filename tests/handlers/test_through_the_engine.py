"""The handlers driven by the engine: intake, entitlement, notification, parts, restock message.

Each step round-trips the instance through the store (the runtime's instance cache is
cleared), as every process test does.
"""

from __future__ import annotations

from sqlalchemy import select

from engine.audit import events_for
from engine.models import Instance, MessageSubscription
from handlers.notifications import sent_for
from handlers.parts import Backorder, Reservation, restock_and_notify
from handlers.ticketing import Ticket
from tests.handlers.samples import CUSTOMER, FAULT, PRODUCT


def start(database, runtime, parts):
    data = {"channel": "hotline", "customer": CUSTOMER, "product": PRODUCT, "fault": FAULT, "expectation": "",
            "needed": parts}
    with database.transaction() as session:
        started = runtime.start(session, "service_journey", data, actor="agent")
    runtime.instances.clear()
    with database.transaction(write=False) as session:
        return session.get(Instance, started.instance_id)


def test_a_ticket_with_parts_in_stock_runs_through_without_waiting(database, runtime, deployment, catalogue):
    instance = start(database, runtime, [{"sku": "WM-PUMP-01", "quantity": 1}])
    assert instance.status == "completed"
    assert instance.business_key == "AS-20260302-00001"
    with database.transaction(write=False) as session:
        ticket = session.scalars(select(Ticket)).one()
        assert (ticket.number, ticket.instance_id) == (instance.business_key, instance.id)
        [message] = sent_for(session, ticket.number)
        assert (message["milestone"], message["channel"], message["language"]) == ("received", "sms", "zh")
        assert session.scalars(select(Reservation.quantity)).all() == [1]


def test_a_back_ordered_ticket_waits_until_the_restock_delivers_parts_arrived(database, runtime, deployment,
                                                                                 catalogue, clock):
    # Given a ticket needing two panels when only one is in stock
    instance = start(database, runtime, [{"sku": "TV-PANEL-55", "quantity": 2}])
    assert instance.status == "active"
    with database.transaction(write=False) as session:
        sub = session.scalars(select(MessageSubscription)).one()
    assert (sub.message_name, sub.correlation_key) == ("parts_arrived", instance.business_key)
    # When the warehouse restocks, in one transaction with the message delivery
    with database.transaction() as session:
        outcome = restock_and_notify(session, runtime, "TV-PANEL-55", "WH-SH", 4, clock.now())
    # Then the ticket's instance received parts_arrived and finished; its parts are reserved
    assert outcome == {"completed": [instance.business_key], "delivered": {instance.business_key: [instance.id]},
                       "not_waiting": []}
    runtime.instances.clear()
    with database.transaction(write=False) as session:
        assert session.get(Instance, instance.id).status == "completed"
        assert session.scalars(select(Backorder.status)).all() == ["fulfilled"]
        assert sum(session.scalars(select(Reservation.quantity))) == 2


def test_a_restock_for_a_ticket_nobody_waits_for_keeps_the_reservation(database, runtime, deployment, catalogue,
                                                                       clock, call):
    call("parts.reserve", ticket_number="AS-OFFLINE", parts=[{"sku": "TV-PANEL-55", "quantity": 3}])
    with database.transaction() as session:
        outcome = restock_and_notify(session, runtime, "TV-PANEL-55", "WH-SH", 2, clock.now())
    assert outcome == {"completed": ["AS-OFFLINE"], "delivered": {}, "not_waiting": ["AS-OFFLINE"]}
    with database.transaction(write=False) as session:
        assert session.scalars(select(Backorder.status)).all() == ["fulfilled"]


def test_an_unknown_part_takes_the_modelled_error_path_and_reserves_nothing(database, runtime, deployment,
                                                                           catalogue):
    instance = start(database, runtime, [{"sku": "WM-PUMP-01", "quantity": 1}, {"sku": "NO-SUCH", "quantity": 1}])
    assert instance.status == "completed"
    with database.transaction(write=False) as session:
        assert session.scalars(select(Reservation)).all() == []
        elements = {e.element_id for e in events_for(session, instance.id)}
    assert "end_unknown" in elements and "end_ready" not in elements
