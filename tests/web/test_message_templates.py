"""An agent messages the customer from one of the bundle's templates: filled from the ticket in the
customer's language, editable before sending, recorded in the outbox; bad picks change nothing."""

from __future__ import annotations

import copy
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.bundle import read_bundle
from engine.deploy import deploy
from handlers.dispatch import Assignment
from handlers.outbox import Outbox
from handlers.parts import Backorder
from handlers.ticket_notes import TicketActivity
from handlers.ticketing import Customer
from tests.process.test_journey_arrival import WEB_FORM

PROCESSES = Path(__file__).resolve().parents[2] / "processes"


@pytest.fixture
def ticket(desk) -> str:
    """A web request by Li Na (Chinese, e-mail) about her WM-F80 washer, numbered at arrival."""
    return desk.open_case(**copy.deepcopy(WEB_FORM)).ticket_number


def sent(database) -> list[Outbox]:
    with database.transaction(write=False) as s:
        return list(s.scalars(select(Outbox).where(Outbox.milestone == "message")))


def activities(database) -> int:
    with database.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(TicketActivity)) or 0


def set_customer(database, **values) -> None:
    with database.transaction() as s:
        for customer in s.scalars(select(Customer)):
            for key, value in values.items():
                setattr(customer, key, value)


def test_a_picked_template_is_filled_from_the_ticket_in_the_customers_language(signed_in, ticket):
    # Given an agent working in English on a Chinese customer's ticket
    agent = signed_in("agent")

    # When she picks "Need more information"
    response = agent.get(f"/tickets/{ticket}?template=need_information")
    html = response.get_data(as_text=True)

    # Then the message form holds the Chinese text, filled with the customer, product and ticket
    assert response.status_code == 200
    assert '<option value="need_information" selected' in html and "Need more information" in html
    assert f"{ticket}：请补充报修信息" in html  # the subject line
    assert "Li Na，您好！" in html and "滚筒洗衣机 8 公斤 变频（序列号 WMF80-0001）" in html
    assert 'name="template" id="ws-template-used" value="need_information"' in html
    assert "customer&#39;s language (Chinese)" in html


def test_an_english_customer_gets_the_english_text(signed_in, database, ticket):
    set_customer(database, language="en")
    html = signed_in("agent").get(f"/tickets/{ticket}?template=closing_follow_up").get_data(as_text=True)
    assert "Dear Li Na," in html and "Front-load washer 8 kg, inverter works as it should" in html


def test_the_edited_text_is_sent_and_recorded_with_its_template(signed_in, database, ticket):
    agent = signed_in("agent")
    agent.get(f"/tickets/{ticket}?template=need_information")

    # When the agent edits the filled text and sends it
    response = agent.post(f"/tickets/{ticket}/messages", {
        "template": "need_information", "subject": f"{ticket}：请补充报修信息",
        "body": "Li Na，您好！请发一张 E21 错误代码的照片。"})

    # Then the outbox holds exactly what she sent, on the customer's channel, with the template it began as
    assert response.status_code == 302
    [row] = sent(database)
    assert (row.channel, row.recipient, row.language) == ("email", "li.na@example.com", "zh")
    assert row.body == "Li Na，您好！请发一张 E21 错误代码的照片。"
    assert row.template.startswith("templates/message/need_information.zh.j2 from ")
    with database.transaction(write=False) as s:
        activity = s.scalars(select(TicketActivity)).one()
        assert activity.details["template"] == "templates/message/need_information.zh.j2"


def test_an_appointment_template_needs_a_booked_visit_and_then_names_technician_and_time(signed_in, database,
                                                                                          ticket):
    agent = signed_in("agent")
    # Given no visit is booked: the template is refused on its field, the form stays empty
    response = agent.get(f"/tickets/{ticket}?template=appointment_confirmed")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="err-template"' in html
    assert "no technician visit booked yet" in html and "上门服务时间已确认" not in html

    # When Wang Lei is booked for 10 March, 10:00-12:00 Beijing time (02:00-04:00 UTC)
    with database.transaction() as s:
        s.add(Assignment(ticket_number=ticket, technician="tech.wang", priority="high",
                         starts_at=datetime(2026, 3, 10, 2, tzinfo=UTC), ends_at=datetime(2026, 3, 10, 4, tzinfo=UTC),
                         status="open", reason="test booking", created_at=datetime(2026, 3, 2, 9, tzinfo=UTC)))

    # Then the Chinese text names him in Chinese and the window in local time
    html = agent.get(f"/tickets/{ticket}?template=appointment_confirmed").get_data(as_text=True)
    assert "技术员 王磊 将于 2026-03-10 10:00–12:00 上门" in html


