"""The ticket as a workspace: notes, calls, messages, contact edits, files and cancelling, on one page."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from engine.models import AuditEvent, Instance
from handlers.attachments import Attachment
from handlers.outbox import Outbox
from handlers.ticket_notes import TicketActivity
from tests.web.conftest import TICKET

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 2048


def record_customer(session, number: str = TICKET) -> tuple[int, int]:
    """Record Li Lei, her Aurora X1 and ticket ``number`` as the ticketing handler does; return the
    customer's and the ticket's ids."""
    from engine import clock
    from handlers.ticketing import Customer, Product, Ticket

    now = clock.now()
    instance_id = session.scalar(select(Instance.id).where(Instance.business_key == number))
    customer = Customer(name="Li Lei", phone="13800138000", email="li.lei@example.com", tier="vip",
                        language="zh", preferred_channel="email", created_at=now, updated_at=now)
    session.add(customer)
    session.flush()
    product = Product(customer_id=customer.id, model="Aurora X1", serial_number="SN-0042",
                      purchase_date=date(2025, 6, 1), created_at=now)
    session.add(product)
    session.flush()
    ticket = Ticket(number=number, customer_id=customer.id, product_id=product.id, channel="hotline",
                    fault={"description": "flickers"}, status="open", instance_id=instance_id, opened_at=now)
    session.add(ticket)
    session.flush()
    return customer.id, ticket.id


@pytest.fixture
def ticket(database, repair_ticket):
    """The repair ticket with the customer and product records the ticketing handler keeps."""
    with database.transaction() as s:
        record_customer(s)
    return TICKET


def count(database, model) -> int:
    with database.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def page(b, key=TICKET) -> str:
    return b.get(f"/tickets/{key}").get_data(as_text=True)


def test_an_agent_adds_a_note_that_shows_with_author_and_is_audited(signed_in, database, ticket):
    agent = signed_in("agent")
    page(agent)
    response = agent.post(f"/tickets/{TICKET}/notes", {"note": "Customer prefers mornings"})
    assert response.status_code == 302 and response.location.endswith("#note")
    html = page(agent)
    assert "Customer prefers mornings" in html and "Note added." in html
    with database.transaction(write=False) as s:
        assert s.scalar(select(AuditEvent.actor).where(AuditEvent.kind == "ticket.note")) == "agent"


def test_an_empty_note_is_refused_on_its_field_and_nothing_is_written(signed_in, database, ticket):
    agent = signed_in("agent")
    page(agent)
    response = agent.post(f"/tickets/{TICKET}/notes", {"note": "   "})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="err-note"' in html and "this field is required" in html
    assert count(database, TicketActivity) == 0


def test_a_call_is_logged_with_direction_outcome_and_minutes(signed_in, ticket):
    agent = signed_in("agent")
    page(agent)
    agent.post(f"/tickets/{TICKET}/calls", {"direction": "outbound", "outcome": "reached", "minutes": "4",
                                            "call_note": "Agreed a visit on Monday"})
    html = page(agent)
    assert "outbound, reached, 4 min" in html and "Agreed a visit on Monday" in html


@pytest.mark.parametrize(("field", "value", "message"), [
    ("minutes", "four", "enter a whole number of minutes"),
    ("minutes", "-3", "between 0 and 600 minutes"),
    ("outcome", "hung up", "choose an outcome from the list"),
    ("direction", "sideways", "choose a direction from the list"),
])
def test_a_bad_call_value_is_refused_on_its_field_keeping_what_was_typed(signed_in, database, ticket, field,
                                                                          value, message):
    agent = signed_in("agent")
    page(agent)
    form = {"direction": "outbound", "outcome": "reached", "minutes": "4", "call_note": "kept text", field: value}
    response = agent.post(f"/tickets/{TICKET}/calls", form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and f'id="err-{field}"' in html and message in html
    assert "kept text" in html
    assert count(database, TicketActivity) == 0


def test_a_message_goes_to_the_outbox_on_the_customers_channel_and_is_recorded(signed_in, database, ticket):
    agent = signed_in("agent")
    page(agent)
    response = agent.post(f"/tickets/{TICKET}/messages", {"subject": f"{TICKET}: your visit",
                                                          "body": "The technician comes on Monday."})
    assert response.status_code == 302
    with database.transaction(write=False) as s:
        [row] = s.scalars(select(Outbox)).all()
        assert (row.channel, row.recipient, row.status, row.audience) == (
            "email", "li.lei@example.com", "pending", "customer")
        assert row.subject == f"{TICKET}: your visit" and row.body == "The technician comes on Monday."
    assert "Message to the customer" in page(agent)


def test_a_subject_with_a_line_break_is_refused_so_no_header_can_be_added(signed_in, database, ticket):
    agent = signed_in("agent")
    page(agent)
    response = agent.post(f"/tickets/{TICKET}/messages", {"subject": "Hi\r\nBcc: all@example.com", "body": "x"})
    assert response.status_code == 422 and 'id="err-subject"' in response.get_data(as_text=True)
    assert count(database, Outbox) == 0


def test_an_edited_phone_is_shown_and_audited_old_to_new(signed_in, database, ticket):
    agent = signed_in("agent")
    page(agent)
    response = agent.post(f"/tickets/{TICKET}/contact", {"phone": "+86 139 1234 5678",
                                                         "email": "li.lei@example.com", "address": "1 Road"})
    assert response.status_code == 302
    html = page(agent)
    assert "13912345678" in html and "13800138000 → 13912345678" in html
    with database.transaction(write=False) as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.kind == "ticket.contact"))
    assert event.data["phone"] == {"old": "13800138000", "new": "13912345678"}
    assert event.data["address"] == {"old": "", "new": "1 Road"}


def test_contact_changes_are_masked_for_roles_that_do_not_see_them(signed_in, ticket):
    agent = signed_in("agent")
    page(agent)
    agent.post(f"/tickets/{TICKET}/contact", {"phone": "13912345678"})
    html = page(signed_in("qa"))
    assert "13912345678" not in html and "13800138000" not in html and "***5678" in html


@pytest.mark.parametrize(("field", "value"), [
    ("email", "li@example.com\r\nBcc: x@example.com"),
    ("email", "two@example.com, three@example.com"),
    ("email", "no-at-sign"),
    ("phone", "call me"),
    ("phone", "123"),
    ("phone", "1380013800012345678"),
])
def test_a_bad_phone_or_e_mail_is_refused_on_its_field_and_nothing_changes(signed_in, database, ticket,
                                                                            field, value):
    agent = signed_in("agent")
    page(agent)
    response = agent.post(f"/tickets/{TICKET}/contact", {field: value})
    assert response.status_code == 422 and f'id="err-{field}"' in response.get_data(as_text=True)
    from handlers.ticketing import Customer
    with database.transaction(write=False) as s:
        customer = s.scalars(select(Customer)).one()
        assert (customer.phone, customer.email) == ("13800138000", "li.lei@example.com")
    assert count(database, TicketActivity) == 0


def test_cancelling_needs_a_reason_and_then_cancels_the_process(signed_in, database, ticket):
    agent = signed_in("agent")
    page(agent)
    refused = agent.post(f"/tickets/{TICKET}/cancel", {"reason": ""})
    assert refused.status_code == 422 and 'id="err-reason"' in refused.get_data(as_text=True)
    agent.post(f"/tickets/{TICKET}/cancel", {"reason": "Customer bought a new unit"})
    with database.transaction(write=False) as s:
        assert s.scalar(select(Instance.status).where(Instance.business_key == TICKET)) == "cancelled"
        from handlers.ticketing import Ticket
        assert s.scalar(select(Ticket.outcome)) == "cancelled"
    html = page(agent)
    assert "Customer bought a new unit" in html and "Request cancelled" in html


@pytest.mark.parametrize("role", ["technician", "qa", "auditor"])
def test_only_agents_and_supervisors_cancel_log_calls_and_message(signed_in, database, ticket, role):
    b = signed_in(role)
    page(b)
    assert b.post(f"/tickets/{TICKET}/cancel", {"reason": "no"}).status_code == 403
    assert b.post(f"/tickets/{TICKET}/calls", {"direction": "inbound", "outcome": "reached"}).status_code == 403
    assert b.post(f"/tickets/{TICKET}/messages", {"subject": "s", "body": "b"}).status_code == 403
    assert b.post(f"/tickets/{TICKET}/contact", {"phone": "13912345678"}).status_code == 403


def test_the_workspace_needs_the_csrf_token(signed_in, database, ticket):
    agent = signed_in("agent")
    assert agent.post(f"/tickets/{TICKET}/notes", {"note": "x"}, csrf=False).status_code == 400
    boundary, body = encode_multipart(MultiDict({"file": FileStorage(io.BytesIO(JPEG), "a.jpg", "file", "image/jpeg")}))
    refused = agent.client.post(f"/tickets/{TICKET}/attachments", data=body,
                                content_type=f"multipart/form-data; boundary={boundary}")
    assert refused.status_code == 400
    assert count(database, TicketActivity) == 0 and count(database, Attachment) == 0


def test_an_instance_without_a_ticket_number_shows_its_page_without_the_workspace(signed_in, services,
                                                                                   deploy_fixture):
    from tests.web.conftest import CUSTOMER, PRODUCT, WEB_FIXTURES

    deploy_fixture(WEB_FIXTURES / "customer")
    with services.db.transaction() as s:
        started = services.runtime.start(s, "web_repair", {"customer": CUSTOMER, "product": PRODUCT,
                                                           "fault": {"description": "x"}}, None, "agent")
    response = signed_in("agent").get(f"/tickets/{started.instance_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="workspace"' not in html and 'id="timeline"' in html


def test_the_workspace_events_keep_the_audit_trail_intact(signed_in, database, ticket):
    from engine.audit import verify

    agent = signed_in("agent")
    page(agent)
    agent.post(f"/tickets/{TICKET}/notes", {"note": "one"})
    agent.post(f"/tickets/{TICKET}/calls", {"direction": "inbound", "outcome": "reached", "minutes": "2"})
    agent.post(f"/tickets/{TICKET}/contact", {"phone": "13912345678"})
    agent.post(f"/tickets/{TICKET}/cancel", {"reason": "duplicate request"})
    with database.transaction(write=False) as s:
        kinds = list(s.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)))
        report = verify(s)
    assert {"ticket.note", "ticket.call", "ticket.contact", "ticket.cancel", "instance.cancelled"} <= set(kinds)
    assert report.ok, report.to_dict()
