"""A contact edited on the ticket page reaches the process's own notifications (over real SMTP)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.audit import events_for
from engine.errors import FormValidationError
from engine.models import Instance
from handlers import ticket_notes
from handlers.outbox import Outbox, deliver_outbox
from handlers.transports import SmtpTransport
from tests.handlers.samples import CUSTOMER, FAULT, PRODUCT
from tests.handlers.test_outbox import Mailbox, mailbox  # noqa: F401 (the fixture)

OLD = "li.wei@example.cn"
NEW = "li.wei.new@example.cn"
EMAIL_CUSTOMER = {**CUSTOMER, "email": OLD, "language": "en", "preferred_channel": "email"}


@pytest.fixture
def smtp(mailbox: Mailbox) -> tuple[Mailbox, SmtpTransport]:  # noqa: F811
    """The outbox tests' real SMTP server on loopback, and a transport to it."""
    return mailbox, SmtpTransport()


@pytest.fixture
def ticket(database, runtime, deployment, catalogue) -> Instance:
    """A ticket opened by the journey process (customer record kept, 'received' notice sent to OLD)."""
    data = {"channel": "hotline", "customer": EMAIL_CUSTOMER, "product": PRODUCT, "fault": FAULT,
            "expectation": "", "needed": [{"sku": "TV-PANEL-55", "quantity": 2}]}
    with database.transaction() as session:
        started = runtime.start(session, "service_journey", data, actor="agent")
    runtime.instances.clear()
    with database.transaction(write=False) as session:
        return session.get(Instance, started.instance_id)


def test_after_an_email_edit_the_next_milestone_mail_goes_to_the_new_address_not_the_old(
        database, clock, call, ticket, smtp):
    box, transport = smtp
    deliver_outbox(database, {"email": transport}, clock.now())
    assert [m["To"] for m in box.messages] == [OLD]  # the process's first notice, before the edit
    # Given an agent changes the e-mail on the ticket page
    with database.transaction() as session:
        ticket_notes.change_contact(session, ticket.business_key, "agent", email=NEW)
    # When the process reaches a milestone with the customer of its own data (the old e-mail)
    result = call("notify.send", task="later", instance=ticket.id, ticket_number=ticket.business_key,
                  milestone="received", customer=EMAIL_CUSTOMER, data={})
    deliver_outbox(database, {"email": transport}, clock.now())
    # Then the mail arrives at the new address, and not at the old one
    assert result["contact_edited"] == ["email"]
    assert box.messages[-1]["To"] == NEW
    with database.transaction(write=False) as session:
        assert session.scalars(select(Outbox.recipient).order_by(Outbox.id)).all() == [OLD, NEW]
        kinds = [e.kind for e in events_for(session, ticket.id)]
    assert "ticket.contact" in kinds


def test_without_an_edit_the_process_data_contact_is_used_as_before(database, clock, call, ticket, smtp):
    box, transport = smtp
    result = call("notify.send", task="later", instance=ticket.id, ticket_number=ticket.business_key,
                  milestone="received", customer={**EMAIL_CUSTOMER, "email": "other@example.cn"}, data={})
    deliver_outbox(database, {"email": transport}, clock.now())
    assert "contact_edited" not in result
    assert sorted(m["To"] for m in box.messages) == [OLD, "other@example.cn"]


def test_a_bad_edited_email_is_refused_and_notifications_keep_the_old_address(database, clock, call, ticket,
                                                                               smtp):
    box, transport = smtp
    with database.transaction() as session, pytest.raises(FormValidationError) as refused:
        ticket_notes.change_contact(session, ticket.business_key, "agent", email="not an address")
    assert refused.value.errors[0].field == "email"
    call("notify.send", task="later", instance=ticket.id, ticket_number=ticket.business_key,
         milestone="received", customer=EMAIL_CUSTOMER, data={})
    deliver_outbox(database, {"email": transport}, clock.now())
    assert [m["To"] for m in box.messages] == [OLD, OLD]