def test_parts_delayed_gives_the_earliest_expected_date(signed_in, database, ticket):
    agent = signed_in("agent")
    assert "no part on back-order" in agent.get(f"/tickets/{ticket}?template=parts_delayed").get_data(as_text=True)
    with database.transaction() as s:
        for eta in (date(2026, 3, 20), date(2026, 3, 12)):
            s.add(Backorder(ticket_number=ticket, sku="WM-PUMP-01", warehouse="WH-SH", quantity=1, status="open",
                            eta=eta, created_at=datetime(2026, 3, 2, 9, tzinfo=UTC)))
    assert "预计 2026-03-12 到货" in agent.get(f"/tickets/{ticket}?template=parts_delayed").get_data(as_text=True)


@pytest.mark.parametrize(("form", "field"), [
    ({"template": "happy_birthday", "subject": "s", "body": "text"}, "template"),
    ({"template": "need_information", "subject": "s", "body": "   "}, "body"),
])
def test_an_unknown_template_or_an_empty_message_is_refused_on_its_field_and_nothing_is_sent(
        signed_in, database, ticket, form, field):
    agent = signed_in("agent")
    agent.get(f"/tickets/{ticket}")
    response = agent.post(f"/tickets/{ticket}/messages", form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and f'id="err-{field}"' in html
    assert sent(database) == [] and activities(database) == 0


def test_picking_an_unknown_template_shows_the_error_on_the_picker(signed_in, ticket):
    response = signed_in("agent").get(f"/tickets/{ticket}?template=../../after_sales.bpmn")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="err-template"' in html and "Choose a template from the list." in html


def test_a_template_the_process_owner_changed_is_used_once_redeployed(signed_in, database, ticket, tmp_path):
    # Given the process owner rewrote the Chinese "ready for pick-up" text and redeployed the bundle
    bundle = tmp_path / "processes"
    shutil.copytree(PROCESSES, bundle)
    (bundle / "templates/message/ready_for_pickup.zh.j2").write_text(
        "Subject: {{ ticket_number }}：请来取件\n{{ customer_name }}，您的产品已修好，周日也可取件。", encoding="utf-8")
    with database.transaction() as s:
        deploy(s, read_bundle([bundle]), "owner")

    # Then the agent's picker fills the new text
    html = signed_in("agent").get(f"/tickets/{ticket}?template=ready_for_pickup").get_data(as_text=True)
    assert "Li Na，您的产品已修好，周日也可取件。" in html


def test_an_sms_customer_sees_the_character_count_and_how_many_messages(signed_in, database, ticket):
    set_customer(database, preferred_channel="sms", email=None)
    html = signed_in("agent").get(f"/tickets/{ticket}?template=closing_follow_up").get_data(as_text=True)
    assert 'id="ws-sms-count"' in html
    count = html.split('id="ws-sms-count"')[1].split("</span>")[0]
    assert "hidden" not in count.split(">")[0]
    body = html.split('id="ws-body"')[1].split(">", 1)[1].split("</textarea>")[0]
    n = len(body.replace("&#39;", "'").replace("\r\n", "\n"))
    assert f"{n} characters, {-(-n // 67)} SMS" in count  # Chinese text: 70 characters, 67 per part


def test_an_e_mail_customer_has_no_sms_count_shown(signed_in, ticket):
    html = signed_in("agent").get(f"/tickets/{ticket}").get_data(as_text=True)
    assert 'id="ws-sms-count"' in html and html.split('id="ws-sms-count"')[1].split(">")[0].endswith(" hidden")


@pytest.mark.parametrize("role", ["technician", "qa"])
def test_roles_that_do_not_message_customers_get_no_picker_and_no_texts(signed_in, ticket, role):
    html = signed_in(role).get(f"/tickets/{ticket}?template=need_information").get_data(as_text=True)
    assert 'id="ws-template"' not in html and "请补充报修信息" not in html
