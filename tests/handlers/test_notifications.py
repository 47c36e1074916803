"""notify.send: template per milestone × channel × language, written to the outbox."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.bundle import Bundle
from engine.deploy import deploy
from engine.errors import HandlerError
from engine.registry import BusinessError
from handlers.outbox import Outbox
from handlers.templates import render
from tests.handlers.samples import CUSTOMER, TEMPLATES

DOCS = Path(__file__).parents[2] / "docs" / "operators.md"
SAMPLE_DATA = {"summary": "drain filter blocked", "customer_pays": "260.00", "currency": "CNY",
               "document_url": "/tickets/AS-20260302-00001/quote/1", "eta": "2026-03-16",
               "appointment": {"start": "2026-03-04T00:30:00+00:00", "end": "2026-03-04T02:30:00+00:00"},
               "survey_url": "http://127.0.0.1:5000/s/abc", "text": "Please clean the drain filter."}
LINKS = {"status": "http://127.0.0.1:5000/service/status/st", "respond": "http://127.0.0.1:5000/service/respond/r",
         "quote": "http://127.0.0.1:5000/service/respond/r/quote"}
LINK = re.compile(r"https?://\S+")


def contract_milestones() -> list[str]:
    """Return the milestones docs/operators.md promises for notify.send."""
    text = DOCS.read_text(encoding="utf-8")
    listed = text.split("Milestones for `notify.send`:", 1)[1].split("\n\n", 1)[0]
    return [m.strip().rstrip(".") for m in listed.replace("\n", " ").split(",")]


def send(call, task="notify", milestone="received", customer=CUSTOMER, data=None, ticket="AS-20260302-00001"):
    return call("notify.send", task=task, ticket_number=ticket, milestone=milestone, customer=customer,
                data=data if data is not None else {})


def outbox(database) -> list[Outbox]:
    with database.transaction(write=False) as session:
        return list(session.scalars(select(Outbox).order_by(Outbox.id)))


def test_the_customer_gets_the_preferred_channel_in_their_language(call, database):
    result = send(call)
    assert result == {"outbox_id": 1, "channel": "sms", "template": "templates/notify/received.sms.zh.j2"}
    [row] = outbox(database)
    assert (row.recipient, row.language, row.status, row.subject) == ("+86 138 0013 8000", "zh", "pending", "")
    assert row.body.startswith("【售后服务】您的服务申请已受理，工单号AS-20260302-00001，我们将在24小时内与您联系。"
                               "查看进度：http://127.0.0.1:5000/service/status/")
    assert re.fullmatch(r"<outbox\.1@[\w.-]+>", row.message_id)


def test_an_email_has_its_subject_line_split_off(call, database):
    send(call, customer={**CUSTOMER, "language": "en", "preferred_channel": "email"})
    [row] = outbox(database)
    assert (row.channel, row.recipient) == ("email", "li.wei@example.cn")
    assert row.subject == "[AS-20260302-00001] We have received your service request"
    assert row.body.startswith("Dear Li Wei,\n\nThank you for contacting us.")


@pytest.mark.parametrize(("customer", "channel", "recipient"), [
    ({"name": "A", "phone": "13800000001", "preferred_channel": "wechat"}, "wechat", "13800000001"),
    ({"name": "A", "phone": "138", "wechat_id": "wx_abc", "preferred_channel": "wechat"}, "wechat", "wx_abc"),
    ({"name": "A", "phone": "13800000001", "preferred_channel": "email"}, "sms", "13800000001"),
    ({"name": "A", "email": "a@example.com", "preferred_channel": "sms"}, "email", "a@example.com"),
    ({"name": "A", "email": "a@example.com", "preferred_channel": "fax"}, "email", "a@example.com"),
])
def test_an_unreachable_preferred_channel_falls_back_to_one_with_an_address(call, database, customer, channel,
                                                                            recipient):
    assert send(call, customer=customer)["channel"] == channel
    assert outbox(database)[0].recipient == recipient


def test_a_customer_without_any_address_is_skipped_not_failed(call, database):
    result = send(call, customer={"name": "Walk-in", "preferred_channel": "sms"})
    assert result["outbox_id"] is None and "no e-mail address or phone number" in result["skipped"]
    assert outbox(database) == []


def test_an_unknown_language_gets_english(call, database):
    assert send(call, customer={**CUSTOMER, "language": "fr"})["template"] == "templates/notify/received.sms.en.j2"


def test_a_missing_template_variable_is_a_clear_error_and_nothing_is_written(call, database):
    with pytest.raises(HandlerError, match="template templates/notify/quote.sms.zh.j2 uses variable "
                                           "'customer_pays', which the task did not provide"):
        send(call, milestone="quote", data={"currency": "CNY"})
    assert outbox(database) == []


def test_a_milestone_without_template_is_a_business_error(call, database):
    with pytest.raises(BusinessError, match="no template for milestone 'birthday' on channel 'sms'") as info:
        send(call, milestone="birthday")
    assert info.value.code == "TEMPLATE_MISSING"
    assert info.value.payload == {"milestone": "birthday", "channel": "sms", "language": "zh"}


@pytest.mark.parametrize("milestone", ["../secrets", "Received", "", 7])
def test_a_malformed_milestone_is_refused(call, milestone):
    with pytest.raises(HandlerError, match="milestone must be a lower-case name"):
        send(call, milestone=milestone)


def test_sending_again_for_the_same_task_writes_one_outbox_row(call, database):
    assert send(call, task="n1") == send(call, task="n1")
    send(call, task="n2", milestone="closed")
    assert [row.milestone for row in outbox(database)] == ["received", "closed"]


def test_templates_are_versioned_with_the_deployment(call, database):
    # Given a new deployment with an English-only template for a new milestone
    files = {**{name: (Path(__file__).parent / "fixtures" / name).read_bytes()
                for name in ("service_journey.bpmn", "messages.json")},
             "templates/notify/welcome_back.sms.en.j2": b"Welcome back, {{ customer.name }}! {{ ticket_number }}"}
    with database.transaction() as session:
        new = deploy(session, Bundle("service_journey", files), "owner").deployment_id
    # Then instances of the new deployment use it (in English for a Chinese customer); the old one has none
    call.deployment_id, old = new, call.deployment_id
    assert send(call, task="w", milestone="welcome_back")["template"] == "templates/notify/welcome_back.sms.en.j2"
    assert outbox(database)[0].body == "Welcome back, Li Wei! AS-20260302-00001"
    call.deployment_id = old
    with pytest.raises(BusinessError, match="welcome_back"):
        send(call, task="w2", milestone="welcome_back")


@pytest.mark.parametrize(("data", "expected"), [
    ({"appointment": {"start": "2026-03-04T00:30:00+00:00", "end": "2026-03-04T02:30:00+00:00"},
      "technician_name": "Wang Lei"}, "2026-03-04 08:30 to 10:30.\nYour technician: Wang Lei."),
    ({"route": "provider", "provider_name": "Huadong Appliance Service Co., Ltd."},
     "passed to our authorised service partner Huadong Appliance Service Co., Ltd., who will contact you"),
    ({"route": "repair_centre", "rma_number": "RMA-20260302-00001", "instructions": "Pack it well."},
     "quoting return number RMA-20260302-00001.\nPack it well."),
])
def test_the_scheduled_message_fits_every_dispatch_route(call, database, data, expected):
    send(call, milestone="scheduled", customer={**CUSTOMER, "language": "en", "preferred_channel": "email"},
         data=data)
    assert expected in outbox(database)[0].body


@pytest.mark.parametrize("milestone", contract_milestones())
def test_every_contract_milestone_has_a_template_per_channel_and_language(milestone):
    for channel in ("email", "sms", "wechat"):
        for language in ("en", "zh"):
            path = TEMPLATES / "notify" / f"{milestone}.{channel}.{language}.j2"
            assert path.is_file(), f"missing {path}"
            text = render(path.read_text(encoding="utf-8"), str(path),
                          {"ticket_number": "AS-20260302-00001", "milestone": milestone,
                           "customer": {"name": "Li Wei"}, "data": SAMPLE_DATA, "links": LINKS})
            assert "AS-20260302-00001" in text
            assert channel != "email" or text.startswith("Subject: ")
            words = LINK.sub("", text)  # a link is counted apart: it is what the customer taps
            assert channel != "sms" or len(words) <= 160, f"{path.name} is too long for one SMS"
